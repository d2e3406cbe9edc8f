// Vectorised reductions with a fixed summation order (8 lanes, then lanes in order): fast and
// deterministic, unlike a serial `s += x[i]` loop, which the compiler may not reorder.

/// `Σ x[i]` over `n` floats.
@inlinable
public func sumFloats(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0), acc2 = SIMD8<Float>(repeating: 0)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 16 <= n {
        acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        acc2 += raw.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
        i += 16
    }
    acc += acc2
    var s = acc.sum()
    while i < n { s += x[i]; i += 1 }
    return s
}
