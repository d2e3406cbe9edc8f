// A cascade's per-prefix temperatures (`--prefix-temperature`), training only.
//
// One head serves every prefix of a cascade's run order (spec §6: the logits are the bias plus each
// run student's term), so its scale is a compromise: the first student's weights must make prefix
// 1 confident on its own, and the same weights then speak as loudly in the full sum, where a later,
// stronger student should dominate. Here prefix p < K is scored on `exp(a_p) · logits` (CE and
// KL) and the full prefix K on the logits as they are; the a_p learn with the head. A positive
// scale does not move a prefix's argmax, so the early prefixes keep their accuracy while the head
// is free to weigh the students for the full sum. Nothing of it reaches the program: its logits
// are the head's, and the stop margin (`sne compile --stop-margin`) is in those units.
import Foundation
import SNETensor
import SNETrain

/// The learned log-temperatures `a_1 … a_{K−1}` of a cascade's prefixes (prefix K has none).
/// An identity layer holding one parameter, so that the stage's optimizer and per-epoch
/// checkpoint carry it with the head.
final class PrefixTemperature: Layer {
    /// `a_p` at index p − 1, starting at 0 (scale 1); no weight decay.
    let logScale: Parameter
    let K: Int

    init(K: Int) {
        self.K = K
        logScale = Parameter("log_scale", Tensor(zeros: [max(1, K - 1)]), decays: false)
    }

    func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor { x }
    func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor { dy }
    var parameters: [Parameter] { [logScale] }

    /// `exp(a_p)` for prefix length p (1…K); 1 for p = K.
    func scale(prefix p: Int) -> Float { p >= K ? 1 : Float(Foundation.exp(Double(logScale.value.data[p - 1]))) }

    /// The class loss `base` of logits `z` `[rows, C]` with row r scored at its prefix length
    /// `prefix[r % prefix.count]`'s temperature: returns `base(s ⊙ z)` with the gradient for z
    /// (`s · ∂L/∂(s z)`), and adds `weight · Σ ∂L/∂(s z) · s z` over each prefix's rows into
    /// `∂L/∂a_p` (d(e^a z)/da = e^a z).
    func loss(_ z: Tensor, prefix: [Int], weight: Float = 1, _ base: (Tensor) throws -> LossResult) throws -> LossResult {
        let rows = z.shape[0], c = z.count / max(1, rows)
        let rowPrefix = (0..<rows).map { prefix[$0 % prefix.count] }, rowScale = rowPrefix.map { scale(prefix: $0) }
        var zs = z
        for r in 0..<rows { for j in 0..<c { zs.data[r * c + j] *= rowScale[r] } }
        let out = try base(zs)
        var g = out.grad
        for r in 0..<rows {
            var dot: Float = 0
            for j in 0..<c { dot += g.data[r * c + j] * zs.data[r * c + j]; g.data[r * c + j] *= rowScale[r] }
            if rowPrefix[r] < K { logScale.grad.data[rowPrefix[r] - 1] += weight * dot }
        }
        return LossResult(value: out.value, grad: g)
    }

    /// `a_p` as text, e.g. "1:2.41" (the scale `exp(a_p)` of each prefix but the last).
    var summary: String {
        (1..<max(2, K)).map { String(format: "%d:%.3g", $0, scale(prefix: $0)) }.joined(separator: " ")
    }
}
