// Optimizers (SGD with momentum/Nesterov/weight decay, AdamW) and learning-rate schedules.
import SNETensor
import CSNEKernels
import Foundation

/// Updates parameters from their gradients. State is exposed by name for checkpoints.
public protocol Optimizer: AnyObject {
    /// Applies one update with learning rate `lr` (gradients are not zeroed).
    func step(lr: Float)
    /// Steps taken so far.
    var steps: Int { get }
    /// Internal state tensors by name, for checkpoints.
    func stateTensors() -> [(String, Tensor)]
    /// Restores what `stateTensors` returned; throws on a missing or mis-shaped entry.
    func loadState(_ tensors: [String: Tensor], steps: Int) throws
}

/// SGD: `v = μ v + (g + λ w)`; `w -= lr · v` (or `lr · (g + λw + μ v)` with Nesterov), PyTorch's form.
public final class SGD: Optimizer {
    public let params: [Parameter]
    public var momentum: Float, nesterov: Bool, weightDecay: Float
    public private(set) var steps = 0
    private var velocity: [Tensor]

    public init(_ params: [Parameter], momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.params = params.filter(\.trainable); self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
        velocity = self.params.map { Tensor(zeros: $0.value.shape) }
    }

    public func step(lr: Float) {
        for (k, p) in params.enumerated() {
            let wd = p.decays ? weightDecay : 0
            p.value.data.withUnsafeMutableBufferPointer { w in p.grad.data.withUnsafeBufferPointer { g in velocity[k].data.withUnsafeMutableBufferPointer { v in
                for i in 0..<w.count {
                    var d = g[i] + wd * w[i]
                    if momentum != 0 {
                        v[i] = steps == 0 ? d : momentum * v[i] + d
                        d = nesterov ? d + momentum * v[i] : v[i]
                    }
                    w[i] -= lr * d
                }
            } } }
        }
        steps += 1
    }

    public func stateTensors() -> [(String, Tensor)] { velocity.enumerated().map { ("velocity.\($0.offset)", $0.element) } }
    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        for k in velocity.indices {
            guard let t = tensors["velocity.\(k)"], t.shape == velocity[k].shape else { throw LayerError("SGD: checkpoint lacks velocity.\(k) of shape \(velocity[k].shape)") }
            velocity[k] = t
        }
        self.steps = steps
    }
}

/// AdamW (decoupled weight decay; with `weightDecay = 0` it is Adam):
/// `m = β1 m + (1−β1) g`, `v = β2 v + (1−β2) g²`, `w -= lr·(m̂/(√v̂ + ε) + λ w)`.
public final class AdamW: Optimizer {
    public let params: [Parameter]
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// When set, large tensors are updated by its workers (elementwise, so results do not change).
    public var compute: ComputeContext?
    public private(set) var steps = 0
    private var m: [Tensor], v: [Tensor]

    public init(_ params: [Parameter], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0,
                compute: ComputeContext? = nil) {
        self.params = params.filter(\.trainable); self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.compute = compute
        m = self.params.map { Tensor(zeros: $0.value.shape) }; v = m
    }

    public func step(lr: Float) {
        steps += 1
        let bc1 = 1 - Float(pow(Double(beta1), Double(steps))), bc2 = 1 - Float(pow(Double(beta2), Double(steps)))
        let b1 = beta1, b2 = beta2, eps = self.eps
        let stepSize = lr / bc1, bc2sqrt = bc2.squareRoot()
        for (k, p) in params.enumerated() {
            let wd = p.decays ? weightDecay * lr : 0
            p.value.data.withUnsafeMutableBufferPointer { w in p.grad.data.withUnsafeBufferPointer { g in
                m[k].data.withUnsafeMutableBufferPointer { mp in v[k].data.withUnsafeMutableBufferPointer { vp in
                    let W = SharedPointer(w.baseAddress!), G = SharedPointer(g.baseAddress!)
                    let M = SharedPointer(mp.baseAddress!), V = SharedPointer(vp.baseAddress!)
                    // w -= wd·w; m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g·g; w -= stepSize·m / (√v / √bc2 + eps)
                    // (C, vectorised, the same operations in the same order: the same bits as a Swift loop).
                    let update = { (r: Range<Int>, _: Int) in
                        sne_adamw_update(W.p + r.lowerBound, G.p + r.lowerBound, M.p + r.lowerBound, V.p + r.lowerBound, r.count,
                                         wd, b1, b2, stepSize, bc2sqrt, eps)
                    }
                    if let compute, w.count >= 1 << 15 { compute.parallelFor(w.count, minChunk: 1 << 14, update) } else { update(0..<w.count, 0) }
                } }
            } }
        }
    }

    public func stateTensors() -> [(String, Tensor)] {
        m.enumerated().map { ("m.\($0.offset)", $0.element) } + v.enumerated().map { ("v.\($0.offset)", $0.element) }
    }
    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        for k in m.indices {
            guard let a = tensors["m.\(k)"], let b = tensors["v.\(k)"], a.shape == m[k].shape, b.shape == v[k].shape else {
                throw LayerError("AdamW: checkpoint lacks m.\(k)/v.\(k) of shape \(m[k].shape)")
            }
            m[k] = a; v[k] = b
        }
        self.steps = steps
    }
}

/// A learning rate as a function of the step index (0-based).
public struct LRSchedule: Sendable {
    private let f: @Sendable (Int) -> Float
    public init(_ f: @escaping @Sendable (Int) -> Float) { self.f = f }
    /// The learning rate at `step`.
    public func callAsFunction(_ step: Int) -> Float { f(step) }

    /// A fixed rate.
    public static func constant(_ lr: Float) -> LRSchedule { LRSchedule { _ in lr } }

    /// Cosine decay from `base` to `minimum` over `total` steps: `min + (base−min)(1+cos(π s/total))/2`.
    public static func cosine(base: Float, total: Int, minimum: Float = 0) -> LRSchedule {
        LRSchedule { s in
            let p = Double(min(s, total)) / Double(max(total, 1))
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * p)) / 2)
        }
    }

    /// `base · gamma^(⌊s / every⌋)`.
    public static func step(base: Float, every: Int, gamma: Float) -> LRSchedule {
        LRSchedule { s in base * Float(pow(Double(gamma), Double(s / max(every, 1)))) }
    }

    /// Linear warm-up from `base/warmup` to the wrapped schedule's rate over `warmup` steps, then the
    /// wrapped schedule (shifted so it starts after warm-up).
    public func withWarmup(_ warmup: Int) -> LRSchedule {
        let inner = self
        return LRSchedule { s in
            s < warmup ? inner(0) * Float(s + 1) / Float(warmup) : inner(s - warmup)
        }
    }
}
