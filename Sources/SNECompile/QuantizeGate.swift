// Pass: the gate (spec §5.1): pooled uint8 input → int8 MLP with requant + ReLU → K scores.
//
// The float gate is AvgPool2d(p) → Flatten (CHW) → fc1 → ReLU → fc2 on x/255. Integer: the
// pooled input `g` (0…255, spec §5.1 step 1) stands for g/255, so layer 1 quantizes `W1/255`
// (per tensor: one requant per layer in the IR), permuted CHW → HWC; `acc1` has step `s1`. The
// hidden ReLU output is requantized to 0…127 with step `a1 = max(hidden) / 127` from calibration:
// `mult/2^shift = s1 / a1`. Layer 2 quantizes W2 with step `s2`; its bias is `b2 / (a1·s2)`.
// Scores only order students, so their scale is free.
import SNEEnsemble
import SNETrain
import SpikeIR

public enum QuantizeGate {
    public static func run(_ model: SNEModel, hiddenMax: Float, bits: Int) throws -> Gate? {
        guard let g = model.gate, let spec = model.spec.gate else { return nil }
        let denses = g.layers.compactMap { $0.layer as? Linear }
        guard denses.count == 2 else { throw CompileError("gate: expected 2 linear layers, found \(denses.count)") }
        let (c, h, w) = (model.spec.input[0], model.spec.input[1] / spec.pool, model.spec.input[2] / spec.pool)
        let l1 = denses[0], l2 = denses[1]
        guard l1.inFeatures == c * h * w else { throw CompileError("gate fc1: \(l1.inFeatures) inputs, pooled input has \(c * h * w)") }
        let q1 = try QuantizeWeights.run(l1.weight.value.data.map { $0 / 255 }, out: l1.outFeatures, bits: bits, granularity: .perTensor)
        let s1 = q1.scale[0]
        let b1 = try (l1.bias?.value.data ?? [Float](repeating: 0, count: l1.outFeatures)).map { v -> Int32 in
            let r = (Double(v) / s1).rounded()
            guard abs(r) <= Double(RangeAnalysis.B) else { throw CompileError("gate fc1: bias \(v) is beyond int32 at weight step \(s1)") }
            return Int32(r)
        }
        let w1 = HWCLayout.dense(q1.q, out: l1.outFeatures, inputs: l1.inFeatures, chw: (c, h, w))
        guard RangeAnalysis.gateLayerFits(bias: b1, weights: w1, outputs: l1.outFeatures, xmax: 255) else {
            throw CompileError("gate fc1: |bias| + 255·Σ|w| exceeds 2^31−1 (spec §7.2)")
        }
        let a1 = hiddenMax > 0 ? Double(hiddenMax) / 127 : 1
        let (m1, sh1) = try Requant.multiplier(s1 / a1)
        let q2 = try QuantizeWeights.run(l2.weight.value.data, out: l2.outFeatures, bits: bits, granularity: .perTensor)
        let s2 = q2.scale[0]
        let b2 = try (l2.bias?.value.data ?? [Float](repeating: 0, count: l2.outFeatures)).map { v -> Int32 in
            let r = (Double(v) / (a1 * s2)).rounded()
            guard abs(r) <= Double(RangeAnalysis.B) else { throw CompileError("gate fc2: bias \(v) is beyond int32 at step \(a1 * s2)") }
            return Int32(r)
        }
        let w2 = HWCLayout.dense(q2.q, out: l2.outFeatures, inputs: l2.inFeatures)
        guard RangeAnalysis.gateLayerFits(bias: b2, weights: w2, outputs: l2.outFeatures, xmax: 127) else {
            throw CompileError("gate fc2: |bias| + 127·Σ|w| exceeds 2^31−1 (spec §7.2)")
        }
        return Gate(pool: spec.pool, layers: [
            GateLayer(inputs: l1.inFeatures, outputs: l1.outFeatures, weights: w1, bias: b1, mult: m1, shift: sh1),
            GateLayer(inputs: l2.inFeatures, outputs: l2.outFeatures, weights: w2, bias: b2, mult: 0, shift: 0),
        ])
    }
}
