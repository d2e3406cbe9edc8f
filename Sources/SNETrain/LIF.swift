// The leaky integrate-and-fire neuron unrolled over T steps (BPTT with surrogate gradients) and
// the non-spiking readout integrator.
import SNETensor
import CSNEKernels
import Foundation

/// The derivative used in place of the Heaviside step's, as a function of `u = mem - theta`.
public enum Surrogate: Equatable, Sendable, CustomStringConvertible {
    /// `1 / (slope·|u| + 1)²` (snnTorch `fast_sigmoid`).
    case fastSigmoid(slope: Float)
    /// `(α/2) / (1 + (π/2·α·u)²)` (snnTorch `atan`).
    case atan(alpha: Float)
    /// `max(0, 1 - |u|/width)` (a triangle of height 1 and half-width `width`).
    case triangle(width: Float)

    /// The surrogate derivative at `u`.
    @inlinable public func derivative(_ u: Float) -> Float {
        switch self {
        case .fastSigmoid(let k): let d = k * abs(u) + 1; return 1 / (d * d)
        case .atan(let a): let z = Float.pi / 2 * a * u; return a / 2 / (1 + z * z)
        case .triangle(let w): return max(0, 1 - abs(u) / w)
        }
    }

    public var description: String {
        switch self {
        case .fastSigmoid(let k): return "fast_sigmoid(\(k))"
        case .atan(let a): return "atan(\(a))"
        case .triangle(let w): return "triangle(\(w))"
        }
    }
}

/// What happens to the membrane after a spike.
public enum ResetMode: String, Sendable {
    /// `mem -= theta` on the step after a spike.
    case subtract
    /// `mem = 0` on the step after a spike.
    case zero
}

/// The order of a LIF step's leak, fire and reset.
public enum LIFOrder: String, Sendable {
    /// snnTorch `Leaky`: the reset term is applied on the next step, fire on `mem > θ`.
    case snntorch
    /// Spike IR §3.5 (what the integer program runs): leak the reset membrane, integrate, fire on
    /// `v ≥ θ`, reset at once. The ensemble's students use this order.
    case spec
}

/// Leaky integrate-and-fire neurons over a time-unrolled batch `[T*B, ...]` (time outermost).
/// With `order = .snntorch`:
///
///     mem[t] = β·mem[t-1] + I[t] − θ·s[t-1]        (subtract reset)
///     mem[t] = (β·mem[t-1] + I[t])·(1 − s[t-1])    (zero reset)
///     s[t]   = H(mem[t] − θ)                       (H(u) = 1 when u > 0)
///
/// with `mem[-1] = 0, s[-1] = 0` — the snnTorch `Leaky` semantics (reset term detached from the
/// graph). With `order = .spec` (Spike IR §3.5, `m` the membrane after reset, `m[-1] = 0`):
///
///     v[t] = β·m[t-1] + I[t];   s[t] = H(v[t] − θ) (H(0) = 1: fire on v ≥ θ)
///     m[t] = v[t] − θ·s[t]  (subtract)   or   v[t]·(1 − s[t])  (zero)
///
/// and the surrogate is taken at `v[t] − θ`. Backward is BPTT through the membrane, with `dS/dmem = surrogate.derivative(mem − θ)`.
/// Saves only its input for backward (for direct input that is 1/T of the membranes): backward
/// recomputes each plane's membranes with the forward's arithmetic, so the gradients are exactly
/// those of the stored-membrane BPTT.
public final class LIF: Layer {
    /// The decay β: fixed, or with a learned decay (`learnDecay()`, PLIF, Fang et al. 2021)
    /// `sigmoid(w)` of the parameter `beta_logit` (one per layer: the Spike IR's leak is per op).
    public var beta: Float {
        get { betaLogit.map { 1 / (1 + exp(-$0.value.data[0])) } ?? fixedBeta }
        set { if let p = betaLogit { p.value.data[0] = Self.logit(newValue) } else { fixedBeta = newValue } }
    }
    private var fixedBeta: Float
    /// The learned decay's parameter (nil: β fixed).
    public private(set) var betaLogit: Parameter?
    public var theta: Float
    public var reset: ResetMode
    public var surrogate: Surrogate
    /// The weight of this layer's term in the spike-rate cost: its loss is
    /// `ctx.spikeCost · costWeight · mean(output spikes)` (1: the plain mean rate; `--rate-weights
    /// synops` sets it to the layer's share of the next layer's accumulates).
    public var costWeight: Float = 1
    /// Which step order the neuron follows (snnTorch's or the Spike IR's).
    public var order: LIFOrder
    /// Direct input: the layer takes `[B, ...]` and feeds the same current at each of the T steps
    /// (output `[T*B, ...]`; backward returns `Σ_t dL/dI[t]`). Saves materialising T copies.
    public var directInput: Bool
    private var input: Tensor?
    /// A batch norm fused in before the layer (`forward(_:pool:affine:_:)`): the input current is
    /// `input·scale + shift`, per (group, channel), as the batch norm would have written it.
    private var affine: LIFAffine?
    /// Planes per step, plane height and width, fused pooling window and T of the last training forward.
    private var geometry: (planes: Int, h: Int, w: Int, pool: Int, steps: Int)?

    public init(beta: Float = 0.5, theta: Float = 1, reset: ResetMode = .subtract, surrogate: Surrogate = .fastSigmoid(slope: 25),
                directInput: Bool = false, order: LIFOrder = .snntorch) {
        self.fixedBeta = beta; self.theta = theta; self.reset = reset; self.surrogate = surrogate; self.directInput = directInput
        self.order = order
    }

    /// Makes β a trained parameter (`beta_logit`, starting at the current β clamped to
    /// [0.01, 0.99]); only for the Spike IR step order.
    public func learnDecay() {
        guard betaLogit == nil else { return }
        var w = Tensor(zeros: [1])
        w.data[0] = Self.logit(min(max(fixedBeta, 0.01), 0.99))
        betaLogit = Parameter("beta_logit", w, decays: false)
    }

    static func logit(_ b: Float) -> Float { log(b / (1 - b)) }

    public var parameters: [Parameter] { betaLogit.map { [$0] } ?? [] }

    public var attributes: [String: String] {
        ["beta": "\(beta)", "theta": "\(theta)", "reset": reset.rawValue, "surrogate": surrogate.description,
         "directInput": "\(directInput)", "order": order.rawValue]
    }
    /// With a fused batch norm the saved input is the batch norm's (counted there).
    public var savedBytes: Int { affine == nil ? (input?.count ?? 0) * 4 : 0 }
    public func clearSaved() { input = nil; affine = nil; geometry = nil }

    /// Membrane potentials of the last training forward, `[T*B, ...]` (nil after backward).
    public var lastMembrane: Tensor? {
        guard let x = input, let (planes, h, w, _, t) = geometry else { return nil }
        var shape = x.shape
        if directInput { shape[0] *= t }
        var m = Tensor(zeros: shape), spikes = Tensor(zeros: shape)
        let ws = UnsafeMutablePointer<Float>.allocate(capacity: 4 * h * w)
        defer { ws.deallocate() }
        x.data.withUnsafeBufferPointer { xb in m.data.withUnsafeMutableBufferPointer { mb in spikes.data.withUnsafeMutableBufferPointer { sb in
            affine.withPointers { sc, sh, ac, at in
                sne_lif_forward(xb.baseAddress!, directInput ? 1 : 0, Int32(t), Int32(planes), 0, Int32(planes), Int32(h), Int32(w), 1,
                                beta, theta, reset == .zero ? 1 : 0, order == .spec ? 1 : 0, sb.baseAddress!, mb.baseAddress!, ws, sc, sh, ac, at)
            }
        } } }
        return m
    }

    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor { try forward(x, pool: 1, ctx) }

    /// The surrogate as the C kernels' (kind, parameter) pair.
    var surrogateCode: (Int32, Float) {
        switch surrogate {
        case .fastSigmoid(let k): return (Int32(SNE_SURROGATE_FAST_SIGMOID), k)
        case .atan(let a): return (Int32(SNE_SURROGATE_ATAN), a)
        case .triangle(let w): return (Int32(SNE_SURROGATE_TRIANGLE), w)
        }
    }

    /// Forward fused with the `k x k`, stride-`k` max pooling that follows (`k = 1`: no pooling):
    /// returns the pooled spikes `[T*B, C, H/k, W/k]` without materialising the unpooled ones. Gives
    /// the same bits as `forward` then `MaxPool2d(k)`; `backward` then takes the pooled gradient.
    /// `Sequential` uses it for every LIF directly followed by such a pool.
    public func forward(_ x: Tensor, pool k: Int, _ ctx: LayerContext) throws -> Tensor {
        try forward(x, pool: k, affine: nil, ctx)
    }

    /// `forward(_:pool:_:)` on the output of a batch norm that was not written: `x` is the batch
    /// norm's input and `affine` its training affine (`BatchNorm2d.forwardAffine`); the input current
    /// is computed plane by plane with the batch norm's arithmetic (the same bits), and backward returns
    /// the gradient with respect to that current (what the batch norm's backward takes).
    func forward(_ x: Tensor, pool k: Int, affine: LIFAffine?, _ ctx: LayerContext) throws -> Tensor {
        let t = ctx.timeSteps
        guard x.rank >= 1, directInput || x.shape[0] % t == 0 else { throw LayerError("LIF: batch \(x.shape.first ?? 0) is not a multiple of T = \(t)") }
        let direct = directInput
        var stepShape = x.shape
        if !direct { stepShape[0] /= t }
        // Planes of H x W neurons per step: (B·C) planes for NCHW, B rows otherwise.
        let planes: Int, h: Int, w: Int
        if x.rank == 4 { planes = stepShape[0] * stepShape[1]; h = stepShape[2]; w = stepShape[3] }
        else { planes = stepShape[0]; h = 1; w = stepShape[0] == 0 ? 0 : stepShape.reduce(1, *) / stepShape[0] }
        guard k == 1 || (x.rank == 4 && h % k == 0 && w % k == 0) else {
            throw LayerError("LIF: fused \(k)x\(k) pooling needs NCHW input with H and W multiples of \(k), got \(x.shape)")
        }
        var outShape = stepShape; outShape[0] *= t
        if k > 1 { outShape[2] /= k; outShape[3] /= k }
        let beta = self.beta, theta = self.theta, zero: Int32 = reset == .zero ? 1 : 0, spec: Int32 = order == .spec ? 1 : 0
        let compute = ctx.compute
        compute.reserveScratch(4 * h * w)
        self.affine = affine
        let af = affine
        let y = Tensor(uninitialized: outShape) { yb in
            x.data.withUnsafeBufferPointer { xb in
                guard planes > 0, h * w > 0 else { return }
                let X = SharedPointer(xb.baseAddress!), Y = SharedPointer(yb.baseAddress!)
                compute.parallelFor(planes, minChunk: max(1, 4096 / (h * w))) { r, worker in
                    af.withPointers { sc, sh, ac, at in
                        sne_lif_forward(X.p, direct ? 1 : 0, Int32(t), Int32(planes), Int32(r.lowerBound), Int32(r.upperBound),
                                        Int32(h), Int32(w), Int32(k), beta, theta, zero, spec, Y.p, nil, compute.scratch(worker), sc, sh, ac, at)
                    }
                }
            }
        }
        input = ctx.training ? x : nil
        if !ctx.training { self.affine = nil }
        geometry = (planes, h, w, k, t)
        return y
    }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if ctx.spikeCost > 0 {
            // The rate cost λ·w · mean(output): each output's gradient gains λ·w / count.
            var g = dy
            let c = ctx.spikeCost * costWeight / Float(max(1, dy.count))
            for i in 0..<g.count { g.data[i] += c }
            return try backwardSpikes(g, ctx)
        }
        return try backwardSpikes(dy, ctx)
    }

    private func backwardSpikes(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard let x = input, let (planes, h, w, k, t) = geometry else { throw LayerError("LIF: backward without a training forward") }
        guard t == ctx.timeSteps else { throw LayerError("LIF: backward with T = \(ctx.timeSteps), forward had T = \(t)") }
        guard dy.count * k * k == planes * h * w * t else {
            throw LayerError("LIF: gradient shape \(dy.shape) does not match the forward's output (\(planes * h * w * t / (k * k)) elements)")
        }
        let direct = directInput
        let beta = self.beta, theta = self.theta, zero: Int32 = reset == .zero ? 1 : 0, (kind, param) = surrogateCode
        let spec: Int32 = order == .spec ? 1 : 0
        let inShape = x.shape
        let compute = ctx.compute
        compute.reserveScratch((t + 3) * h * w)
        let af = affine
        var dx = Tensor(uninitialized: inShape) { _ in }   // every element written by the kernel
        let learn = betaLogit != nil && order == .spec
        var dbeta = [Float](repeating: 0, count: learn ? planes : 0)
        dbeta.withUnsafeMutableBufferPointer { gb in
        let G = learn ? SharedPointer(gb.baseAddress!) : nil
        dx.data.withUnsafeMutableBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { db in x.data.withUnsafeBufferPointer { ib in
                guard planes > 0, h * w > 0 else { return }
                let D = SharedPointer(db.baseAddress!), M = SharedPointer(ib.baseAddress!), X = SharedPointer(xb.baseAddress!)
                compute.parallelFor(planes, minChunk: max(1, 4096 / (h * w))) { r, worker in
                    af.withPointers { sc, sh, ac, at in
                        sne_lif_backward(D.p, M.p, direct ? 1 : 0, Int32(t), Int32(planes), Int32(r.lowerBound), Int32(r.upperBound),
                                         Int32(h), Int32(w), Int32(k), beta, theta, zero, spec, kind, param, X.p, compute.scratch(worker),
                                         compute.isaLevel, G?.p, sc, sh, ac, at)
                    }
                }
            } }
        }
        }
        if learn, let p = betaLogit {
            // dL/dw = dL/dβ · β(1 − β), the planes summed in order (deterministic for any thread count).
            var sum = 0.0
            for g in dbeta { sum += Double(g) }
            var g = Tensor(zeros: [1])
            g.data[0] = Float(sum) * beta * (1 - beta)
            p.accumulate(g)
        }
        input = nil
        affine = nil
        geometry = nil
        return dx
    }
}

/// A batch norm's training output folded into the LIF that follows it: the input current of channel
/// `c` at step `t` is `x·scale[i] + shift[i]`, `i = (perStep ? t : 0)·channels + c`.
struct LIFAffine {
    var scale: [Float], shift: [Float]
    var channels: Int, perStep: Bool
}

extension Optional where Wrapped == LIFAffine {
    /// Runs `body` with the C kernels' affine arguments (NULL pointers without an affine).
    func withPointers<R>(_ body: (UnsafePointer<Float>?, UnsafePointer<Float>?, Int32, Int32) -> R) -> R {
        guard let a = self else { return body(nil, nil, 1, 0) }
        return a.scale.withUnsafeBufferPointer { sc in a.shift.withUnsafeBufferPointer { sh in
            body(sc.baseAddress, sh.baseAddress, Int32(a.channels), a.perStep ? 1 : 0)
        } }
    }
}

/// The non-spiking readout: integrates input currents `[T*B, F]` over the T steps into `[B, F]`,
/// `y = Σ_t x[t]` (sum) or `y = (1/T) Σ_t x[t]` (mean, the snnTorch reference student's readout).
public final class Readout: Layer {
    public enum Mode: String, Sendable { case sum, mean }
    public let mode: Mode
    /// Per-step output (a per-time-step loss, TET): the layer passes `[T*B, F]` through unchanged,
    /// so a loss sees every step's value; the mean over T (what inference computes) is the caller's.
    public var perStep = false
    public init(_ mode: Mode = .mean) { self.mode = mode }
    public var attributes: [String: String] { ["mode": mode.rawValue] }

    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if perStep { return x }
        let t = ctx.timeSteps
        guard x.rank >= 1, x.shape[0] % t == 0 else { throw LayerError("Readout: batch \(x.shape.first ?? 0) is not a multiple of T = \(t)") }
        return mode == .mean ? Self.mean(x, steps: t) : Self.sum(x, steps: t)
    }

    /// `Σ_t x[t]` of a time-unrolled `[T*B, ...]` (rows t·B + b), times `scale`, as `[B, ...]`
    /// (`x.shape[0]` a multiple of T).
    public static func sum(_ x: Tensor, steps t: Int, scale: Float = 1) -> Tensor {
        var shape = x.shape; shape[0] /= t
        var y = Tensor(zeros: shape)
        let n = y.count
        for s in 0..<t { for i in 0..<n { y.data[i] += x.data[s * n + i] } }
        if scale != 1 { for i in 0..<n { y.data[i] *= scale } }
        return y
    }

    /// The mean over the T steps, `(1/T) Σ_t x[t]`: what a `.mean` readout computes (also the
    /// mean of per-step values a per-step loss sees).
    public static func mean(_ x: Tensor, steps t: Int) -> Tensor { sum(x, steps: t, scale: 1 / Float(t)) }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if perStep { return dy }
        let t = ctx.timeSteps
        var shape = dy.shape; shape[0] *= t
        let scale: Float = mode == .mean ? 1 / Float(t) : 1
        var dx = Tensor(zeros: shape)
        let n = dy.count
        for s in 0..<t { for i in 0..<n { dx.data[s * n + i] = dy.data[i] * scale } }
        return dx
    }
}
