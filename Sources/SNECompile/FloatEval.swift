// The float model on a batch of images, layer by layer (no LIF+pool fusion, so every LIF's spikes
// are seen): per-student features, per-LIF spike counts, gate scores and gate hidden activations.
// Calibration and `sne check` both read this.
import SNEEnsemble
import SNEData
import SNETensor
import SNETrain

/// The float model's outputs on N images.
public struct FloatEval: Sendable {
    /// `features[k]`: N×F row-major, for every student k.
    public var features: [[Float]]
    /// `spikes[k][j]`: spikes emitted by LIF j of student k (all images, all steps);
    /// `neuronSteps[k][j]`: neurons × T × N.
    public var spikes: [[Double]]
    public var neuronSteps: [[Double]]
    /// Gate scores N×K (empty without a gate) and the largest hidden (post-ReLU) gate activation.
    public var gateScores: [Float]
    public var gateHiddenMax: Float
    public var count: Int

    /// Runs `model` on `images` in batches of `batch`.
    public static func run(_ model: SNEModel, _ images: LabeledImages, batch: Int = 200, compute: ComputeContext) throws -> FloatEval {
        let K = model.K, n = images.count
        var feats = [[Float]](repeating: [], count: K)
        var spikes = [[Double]](repeating: [], count: K), steps = spikes
        var scores: [Float] = [], hmax: Float = 0
        let ctx = LayerContext(compute: compute, training: false, timeSteps: model.T)
        for lo in stride(from: 0, to: n, by: batch) {
            let b = min(batch, n - lo)
            let x = try Tensor(shape: [b] + images.shape.dropFirst(), data: Array(images.pixels[(lo * images.imageSize)..<((lo + b) * images.imageSize)]))
            for k in 0..<K {
                var h = x, j = 0
                for (name, l) in model.students[k].layers {
                    do { h = try l.forward(h, ctx) } catch let e as LayerError { throw CompileError("student \(k) layer \(name): \(e.message)") }
                    if l is LIF {
                        if spikes[k].count <= j { spikes[k].append(0); steps[k].append(0) }
                        spikes[k][j] += h.data.reduce(0.0) { $0 + Double($1) }
                        steps[k][j] += Double(h.count)
                        j += 1
                    }
                }
                feats[k] += h.data
            }
            if let g = model.gate {
                var h = x
                for (_, l) in g.layers {
                    h = try l.forward(h, ctx)
                    if l is ReLU { hmax = max(hmax, h.data.max() ?? 0) }
                }
                scores += h.data
            }
        }
        return FloatEval(features: feats, spikes: spikes, neuronSteps: steps, gateScores: scores, gateHiddenMax: hmax, count: n)
    }

    /// Head logits of image `i` with the students in `active` (others contribute zeros, as spec §6).
    public func logits(_ model: SNEModel, image i: Int, active: [Int]) -> [Double] {
        let F = model.F, K = model.K, C = model.spec.classes
        let W = model.head.weight.value.data, b = model.head.bias?.value.data ?? [Float](repeating: 0, count: C)
        var z = b.map(Double.init)
        for k in active {
            for f in 0..<F {
                let v = Double(features[k][i * F + f])
                if v == 0 { continue }
                for c in 0..<C { z[c] += v * Double(W[c * (K * F) + k * F + f]) }
            }
        }
        return z
    }

    /// Run order of image `i` (gate score descending, ties to the lower index; or the fixed order).
    public func runOrder(_ model: SNEModel, image i: Int) -> [Int] {
        guard model.gate != nil, !gateScores.isEmpty else { return model.order }
        let K = model.K, s = gateScores[(i * K)..<((i + 1) * K)].map { $0 }
        return (0..<K).sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
    }

    /// Float spike rate of each LIF of student k (spikes / neuron-steps).
    public func rates(_ k: Int) -> [Double] { zip(spikes[k], neuronSteps[k]).map { $1 > 0 ? $0 / $1 : 0 } }
}
