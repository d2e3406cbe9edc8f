// Pass: symmetric integer weights, one scale per output channel or one per tensor.
//
//   scale[o] = max_i |w[o][i]| / qmax        (qmax = 2^(bits−1) − 1: 127 for int8, 7 for int4)
//   q[o][i]  = round(w[o][i] / scale[o])      (round half away from zero; |q| ≤ qmax)
//
// Spike IR weights are int8 only (spec §3), so `bits` is 8 or 4 (int4 values stored in int8: a
// 4-bit range, for smaller-weight experiments); int16 weights would need a spec change.

/// One scale per output channel, or one for the whole tensor.
public enum WeightGranularity: String, Sendable, CaseIterable {
    case perTensor = "tensor"
    case perChannel = "channel"
}

/// Integer weights in the float layout (`[out][fanin]`) and the float value of one step per output.
public struct QuantizedWeights: Equatable, Sendable {
    public var q: [Int8]
    /// `scale[o]`: float weight per integer step of output `o` (all equal when per tensor).
    public var scale: [Double]
}

public enum QuantizeWeights {
    /// The allowed weight widths: Spike IR stores int8 weights (spec §3).
    public static func check(bits: Int) throws {
        guard bits == 8 || bits == 4 else {
            throw CompileError("weight bits \(bits): Spike IR weights are int8 (spec §3); use 8, or 4 for a 4-bit range stored in int8")
        }
    }

    /// Quantizes `w` (`out` rows of equal length) to `bits`-bit symmetric integers.
    public static func run(_ w: [Float], out: Int, bits: Int, granularity: WeightGranularity) throws -> QuantizedWeights {
        try check(bits: bits)
        guard out > 0, w.count % out == 0 else { throw CompileError("weights: \(w.count) values do not split into \(out) rows") }
        let n = w.count / out, qmax = Double((1 << (bits - 1)) - 1)
        var rowMax = (0..<out).map { o in w[(o * n)..<((o + 1) * n)].reduce(0) { max($0, Double(abs($1))) } }
        if granularity == .perTensor { let m = rowMax.max() ?? 0; rowMax = rowMax.map { _ in m } }
        let scale = rowMax.map { $0 > 0 ? $0 / qmax : 1 }
        var q = [Int8](repeating: 0, count: w.count)
        for o in 0..<out {
            for i in 0..<n {
                // round half away from zero, then clamp (only reachable through float rounding)
                let v = (Double(w[o * n + i]) / scale[o]).rounded(.toNearestOrAwayFromZero)
                q[o * n + i] = Int8(max(-qmax, min(qmax, v)))
            }
        }
        return QuantizedWeights(q: q, scale: scale)
    }
}
