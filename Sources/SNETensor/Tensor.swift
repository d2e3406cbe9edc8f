// Tensor: a float32 array with a shape (NCHW for images), the value type every layer passes around.
import Foundation

/// A thrown error for bad shapes or arguments; the message is one line naming what and where.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A dense row-major float32 tensor. Images are NCHW; a time-unrolled batch is `[T*B, ...]`
/// with time outermost (row `t*B + b`).
public struct Tensor: Equatable, Sendable {
    /// Extent of each dimension, outermost first.
    public var shape: [Int]
    /// The elements in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Wraps `data`; throws when its count does not match `shape`.
    public init(shape: [Int], data: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == data.count else {
            throw TensorError("Tensor: \(data.count) elements do not fill shape \(shape)")
        }
        self.shape = shape
        self.data = data
    }

    /// An uninitialised tensor the caller fills completely through `body` (avoids zeroing).
    @inlinable
    public init(uninitialized shape: [Int], _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.shape = shape
        let n = shape.reduce(1, *)
        self.data = [Float](unsafeUninitializedCapacity: n) { buf, count in
            body(buf); count = n
        }
    }

    /// Normally distributed values N(0, std^2) from `rng`.
    public static func randomNormal<G: RandomNumberGenerator>(_ shape: [Int], std: Float, using rng: inout G) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in t.data.indices { t.data[i] = std * Float(rng.nextGaussian()) }
        return t
    }

    /// Uniform values in [lo, hi) from `rng`.
    public static func randomUniform<G: RandomNumberGenerator>(_ shape: [Int], _ lo: Float, _ hi: Float, using rng: inout G) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in t.data.indices { t.data[i] = lo + (hi - lo) * Float(Double(rng.next() >> 11) * 0x1p-53) }
        return t
    }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The same elements viewed with another shape of equal size.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, data: data)
    }

    /// Sum of all elements (in Double).
    public func sum() -> Double { data.reduce(0.0) { $0 + Double($1) } }
}

extension RandomNumberGenerator {
    /// A standard normal sample (Box–Muller on two 53-bit uniforms).
    public mutating func nextGaussian() -> Double {
        let u1 = Double((next() >> 11) + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A uniform integer in 0..<n without modulo bias worth caring about (n < 2^32).
    public mutating func nextIndex(_ n: Int) -> Int {
        Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) * UInt64(n)) >> 32)
    }
}

/// A small, fast, seedable generator (xoshiro256**, seeded with SplitMix64). Same seed, same stream
/// on every platform; its whole state is four words, so checkpoints can save and restore it.
public struct SeededRNG: RandomNumberGenerator, Sendable, Equatable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4)
        self.state = (state[0], state[1], state[2], state[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0; state.3 ^= state.1; state.1 ^= state.2; state.0 ^= state.3
        state.2 ^= t
        state.3 = (state.3 << 45) | (state.3 >> 19)
        return result
    }

    public static func == (a: SeededRNG, b: SeededRNG) -> Bool { a.stateWords == b.stateWords }
}
