// Pass helper: a positive real multiplier M as `(mult, shift)` with `M ≈ mult / 2^shift`, the
// form of spec §1 `requant` (used for readout features, spec §4, and gate layers, spec §5.1).
// `mult` is normalised into [2^30, 2^31) for 31 bits of precision, `shift` ≤ 62.

public enum Requant {
    public static func multiplier(_ m: Double) throws -> (mult: Int32, shift: Int) {
        guard m > 0, m.isFinite else { throw CompileError("requant multiplier \(m): must be a positive finite number") }
        var s = 30 - Int(m.exponent)            // m·2^s in [2^30, 2^31)
        if s > 62 { s = 62 }
        guard s >= 0 else { throw CompileError("requant multiplier \(m) ≥ 2^31: the values would not fit int8") }
        var q = (m * Double(UInt64(1) << UInt64(s))).rounded()
        if q >= 2_147_483_648 { q /= 2; s -= 1; q = q.rounded() }
        guard q >= 1 else { throw CompileError("requant multiplier \(m) < 2^−62: the scale is too small to represent") }
        return (Int32(q), s)
    }
}
