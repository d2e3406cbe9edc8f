// The integer primitives of spec §1 — the one place rounding and saturation happen.
//
// Swift's `>>` on signed integers is an arithmetic shift (floor division by 2^s), so
// `floorShr` is exact for negative values. `rshr` uses the overflow-free identity
// `rshr(x, s) = floor_shr(x, s) + bit_{s-1}(x)` (spec §1 note), so it never forms `x + 2^(s-1)`.

public enum Fixed {
    /// `floor(x / 2^s)`, `s ≥ 0` (spec §1 `floor_shr`).
    @inline(__always) public static func floorShr(_ x: Int64, _ s: Int) -> Int64 { x >> Int64(s) }
    @inline(__always) public static func floorShr(_ x: Int32, _ s: Int) -> Int32 { x >> Int32(s) }

    /// Rounding right shift, round half up (spec §1 `rshr`): `x` if `s = 0`, else `floor_shr(x + 2^(s-1), s)`.
    @inline(__always) public static func rshr(_ x: Int64, _ s: Int) -> Int64 {
        s == 0 ? x : (x >> Int64(s)) &+ ((x >> Int64(s - 1)) & 1)
    }
    @inline(__always) public static func rshr(_ x: Int32, _ s: Int) -> Int32 {
        s == 0 ? x : (x >> Int32(s)) &+ ((x >> Int32(s - 1)) & 1)
    }

    /// `min(max(x, lo), hi)` (spec §1 `sat`).
    @inline(__always) public static func sat(_ x: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { min(max(x, lo), hi) }

    /// Saturate to a signed `w`-bit integer, `1 ≤ w ≤ 63` (spec §1 `satw`).
    @inline(__always) public static func satw(_ x: Int64, _ w: Int) -> Int64 {
        let hi = (Int64(1) << Int64(w - 1)) - 1
        return min(max(x, -hi - 1), hi)
    }

    /// `sat(rshr(x · m, s), lo, hi)` with the exact int64 product (spec §1 `requant`, §7).
    @inline(__always) public static func requant(_ x: Int32, _ m: Int32, _ s: Int, _ lo: Int64, _ hi: Int64) -> Int64 {
        sat(rshr(Int64(x) * Int64(m), s), lo, hi)
    }

    /// The `mulshift(m, s)` leak of spec §3.5 step 1: `rshr(v · m, s)`, exact int64 product.
    @inline(__always) public static func leakMulShift(_ v: Int64, _ m: Int64, _ s: Int) -> Int64 { rshr(v * m, s) }

    /// The `shift(s)` leak of spec §3.5 step 1: `v − rshr(v, s)`.
    @inline(__always) public static func leakShift(_ v: Int64, _ s: Int) -> Int64 { v - rshr(v, s) }
}
