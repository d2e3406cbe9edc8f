// FNV-1a 32-bit over the trace byte stream (spec §8).

/// FNV-1a 32: `h = 2166136261`; per byte `h = (h XOR byte) · 16777619 mod 2^32` (spec §8).
public struct FNV1a32: Sendable {
    public private(set) var value: UInt32 = 2166136261
    public init() {}
    @inline(__always) public mutating func byte(_ b: UInt8) {
        value = (value ^ UInt32(b)) &* 16777619
    }
    /// 4 bytes little-endian two's complement.
    @inline(__always) public mutating func int32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        var h = value
        h = (h ^ (u & 0xFF)) &* 16777619
        h = (h ^ ((u >> 8) & 0xFF)) &* 16777619
        h = (h ^ ((u >> 16) & 0xFF)) &* 16777619
        h = (h ^ (u >> 24)) &* 16777619
        value = h
    }
    public mutating func bytes<S: Sequence>(_ s: S) where S.Element == UInt8 { for b in s { byte(b) } }
}
