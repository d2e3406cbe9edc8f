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

/// `Σ (x[i] − c)²` over `n` floats.
@inlinable
public func sumSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, from c: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    let cv = SIMD8<Float>(repeating: c)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= n {
        let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - cv
        acc += d * d
        i += 8
    }
    var s = acc.sum()
    while i < n { let d = x[i] - c; s += d * d; i += 1 }
    return s
}

/// `Σ a[i]·b[i]` over `n` floats.
@inlinable
public func sumProducts(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// `Σ d[i]·(x[i] − c)` over `n` floats.
@inlinable
public func sumProductsCentered(_ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, from c: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    let cv = SIMD8<Float>(repeating: c)
    var i = 0
    let rd = UnsafeRawPointer(d), rx = UnsafeRawPointer(x)
    while i + 8 <= n {
        acc += rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * (rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - cv)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += d[i] * (x[i] - c); i += 1 }
    return s
}
