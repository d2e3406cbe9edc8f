// Pass: LIF decay and threshold in fixed point, in the units of the current that feeds the LIF.
//
// A synaptic op whose integer weights have step `scale[o]` and output shift `shift` delivers
// currents in units of `1 / S[o]` with `S[o] = 1 / (scale[o]·2^shift)` (integer per float unit).
// The membrane lives in the same units, so `theta_int = round(θ·S)` (spec §3.5). The decay β
// becomes `shift(s)` when β = 1 − 2^−s exactly (β = 0.5 → `shift(1)`), `none` for β = 1, else
// `mulshift(round(β·2^15), 15)` (spec §3.5: 0 ≤ m ≤ 2^s, s ≤ 15).
import SpikeIR

public enum LIFFixedPoint {
    /// The leak for decay `beta` ∈ [0, 1].
    public static func leak(beta: Float) throws -> Leak {
        guard beta >= 0, beta <= 1, beta.isFinite else { throw CompileError("LIF beta \(beta): must be in [0, 1]") }
        if beta == 1 { return .none }
        for s in 1...31 where Double(beta) == 1 - 1 / Double(UInt64(1) << UInt64(s)) { return .shift(s) }
        let m = Int((Double(beta) * 32768).rounded())
        return .mulShift(mult: m, shift: 15)
    }

    /// The decay the integer leak realises (for reports and for QAT): m/2^s or 1 − 2^−s.
    public static func effectiveBeta(_ l: Leak) -> Double {
        switch l {
        case .none: 1
        case .mulShift(let m, let s): Double(m) / Double(1 << s)
        case .shift(let s): 1 - 1 / Double(UInt64(1) << UInt64(s))
        }
    }

    /// `round(θ·S)` per channel, at least 1; throws when a threshold does not fit `stateBits`.
    public static func thetas(_ theta: Float, currentScale s: [Double], stateBits: Int = 32) throws -> [Int32] {
        let hi = Double((Int64(1) << Int64(stateBits - 1)) - 1)
        return try s.enumerated().map { (o, sc) in
            let t = (Double(theta) * sc).rounded()
            guard t <= hi else { throw CompileError("channel \(o): threshold \(theta) × scale \(sc) = \(t) exceeds the \(stateBits)-bit membrane") }
            return Int32(max(1, t))
        }
    }
}
