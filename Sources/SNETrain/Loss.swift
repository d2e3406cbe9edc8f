// Losses, each returning the scalar value and dL/d(prediction): cross-entropy, KL distillation with
// temperature, MSE, and attention-map transfer.
import SNETensor
import Foundation

/// A loss value with its gradient with respect to the prediction.
public struct LossResult {
    public let value: Float
    public let grad: Tensor
    public init(value: Float, grad: Tensor) { self.value = value; self.grad = grad }
}

func softmaxRows(_ x: [Float], rows: Int, cols: Int, temperature: Float = 1) -> [Double] {
    var p = [Double](repeating: 0, count: rows * cols)
    for r in 0..<rows {
        var mx = -Double.infinity
        for c in 0..<cols { mx = max(mx, Double(x[r * cols + c]) / Double(temperature)) }
        var s = 0.0
        for c in 0..<cols { let e = exp(Double(x[r * cols + c]) / Double(temperature) - mx); p[r * cols + c] = e; s += e }
        for c in 0..<cols { p[r * cols + c] /= s }
    }
    return p
}

public enum Loss {
    /// Mean softmax cross-entropy of `logits [B, C]` against class `labels`:
    /// `L = −(1/B) Σ_b log softmax(z_b)[y_b]`, `dL/dz = (softmax(z) − onehot(y)) / B`.
    public static func crossEntropy(_ logits: Tensor, labels: [Int]) throws -> LossResult {
        guard logits.rank == 2, logits.shape[0] == labels.count else {
            throw LayerError("crossEntropy: logits \(logits.shape) do not match \(labels.count) labels")
        }
        let (b, c) = (logits.shape[0], logits.shape[1])
        if let bad = labels.first(where: { $0 < 0 || $0 >= c }) {
            throw LayerError("crossEntropy: label \(bad) outside 0..<\(c)")
        }
        let p = softmaxRows(logits.data, rows: b, cols: c)
        var loss = 0.0
        var g = Tensor(zeros: logits.shape)
        for r in 0..<b {
            loss -= log(max(p[r * c + labels[r]], 1e-300))
            for k in 0..<c { g.data[r * c + k] = Float((p[r * c + k] - (k == labels[r] ? 1 : 0)) / Double(b)) }
        }
        return LossResult(value: Float(loss / Double(b)), grad: g)
    }

    /// Hinton distillation: `L = τ² · (1/B) Σ_b KL(softmax(t_b/τ) ‖ softmax(s_b/τ))`;
    /// `dL/ds = τ · (softmax(s/τ) − softmax(t/τ)) / B`. The teacher gets no gradient.
    public static func distillationKL(student: Tensor, teacher: Tensor, temperature tau: Float) throws -> LossResult {
        guard student.rank == 2, student.shape == teacher.shape else {
            throw LayerError("distillationKL: student \(student.shape) and teacher \(teacher.shape) must be equal [B, C]")
        }
        guard tau > 0 else { throw LayerError("distillationKL: temperature must be > 0, got \(tau)") }
        let (b, c) = (student.shape[0], student.shape[1])
        let ps = softmaxRows(student.data, rows: b, cols: c, temperature: tau)
        let pt = softmaxRows(teacher.data, rows: b, cols: c, temperature: tau)
        var kl = 0.0
        var g = Tensor(zeros: student.shape)
        for i in 0..<(b * c) {
            if pt[i] > 0 { kl += pt[i] * (log(pt[i]) - log(max(ps[i], 1e-300))) }
            g.data[i] = Float(Double(tau) * (ps[i] - pt[i]) / Double(b))
        }
        return LossResult(value: Float(Double(tau * tau) * kl / Double(b)), grad: g)
    }

    /// Mean squared error over all elements: `L = (1/N) Σ (p − y)²`, `dL/dp = 2(p − y)/N`.
    public static func mse(_ prediction: Tensor, _ target: Tensor) throws -> LossResult {
        guard prediction.shape == target.shape else {
            throw LayerError("mse: prediction \(prediction.shape) and target \(target.shape) differ")
        }
        let n = Float(prediction.count)
        var s = 0.0
        var g = Tensor(zeros: prediction.shape)
        for i in 0..<prediction.count {
            let d = prediction.data[i] - target.data[i]
            s += Double(d) * Double(d)
            g.data[i] = 2 * d / n
        }
        return LossResult(value: Float(s / Double(n)), grad: g)
    }

    /// The attention map of `[B, C, H, W]` features: `a_b = Q_b / ‖Q_b‖₂` with `Q_b = Σ_c x_{b,c}²`
    /// (a `[B, H*W]` tensor).
    public static func attentionMap(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4 else { throw LayerError("attentionMap: features must be [B, C, H, W], got \(x.shape)") }
        let (b, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        var a = Tensor(zeros: [b, hw])
        for i in 0..<b {
            for ch in 0..<c { for j in 0..<hw { let v = x.data[(i * c + ch) * hw + j]; a.data[i * hw + j] += v * v } }
            var nrm = 0.0
            for j in 0..<hw { nrm += Double(a.data[i * hw + j]) * Double(a.data[i * hw + j]) }
            let inv = Float(1 / (nrm.squareRoot() + 1e-12))
            for j in 0..<hw { a.data[i * hw + j] *= inv }
        }
        return a
    }

    /// Attention transfer (Zagoruyko & Komodakis; LaSNN): `L = (1/B) Σ_b ‖a(s)_b − a(t)_b‖₂²`
    /// between student and teacher features at a matched stage (same B, H, W; channels may differ).
    /// The gradient flows to the student only.
    public static func attentionTransfer(student: Tensor, teacher: Tensor) throws -> LossResult {
        guard student.rank == 4, teacher.rank == 4, student.shape[0] == teacher.shape[0],
              student.shape[2] == teacher.shape[2], student.shape[3] == teacher.shape[3] else {
            throw LayerError("attentionTransfer: student \(student.shape) and teacher \(teacher.shape) must share B, H, W")
        }
        return try attentionTransfer(student: student, teacherMap: try attentionMap(teacher))
    }

    /// `attentionTransfer` against a precomputed teacher map `[B, H·W]` (`attentionMap`'s output).
    public static func attentionTransfer(student: Tensor, teacherMap at: Tensor) throws -> LossResult {
        guard student.rank == 4, at.rank == 2, at.shape[0] == student.shape[0], at.shape[1] == student.shape[2] * student.shape[3] else {
            throw LayerError("attentionTransfer: student \(student.shape) and teacher map \(at.shape) must share B and H·W")
        }
        let (b, c, hw) = (student.shape[0], student.shape[1], student.shape[2] * student.shape[3])
        var loss = 0.0
        var g = Tensor(zeros: student.shape)
        for i in 0..<b {
            var q = [Double](repeating: 0, count: hw)
            for ch in 0..<c { for j in 0..<hw { let v = Double(student.data[(i * c + ch) * hw + j]); q[j] += v * v } }
            let nrm = q.reduce(0) { $0 + $1 * $1 }.squareRoot() + 1e-12
            let a = q.map { $0 / nrm }
            var ga = [Double](repeating: 0, count: hw)
            var dot = 0.0
            for j in 0..<hw {
                let d = a[j] - Double(at.data[i * hw + j])
                loss += d * d
                ga[j] = 2 * d / Double(b)
                dot += ga[j] * a[j]
            }
            // dL/dQ = (dL/da − a·(a·dL/da)) / ‖Q‖;  dL/dx = 2x · dL/dQ
            for ch in 0..<c { for j in 0..<hw {
                let k = (i * c + ch) * hw + j
                g.data[k] = Float(2 * Double(student.data[k]) * (ga[j] - a[j] * dot) / nrm)
            } }
        }
        return LossResult(value: Float(loss / Double(b)), grad: g)
    }
}
