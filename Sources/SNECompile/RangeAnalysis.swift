// Pass: range analysis against spec §7. For each synaptic op it bounds the accumulator per
// output channel, picks the smallest output `shift` under which
//   - the §7.1/§7.3 accumulator bound holds (the shift cannot help there: refused with the reason),
//   - a following `readout` satisfies §7.4 (`T · curmax ≤ 2^31 − 1`),
//   - a following `lif` membrane never saturates: |v| ≤ min(T·(curmax+1), (curmax+1)/(1−β)+1) + θ
//     fits the state width (a stronger guarantee than §7, which only asks that nothing wraps),
// and proves the head and gate bounds (§7.2, §7.5). The validator re-checks §7 on the result.

public enum RangeAnalysis {
    public static let B: Int64 = 2_147_483_647

    /// `ceil((acc + 2^(shift−1)) / 2^shift)`: the largest |cur| after the rounding shift (spec §7.4).
    public static func curmax(_ acc: Int64, shift: Int) -> Int64 {
        let r: Int64 = shift == 0 ? 0 : Int64(1) << Int64(shift - 1)
        let d = Int64(1) << Int64(shift)
        return (acc + r + d - 1) / d
    }

    /// What consumes a synaptic op's current.
    public enum Consumer: Sendable {
        /// A LIF with float threshold θ (scaled by the op's `S = base / 2^shift` per channel),
        /// realised decay `beta`, state width `bits`.
        case lif(theta: Float, beta: Double, bits: Int)
        /// The readout over T steps.
        case readout
    }

    /// The smallest shift (0…31) that satisfies the bounds above, or a one-line refusal naming `where`.
    /// `acc[o]` = |bias[o]| + xmax·Σ|w[o]|; `base[o]` = integer per float unit at shift 0.
    public static func shift(acc: [Int64], base: [Double], consumer: Consumer, T: Int, where name: String) throws -> Int {
        guard let amax = acc.max() else { return 0 }
        guard amax <= B else {
            let o = acc.firstIndex(of: amax)!
            throw CompileError("\(name) channel \(o): accumulator bound |bias| + Σ|x·w| = \(amax) > 2^31−1 (spec §7.1/§7.3); the folded bias is too large for the weight scale — lower the weight bits' scale or retrain with smaller BN shift")
        }
        for s in 0...31 {
            let r: Int64 = s == 0 ? 0 : Int64(1) << Int64(s - 1)
            if amax + r > B { continue }
            let cm = curmax(amax, shift: s)
            switch consumer {
            case .readout:
                if Int64(T) * cm <= B { return s }
            case .lif(let theta, let beta, let bits):
                let hi = Double((Int64(1) << Int64(bits - 1)) - 1)
                let thetaMax = base.map { Double(theta) * $0 / Double(UInt64(1) << UInt64(s)) }.max() ?? 0
                var v = Double(T) * Double(cm + 1)
                if beta < 1 { v = min(v, Double(cm + 1) / (1 - beta) + 1) }
                if v + thetaMax.rounded() <= hi { return s }
            }
        }
        throw CompileError("\(name): no output shift 0…31 keeps the \(consumer) within its bounds (spec §7)")
    }

    /// Spec §7.5: `|bias[c]| + 128·Σ_k Σ_i |w_k[i][c]| ≤ 2^31 − 1` for every class.
    public static func headFits(bias: [Int32], weights: [[Int8]], classes: Int) -> Bool {
        for c in 0..<classes {
            var s = Int64(abs(Int64(bias[c])))
            for w in weights { for i in stride(from: c, to: w.count, by: classes) { s += 128 * Int64(abs(Int(w[i]))) } }
            if s > B { return false }
        }
        return true
    }

    /// Spec §7.2 for one gate layer: `|bias[o]| + xmax·Σ_i |w[i][o]| ≤ 2^31 − 1`.
    public static func gateLayerFits(bias: [Int32], weights: [Int8], outputs: Int, xmax: Int64) -> Bool {
        for o in 0..<outputs {
            var s = Int64(abs(Int64(bias[o])))
            for i in stride(from: o, to: weights.count, by: outputs) { s += xmax * Int64(abs(Int(weights[i]))) }
            if s > B { return false }
        }
        return true
    }
}
