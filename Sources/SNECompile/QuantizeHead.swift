// Pass: the head (spec §6) over int8 readout features.
//
// Calibration gives each student's feature range; its features are requantized to int8 with step
// `sq_k = max|f_k| / 127` (spec §4: `q = requant(f, feat_mult, feat_shift)`, with
// `feat_mult/2^feat_shift = 1 / (units_k · sq_k)`, units_k = integer readout units per float
// feature). The head then sees `q_k ≈ f_k / sq_k`, so one common logit step `sL` gives
// `w_k[i][c] = round(W[c][k·F+i] · sq_k / sL)` and `bias[c] = round(b[c] / sL)`, with
// `sL = max |W·sq| / 127` (doubled until spec §7.5 holds).
import SNEEnsemble
import SpikeIR

public struct QuantizedHead: Sendable {
    public var head: Head
    /// Per student, per feature (all equal within a student unless per-feature requant is used).
    public var featMult: [[Int32]], featShift: [[Int]]
    /// Float feature value per int8 step, per student and feature.
    public var featureStep: [[Double]]
    /// Float logit per integer logit unit.
    public var logitStep: Double
}

public enum QuantizeHead {
    /// `featureMax[k][i]`: calibrated max |feature| (one value repeated per student for per-student
    /// requant); `units[k][i]`: integer readout units per float feature.
    public static func run(_ model: SNEModel, featureMax: [[Double]], units: [[Double]], bits: Int) throws -> QuantizedHead {
        let K = model.K, F = model.F, C = model.spec.classes, qmax = Double((1 << (bits - 1)) - 1)
        var step = [[Double]](), mult = [[Int32]](), shift = [[Int]]()
        for k in 0..<K {
            var st = [Double](), mu = [Int32](), sh = [Int]()
            for i in 0..<F {
                let sq = featureMax[k][i] > 0 ? featureMax[k][i] / 127 : 1
                let (m, s) = try Requant.multiplier(1 / (units[k][i] * sq))
                st.append(sq); mu.append(m); sh.append(s)
            }
            step.append(st); mult.append(mu); shift.append(sh)
        }
        let W = model.head.weight.value.data, b = model.head.bias?.value.data ?? [Float](repeating: 0, count: C)
        var wmax = 0.0
        for c in 0..<C { for k in 0..<K { for i in 0..<F { wmax = max(wmax, abs(Double(W[c * K * F + k * F + i])) * step[k][i]) } } }
        var sL = wmax > 0 ? wmax / qmax : 1
        for _ in 0..<40 {
            var ws = [[Int8]](), bias = [Int32]()
            var ok = true
            for c in 0..<C {
                let v = (Double(b[c]) / sL).rounded()
                if abs(v) > Double(RangeAnalysis.B) { ok = false; break }
                bias.append(Int32(v))
            }
            if ok {
                for k in 0..<K {
                    var w = [Int8](repeating: 0, count: F * C)
                    for i in 0..<F { for c in 0..<C {
                        let v = (Double(W[c * K * F + k * F + i]) * step[k][i] / sL).rounded(.toNearestOrAwayFromZero)
                        w[i * C + c] = Int8(max(-qmax, min(qmax, v)))
                    } }
                    ws.append(w)
                }
                if RangeAnalysis.headFits(bias: bias, weights: ws, classes: C) {
                    return QuantizedHead(head: Head(bias: bias, weights: ws), featMult: mult, featShift: shift, featureStep: step, logitStep: sL)
                }
            }
            sL *= 2   // rescale: coarser logits until the bias and §7.5 fit
        }
        throw CompileError("head: no logit scale satisfies spec §7.5 (bias \(b.map { abs($0) }.max() ?? 0) vs weights \(wmax))")
    }
}
