// Evaluation helpers over cached student features: the `[N, K·F]` features of a data set, accuracy at
// a budget (fixed order or gate order), single-student losses and the fixed run order.
import Foundation
import SNETensor
import SNETrain
import SNEData

public enum Features {
    /// All students' features on `data`, `[N, K·F]` row-major (evaluation mode).
    public static func compute(_ model: SNEModel, _ data: LabeledImages, compute: ComputeContext, progress: ProgressSink, what: String) throws -> [Float] {
        let K = model.K, F = model.F, kf = K * F
        var out = [Float](repeating: 0, count: data.count * kf)
        let bs = 500
        for lo in stride(from: 0, to: data.count, by: bs) {
            let n = min(bs, data.count - lo)
            let x = try imageBatch(data, Array(lo..<(lo + n))[...])
            let f = try model.features(x, active: Array(0..<K), compute: compute)
            for k in 0..<K { for r in 0..<n { for j in 0..<F { out[(lo + r) * kf + k * F + j] = f[k]!.data[r * F + j] } } }
            progress.bar("student features (\(what)): \(lo + n)/\(data.count)")
        }
        return out
    }

    /// Every image of `data` as one tensor.
    public static func allImages(_ data: LabeledImages) throws -> Tensor { try Tensor(shape: data.shape, data: data.pixels) }

    /// Head logits for rows `lo..<lo+n` of `features` with only the students in `active[r]` kept.
    static func maskedLogits(_ model: SNEModel, _ features: [Float], lo: Int, n: Int, active: [[Int]], compute: ComputeContext) throws -> Tensor {
        let kf = model.K * model.F, F = model.F
        var x = Tensor(zeros: [n, kf])
        for r in 0..<n { for k in active[r] { for j in 0..<F { x.data[r * kf + k * F + j] = features[(lo + r) * kf + k * F + j] } } }
        return try model.head.forward(x, LayerContext(compute: compute, training: false))
    }

    /// Top-1 accuracy with the first `budget` students of each sample's run order (the gate's when
    /// `scores` `[N, K]` is given, else the model's fixed order).
    public static func accuracy(_ model: SNEModel, _ features: [Float], labels: [Int], budget: Int, scores: Tensor?, compute: ComputeContext) throws -> Double {
        let n = labels.count
        var correct = 0
        for lo in stride(from: 0, to: n, by: 1000) {
            let m = min(1000, n - lo)
            let act: [[Int]] = (0..<m).map { r in
                guard let s = scores else { return Array(model.order.prefix(budget)) }
                return Array(SNEModel.descending(s.data[((lo + r) * model.K)..<((lo + r + 1) * model.K)]).prefix(budget))
            }
            let pred = argmaxRows(try maskedLogits(model, features, lo: lo, n: m, active: act, compute: compute))
            for r in 0..<m where pred[r] == labels[lo + r] { correct += 1 }
        }
        return Double(correct) / Double(max(n, 1))
    }

    /// `[N, K]`: the head's cross-entropy on each sample with student k alone.
    public static func singleStudentLosses(_ model: SNEModel, _ features: [Float], labels: [Int], compute: ComputeContext) throws -> [Float] {
        let n = labels.count, K = model.K, c = model.spec.classes
        var out = [Float](repeating: 0, count: n * K)
        for k in 0..<K {
            for lo in stride(from: 0, to: n, by: 1000) {
                let m = min(1000, n - lo)
                let z = try maskedLogits(model, features, lo: lo, n: m, active: Array(repeating: [k], count: m), compute: compute)
                for r in 0..<m {
                    var mx = -Float.infinity
                    for j in 0..<c { mx = max(mx, z.data[r * c + j]) }
                    var s: Float = 0
                    for j in 0..<c { s += exp(z.data[r * c + j] - mx) }
                    out[(lo + r) * K + k] = (log(s) + mx) - z.data[r * c + labels[lo + r]]
                }
            }
        }
        return out
    }

    /// Students ordered by their accuracy alone (best first; ties to the lower index).
    public static func singleStudentOrder(_ model: SNEModel, _ features: [Float], labels: [Int], compute: ComputeContext) throws -> [Int] {
        let saved = model.order
        var acc: [Double] = []
        for k in 0..<model.K {
            model.order = [k] + (0..<model.K).filter { $0 != k }
            acc.append(try accuracy(model, features, labels: labels, budget: 1, scores: nil, compute: compute))
        }
        model.order = saved
        return SNEModel.descending(acc)
    }
}
