// Fine-tuning of a float ensemble (students + head, jointly, cross-entropy on the head logits),
// optionally quantization-aware (issue 9 item 3):
//   - weights fake-quantized as the compiler will (BN-folded, per tensor, `bits`), straight-through:
//     the forward uses dequantized weights, the gradient updates the float weights;
//   - BatchNorm frozen (running statistics: the affine map the compiler folds);
//   - every LIF replaced by QuantLIF: the integer membrane grid, leak rounding/dead zone and
//     saturation of spec §3.5 in the forward pass, straight-through in backward.
// The gate is not trained here. Plain mode (no QAT) trains BN normally: used to make small test models.
import Foundation
import SNEEnsemble
import SNEData
import SNETensor
import SNETrain
import SpikeIR

public struct FineTuneOptions: Sendable {
    public var epochs = 1
    public var batch = 32
    public var lr: Float = 1e-3
    /// Quantization-aware: fake-quantized weights, frozen BN, integer LIF arithmetic.
    public var qat = true
    public var weightBits = 8
    public var stateBits = 32
    /// Weight scale granularity, as in the compiler.
    public var granularity: WeightGranularity = .perChannel
    public var seed: UInt64 = 1
    public init() {}
}

public enum FineTune {
    /// Trains `model` in place on `data`; `log` gets one line per epoch.
    public static func run(_ model: SNEModel, data: LabeledImages, options o: FineTuneOptions,
                           compute: ComputeContext, log: (String) -> Void = { _ in }) throws {
        let params = model.students.flatMap(\.trainableParameters) + model.head.trainableParameters
        let opt = AdamW(params, compute: compute)
        let ctx = LayerContext(compute: compute, training: true, seed: o.seed, timeSteps: model.T)
        let evalCtx = LayerContext(compute: compute, training: false, timeSteps: model.T)
        let loader = try BatchLoader(data, batchSize: o.batch, seed: o.seed, dropLast: data.count >= o.batch)
        let K = model.K, F = model.F
        for epoch in 0..<o.epochs {
            var lossSum = 0.0, seen = 0, correct = 0, n = 0
            for b in loader.epoch(epoch) {
                let x = try Tensor(shape: b.shape, data: b.pixels)
                let B = b.shape[0]
                model.students.forEach { $0.zeroGrad() }; model.head.zeroGrad()
                var saved: [(Parameter, Tensor)] = []
                var runs: [[(any Layer, QuantLIF?)]] = []
                var feats: [Int: Tensor] = [:]
                for k in 0..<K {
                    var quant: [String: QuantLIF] = [:]
                    if o.qat {
                        saved += try fakeQuantize(model.students[k], input: model.spec.input, bits: o.weightBits, granularity: o.granularity)
                        quant = try integerLIFs(model.students[k], input: model.spec.input, T: model.T, bits: o.weightBits, granularity: o.granularity, stateBits: o.stateBits)
                    }
                    var h = x
                    var trail: [(any Layer, QuantLIF?)] = []
                    let frozen = model.students[k].frozenPrefix   // a shared stem: evaluation mode, no update
                    for (j, (name, l)) in model.students[k].layers.enumerated() {
                        if let q = quant[name] { h = q.forward(h, T: model.T); trail.append((l, q)); continue }
                        h = try l.forward(h, ((o.qat && l is BatchNorm2d) || j < frozen) ? evalCtx : ctx)
                        trail.append((l, nil))
                    }
                    feats[k] = h
                    runs.append(trail)
                }
                if o.qat { saved += fakeQuantizeHead(model.head, bits: o.weightBits) }
                let z = model.concat(feats, batch: B)
                let logits = try model.head.forward(z, ctx)
                let loss = try Loss.crossEntropy(logits, labels: b.labels)
                let dz = try model.head.backward(loss.grad, ctx)
                for k in 0..<K {
                    var g = Tensor(zeros: [B, F])
                    for i in 0..<B { for j in 0..<F { g.data[i * F + j] = dz.data[i * K * F + k * F + j] } }
                    for (l, q) in runs[k][model.students[k].frozenPrefix...].reversed() {
                        g = try q.map { $0.backward(g) } ?? l.backward(g, (o.qat && l is BatchNorm2d) ? evalCtx : ctx)
                    }
                }
                for (p, v) in saved { p.value = v }      // straight-through: float weights get the update
                opt.step(lr: o.lr)
                lossSum += Double(loss.value); seen += 1
                let C = logits.shape[1]
                for i in 0..<B {
                    var best = 0
                    for c in 1..<C where logits.data[i * C + c] > logits.data[i * C + best] { best = c }
                    if best == b.labels[i] { correct += 1 }
                    n += 1
                }
            }
            log(String(format: "%@ epoch %d/%d: loss %.4f, train accuracy %.2f%%", o.qat ? "qat" : "fine-tune", epoch + 1, o.epochs,
                       lossSum / Double(max(seen, 1)), 100 * Double(correct) / Double(max(n, 1))))
        }
    }

    /// Replaces every conv/linear weight of a student by its fake-quantized value (BN-folded per
    /// tensor, as LowerStudent quantizes it); returns the float originals to restore.
    static func fakeQuantize(_ s: Sequential, input: [Int], bits: Int, granularity: WeightGranularity) throws -> [(Parameter, Tensor)] {
        var saved: [(Parameter, Tensor)] = []
        let layers = s.layers
        for (i, (_, l)) in layers.enumerated() {
            var wp: Parameter? = nil, out = 0
            if let c = l as? Conv2d { wp = c.weight; out = c.weight.value.shape[0] }
            if let d = l as? Linear { wp = d.weight; out = d.outFeatures }
            guard let p = wp else { continue }
            var bnScale = [Float](repeating: 1, count: out)
            if i + 1 < layers.count, let bn = layers[i + 1].layer as? BatchNorm2d {
                for o in 0..<out { bnScale[o] = bn.gamma.value.data[o] / (bn.runningVar.value.data[o] + bn.eps).squareRoot() }
            }
            let n = p.value.count / out
            var folded = p.value.data
            for o in 0..<out { for j in 0..<n { folded[o * n + j] *= bnScale[o] } }
            let q = try QuantizeWeights.run(folded, out: out, bits: bits, granularity: granularity)
            var fq = p.value
            for o in 0..<out { for j in 0..<n {
                fq.data[o * n + j] = bnScale[o] != 0 ? Float(Double(q.q[o * n + j]) * q.scale[o]) / bnScale[o] : 0
            } }
            saved.append((p, p.value))
            p.value = fq
        }
        return saved
    }

    static func fakeQuantizeHead(_ h: Linear, bits: Int) -> [(Parameter, Tensor)] {
        guard let q = try? QuantizeWeights.run(h.weight.value.data, out: h.outFeatures, bits: bits, granularity: .perTensor) else { return [] }
        let saved = [(h.weight, h.weight.value)]
        var fq = h.weight.value
        for i in 0..<fq.count { fq.data[i] = Float(Double(q.q[i]) * q.scale[i / h.inFeatures]) }
        h.weight.value = fq
        return saved
    }

    /// The integer LIF of every LIF layer, with the thresholds, leaks and scales the compiler
    /// would choose for the student's current (fake-quantized) weights.
    static func integerLIFs(_ s: Sequential, input: [Int], T: Int, bits: Int, granularity: WeightGranularity, stateBits: Int) throws -> [String: QuantLIF] {
        let fs = try FoldBatchNorm.run(try FloatStudent(s, input: input))
        let low = try LowerStudent.run(fs, input: input, T: T, bits: bits, granularity: granularity, stateBits: stateBits, label: "qat")
        var thetas: [([Int32], Leak)] = []
        for op in low.ops {
            if case .lif(let l) = op { thetas.append((l.thetas, l.leak)) }   // one per channel (spec §3.5)
        }
        var out: [String: QuantLIF] = [:]
        for (j, name) in low.lifNames.enumerated() {
            guard let lif = s.layers.first(where: { $0.name == name })?.layer as? SNETrain.LIF else { continue }
            out[name] = QuantLIF(lif, scales: low.lifScale[j], thetas: thetas[j].0, leak: thetas[j].1, bits: stateBits)
        }
        return out
    }
}
