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
//   lif                     LIF with tau = dt/(1−β), r = tau/dt, v_leak 0, v_threshold θ, v_reset 0
//                           (dt = 1e-4 s, the step snnTorch's importer assumes; recorded in metadata)
//   maxpool (spikes)        SumPool2d + Threshold(0.5): a spike iff any input in the window spiked
//   avgpool                 AvgPool2d
//   flatten                 Flatten (CHW order)
//   readout                 I (integrator, r = 1), then Affine = the head's block for student k scaled
//                           by feat_mult/2^feat_shift (student 0's carries the head bias); every
//                           student's head Affine feeds the one Output `logits` (NIR sums inputs)
import Foundation
import SpikeIR

public enum NIRExport {
    /// The discrete step the LIF time constants are written for (snnTorch's importer assumes 1e-4 s).
    public static let dt: Double = 1e-4

    static func chw(_ s: Shape) -> [Int] { s.h == 1 && s.w == 1 ? [s.c] : [s.c, s.h, s.w] }

    /// Conv weights `[cin][kh][kw][cout]` → NIR `(cout, cin, kh, kw)` floats scaled by `scale`.
    static func convWeight(_ w: [Int8], cin: Int, kh: Int, kw: Int, cout: Int, scale: Double) -> [Float] {
        var r = [Float](repeating: 0, count: w.count)
        for ci in 0..<cin { for ky in 0..<kh { for kx in 0..<kw { for co in 0..<cout {
            r[((co * cin + ci) * kh + ky) * kw + kx] = Float(Double(w[((ci * kh + ky) * kw + kx) * cout + co]) * scale)
        } } } }
        return r
    }

    /// Dense weights `[in][out]` (in in sne's HWC order of `inShape`) → NIR `(out, in)` with in in CHW order.
    static func denseWeight(_ w: [Int8], inShape s: Shape, out: Int, scale: Double) -> [Float] {
        let n = s.size
        var r = [Float](repeating: 0, count: n * out)
        for y in 0..<s.h { for x in 0..<s.w { for c in 0..<s.c {
            let i = (y * s.w + x) * s.c + c, j = (c * s.h + y) * s.w + x
            for o in 0..<out { r[o * n + j] = Float(Double(w[i * out + o]) * scale) }
        } } }
        return r
    }

    static func node(_ type: String, _ fields: [(String, HDF5Dataset)]) -> HDF5Node {
        .group([("type", .dataset(.scalar(type)))] + fields.map { ($0.0, .dataset($0.1)) })
    }

    /// The NIR graph as HDF5 members of the file's root (`version`, `node`).
    static func graph(_ p: Program) -> [(String, HDF5Node)] {
        var nodes: [(String, HDF5Node)] = [("input", node("Input", [("shape", .ints(chw(p.input)))]))]
        var edges: [(String, String)] = []
        for (k, s) in p.students.enumerated() {
            var prev = "input", shape = p.input
            func add(_ name: String, _ n: HDF5Node) { nodes.append((name, n)); edges.append((prev, name)); prev = name }
            for (j, op) in s.ops.enumerated() {
                let o = op.outputShape(shape), name = "s\(k)_\(j)"
                switch op {
                case .inputConv2D(let c), .conv2D(let c):
                    let sc = 1 / Double(UInt64(1) << UInt64(c.shift))
                    add(name, node("Conv2d", [
                        ("weight", .floats(convWeight(c.weights, cin: shape.c, kh: c.kh, kw: c.kw, cout: c.cout, scale: sc), shape: [c.cout, shape.c, c.kh, c.kw])),
                        ("bias", .floats(c.bias.map { Float(Double($0) * sc) })),
                        ("stride", .ints([c.stride, c.stride])), ("padding", .ints([c.pad, c.pad])),
                        ("dilation", .ints([1, 1])), ("groups", .scalar(1)), ("input_shape", .ints([shape.h, shape.w]))]))
                case .inputDense(let d), .dense(let d):
                    let sc = 1 / Double(UInt64(1) << UInt64(d.shift))
                    add(name, node("Affine", [
                        ("weight", .floats(denseWeight(d.weights, inShape: shape, out: d.out, scale: sc), shape: [d.out, shape.size])),
                        ("bias", .floats(d.bias.map { Float(Double($0) * sc) }))]))
                case .lif(let l):
                    let beta: Double
                    switch l.leak {
                    case .none: beta = 1 - 1 / Double(1 << 24)
                    case .mulShift(let m, let s): beta = min(Double(m) / Double(1 << s), 1 - 1 / Double(1 << 24))
                    case .shift(let s): beta = 1 - 1 / Double(UInt64(1) << UInt64(s))
                    }
                    let tau = dt / max(1 - beta, 1e-12), n = o.size, dims = chw(o)
                    add(name, node("LIF", [
                        ("tau", .floats([Float](repeating: Float(tau), count: n), shape: dims)),
                        ("r", .floats([Float](repeating: Float(tau / dt), count: n), shape: dims)),
                        ("v_leak", .floats([Float](repeating: 0, count: n), shape: dims)),
                        ("v_threshold", .floats([Float](repeating: Float(l.theta), count: n), shape: dims)),
                        ("v_reset", .floats([Float](repeating: 0, count: n), shape: dims))]))
                case .maxPool(let q):
                    add(name + "_sum", node("SumPool2d", [("kernel_size", .ints([q, q])), ("stride", .ints([q, q])), ("padding", .ints([0, 0]))]))
                    add(name, node("Threshold", [("threshold", .floats([Float](repeating: 0.5, count: o.size), shape: chw(o)))]))
                case .avgPool(let q):
                    add(name, node("AvgPool2d", [("kernel_size", .ints([q, q])), ("stride", .ints([q, q])), ("padding", .ints([0, 0]))]))
                case .flatten:
                    add(name, node("Flatten", [("start_dim", .scalar(0)), ("end_dim", .scalar(-1)), ("input_type", .ints(chw(shape)))]))
                case .readout:
                    add(name, node("I", [("r", .floats([Float](repeating: 1, count: o.size)))]))
                    let sc = Double(s.featMult) / Double(UInt64(1) << UInt64(s.featShift))
                    let F = s.features, C = p.classes
                    var w = [Float](repeating: 0, count: C * F)
                    for i in 0..<F { for c in 0..<C { w[c * F + i] = Float(Double(p.head.weights[k][i * C + c]) * sc) } }
                    let bias = k == 0 ? p.head.bias.map { Float($0) } : [Float](repeating: 0, count: C)
                    add("s\(k)_head", node("Affine", [("weight", .floats(w, shape: [C, F])), ("bias", .floats(bias))]))
                    edges.append((prev, "logits"))   // NIR sums a node's inputs: logits = Σ_k head_k
                case .loihi:
                    break   // refused by encode(_:) (Loihi-mode programs: export the program they were lowered from)
                }
                shape = o
            }
        }
        nodes.append(("logits", node("Output", [("shape", .ints([p.classes]))])))
        let meta: HDF5Node = .group([("source", .dataset(.scalar("sne"))), ("program", .dataset(.scalar(p.name))),
                                     ("T", .dataset(.scalar(Int64(p.timesteps)))),
                                     ("dt", .dataset(.floats([Float(dt)], shape: []))),
                                     ("outputs", .dataset(.scalar("logits = the sum of the head Affines at the last step")))])
        let graph: HDF5Node = .group([
            ("type", .dataset(.scalar("NIRGraph"))),
            ("nodes", .group(nodes.map { ($0.0, $0.1) })),
            ("edges", .dataset(HDF5Dataset(shape: [edges.count, 2], .strings(edges.flatMap { [$0.0, $0.1] })))),
            ("metadata", meta)])
        return [("version", .dataset(.scalar("1.0.0"))), ("node", graph)]
    }

    /// The `.nir` file bytes; refuses Loihi-mode programs (export the program they were lowered from).
    public static func encode(_ p: Program) throws -> [UInt8] {
        if p.fileVersionMinor > 0 {
            throw CodegenError.failure("\(p.name) is a Loihi-mode program; export the program it was lowered from")
        }
        do { return try HDF5Writer.encode(graph(p)) } catch let e as HDF5Error { throw CodegenError.failure(e.description) }
    }
}
