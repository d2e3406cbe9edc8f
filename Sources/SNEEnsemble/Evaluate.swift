// Float-model evaluation: accuracy at every budget k (fixed and gate order) and in confidence mode,
// with the operations an inference costs — counted from the measured spikes exactly as Spike IR §8
// counts them — and energy from a pJ table; plus noise robustness.
import Foundation
import SNETensor
import SNETrain
import SNEData

/// Energy per operation.
public struct EnergyTable: Codable, Equatable, Sendable {
    /// pJ per multiply-accumulate (default 4.6, 45 nm 32-bit float MAC as in the SNN literature).
    public var mac: Double = 4.6
    /// pJ per synaptic accumulate (default 0.9).
    public var accumulate: Double = 0.9
    public init(mac: Double = 4.6, accumulate: Double = 0.9) { self.mac = mac; self.accumulate = accumulate }
    /// Energy in µJ of `macs` multiply-accumulates and `synops` accumulates.
    public func microjoules(macs: Double, synops: Double) -> Double { (macs * mac + synops * accumulate) * 1e-6 }
}

/// Per-sample measurements of one student on a data set.
public struct StudentProfile: Sendable {
    /// `[N, F]` readout features.
    public var features: [Float]
    /// Per sample: multiply-accumulates (input conv, readout requant) and synaptic accumulates
    /// (spike-driven conv/dense, readout adds), as spec §3 and §8 count them.
    public var macs: [Double]
    public var synops: [Double]
    /// Per LIF layer (in order): mean spike rate over neurons, steps and samples.
    public var spikeRates: [Double]
    public var lifNames: [String]
}

/// The operations of a student on a batch, from its intermediate tensors.
enum OpCounter {
    /// Number of (ky, kx) taps of a 3x3, stride-1, pad-1 conv that map input row/column `i` of `n`
    /// to a valid output (2 at a border, 3 inside; 1 when n = 1).
    static func taps(_ i: Int, _ n: Int) -> Double { Double((i > 0 ? 1 : 0) + 1 + (i < n - 1 ? 1 : 0)) }

    /// The same for a `k`-tap conv of any stride and padding (spec §3.1's count): the taps `ky` with
    /// `o = (i + pad − ky) / stride` an integer in `[0, out)`, `out = (n + 2·pad − k)/stride + 1`.
    static func taps(_ i: Int, _ n: Int, k: Int, stride: Int, pad: Int) -> Double {
        if k == 3 && stride == 1 && pad == 1 { return taps(i, n) }
        let out = (n + 2 * pad - k) / stride + 1
        var c = 0
        for ky in 0..<k {
            let p = i + pad - ky
            if p >= 0, p % stride == 0, p / stride < out { c += 1 }
        }
        return Double(c)
    }

    /// Runs `student` on `x` `[B, C, H, W]` (evaluation mode) layer by layer and returns the output
    /// `[B, F]` plus, per sample, MACs and synops, and the spike count of every LIF layer.
    static func profile(_ student: Sequential, _ x: Tensor, timeSteps t: Int, beta: Float, compute: ComputeContext)
        throws -> (out: Tensor, macs: [Double], synops: [Double], spikes: [[Double]], neurons: [Int], lifNames: [String]) {
        let ctx = LayerContext(compute: compute, training: false, timeSteps: t)
        let b = x.shape[0]
        var macs = [Double](repeating: 0, count: b), syn = [Double](repeating: 0, count: b)
        var spikes: [[Double]] = [], neurons: [Int] = [], names: [String] = []
        // β that a `shift(s)` leak represents exactly (1 − 2^−s) costs no multiply; any other β a
        // `mulshift` with one multiply per neuron per step (spec §3.5).
        let shiftLeak = (1...31).contains { s in abs(Double(beta) - (1 - pow(2, -Double(s)))) < 1e-9 } || beta == 1
        var h = x, i = 0
        while i < student.layers.count {
            let (name, layer) = student.layers[i]
            if let conv = layer as? Conv2d {
                let cout = conv.weight.value.shape[0], c = h.shape[1], hh = h.shape[2], ww = h.shape[3]
                let first = i == 0
                let rows = h.shape[0], per = c * hh * ww, k = conv.weight.value.shape[2]
                let ty = (0..<hh).map { taps($0, hh, k: k, stride: conv.stride, pad: conv.padding) }
                let tx = (0..<ww).map { taps($0, ww, k: k, stride: conv.stride, pad: conv.padding) }
                for r in 0..<rows {
                    var s = 0.0
                    for ch in 0..<c { for y in 0..<hh { for xx in 0..<ww where h.data[r * per + (ch * hh + y) * ww + xx] != 0 {
                        s += ty[y] * tx[xx]
                    } } }
                    if first { macs[r % b] += s * Double(cout) } else { syn[r % b] += s * Double(cout) }
                }
            } else if let fc = layer as? Linear {
                let rows = h.shape[0], n = fc.inFeatures
                for r in 0..<rows {
                    var s = 0.0
                    for j in 0..<n where h.data[r * n + j] != 0 { s += 1 }
                    syn[r % b] += s * Double(fc.outFeatures)
                }
            } else if layer is Readout {
                let f = h.shape[1]
                for r in 0..<b { syn[r] += Double(t * f); macs[r] += Double(f) }   // step adds + feature requant
            }
            let (y, used) = try student.forwardStep(i, h, ctx)
            if let lif = layer as? LIF {
                // Count spikes of the unpooled layer: run the LIF alone when it was fused with a pool.
                let sp = used == 2 ? try lif.forward(h, ctx) : y
                let rows = sp.shape[0], per = sp.count / max(rows, 1)
                var cnt = [Double](repeating: 0, count: b)
                for r in 0..<rows { var s = 0.0; for j in 0..<per where sp.data[r * per + j] != 0 { s += 1 }; cnt[r % b] += s }
                spikes.append(cnt); neurons.append(per); names.append(name)
                if !shiftLeak { for r in 0..<b { macs[r] += Double(per * t) } }
            }
            h = y
            i += used
        }
        return (h, macs, syn, spikes, neurons, names)
    }
}

/// One row of an evaluation table.
public struct BudgetRow: Codable, Sendable {
    /// "fixed", "gate" or "confidence".
    public var selection: String
    /// Budget k (the maximum for confidence mode).
    public var budget: Int
    /// Confidence margin (confidence mode only).
    public var margin: Double?
    public var accuracy: Double
    /// Mean number of students run.
    public var students: Double
    /// Mean MACs and synaptic accumulates per inference, and energy (µJ).
    public var macs: Double
    public var synops: Double
    public var energyMicrojoules: Double
}

/// The evaluation of one model.
public struct EvalReport: Codable, Sendable {
    public var model: String
    public var samples: Int
    public var rows: [BudgetRow]
    /// Per student: LIF layer names and mean spike rates.
    public var spikeRates: [[Double]]
    public var lifNames: [String]
    /// Noise robustness: (kind, level, accuracy with all students).
    public var noise: [NoisePoint]
    public var info: [String: String]
}

public struct NoisePoint: Codable, Sendable {
    public var kind: String
    public var level: Double
    public var accuracy: Double
}

public enum Evaluator {
    /// Profiles every student of `model` on `data` (batches of 250).
    public static func profile(_ model: SNEModel, _ data: LabeledImages, compute: ComputeContext, progress: ProgressSink) throws -> [StudentProfile] {
        var out: [StudentProfile] = []
        for (k, s) in model.students.enumerated() {
            var feats: [Float] = [], macs: [Double] = [], syn: [Double] = []
            var spikeSum: [Double] = [], neurons: [Int] = [], names: [String] = []
            for lo in stride(from: 0, to: data.count, by: 250) {
                let n = min(250, data.count - lo)
                let x = try imageBatch(data, Array(lo..<(lo + n))[...])
                let r = try OpCounter.profile(s, x, timeSteps: model.T, beta: model.spec.studentSpec(k).beta, compute: compute)
                feats += r.out.data; macs += r.macs; syn += r.synops
                if spikeSum.isEmpty { spikeSum = [Double](repeating: 0, count: r.spikes.count); neurons = r.neurons; names = r.lifNames }
                for (j, c) in r.spikes.enumerated() { spikeSum[j] += c.reduce(0, +) }
                progress.bar("profiling student \(k + 1)/\(model.K): \(lo + n)/\(data.count)")
            }
            let rates = spikeSum.enumerated().map { $0.element / Double(max(1, neurons[$0.offset] * model.T * data.count)) }
            out.append(StudentProfile(features: feats, macs: macs, synops: syn, spikeRates: rates, lifNames: names))
        }
        return out
    }

    /// Gate cost per inference (spec §5.1): pooled adds and the MLP's multiplies.
    public static func gateOps(_ model: SNEModel) -> (macs: Double, synops: Double) {
        guard let g = model.spec.gate else { return (0, 0) }
        let c = model.spec.input[0], h = model.spec.input[1] / g.pool, w = model.spec.input[2] / g.pool
        let pooled = Double(c * h * w)
        let adds = g.pool > 1 ? pooled * Double(g.pool * g.pool) : 0
        let macs = pooled * Double(g.hidden) + Double(g.hidden) + Double(g.hidden * model.K)
        return (macs, adds)
    }

    /// Evaluates `model` on `data`: every budget in fixed and (if any) gate order, confidence mode at
    /// each of `margins` (students in gate order, stop once top1 − top2 ≥ margin), op counts,
    /// energy, spike rates, and optionally noise robustness.
    public static func evaluate(_ model: SNEModel, name: String, data: LabeledImages, energy: EnergyTable, margins: [Double],
                                noise: Bool, seed: UInt64, compute: ComputeContext, progress: ProgressSink) throws -> EvalReport {
        let prof = try profile(model, data, compute: compute, progress: progress)
        let n = data.count, K = model.K, F = model.F, c = model.spec.classes
        var feats = [Float](repeating: 0, count: n * K * F)
        for k in 0..<K { for r in 0..<n { for j in 0..<F { feats[r * K * F + k * F + j] = prof[k].features[r * F + j] } } }
        let scores = try model.gateScores(try Features.allImages(data), compute: compute)
        let (gMacs, gSyn) = gateOps(model)
        let headMacs = Double(F * c)
        var rows: [BudgetRow] = []

        func row(_ sel: String, budget: Int, margin: Double?, orders: [[Int]], stopMargin: Double?) throws -> BudgetRow {
            var correct = 0, used = 0.0, macs = 0.0, syn = 0.0
            for lo in stride(from: 0, to: n, by: 1000) {
                let m = min(1000, n - lo)
                var active = [[Int]](repeating: [], count: m)
                if let stopMargin {
                    // Confidence: add students in order until the margin is reached (at most `budget`).
                    var done = [Bool](repeating: false, count: m)
                    for step in 0..<budget {
                        for r in 0..<m where !done[r] { active[r].append(orders[lo + r][step]) }
                        let z = try Features.maskedLogits(model, feats, lo: lo, n: m, active: active, compute: compute)
                        for r in 0..<m where !done[r] {
                            var top1 = -Float.infinity, top2 = -Float.infinity
                            for j in 0..<c { let v = z.data[r * c + j]; if v > top1 { top2 = top1; top1 = v } else if v > top2 { top2 = v } }
                            if Double(top1 - top2) >= stopMargin { done[r] = true }
                        }
                    }
                } else {
                    for r in 0..<m { active[r] = Array(orders[lo + r].prefix(budget)) }
                }
                let pred = argmaxRows(try Features.maskedLogits(model, feats, lo: lo, n: m, active: active, compute: compute))
                for r in 0..<m {
                    if pred[r] == data.labels[lo + r] { correct += 1 }
                    used += Double(active[r].count)
                    for k in active[r] { macs += prof[k].macs[lo + r] + headMacs; syn += prof[k].synops[lo + r] }
                    if sel != "fixed" { macs += gMacs; syn += gSyn }
                }
            }
            let nn = Double(n)
            return BudgetRow(selection: sel, budget: budget, margin: margin, accuracy: Double(correct) / nn, students: used / nn,
                             macs: macs / nn, synops: syn / nn, energyMicrojoules: energy.microjoules(macs: macs / nn, synops: syn / nn))
        }

        let fixed = Array(repeating: model.order, count: n)
        for k in 1...K { rows.append(try row("fixed", budget: k, margin: nil, orders: fixed, stopMargin: nil)) }
        let gateOrders = model.runOrder(scores: scores, batch: n)
        if scores != nil { for k in 1...K { rows.append(try row("gate", budget: k, margin: nil, orders: gateOrders, stopMargin: nil)) } }
        if K > 1 {
            for m in margins { rows.append(try row(scores != nil ? "confidence" : "confidence-fixed", budget: K, margin: m, orders: gateOrders, stopMargin: m)) }
        }
        var noisePoints: [NoisePoint] = []
        if noise { noisePoints = try robustness(data: data, seed: seed) { try accuracyAllStudents(model, $0, compute: compute) } }
        return EvalReport(model: name, samples: n, rows: rows, spikeRates: prof.map(\.spikeRates), lifNames: prof.first?.lifNames ?? [],
                          noise: noisePoints, info: model.info)
    }

    /// Accuracy with every student active.
    public static func accuracyAllStudents(_ model: SNEModel, _ data: LabeledImages, compute: ComputeContext) throws -> Double {
        let f = try Features.compute(model, data, compute: compute, progress: .silent, what: "")
        return try Features.accuracy(model, f, labels: data.labels, budget: model.K, scores: nil, compute: compute)
    }

    /// The noise levels of a robustness sweep: Gaussian σ (in [0, 1] pixel units) and salt-and-pepper
    /// fraction; images are clipped to [0, 1] and rounded to the 256 levels the integer input has.
    public static let gaussianLevels = [0.0, 0.05, 0.1, 0.2, 0.3]
    public static let saltPepperLevels = [0.02, 0.05, 0.1]

    public static func robustness(data: LabeledImages, seed: UInt64, _ accuracy: (LabeledImages) throws -> Double) throws -> [NoisePoint] {
        var out: [NoisePoint] = []
        for s in gaussianLevels { out.append(NoisePoint(kind: "gaussian", level: s, accuracy: try accuracy(noisy(data, gaussian: s, saltPepper: 0, seed: seed)))) }
        for p in saltPepperLevels { out.append(NoisePoint(kind: "salt-pepper", level: p, accuracy: try accuracy(noisy(data, gaussian: 0, saltPepper: p, seed: seed)))) }
        return out
    }

    /// `data` with seeded noise added (same noise for every model evaluated with the same seed).
    public static func noisy(_ data: LabeledImages, gaussian sigma: Double, saltPepper p: Double, seed: UInt64) -> LabeledImages {
        var d = data
        var rng = DataRNG(seed: seed &+ 0x4015E)
        for i in d.pixels.indices {
            var v = Double(d.pixels[i])
            if sigma > 0 {
                let u1 = Double(rng.next() >> 11) * 0x1p-53 + 0x1p-54, u2 = Double(rng.next() >> 11) * 0x1p-53
                v += sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            }
            if p > 0 {
                let u = Double(rng.next() >> 11) * 0x1p-53
                if u < p / 2 { v = 0 } else if u < p { v = 1 }
            }
            d.pixels[i] = Float((min(max(v, 0), 1) * 255).rounded() / 255)
        }
        return d
    }
}
