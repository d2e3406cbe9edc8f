// The leaky integrate-and-fire neuron unrolled over T steps (BPTT with surrogate gradients) and
// the non-spiking readout integrator.
import SNETensor
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

/// Leaky integrate-and-fire neurons over a time-unrolled batch `[T*B, ...]` (time outermost):
///
///     mem[t] = β·mem[t-1] + I[t] − θ·s[t-1]        (subtract reset)
///     mem[t] = (β·mem[t-1] + I[t])·(1 − s[t-1])    (zero reset)
///     s[t]   = H(mem[t] − θ)                       (H(u) = 1 when u > 0)
///
/// with `mem[-1] = 0, s[-1] = 0` — the snnTorch `Leaky` semantics (reset term detached from the
/// graph). Backward is BPTT through the membrane, with `dS/dmem = surrogate.derivative(mem − θ)`.
/// Saves one float per neuron per step (`mem`) for backward.
public final class LIF: Layer {
    public var beta: Float
    public var theta: Float
    public var reset: ResetMode
    public var surrogate: Surrogate
    /// Direct input: the layer takes `[B, ...]` and feeds the same current at each of the T steps
    /// (output `[T*B, ...]`; backward returns `Σ_t dL/dI[t]`). Saves materialising T copies.
    public var directInput: Bool
    private var mem: Tensor?

    public init(beta: Float = 0.5, theta: Float = 1, reset: ResetMode = .subtract, surrogate: Surrogate = .fastSigmoid(slope: 25),
                directInput: Bool = false) {
        self.beta = beta; self.theta = theta; self.reset = reset; self.surrogate = surrogate; self.directInput = directInput
    }

    public var attributes: [String: String] {
        ["beta": "\(beta)", "theta": "\(theta)", "reset": reset.rawValue, "surrogate": surrogate.description,
         "directInput": "\(directInput)"]
    }
    public var savedBytes: Int { (mem?.count ?? 0) * 4 }
    public func clearSaved() { mem = nil }

    /// Membrane potentials of the last training forward, `[T*B, ...]` (nil after backward).
    public var lastMembrane: Tensor? { mem }

    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        let t = ctx.timeSteps
        guard x.rank >= 1, directInput || x.shape[0] % t == 0 else { throw LayerError("LIF: batch \(x.shape.first ?? 0) is not a multiple of T = \(t)") }
        let direct = directInput
        let f = direct ? x.count : x.count / t
        var outShape = x.shape
        if direct { outShape[0] *= t }
        let beta = self.beta, theta = self.theta, sub = reset == .subtract, save = ctx.training
        var m = Tensor(zeros: [0])
        if save { m = Tensor(uninitialized: outShape) { _ in } }
        let s = Tensor(uninitialized: outShape) { sb in
            x.data.withUnsafeBufferPointer { xb in m.data.withUnsafeMutableBufferPointer { mb in
                let X = SharedPointer(xb.baseAddress!), S = SharedPointer(sb.baseAddress!)
                let M = save ? SharedPointer(mb.baseAddress!) : S
                ctx.compute.parallelFor(f, minChunk: 4096) { r, _ in
                    // Blocks of neurons small enough that their state stays in L1 across the T steps.
                    let block = 1024
                    // Raw buffers: Swift arrays here would add uniqueness and bounds checks that block vectorisation.
                    let mcur = UnsafeMutablePointer<Float>.allocate(capacity: block), sprev = UnsafeMutablePointer<Float>.allocate(capacity: block)
                    defer { mcur.deallocate(); sprev.deallocate() }
                    var lo = r.lowerBound
                    while lo < r.upperBound {
                        let n = min(block, r.upperBound - lo)
                        for j in 0..<n { mcur[j] = 0; sprev[j] = 0 }
                        for step in 0..<t {
                            let xi = X.p + (direct ? 0 : step * f) + lo, si = S.p + step * f + lo, mi = M.p + step * f + lo
                            if sub {
                                for j in 0..<n {
                                    let v = beta * mcur[j] + xi[j] - theta * sprev[j]
                                    mcur[j] = v
                                    let sp: Float = v - theta > 0 ? 1 : 0
                                    sprev[j] = sp; si[j] = sp
                                }
                            } else {
                                for j in 0..<n {
                                    let v = (beta * mcur[j] + xi[j]) * (1 - sprev[j])
                                    mcur[j] = v
                                    let sp: Float = v - theta > 0 ? 1 : 0
                                    sprev[j] = sp; si[j] = sp
                                }
                            }
                            if save { for j in 0..<n { mi[j] = mcur[j] } }
                        }
                        lo += n
                    }
                }
            } }
        }
        mem = save ? m : nil
        return s
    }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard let m = mem else { throw LayerError("LIF: backward without a training forward") }
        guard dy.count == m.count else { throw LayerError("LIF: gradient shape \(dy.shape), expected \(m.shape)") }
        let t = ctx.timeSteps, f = m.count / t, direct = directInput
        let beta = self.beta, theta = self.theta, sub = reset == .subtract, sg = surrogate
        var inShape = m.shape
        if direct { inShape[0] /= t }
        var dx = Tensor(zeros: inShape)   // accumulated into (the direct-input sum over steps)
        dx.data.withUnsafeMutableBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { db in m.data.withUnsafeBufferPointer { mb in
                let D = SharedPointer(db.baseAddress!), M = SharedPointer(mb.baseAddress!), X = SharedPointer(xb.baseAddress!)
                ctx.compute.parallelFor(f, minChunk: 4096) { r, _ in
                    let block = 1024
                    let carry = UnsafeMutablePointer<Float>.allocate(capacity: block)
                    defer { carry.deallocate() }
                    var lo = r.lowerBound
                    while lo < r.upperBound {
                        let n = min(block, r.upperBound - lo)
                        for j in 0..<n { carry[j] = 0 }
                        for step in stride(from: t - 1, through: 0, by: -1) {
                            let di = D.p + step * f + lo, mi = M.p + step * f + lo, xi = X.p + (direct ? 0 : step * f) + lo
                            // g = dL/dmem[t] = dL/ds[t]·σ'(mem[t]−θ) + (gradient from mem[t+1])
                            if sub {
                                switch sg {
                                case .fastSigmoid(let k):
                                    for j in 0..<n {
                                        let d = k * abs(mi[j] - theta) + 1
                                        let g = di[j] / (d * d) + carry[j]
                                        xi[j] += g; carry[j] = beta * g
                                    }
                                default:
                                    for j in 0..<n {
                                        let g = di[j] * sg.derivative(mi[j] - theta) + carry[j]
                                        xi[j] += g; carry[j] = beta * g
                                    }
                                }
                            } else {
                                let mp: UnsafePointer<Float>? = step > 0 ? UnsafePointer(M.p + (step - 1) * f + lo) : nil
                                for j in 0..<n {
                                    let g = di[j] * sg.derivative(mi[j] - theta) + carry[j]
                                    let keep: Float = (mp.map { $0[j] - theta > 0 } ?? false) ? 0 : 1
                                    xi[j] += g * keep; carry[j] = beta * g * keep
                                }
                            }
                        }
                        lo += n
                    }
                }
            } }
        }
        mem = nil
        return dx
    }
}

/// The non-spiking readout: integrates input currents `[T*B, F]` over the T steps into `[B, F]`,
/// `y = Σ_t x[t]` (sum) or `y = (1/T) Σ_t x[t]` (mean, the snnTorch reference student's readout).
public final class Readout: Layer {
    public enum Mode: String, Sendable { case sum, mean }
    public let mode: Mode
    public init(_ mode: Mode = .mean) { self.mode = mode }
    public var attributes: [String: String] { ["mode": mode.rawValue] }

    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        let t = ctx.timeSteps
        guard x.rank >= 1, x.shape[0] % t == 0 else { throw LayerError("Readout: batch \(x.shape.first ?? 0) is not a multiple of T = \(t)") }
        var shape = x.shape; shape[0] /= t
        var y = Tensor(zeros: shape)
        let n = y.count, scale: Float = mode == .mean ? 1 / Float(t) : 1
        for s in 0..<t { for i in 0..<n { y.data[i] += x.data[s * n + i] } }
        if scale != 1 { for i in 0..<n { y.data[i] *= scale } }
        return y
    }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        let t = ctx.timeSteps
        var shape = dy.shape; shape[0] *= t
        let scale: Float = mode == .mean ? 1 / Float(t) : 1
        var dx = Tensor(zeros: shape)
        let n = dy.count
        for s in 0..<t { for i in 0..<n { dx.data[s * n + i] = dy.data[i] * scale } }
        return dx
    }
}
