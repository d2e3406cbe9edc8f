// `sne export PROGRAM --nir FILE.nir`: the students and head of a program as a NIR graph
// (Neuromorphic Intermediate Representation, nir 1.0 HDF5 layout), written with HDF5Writer.
//
// NIR is continuous-time and real-valued; the export carries the linear maps and neuron constants
// and documents what it drops (docs/neuromorphic.md): integer rounding (rshr) and saturation, the
// subtract reset (NIR's LIF resets to v_reset), the gate and budgets (every student is exported and
// their head contributions are summed), the confidence stop and the int8 feature requantization
// (replaced by its scale feat_mult / 2^feat_shift). Mapping, per student k (node names s<k>_<j>):
//   input_conv2d / conv2d   Conv2d (weights and bias divided by 2^shift), NCHW, kernel (out, in, kh, kw)
//   input_dense / dense     Affine (weights and bias divided by 2^shift), inputs in NIR's CHW order
//   lif                     LIF with tau = dt/(1−β), r = tau/dt, v_leak 0, v_reset 0 (dt = 1e-4 s, the
//                           step snnTorch's importer assumes; recorded in metadata), fired on v > θ_c − ½
//                           (sne's integer v ≥ θ_c; NIR fires on v > v_threshold) and, by NIRThresholds:
//                           unit (default): v_threshold 1, and the synaptic op feeding the LIF has output
//                           channel c's weights and bias divided by θ_c − ½ (the membrane is v/(θ_c − ½):
//                           exact in real arithmetic for the linear leak and both resets; the next op sees
//                           only spikes); channel: v_threshold θ_c − ½, weights as the program's. Node
//                           metadata sne_reset / sne_reset_subtract keep the reset NIR cannot carry
//   maxpool (spikes)        SumPool2d + Threshold(0.5): a spike iff any input in the window spiked
//   avgpool                 AvgPool2d
//   flatten                 Flatten (CHW order)
//   readout                 I (integrator, r = 1), then Affine = the head's block for student k scaled
//                           by feat_mult/2^feat_shift (student 0's carries the head bias); every
//                           student's head Affine feeds the one Output `logits` (NIR sums inputs)
import Foundation
import SpikeIR
import SNEPasses

/// How `NIRExport` writes LIF thresholds (docs/neuromorphic.md "NIR export"). Both are the
/// program's LIFs in real arithmetic; they differ only in the membrane's unit.
public enum NIRThresholds: String, Sendable, CaseIterable {
    /// `v_threshold` 1 everywhere; output channel c of the synaptic op feeding a LIF (through any
    /// avgpools) has its weights and bias divided by θ_c − ½ (`firingThreshold`), so the NIR
    /// membrane is sne's v / (θ_c − ½). Importers that need one threshold per layer (snnTorch)
    /// accept it.
    case unit
    /// `v_threshold` = θ_c − ½ per neuron and the weights as the program's (÷ 2^shift): the NIR
    /// membrane is sne's v. snnTorch's importer refuses a layer whose θ_c differ.
    case channel
}

public enum NIRExport {
    /// The discrete step the LIF time constants are written for (snnTorch's importer assumes 1e-4 s).
    public static let dt: Double = 1e-4

    /// NIR's shape of an sne tensor: `(C, H, W)` when `spatial` (made by the input or a conv/pool),
    /// else `(N)` (made by an Affine or a Flatten).
    static func nirShape(_ s: Shape, spatial: Bool) -> [Int] { spatial ? [s.c, s.h, s.w] : [s.size] }

    /// Conv weights `[cin][kh][kw][cout]` → NIR `(cout, cin, kh, kw)` floats, output channel `co`
    /// scaled by `scale[co]`.
    static func convWeight(_ w: [Int8], cin: Int, kh: Int, kw: Int, cout: Int, scale: [Double]) -> [Float] {
        var r = [Float](repeating: 0, count: w.count)
        for ci in 0..<cin { for ky in 0..<kh { for kx in 0..<kw { for co in 0..<cout {
            r[((co * cin + ci) * kh + ky) * kw + kx] = Float(Double(w[((ci * kh + ky) * kw + kx) * cout + co]) * scale[co])
        } } } }
        return r
    }

    /// NIR's position of element `i` (sne's HWC order) of a tensor whose NIR layout is the CHW
    /// flattening of `order` (a conv/pool output, or a vector flattened from one); nil = same order.
    static func nirIndex(_ i: Int, _ order: Shape?) -> Int {
        guard let s = order else { return i }
        let y = i / (s.w * s.c), x = (i / s.c) % s.w, c = i % s.c
        return (c * s.h + y) * s.w + x
    }

    /// Dense weights `[in][out]` (in in sne's order) → NIR `(out, in)`, in in NIR's order; output
    /// `o` scaled by `scale[o]`.
    static func denseWeight(_ w: [Int8], n: Int, order: Shape?, out: Int, scale: [Double]) -> [Float] {
        var r = [Float](repeating: 0, count: n * out)
        for i in 0..<n {
            let j = nirIndex(i, order)
            for o in 0..<out { r[o * n + j] = Float(Double(w[i * out + o]) * scale[o]) }
        }
        return r
    }

    /// A per-neuron array in sne's order, reordered to NIR's.
    static func reorder(_ a: [Float], _ order: Shape?) -> [Float] {
        var r = a
        for i in 0..<a.count { r[nirIndex(i, order)] = a[i] }
        return r
    }

    static func flatten(_ s: Shape, spatial: Bool = true) -> HDF5Node {
        node("Flatten", [("start_dim", .scalar(0)), ("end_dim", .scalar(-1)), ("input_type", .ints(nirShape(s, spatial: spatial)))])
    }

    static func node(_ type: String, _ fields: [(String, HDF5Dataset)], metadata: HDF5Node? = nil) -> HDF5Node {
        .group([("type", .dataset(.scalar(type)))] + fields.map { ($0.0, .dataset($0.1)) } + (metadata.map { [("metadata", $0)] } ?? []))
    }

    /// The NIR threshold of an sne threshold θ: sne fires on `v ≥ θ` (spec §3.5), NIR's LIF on
    /// `v > v_threshold` (nir.LIF). sne's membranes are integers, so every value in [θ − 1, θ) is
    /// the same test; the midpoint θ − ½ also absorbs the float32 error of w/θ and the sub-integer
    /// drift of a leak computed without rounding (with θ itself, v = θ exactly — frequent at the
    /// first step, where currents are integers — would not fire).
    static func firingThreshold(_ theta: Int32) -> Double { Double(theta) - 0.5 }

    /// Per synaptic op of `s` that feeds a LIF (directly or through avgpools, which keep channels):
    /// the factor 1/(θ_c − ½) of each output channel c (spec §3.5: one θ per channel of the LIF's shape,
    /// which is the synaptic op's output channel). Empty in `.channel` mode.
    static func thresholdScales(_ s: Student, _ mode: NIRThresholds, student k: Int) throws -> [Int: [Double]] {
        guard mode == .unit else { return [:] }
        var r: [Int: [Double]] = [:]
        for (j, op) in s.ops.enumerated() {
            guard case .lif(let l) = op else { continue }
            var i = j - 1
            while i >= 0, case .avgPool = s.ops[i] { i -= 1 }
            switch (i >= 0 ? s.ops[i] : op).interop {
            case .inputConv2D, .conv2D, .inputDense, .dense: r[i] = l.thetas.map { 1 / firingThreshold($0) }
            case .lif, .maxPool, .avgPool, .flatten, .readout, .loihi, .stem, .unsupported: throw CodegenError.failure("student \(k) op \(j) (lif): no conv/dense feeds it, so its thresholds cannot be normalized (use --nir-thresholds channel)")
            }
        }
        return r
    }

    /// The NIR graph as HDF5 members of the file's root (`version`, `node`).
    static func graph(_ p: Program, thresholds: NIRThresholds = .unit) throws -> [(String, HDF5Node)] {
        var nodes: [(String, HDF5Node)] = [("input", node("Input", [("shape", .ints(nirShape(p.input, spatial: true)))]))]
        var edges: [(String, String)] = []
        for (k, s) in p.students.enumerated() {
            var prev = "input", shape = p.input, spatial = true
            var flatFrom: Shape? = nil     // the spatial shape a vector was flattened from (NIR keeps CHW order)
            var order: Shape? { spatial ? shape : flatFrom }
            func add(_ name: String, _ n: HDF5Node) { nodes.append((name, n)); edges.append((prev, name)); prev = name }
            let thetaScale = try thresholdScales(s, thresholds, student: k)
            for (j, op) in s.ops.enumerated() {
                let o = op.outputShape(shape), name = "s\(k)_\(j)"
                switch op.interop {
                case .inputConv2D(let c), .conv2D(let c):
                    if !spatial { throw CodegenError.failure("student \(k) op \(j) (\(op.name)): a convolution of a dense layer's vector output has no NIR form (NIR cannot reshape)") }
                    let sh = 1 / Double(UInt64(1) << UInt64(c.shift))
                    let sc = (thetaScale[j] ?? [Double](repeating: 1, count: c.cout)).map { $0 * sh }   // ÷ 2^shift, ÷ (θ_c − ½) in unit mode
                    var bias = c.bias.map { Double($0) }
                    if j == 0, p.inputZeroPoint.contains(where: { $0 != 0 }) {
                        // padding reads zp (spec §3.1), NIR pads with 0: feed x − zp (a 1x1 identity
                        // Conv2d with bias −zp) and add Σ zp·w to the bias — the same sums everywhere.
                        let C = shape.c, zp = p.inputZeroPoint.map(Double.init)
                        var eye = [Float](repeating: 0, count: C * C)
                        for ch in 0..<C { eye[ch * C + ch] = 1 }
                        add(name + "_zp", node("Conv2d", [
                            ("weight", .floats(eye, shape: [C, C, 1, 1])), ("bias", .floats(zp.map { Float(-$0) })),
                            ("stride", .ints([1, 1])), ("padding", .ints([0, 0])), ("dilation", .ints([1, 1])),
                            ("groups", .scalar(1)), ("input_shape", .ints([shape.h, shape.w]))]))
                        for ci in 0..<C { for t in 0..<(c.kh * c.kw) { for co in 0..<c.cout {
                            bias[co] += zp[ci] * Double(c.weights[(ci * c.kh * c.kw + t) * c.cout + co])
                        } } }
                    }
                    add(name, node("Conv2d", [
                        ("weight", .floats(convWeight(c.weights, cin: shape.c, kh: c.kh, kw: c.kw, cout: c.cout, scale: sc), shape: [c.cout, shape.c, c.kh, c.kw])),
                        ("bias", .floats((0..<c.cout).map { Float(bias[$0] * sc[$0]) })),
                        ("stride", .ints([c.stride, c.stride])), ("padding", .ints([c.pad, c.pad])),
                        ("dilation", .ints([1, 1])), ("groups", .scalar(1)), ("input_shape", .ints([shape.h, shape.w]))]))
                    // nir 1.0.8 infers a Conv2d's output shape from weight.shape[2] alone (a square
                    // kernel), so its type check rejects kh ≠ kw: read those with type_check=False.
                case .inputDense(let d), .dense(let d):
                    let sh = 1 / Double(UInt64(1) << UInt64(d.shift))
                    let sc = (thetaScale[j] ?? [Double](repeating: 1, count: d.out)).map { $0 * sh }   // ÷ 2^shift, ÷ (θ_o − ½) in unit mode
                    if spatial { add(name + "_flat", flatten(shape)) }   // sne reads the input as a vector
                    add(name, node("Affine", [
                        ("weight", .floats(denseWeight(d.weights, n: shape.size, order: order, out: d.out, scale: sc), shape: [d.out, shape.size])),
                        ("bias", .floats((0..<d.out).map { Float(Double(d.bias[$0]) * sc[$0]) }))]))
                case .lif(let l):
                    let beta: Double
                    switch l.leak {
                    case .none: beta = 1 - 1 / Double(1 << 24)
                    case .mulShift(let m, let s): beta = min(Double(m) / Double(1 << s), 1 - 1 / Double(1 << 24))
                    case .shift(let s): beta = 1 - 1 / Double(UInt64(1) << UInt64(s))
                    }
                    let tau = dt / max(1 - beta, 1e-12), n = o.size, dims = nirShape(o, spatial: spatial)
                    let theta: [Float] = thresholds == .unit ? [Float](repeating: 1, count: n)
                        : reorder((0..<n).map { Float(firingThreshold(l.thetas[$0 % o.c])) }, order)
                    // what NIR cannot carry, for sne-aware importers: the reset kind and the amount a
                    // subtract reset removes (θ_c in the membrane's units: θ_c/(θ_c − ½) in unit mode)
                    let unitOfV = { (c: Int) in thresholds == .unit ? firingThreshold(l.thetas[c]) : 1 }
                    let meta: HDF5Node = .group([
                        ("sne_reset", .dataset(.scalar(l.reset == .subtract ? "subtract" : "zero"))),
                        ("sne_reset_subtract", .dataset(.floats(reorder((0..<n).map { Float(Double(l.thetas[$0 % o.c]) / unitOfV($0 % o.c)) }, order), shape: dims)))])
                    add(name, node("LIF", [
                        ("tau", .floats([Float](repeating: Float(tau), count: n), shape: dims)),
                        ("r", .floats([Float](repeating: Float(tau / dt), count: n), shape: dims)),
                        ("v_leak", .floats([Float](repeating: 0, count: n), shape: dims)),
                        ("v_threshold", .floats(theta, shape: dims)),
                        ("v_reset", .floats([Float](repeating: 0, count: n), shape: dims))], metadata: meta))
                case .maxPool(let q):
                    add(name + "_sum", node("SumPool2d", [("kernel_size", .ints([q, q])), ("stride", .ints([q, q])), ("padding", .ints([0, 0]))]))
                    add(name, node("Threshold", [("threshold", .floats([Float](repeating: 0.5, count: o.size), shape: nirShape(o, spatial: true)))]))
                case .avgPool(let q):
                    add(name, node("AvgPool2d", [("kernel_size", .ints([q, q])), ("stride", .ints([q, q])), ("padding", .ints([0, 0]))]))
                case .flatten:
                    add(name, flatten(shape, spatial: spatial))
                case .readout:
                    add(name, node("I", [("r", .floats([Float](repeating: 1, count: o.size), shape: nirShape(o, spatial: spatial)))]))
                    if spatial { add(name + "_flat", flatten(o)) }
                    let F = s.features, C = p.classes
                    // features in sne's order → NIR's (the same map as denseWeight)
                    var w = [Float](repeating: 0, count: C * F)
                    for i in 0..<F {
                        let j = nirIndex(i, order)
                        let sc = Double(s.featMult[i]) / Double(UInt64(1) << UInt64(s.featShift[i]))   // q ≈ f · feat_mult/2^feat_shift
                        for c in 0..<C { w[c * F + j] = Float(Double(p.head.weights[k][i * C + c]) * sc) }
                    }
                    let bias = k == 0 ? p.head.bias.map { Float($0) } : [Float](repeating: 0, count: C)
                    add("s\(k)_head", node("Affine", [("weight", .floats(w, shape: [C, F])), ("bias", .floats(bias))]))
                    edges.append((prev, "logits"))   // NIR sums a node's inputs: logits = Σ_k head_k
                case .loihi, .stem:
                    break   // refused by encode(_:) (Loihi-mode programs: export the program they were lowered from; the stem: not yet)
                case .unsupported:
                    throw CodegenError.failure("student \(k) op \(j) (\(op.name)): this op has no NIR form")
                }
                switch op.interop {
                case .inputConv2D, .conv2D, .maxPool, .avgPool: spatial = true; flatFrom = nil
                case .inputDense, .dense: spatial = false; flatFrom = nil
                case .flatten: flatFrom = order; spatial = false
                case .lif, .readout, .loihi, .stem, .unsupported: break
                }
                shape = o
            }
        }
        nodes.append(("logits", node("Output", [("shape", .ints([p.classes]))])))
        let meta: HDF5Node = .group([("source", .dataset(.scalar("sne"))), ("program", .dataset(.scalar(p.name))),
                                     ("T", .dataset(.scalar(Int64(p.timesteps)))),
                                     ("dt", .dataset(.floats([Float(dt)], shape: []))),
                                     ("thresholds", .dataset(.scalar(thresholds.rawValue))),
                                     ("outputs", .dataset(.scalar("logits = the sum of the head Affines at the last step")))])
        let graph: HDF5Node = .group([
            ("type", .dataset(.scalar("NIRGraph"))),
            ("nodes", .group(nodes.map { ($0.0, $0.1) })),
            ("edges", .dataset(HDF5Dataset(shape: [edges.count, 2], .strings(edges.flatMap { [$0.0, $0.1] })))),
            ("metadata", meta)])
        return [("version", .dataset(.scalar("1.0.0"))), ("node", graph)]
    }

    /// The `.nir` file bytes, LIF thresholds written as `thresholds` says; refuses Loihi-mode
    /// programs (export the program they were lowered from).
    /// A shared stem (spec §4.1) is written into every student that uses it (NIR has no lazily
    /// shared subgraph with a budget): the graph computes the same spikes and logits.
    public static func encode(_ program: Program, thresholds: NIRThresholds = .unit) throws -> [UInt8] {
        let p = StemSharing.expand(program)
        if p.students.contains(where: { $0.ops.contains { if case .loihi = $0.interop { true } else { false } } }) {
            throw CodegenError.failure("\(p.name) is a Loihi-mode program; export the program it was lowered from")
        }
        do { return try HDF5Writer.encode(try graph(p, thresholds: thresholds)) } catch let e as HDF5Error { throw CodegenError.failure(e.description) }
    }
}
