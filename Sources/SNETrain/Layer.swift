// The layer protocol, named parameters, the forward context and the Sequential container.
import SNETensor

/// A named tensor owned by a layer, with its gradient. Non-trainable parameters (BN running
/// statistics) live here too so checkpoints and the compiler see every number by name.
public final class Parameter {
    /// The name inside its layer ("weight", "bias", "running_mean", ...).
    public let name: String
    /// Current value.
    public var value: Tensor
    /// Accumulated dL/dvalue (same shape), zeroed by `zeroGrad()`.
    public var grad: Tensor
    /// False for buffers the optimizer must not touch.
    public let trainable: Bool
    /// Whether weight decay applies (false for biases and BN affine parameters).
    public let decays: Bool
    /// Frozen by its container (`Sequential.freeze(prefix:)`): kept out of `trainableParameters`,
    /// so no optimizer updates it (a shared stem that every student reuses as trained).
    public var frozen = false

    public init(_ name: String, _ value: Tensor, trainable: Bool = true, decays: Bool = true) {
        self.name = name; self.value = value; self.trainable = trainable; self.decays = decays && trainable
        self.grad = Tensor(zeros: trainable ? value.shape : [0])
    }

    /// Sets the gradient to zero.
    public func zeroGrad() {
        if trainable { grad = Tensor(zeros: value.shape) }
    }

    /// Adds `g` into the gradient.
    func accumulate(_ g: Tensor) {
        precondition(g.count == grad.count)
        grad.data.withUnsafeMutableBufferPointer { d in
            g.data.withUnsafeBufferPointer { s in for i in 0..<d.count { d[i] += s[i] } }
        }
    }
}

/// What a forward/backward pass runs with: the compute context (threads), train/eval mode, the
/// random stream for dropout, and the number of time steps `T` of a time-unrolled batch.
///
/// Spiking layers see a batch laid out as `[T*B, ...]`, time outermost (row `t*B + b`); stateless
/// layers (conv, linear, pooling) simply treat it as a batch of `T*B` samples.
public final class LayerContext {
    public let compute: ComputeContext
    public var training: Bool
    public var rng: SeededRNG
    public var timeSteps: Int
    /// Spike-rate cost λ: every LIF layer adds λ · mean(its output spikes) to the loss (its
    /// backward adds λ / count to each output's gradient). 0: off.
    public var spikeCost: Float

    public init(compute: ComputeContext, training: Bool = true, seed: UInt64 = 0, timeSteps: Int = 1, spikeCost: Float = 0) {
        self.compute = compute; self.training = training; self.rng = SeededRNG(seed: seed); self.timeSteps = timeSteps
        self.spikeCost = spikeCost
    }
}

/// A differentiable layer: `forward` computes the output and keeps what `backward` needs;
/// `backward` takes dL/dy, accumulates parameter gradients and returns dL/dx.
public protocol Layer: AnyObject {
    func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor
    func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor
    /// Parameters and buffers, in a fixed order, named within this layer.
    var parameters: [Parameter] { get }
    /// Non-tensor settings by name (e.g. LIF beta/theta/reset) for the compiler and for reports.
    var attributes: [String: String] { get }
    /// Bytes currently held for backward (activation memory).
    var savedBytes: Int { get }
    /// Drops saved activations.
    func clearSaved()
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var attributes: [String: String] { [:] }
    public var savedBytes: Int { 0 }
    public func clearSaved() {}

    /// Same as `forward`.
    public func callAsFunction(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor { try forward(x, ctx) }

    /// Every parameter with a dotted path name (`"weight"`, or `"conv1.weight"` inside containers).
    public func namedParameters() -> [(String, Parameter)] {
        if let c = self as? any LayerContainer { return c.namedChildParameters() }
        return parameters.map { ($0.name, $0) }
    }

    /// Zeroes every trainable parameter's gradient.
    public func zeroGrad() { for (_, p) in namedParameters() { p.zeroGrad() } }

    /// The trainable parameters (what an optimizer updates): not buffers, not frozen.
    public var trainableParameters: [Parameter] { namedParameters().map(\.1).filter { $0.trainable && !$0.frozen } }
}

/// Layers that hold other layers name their children's parameters with a prefix.
public protocol LayerContainer: Layer {
    func namedChildParameters() -> [(String, Parameter)]
}

/// Thrown when backward runs without a matching forward, or a layer gets a wrongly shaped input.
public struct LayerError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Layers applied one after another: `y = f_n(... f_1(x))`; backward runs them in reverse.
public final class Sequential: LayerContainer {
    /// The children with their names (index strings unless given).
    public private(set) var layers: [(name: String, layer: any Layer)]
    /// The first `frozenPrefix` layers are frozen (`freeze(prefix:)`); 0: none.
    public private(set) var frozenPrefix = 0

    public init(_ layers: [any Layer]) { self.layers = layers.enumerated().map { (String($0.offset), $0.element) } }
    public init(named layers: [(String, any Layer)]) { self.layers = layers.map { (name: $0.0, layer: $0.1) } }

    /// Runs the layers in order. A `LIF` directly followed by a `MaxPool2d` whose stride equals its
    /// window runs fused (`LIF.forward(_:pool:_:)`: the unpooled spikes are never stored), and in
    /// training a `BatchNorm2d` directly followed by a `ReLU` runs as one pass (`max(y, 0)` written by
    /// the batch norm, which masks the gradient in backward); with such a max pool after the ReLU the
    /// pool applies the batch norm and the ReLU as it reads (the batch norm's output is never
    /// written); a training `Conv2d` directly
    /// followed by a `BatchNorm2d` computes the batch norm's per-plane statistics on its output image
    /// by image. The results and the gradients are bit-identical to running the layers one after the
    /// other.
    /// The frozen prefix runs in evaluation mode (batch norm on its running statistics) whatever
    /// `ctx.training` says.
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        var h = x
        var i = 0
        let training = ctx.training
        defer { ctx.training = training }
        while i < layers.count {
            ctx.training = training && i >= frozenPrefix
            let (y, used) = try forwardStep(i, h, ctx)
            h = y
            i += used
        }
        return h
    }

    /// Freezes the first `n` layers: their parameters leave `trainableParameters`, they run in
    /// evaluation mode, and backward stops before them (the layer after them computes no input
    /// gradient). Used for a shared stem: students trained on top of another student's input
    /// layers, which all of them then compute identically.
    public func freeze(prefix n: Int) {
        precondition((0...layers.count).contains(n))
        frozenPrefix = n
        for (i, (_, l)) in layers.enumerated() { for (_, p) in l.namedParameters() { p.frozen = i < n } }
        if n > 0, n < layers.count, let c = layers[n].layer as? Conv2d { c.needsInputGradient = false }
    }

    /// Runs layer `i` on `h`, fused with the layers after it as `forward` describes; returns the
    /// output and the number of layers consumed (1 to 4). Errors are prefixed with the layer's name.
    public func forwardStep(_ i: Int, _ h: Tensor, _ ctx: LayerContext) throws -> (Tensor, Int) {
        try forwardStep(i, h, planeStats: nil, ctx)
    }

    /// `forwardStep`; `planeStats`: the per-plane batch-norm statistics of `h`, computed by the
    /// convolution before (for a `BatchNorm2d` at `i`).
    func forwardStep(_ i: Int, _ h: Tensor, planeStats: [Double]?, _ ctx: LayerContext) throws -> (Tensor, Int) {
        let (name, l) = layers[i]
        do {
            if ctx.training, let conv = l as? Conv2d, i + 1 < layers.count, layers[i + 1].layer is BatchNorm2d, h.count > 0 {
                // The convolution computes the batch norm's per-plane statistics on its output while
                // each image is in cache (the same numbers the batch norm would compute).
                let (y, stats) = try conv.forward(h, batchNormStats: true, ctx)
                let (z, used) = try forwardStep(i + 1, y, planeStats: stats, ctx)
                return (z, used + 1)
            }
            if let lif = l as? LIF, i + 1 < layers.count, let pool = layers[i + 1].layer as? MaxPool2d, pool.canFuse(after: h) {
                let y = try lif.forward(h, pool: pool.kernelSize, ctx)
                pool.markFused()
                return (y, 2)
            }
            if ctx.training, let bn = l as? BatchNorm2d, i + 1 < layers.count, let lif = layers[i + 1].layer as? LIF, h.count > 0,
               h.rank == 4, bn.perTimeStep ? !lif.directInput : true {
                // The batch norm's output is never written: the LIF (and a max pool it absorbs) computes it plane by plane.
                let pool = i + 2 < layers.count ? layers[i + 2].layer as? MaxPool2d : nil
                let fusePool = pool.map { $0.canFuse(after: h) } ?? false
                let a = try bn.forwardAffine(h, planeStats: planeStats, ctx)
                let affine = LIFAffine(scale: a.scale, shift: a.shift, channels: h.shape[1], perStep: a.groups > 1)
                let y = try lif.forward(h, pool: fusePool ? pool!.kernelSize : 1, affine: affine, ctx)
                if fusePool { pool!.markFused() }
                return (y, fusePool ? 3 : 2)
            }
            if ctx.training, let bn = l as? BatchNorm2d, !bn.perTimeStep, i + 2 < layers.count, let relu = layers[i + 1].layer as? ReLU,
               let pool = layers[i + 2].layer as? MaxPool2d, h.count > 0, h.rank == 4, pool.canFuse(after: h) {
                // The batch norm's output is never written: the max pool applies it (and the ReLU) as it reads.
                let a = try bn.forwardAffine(h, relu: true, planeStats: planeStats, ctx)
                let y = try pool.forward(h, affine: (a.scale, a.shift, true), ctx)
                relu.markFused()
                return (y, 3)
            }
            if ctx.training, let bn = l as? BatchNorm2d, i + 1 < layers.count, let relu = layers[i + 1].layer as? ReLU, h.count > 0 {
                let y = try bn.forward(h, relu: true, planeStats: planeStats, ctx)
                relu.markFused()
                return (y, 2)
            }
            if ctx.training, let bn = l as? BatchNorm2d, planeStats != nil { return (try bn.forward(h, relu: false, planeStats: planeStats, ctx), 1) }
            return (try l.forward(h, ctx), 1)
        } catch let e as LayerError where !e.message.hasPrefix("[") {
            throw LayerError("[\(name)] \(e.message)")
        }
    }

    /// Runs the layers' backward in reverse, down to the frozen prefix (then the returned input
    /// gradient is empty).
    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        var g = dy
        for (_, l) in layers[frozenPrefix...].reversed() { g = try l.backward(g, ctx) }
        return frozenPrefix > 0 ? Tensor(zeros: [0]) : g
    }

    public var parameters: [Parameter] { namedChildParameters().map(\.1) }
    public func namedChildParameters() -> [(String, Parameter)] {
        layers.flatMap { (name, l) in l.namedParameters().map { ("\(name).\($0.0)", $0.1) } }
    }
    public var savedBytes: Int { layers.reduce(0) { $0 + $1.layer.savedBytes } }
    public func clearSaved() { for (_, l) in layers { l.clearSaved() } }
}

/// `y = x + body(x)` (a residual block); backward adds the shortcut gradient.
public final class Residual: LayerContainer {
    public let body: any Layer
    public init(_ body: any Layer) { self.body = body }
    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        var y = try body.forward(x, ctx)
        guard y.shape == x.shape else { throw LayerError("Residual: body output shape \(y.shape) differs from input \(x.shape)") }
        y.addInPlace(x)
        return y
    }
    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        var dx = try body.backward(dy, ctx)
        dx.addInPlace(dy)
        return dx
    }
    public var parameters: [Parameter] { namedChildParameters().map(\.1) }
    public func namedChildParameters() -> [(String, Parameter)] { body.namedParameters().map { ("body.\($0.0)", $0.1) } }
    public var savedBytes: Int { body.savedBytes }
    public func clearSaved() { body.clearSaved() }
}

extension Tensor {
    /// `self += other` elementwise (same count).
    @inlinable public mutating func addInPlace(_ other: Tensor) {
        precondition(count == other.count)
        data.withUnsafeMutableBufferPointer { d in
            other.data.withUnsafeBufferPointer { s in for i in 0..<d.count { d[i] += s[i] } }
        }
    }
}

/// Several branches on the same input (e.g. K students sharing one batch), outputs concatenated
/// along dimension 1: `y = [f_1(x), ..., f_K(x)]` with each `f_k(x)` of shape `[N, F_k, ...]`
/// (same N and trailing dims). Backward splits `dy` and sums the branches' input gradients.
/// `branchOutputs` keeps the last forward's per-branch outputs (for per-student losses).
public final class Parallel: LayerContainer {
    public private(set) var branches: [(name: String, layer: any Layer)]
    public private(set) var branchOutputs: [Tensor] = []
    private var widths: [Int] = []

    public init(_ branches: [any Layer]) { self.branches = branches.enumerated().map { (String($0.offset), $0.element) } }
    public init(named branches: [(String, any Layer)]) { self.branches = branches.map { (name: $0.0, layer: $0.1) } }

    public func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        branchOutputs = try branches.map { try $0.layer.forward(x, ctx) }
        guard let first = branchOutputs.first else { throw LayerError("Parallel: no branches") }
        let n = first.shape[0], inner = Array(first.shape.dropFirst(2))
        for (k, o) in branchOutputs.enumerated() where o.rank != first.rank || o.shape[0] != n || Array(o.shape.dropFirst(2)) != inner {
            throw LayerError("Parallel: branch '\(branches[k].name)' output \(o.shape) does not match \(first.shape) outside dimension 1")
        }
        widths = branchOutputs.map { $0.count / n }
        let total = widths.reduce(0, +)
        var shape = first.shape
        shape[1] = branchOutputs.reduce(0) { $0 + $1.shape[1] }
        var y = Tensor(zeros: shape)
        var off = 0
        for (k, o) in branchOutputs.enumerated() {
            for i in 0..<n { for j in 0..<widths[k] { y.data[i * total + off + j] = o.data[i * widths[k] + j] } }
            off += widths[k]
        }
        return y
    }

    public func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard !widths.isEmpty else { throw LayerError("Parallel: backward without a forward") }
        let total = widths.reduce(0, +), n = dy.count / max(total, 1)
        var dx: Tensor? = nil
        var off = 0
        for (k, b) in branches.enumerated() {
            var g = Tensor(zeros: branchOutputs[k].shape)
            for i in 0..<n { for j in 0..<widths[k] { g.data[i * widths[k] + j] = dy.data[i * total + off + j] } }
            off += widths[k]
            let d = try b.layer.backward(g, ctx)
            if dx == nil { dx = d } else { dx!.addInPlace(d) }
        }
        branchOutputs = []
        return dx!
    }

    public var parameters: [Parameter] { namedChildParameters().map(\.1) }
    public func namedChildParameters() -> [(String, Parameter)] {
        branches.flatMap { (name, l) in l.namedParameters().map { ("\(name).\($0.0)", $0.1) } }
    }
    public var savedBytes: Int { branches.reduce(0) { $0 + $1.layer.savedBytes } }
    public func clearSaved() { for (_, l) in branches { l.clearSaved() }; branchOutputs = [] }
}
