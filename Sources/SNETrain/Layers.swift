// The stateless-in-time layers: Linear, Conv2d, BatchNorm2d, pooling, ReLU, Dropout, Flatten, RepeatTime.
import SNETensor
import CSNEKernels
import Foundation

func uniformInit(_ shape: [Int], bound: Float, rng: inout SeededRNG) -> Tensor {
    Tensor.randomUniform(shape, -bound, bound, using: &rng)
}

/// `y = x Wᵀ + b` on `[N, in]`. Weight `(out, in)`, bias `(out)`; both initialised
/// U(-1/√in, 1/√in) (PyTorch's default).
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let inFeatures: Int, outFeatures: Int
    private var input: Tensor?
    private var spikes: SpikeRows?      // the input packed as bits, when it was all 0/1 (spike kernels)

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout SeededRNG) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        let b = 1 / Float(inFeatures).squareRoot()
        weight = Parameter("weight", uniformInit([outFeatures, inFeatures], bound: b, rng: &rng))
        self.bias = bias ? Parameter("bias", uniformInit([outFeatures], bound: b, rng: &rng), decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var savedBytes: Int { (input?.count ?? 0) * 4 + (spikes?.bytes ?? 0) }
    public func clearSaved() { input = nil; spikes = nil }

    /// In a training pass, an input of spikes (every value 0 or 1, at least 64 features) runs the
    /// spike kernels (`SpikeLinear.swift`) and is kept as bits for the weight gradient; anything else,
    /// and every evaluation pass, runs the SGEMM, so a trained model's float outputs (`sne eval`,
    /// the compiler's calibration) are the dense kernels' whatever the training build did.
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == inFeatures else {
            throw LayerError("Linear(\(inFeatures)→\(outFeatures)): input shape \(x.shape), expected [N, \(inFeatures)]")
        }
        if ctx.training, inFeatures >= 64, let s = ctx.compute.packSpikeRows(x) {
            let y: Tensor
            do { y = try ctx.compute.spikeLinearForward(s, weight: weight.value, bias: bias?.value) }
            catch let e as TensorError { throw LayerError("Linear: \(e.message)") }
            spikes = s; input = nil
            return y
        }
        spikes = nil
        let n = x.shape[0]
        var y = Tensor(zeros: [n, outFeatures])
        x.data.withUnsafeBufferPointer { xp in weight.value.data.withUnsafeBufferPointer { wp in y.data.withUnsafeMutableBufferPointer { yp in
            ctx.compute.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: xp.baseAddress!, lda: inFeatures,
                              b: wp.baseAddress!, ldb: inFeatures, c: yp.baseAddress!, ldc: outFeatures)
            if let bias {
                bias.value.data.withUnsafeBufferPointer { bp in
                    for i in 0..<n { for j in 0..<outFeatures { yp[i * outFeatures + j] += bp[j] } }
                }
            }
        } } }
        if ctx.training { input = x }
        return y
    }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if let s = spikes { return try spikeBackward(s, dy, ctx) }
        guard let x = input else { throw LayerError("Linear: backward without a training forward") }
        let n = x.shape[0]
        guard dy.shape == [n, outFeatures] else { throw LayerError("Linear: gradient shape \(dy.shape), expected \([n, outFeatures])") }
        dy.data.withUnsafeBufferPointer { dp in x.data.withUnsafeBufferPointer { xp in
            weight.grad.data.withUnsafeMutableBufferPointer { gp in
                // dW += dyᵀ x   (out, in)
                ctx.compute.sgemm(transA: true, m: outFeatures, n: inFeatures, k: n, a: dp.baseAddress!, lda: outFeatures,
                                  b: xp.baseAddress!, ldb: inFeatures, beta: 1, c: gp.baseAddress!, ldc: inFeatures)
            }
        } }
        input = nil
        return inputAndBiasGradient(dy, rows: n, ctx)
    }

    /// `dx = dy W` (n, in) and `db += Σ_rows dy`: the same for a dense and a spike input.
    private func inputAndBiasGradient(_ dy: Tensor, rows n: Int, _ ctx: LayerContext) -> Tensor {
        var dx = Tensor(zeros: [n, inFeatures])
        dy.data.withUnsafeBufferPointer { dp in
            weight.value.data.withUnsafeBufferPointer { wp in dx.data.withUnsafeMutableBufferPointer { xg in
                ctx.compute.sgemm(m: n, n: inFeatures, k: outFeatures, a: dp.baseAddress!, lda: outFeatures,
                                  b: wp.baseAddress!, ldb: inFeatures, c: xg.baseAddress!, ldc: inFeatures)
            } }
            if let bias {
                bias.grad.data.withUnsafeMutableBufferPointer { bg in
                    for i in 0..<n { for j in 0..<outFeatures { bg[j] += dp[i * outFeatures + j] } }
                }
            }
        }
        return dx
    }

    /// Backward for a spike input: the weight gradient by the spike kernels, `dx = dy W` and the bias
    /// gradient as in the dense path.
    private func spikeBackward(_ s: SpikeRows, _ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        let n = s.rows
        guard dy.shape == [n, outFeatures] else { throw LayerError("Linear: gradient shape \(dy.shape), expected \([n, outFeatures])") }
        do { try ctx.compute.spikeLinearWeightGradient(s, dy, into: &weight.grad) }
        catch let e as TensorError { throw LayerError("Linear backward: \(e.message)") }
        spikes = nil
        return inputAndBiasGradient(dy, rows: n, ctx)
    }
}

/// 2-D convolution on NCHW: `y[n,o] = b[o] + Σ_c W[o,c] ⋆ x[n,c]` with stride and zero padding.
/// Weight `(out, in, k, k)`, bias `(out)`; initialised U(-1/√fanIn, 1/√fanIn) (PyTorch's default).
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int, padding: Int
    /// When false, backward skips dL/dx (first layer on raw input) and returns an empty tensor.
    public var needsInputGradient: Bool
    private var input: Tensor?
    private var spikes: SpikePlanes?    // the input packed as bits, when it was all 0/1 (spike kernels)

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, needsInputGradient: Bool = true, rng: inout SeededRNG) {
        let fanIn = inChannels * kernelSize * kernelSize
        let b = 1 / Float(fanIn).squareRoot()
        weight = Parameter("weight", uniformInit([outChannels, inChannels, kernelSize, kernelSize], bound: b, rng: &rng))
        self.bias = bias ? Parameter("bias", uniformInit([outChannels], bound: b, rng: &rng), decays: false) : nil
        self.stride = stride; self.padding = padding; self.needsInputGradient = needsInputGradient
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var attributes: [String: String] { ["stride": "\(stride)", "padding": "\(padding)"] }
    public var savedBytes: Int { (input?.count ?? 0) * 4 + (spikes?.bytes ?? 0) }
    public func clearSaved() { input = nil; spikes = nil }

    /// In a training pass, a stride-1 input of spikes (every value 0 or 1) runs the spike kernels
    /// (`SpikeConv.swift`) and is kept as bits for the weight gradient; anything else, and every
    /// evaluation pass, runs the dense kernels (see `Linear.forward`).
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor { try forward(x, batchNormStats: false, ctx).y }

    /// With `batchNormStats` (a `BatchNorm2d` follows in training, `Sequential.forwardStep`), a dense
    /// forward also returns the output's per-plane batch-norm statistics, computed image by image
    /// while the output is in cache (`ComputeContext.conv2dForward(planeStats:)`); nil otherwise.
    func forward(_ x: Tensor, batchNormStats: Bool, _ ctx: LayerContext) throws -> (y: Tensor, planeStats: [Double]?) {
        let y: Tensor
        let w = weight.value.shape
        var stats: [Double]? = nil
        do {
            if ctx.training, stride == 1, w.count == 4, let s = ctx.compute.packSpikes(x, kh: w[2], kw: w[3], pad: padding) {
                y = try ctx.compute.spikeConv2dForward(s, weight: weight.value, bias: bias?.value)
                spikes = s; input = nil
                return (y, nil)
            }
            if batchNormStats, x.rank == 4, x.shape[0] > 0, w.count == 4 {
                var st = [Double](repeating: 0, count: Int(SNE_BN_PLANE_STATS) * x.shape[0] * w[0])
                y = try st.withUnsafeMutableBufferPointer {
                    try ctx.compute.conv2dForward(x, weight: weight.value, bias: bias?.value, stride: stride, pad: padding, planeStats: $0.baseAddress!)
                }
                stats = st
            } else {
                y = try ctx.compute.conv2dForward(x, weight: weight.value, bias: bias?.value, stride: stride, pad: padding)
            }
        }
        catch let e as TensorError { throw LayerError("Conv2d: \(e.message)") }
        if ctx.training { input = x; spikes = nil }
        return (y, stats)
    }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard input != nil || spikes != nil else { throw LayerError("Conv2d: backward without a training forward") }
        do {
            let inputShape: [Int]
            if let s = spikes {
                let (dw, db) = try ctx.compute.spikeConv2dBackwardWeight(s, dy, weightShape: weight.value.shape)
                weight.accumulate(dw)
                bias?.accumulate(db)
                inputShape = s.shape
            } else {
                let x = input!
                let (dw, db) = try ctx.compute.conv2dBackwardWeight(x, dy, weightShape: weight.value.shape, stride: stride, pad: padding)
                weight.accumulate(dw)
                bias?.accumulate(db)
                inputShape = x.shape
            }
            input = nil; spikes = nil
            if !needsInputGradient { return Tensor(zeros: [0]) }
            return try ctx.compute.conv2dBackwardData(dy, weight: weight.value, inputShape: inputShape, stride: stride, pad: padding)
        } catch let e as TensorError { throw LayerError("Conv2d backward: \(e.message)") }
    }
}

/// Batch normalisation over NCHW channels:
/// `y = γ (x - μ) / √(σ² + ε) + β`, with batch statistics in training (running averages updated with
/// `momentum`, unbiased variance, as PyTorch) and running statistics in evaluation.
///
/// With `perTimeStep`, a time-unrolled batch `[T*B, C, H, W]` is normalised with separate statistics
/// for each step's `B` samples (what a per-step BN call in snnTorch does); running stats update T times.
public final class BatchNorm2d: Layer {
    public let gamma: Parameter, beta: Parameter
    public let runningMean: Parameter, runningVar: Parameter
    public let eps: Float, momentum: Float
    public let perTimeStep: Bool
    private var input: Tensor?          // the forward input (shared, not copied); x̂ is recomputed in backward
    private var invStd: [Float] = []   // [groups * C]
    private var means: [Float] = []    // [groups * C]
    private var groups = 1
    private var evalMode = false
    /// With a ReLU fused in: the forward's γ and β, from which backward recomputes the output's sign
    /// (its mask) bit for bit instead of keeping the output.
    private var reluAffine: (gamma: [Float], beta: [Float])?

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, perTimeStep: Bool = false) {
        gamma = Parameter("weight", Tensor(repeating: 1, shape: [channels]), decays: false)
        beta = Parameter("bias", Tensor(zeros: [channels]), decays: false)
        runningMean = Parameter("running_mean", Tensor(zeros: [channels]), trainable: false)
        runningVar = Parameter("running_var", Tensor(repeating: 1, shape: [channels]), trainable: false)
        self.eps = eps; self.momentum = momentum; self.perTimeStep = perTimeStep
    }

    public var parameters: [Parameter] { [gamma, beta, runningMean, runningVar] }
    public var attributes: [String: String] { ["eps": "\(eps)", "momentum": "\(momentum)", "perTimeStep": "\(perTimeStep)"] }
    public var savedBytes: Int { (input?.count ?? 0) * 4 + invStd.count * 8 }
    public func clearSaved() { input = nil; reluAffine = nil; invStd = []; means = [] }

    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor { try forward(x, relu: false, ctx) }

    /// Training forward; with `relu`, the output is `max(y, 0)` (a following `ReLU` fused in, see
    /// `Sequential.forwardStep`) and backward masks `dy` where it is 0, exactly as the ReLU would.
    func forward(_ x: Tensor, relu: Bool, planeStats: [Double]? = nil, _ ctx: LayerContext) throws -> Tensor {
        try forward(x, relu: relu, affineOnly: false, planeStats: planeStats, ctx).y
    }

    /// Training forward without writing the output, for a LIF that applies it on the fly
    /// (`Sequential.forwardStep`): the statistics are computed, saved for backward and folded into
    /// the running averages exactly as by `forward`; returns the per-(group, channel) affine
    /// `y = x·scale + shift` (index `group·C + channel`, the forward's floats) and the group count.
    /// With `relu`, a ReLU is fused after it as well (its consumer applies `max(·, 0)`; backward masks `dy`).
    func forwardAffine(_ x: Tensor, relu: Bool = false, planeStats: [Double]? = nil, _ ctx: LayerContext) throws -> (scale: [Float], shift: [Float], groups: Int) {
        let r = try forward(x, relu: relu, affineOnly: true, planeStats: planeStats, ctx)
        return (r.scale, r.shift, groups)
    }

    /// `planeStats`: the input's per-plane statistics (`sne_bn_plane_stats` of plane `image·C +
    /// channel` at `SNE_BN_PLANE_STATS·plane`), when the layer before computed them on its output (`Conv2d`); the
    /// same numbers this layer would compute, so the same bits either way.
    private func forward(_ x: Tensor, relu: Bool, affineOnly: Bool, planeStats: [Double]?, _ ctx: LayerContext) throws -> (y: Tensor, scale: [Float], shift: [Float]) {
        let c = gamma.value.count
        guard x.rank == 4 || x.rank == 2, x.shape[1] == c else {
            throw LayerError("BatchNorm2d(\(c)): input shape \(x.shape), expected [N, \(c), H, W]")
        }
        let n = x.shape[0], hw = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
        let g = perTimeStep ? ctx.timeSteps : 1
        guard n % g == 0 else { throw LayerError("BatchNorm2d: batch \(n) is not a multiple of T = \(g)") }
        let b = n / g
        var y = Tensor(uninitialized: x.shape) { _ in }   // every element written in either mode
        if !ctx.training {
            let rm = runningMean.value.data, rv = runningVar.value.data, ga = gamma.value.data, be = beta.value.data
            if x.count == 0 { evalMode = true; return (x, [], []) }
            let scale = (0..<c).map { ga[$0] / (rv[$0] + eps).squareRoot() }
            let shift = (0..<c).map { be[$0] - rm[$0] * scale[$0] }
            x.data.withUnsafeBufferPointer { xp in y.data.withUnsafeMutableBufferPointer { yp in
                let X = SharedPointer(xp.baseAddress!), Y = SharedPointer(yp.baseAddress!)
                ctx.compute.parallelFor(n * c, minChunk: max(1, 4096 / max(hw, 1))) { r, _ in   // planes (i, ch)
                    for plane in r {
                        let s = scale[plane % c], o = shift[plane % c], base = plane * hw
                        for j in 0..<hw { Y.p[base + j] = X.p[base + j] * s + o }
                    }
                }
            } }
            evalMode = true
            return (y, [], [])
        }
        evalMode = false
        groups = g
        y = affineOnly ? Tensor(zeros: [0]) : Tensor(uninitialized: x.shape) { _ in }   // fully written below
        let planes = n * c
        precondition(planeStats == nil || planeStats!.count == Int(SNE_BN_PLANE_STATS) * planes, "BatchNorm2d: plane statistics of another shape")
        // Per-plane statistics (unless given), then per (group, channel) in plane order, then the output plane by plane.
        let stats = planeStats ?? (x.count == 0 ? [Double](repeating: 0, count: Int(SNE_BN_PLANE_STATS) * planes) : [Double](unsafeUninitializedCapacity: Int(SNE_BN_PLANE_STATS) * planes) { buf, k in
            x.data.withUnsafeBufferPointer { xp in
                let X = SharedPointer(xp.baseAddress!), S = SharedPointer(buf.baseAddress!)
                ctx.compute.parallelFor(planes, minChunk: max(1, 4096 / max(hw, 1))) { r, _ in
                    sne_bn_planes_stats(X.p, r.lowerBound, r.upperBound, hw, S.p)
                }
            }
            k = Int(SNE_BN_PLANE_STATS) * planes
        })
        var inv = [Float](repeating: 0, count: g * c)
        var means = [Float](repeating: 0, count: g * c), vars = [Float](repeating: 0, count: g * c)
        var scale = [Float](repeating: 0, count: g * c), shift = scale
        let ga = gamma.value.data, be = beta.value.data
        if planes > 0 { stats.withUnsafeBufferPointer { sp in
            for grp in 0..<g { for ch in 0..<c {
                let gc = grp * c + ch
                sne_bn_combine(sp.baseAddress! + Int(SNE_BN_PLANE_STATS) * (grp * b * c + ch), b, c, hw, ga[ch], be[ch], eps,
                               &means[gc], &vars[gc], &inv[gc], &scale[gc], &shift[gc])
            } }
        } }
        if !affineOnly && x.count > 0 {
            x.data.withUnsafeBufferPointer { xp in y.data.withUnsafeMutableBufferPointer { yp in scale.withUnsafeBufferPointer { sp in shift.withUnsafeBufferPointer { tp in
                let X = SharedPointer(xp.baseAddress!), Y = SharedPointer(yp.baseAddress!)
                let S = SharedPointer(sp.baseAddress!), T = SharedPointer(tp.baseAddress!)
                let r32: Int32 = relu ? 1 : 0
                ctx.compute.parallelFor(planes, minChunk: max(1, 4096 / max(hw, 1))) { r, _ in
                    for p in r {
                        let gc = (p / c / b) * c + p % c
                        sne_bn_apply(X.p + p * hw, hw, S.p[gc], T.p[gc], r32, Y.p + p * hw)
                    }
                }
            } } } }
        }
        let m = Double(b * hw)
        let unbias = m > 1 ? Float(m / (m - 1)) : 1
        for grp in 0..<g { for ch in 0..<c {
            runningMean.value.data[ch] = (1 - momentum) * runningMean.value.data[ch] + momentum * means[grp * c + ch]
            runningVar.value.data[ch] = (1 - momentum) * runningVar.value.data[ch] + momentum * vars[grp * c + ch] * unbias
        } }
        input = x; invStd = inv; self.means = means
        reluAffine = relu ? (gamma.value.data, beta.value.data) : nil
        return (y, scale, shift)
    }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        let c = gamma.value.count
        if evalMode {
            var dx = dy
            let hw = dy.count / (dy.shape[0] * c)
            for i in 0..<dy.shape[0] { for ch in 0..<c {
                let s = gamma.value.data[ch] / (runningVar.value.data[ch] + eps).squareRoot()
                for j in 0..<hw { dx.data[(i * c + ch) * hw + j] *= s }
            } }
            return dx
        }
        guard let xh = input else { throw LayerError("BatchNorm2d: backward without a training forward") }
        guard dy.shape == xh.shape else { throw LayerError("BatchNorm2d: gradient shape \(dy.shape), expected \(xh.shape)") }
        let n = xh.shape[0], hw = xh.count / (n * c), g = groups, b = n / g
        var dx = Tensor(uninitialized: xh.shape) { _ in }   // fully written below
        var dgam = [Float](repeating: 0, count: g * c), dbet = [Float](repeating: 0, count: g * c)
        dy.data.withUnsafeBufferPointer { dp in xh.data.withUnsafeBufferPointer { hp in dx.data.withUnsafeMutableBufferPointer { xp in
            dgam.withUnsafeMutableBufferPointer { gp in dbet.withUnsafeMutableBufferPointer { bp in
                let D = SharedPointer(dp.baseAddress!), H = SharedPointer(hp.baseAddress!), X = SharedPointer(xp.baseAddress!)
                let G = SharedPointer(gp.baseAddress!), B = SharedPointer(bp.baseAddress!)
                let ga = gamma.value.data, inv = invStd, mu = means
                let relu: Int32 = reluAffine == nil ? 0 : 1
                let fg = reluAffine?.gamma ?? ga, fb = reluAffine?.beta ?? beta.value.data
                ctx.compute.parallelFor(g * c) { r, _ in
                    for gc in r {
                        let grp = gc / c, ch = gc % c, off = (grp * b * c + ch) * hw
                        sne_bn_channel_backward(D.p + off, H.p + off, relu, fg[ch], fb[ch], b, c * hw, hw, ga[ch], mu[gc], inv[gc],
                                                X.p + off, G.p + gc, B.p + gc)
                    }
                }
            } }
        } } }
        for grp in 0..<g { for ch in 0..<c {
            gamma.grad.data[ch] += dgam[grp * c + ch]
            beta.grad.data[ch] += dbet[grp * c + ch]
        } }
        input = nil; reluAffine = nil; invStd = []; means = []
        return dx
    }
}

/// Max pooling with a square window (`stride` defaults to the window); gradient goes to the first maximum.
public final class MaxPool2d: Layer {
    public let kernelSize: Int, stride: Int
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []
    public init(_ kernelSize: Int, stride: Int? = nil) { self.kernelSize = kernelSize; self.stride = stride ?? kernelSize }
    public var attributes: [String: String] { ["kernel": "\(kernelSize)", "stride": "\(stride)"] }
    public var savedBytes: Int { argmax.count * 4 }
    public func clearSaved() { argmax = [] }
    private var fused = false
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor { try forward(x, affine: nil, ctx) }

    /// With `affine`, pools the output of a training batch norm (+ ReLU) fused before it, which is
    /// never written (`Sequential.forwardStep`); backward is unchanged (the batch norm masks).
    func forward(_ x: Tensor, affine: (scale: [Float], shift: [Float], relu: Bool)?, _ ctx: LayerContext) throws -> Tensor {
        fused = false
        do {
            let (y, idx) = try ctx.compute.maxPool2dForward(x, k: kernelSize, stride: stride, affine: affine)
            if ctx.training { argmax = idx; inputShape = x.shape }
            return y
        } catch let e as TensorError { throw LayerError("MaxPool2d: \(e.message)") }
    }

    /// Whether the preceding LIF can pool `x` itself (`LIF.forward(_:pool:_:)`): stride equal to the
    /// window, NCHW input with H and W multiples of it.
    func canFuse(after x: Tensor) -> Bool {
        stride == kernelSize && kernelSize > 1 && x.rank == 4 && x.shape[2] % kernelSize == 0 && x.shape[3] % kernelSize == 0
    }

    /// Marks this layer as pooled by the preceding LIF in the current forward: backward passes the
    /// pooled gradient through unchanged (the LIF routes it to the window maxima).
    func markFused() { fused = true; argmax = []; inputShape = [] }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if fused { return dy }
        guard !inputShape.isEmpty, argmax.count == dy.count else { throw LayerError("MaxPool2d: backward without a matching training forward") }
        let dx = ctx.compute.maxPool2dBackward(dy, argmax: argmax, inputShape: inputShape,
                                               nonOverlappingWindow: stride == kernelSize ? kernelSize : nil)
        argmax = []
        return dx
    }
}

/// Average pooling with a square window (`stride` defaults to the window).
public final class AvgPool2d: Layer {
    public let kernelSize: Int, stride: Int
    private var inputShape: [Int] = []
    public init(_ kernelSize: Int, stride: Int? = nil) { self.kernelSize = kernelSize; self.stride = stride ?? kernelSize }
    public var attributes: [String: String] { ["kernel": "\(kernelSize)", "stride": "\(stride)"] }
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        do {
            let y = try ctx.compute.avgPool2dForward(x, k: kernelSize, stride: stride)
            inputShape = x.shape
            return y
        } catch let e as TensorError { throw LayerError("AvgPool2d: \(e.message)") }
    }
    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard !inputShape.isEmpty else { throw LayerError("AvgPool2d: backward without a forward") }
        return ctx.compute.avgPool2dBackward(dy, k: kernelSize, stride: stride, inputShape: inputShape)
    }
}

/// `y = max(x, 0)`; the gradient passes where `x > 0` (the layer keeps its output `y`, which is
/// positive exactly there; C kernels split across the workers).
public final class ReLU: Layer {
    private var output: Tensor?
    private var fused = false
    public init() {}

    /// Marks this layer as applied by the preceding batch norm in the current forward: backward
    /// passes the gradient through unchanged (the batch norm masks it).
    func markFused() { fused = true; output = nil }
    public var savedBytes: Int { (output?.count ?? 0) * 4 }
    public func clearSaved() { output = nil }
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        fused = false
        if x.count == 0 { output = ctx.training ? x : nil; return x }
        let y = Tensor(uninitialized: x.shape) { yb in
            x.data.withUnsafeBufferPointer { xb in
                let X = SharedPointer(xb.baseAddress!), Y = SharedPointer(yb.baseAddress!)
                ctx.compute.parallelFor(x.count, minChunk: 1 << 15) { r, _ in sne_relu_forward(X.p + r.lowerBound, Y.p + r.lowerBound, r.count) }
            }
        }
        output = ctx.training ? y : nil
        return y
    }
    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if fused { return dy }
        guard let y = output, y.count == dy.count else { throw LayerError("ReLU: backward without a matching training forward") }
        if dy.count == 0 { output = nil; return dy }
        let dx = Tensor(uninitialized: dy.shape) { xb in
            y.data.withUnsafeBufferPointer { yb in dy.data.withUnsafeBufferPointer { db in
                let Y = SharedPointer(yb.baseAddress!), D = SharedPointer(db.baseAddress!), X = SharedPointer(xb.baseAddress!)
                ctx.compute.parallelFor(dy.count, minChunk: 1 << 15) { r, _ in
                    sne_relu_backward(Y.p + r.lowerBound, D.p + r.lowerBound, X.p + r.lowerBound, r.count)
                }
            } }
        }
        output = nil
        return dx
    }
}

/// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest by
/// `1/(1-p)`, drawing from the context's random stream; identity in evaluation.
public final class Dropout: Layer {
    public let p: Float
    private var mask: [Float] = []
    public init(_ p: Float) { self.p = p }
    public var attributes: [String: String] { ["p": "\(p)"] }
    public var savedBytes: Int { mask.count * 4 }
    public func clearSaved() { mask = [] }
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard ctx.training, p > 0 else { mask = []; return x }
        let scale = 1 / (1 - p), threshold = UInt64(Double(p) * 0x1p53)
        mask = (0..<x.count).map { _ in (ctx.rng.next() >> 11) < threshold ? 0 : scale }
        var y = x
        for i in 0..<y.count { y.data[i] *= mask[i] }
        return y
    }
    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if mask.isEmpty { return dy }
        guard mask.count == dy.count else { throw LayerError("Dropout: gradient has \(dy.count) elements, mask \(mask.count)") }
        var dx = dy
        for i in 0..<dx.count { dx.data[i] *= mask[i] }
        mask = []
        return dx
    }
}

/// `[N, ...] → [N, prod(...)]`.
public final class Flatten: Layer {
    private var inputShape: [Int] = []
    public init() {}
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard x.rank >= 1 else { throw LayerError("Flatten: scalar input") }
        inputShape = x.shape
        return try x.reshaped([x.shape[0], x.count / max(1, x.shape[0])])
    }
    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard !inputShape.isEmpty else { throw LayerError("Flatten: backward without a forward") }
        return try dy.reshaped(inputShape)
    }
}

/// Direct input encoding: repeats a `[B, ...]` batch for each of the context's `T` steps, giving
/// `[T*B, ...]`; backward sums the T gradients.
public final class RepeatTime: Layer {
    public init() {}
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        let t = ctx.timeSteps
        var shape = x.shape; shape[0] *= t
        let n = x.count
        return Tensor(uninitialized: shape) { d in
            x.data.withUnsafeBufferPointer { src in
                for s in 0..<t { (d.baseAddress! + s * n).update(from: src.baseAddress!, count: n) }
            }
        }
    }
    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        let t = ctx.timeSteps
        guard dy.shape[0] % t == 0 else { throw LayerError("RepeatTime: gradient batch \(dy.shape[0]) not a multiple of T = \(t)") }
        var shape = dy.shape; shape[0] /= t
        var dx = Tensor(zeros: shape)
        let n = dx.count
        dy.data.withUnsafeBufferPointer { d in dx.data.withUnsafeMutableBufferPointer { x in
            for s in 0..<t { for i in 0..<n { x[i] += d[s * n + i] } }
        } }
        return dx
    }
}
