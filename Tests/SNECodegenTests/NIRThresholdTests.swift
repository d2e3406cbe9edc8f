// NIR export of LIF thresholds (docs/neuromorphic.md "NIR export"): the unit and channel modes,
// hand-computed on a small program, and that the two are the same LIFs in real arithmetic.
import Foundation
import Testing
@testable import SNECodegen
@testable import SpikeIR

@Suite("NIR thresholds")
struct NIRThresholdTests {
    /// input 2x2x1 → input_conv2d 1x1 (1 → 2, shift 1) → avgpool 2 → lif θ [4, 10] (zero reset)
    /// → flatten → dense 2 → 3 → lif θ [2, 3, 6] (subtract) → dense 3 → 2 → readout.
    static let program: Program = {
        let conv = Conv2D(cout: 2, kh: 1, kw: 1, stride: 1, pad: 0, shift: 1, weights: [3, 5], bias: [1, -2])
        let d1 = Dense(out: 3, shift: 0, weights: [1, 2, 3, 4, 5, 6], bias: [7, 8, 9])
        let d2 = Dense(out: 2, shift: 0, weights: [1, 1, 1, 1, 1, 1], bias: [0, 0])
        let ops: [Op] = [.inputConv2D(conv), .avgPool(size: 2), .lif(LIF(thetas: [4, 10], reset: .zero, leak: .shift(1))),
                         .flatten, .dense(d1), .lif(LIF(thetas: [2, 3, 6], leak: .shift(1))), .dense(d2), .readout]
        return Program(name: "thr", input: Shape(h: 2, w: 2, c: 1), timesteps: 2, classes: 2, selection: .fixed, order: [0],
                       students: [Student(ops: ops, features: 2, featMult: 1, featShift: 0)],
                       head: Head(bias: [0, 0], weights: [[1, 0, 0, 1]]))
    }()

    /// The members of node `name` of an exported graph.
    static func node(_ root: [(String, HDF5Node)], _ name: String) -> [(String, HDF5Node)] {
        guard case .group(let g)? = root.first(where: { $0.0 == "node" })?.1,
              case .group(let nodes)? = g.first(where: { $0.0 == "nodes" })?.1,
              case .group(let n)? = nodes.first(where: { $0.0 == name })?.1 else { return [] }
        return n
    }
    static func floats(_ members: [(String, HDF5Node)], _ key: String) -> [Float]? {
        guard case .dataset(let d)? = members.first(where: { $0.0 == key })?.1, case .float32(let v) = d.values else { return nil }
        return v
    }
    static func meta(_ members: [(String, HDF5Node)]) -> [(String, HDF5Node)] {
        guard case .group(let m)? = members.first(where: { $0.0 == "metadata" })?.1 else { return [] }
        return m
    }
    static func string(_ members: [(String, HDF5Node)], _ key: String) -> String? {
        guard case .dataset(let d)? = members.first(where: { $0.0 == key })?.1, case .strings(let v) = d.values else { return nil }
        return v.first
    }

    @Test("unit: the conv/dense feeding a LIF is divided by θ_c − ½ per output channel, v_threshold 1")
    func unitMode() throws {
        let root = try NIRExport.graph(Self.program, thresholds: .unit)
        let conv = Self.node(root, "s0_0"), lif0 = Self.node(root, "s0_2"), d1 = Self.node(root, "s0_4")
        let lif1 = Self.node(root, "s0_5"), d2 = Self.node(root, "s0_6")
        // conv: w/2^1/(θ−½): channel 0 θ 4 → 3/2/3.5, channel 1 θ 10 → 5/2/9.5; bias likewise
        #expect(Self.floats(conv, "weight") == [Float(3.0 / 2 / 3.5), Float(5.0 / 2 / 9.5)])
        #expect(Self.floats(conv, "bias") == [Float(1.0 / 2 / 3.5), Float(-2.0 / 2 / 9.5)])
        #expect(Self.floats(lif0, "v_threshold") == [1, 1])
        // dense 2 → 3: NIR (out, in); output o divided by θ_o − ½ = 1.5, 2.5, 5.5
        let t: [Double] = [1.5, 2.5, 5.5]
        #expect(Self.floats(d1, "weight") == [1, 4, 2, 5, 3, 6].enumerated().map { Float(Double($0.element) / t[$0.offset / 2]) })
        #expect(Self.floats(d1, "bias") == [7, 8, 9].enumerated().map { Float(Double($0.element) / t[$0.offset]) })
        #expect(Self.floats(lif1, "v_threshold") == [1, 1, 1])
        // the dense feeding the readout is not scaled
        #expect(Self.floats(d2, "weight") == [1, 1, 1, 1, 1, 1])
        // what NIR cannot carry, in the node's units: θ/(θ − ½)
        #expect(Self.string(Self.meta(lif0), "sne_reset") == "zero" && Self.string(Self.meta(lif1), "sne_reset") == "subtract")
        #expect(Self.floats(Self.meta(lif0), "sne_reset_subtract") == [Float(4 / 3.5), Float(10 / 9.5)])
        #expect(Self.floats(Self.meta(lif1), "sne_reset_subtract") == [Float(2 / 1.5), Float(3 / 2.5), Float(6 / 5.5)])
    }

    @Test("channel: the program's weights, v_threshold θ_c − ½ per neuron")
    func channelMode() throws {
        let root = try NIRExport.graph(Self.program, thresholds: .channel)
        #expect(Self.floats(Self.node(root, "s0_0"), "weight") == [1.5, 2.5])
        #expect(Self.floats(Self.node(root, "s0_0"), "bias") == [0.5, -1])
        #expect(Self.floats(Self.node(root, "s0_2"), "v_threshold") == [3.5, 9.5])
        #expect(Self.floats(Self.node(root, "s0_4"), "weight") == [1, 4, 2, 5, 3, 6])
        #expect(Self.floats(Self.node(root, "s0_5"), "v_threshold") == [1.5, 2.5, 5.5])
        #expect(Self.floats(Self.meta(Self.node(root, "s0_5")), "sne_reset_subtract") == [2, 3, 6])
    }

    @Test("unit and channel are the same LIFs: a float simulation of both gives the same spikes")
    func modesAgree() throws {
        // Simulate each export's LIF chain in Double (NIR's dynamics: v = β·v + I, spike v > thr,
        // then the metadata's reset) on every 2x2 input in a small grid; spikes must be identical.
        func simulate(_ mode: NIRThresholds, _ x: [Double]) throws -> [[Double]] {
            let root = try NIRExport.graph(Self.program, thresholds: mode)
            let conv = Self.node(root, "s0_0"), lif0 = Self.node(root, "s0_2"), d1 = Self.node(root, "s0_4"), lif1 = Self.node(root, "s0_5")
            let cw = Self.floats(conv, "weight")!.map(Double.init), cb = Self.floats(conv, "bias")!.map(Double.init)
            let w1 = Self.floats(d1, "weight")!.map(Double.init), b1 = Self.floats(d1, "bias")!.map(Double.init)
            let th0 = Self.floats(lif0, "v_threshold")!.map(Double.init), th1 = Self.floats(lif1, "v_threshold")!.map(Double.init)
            let r1 = Self.floats(Self.meta(lif1), "sne_reset_subtract")!.map(Double.init)
            let mean = x.reduce(0, +) / 4
            let cur0 = (0..<2).map { cw[$0] * mean + cb[$0] }   // 1x1 conv then avgpool 2 (linear: commutes)
            var v0 = [0.0, 0.0], v1 = [0.0, 0.0, 0.0], out: [[Double]] = []
            for _ in 0..<6 {
                var s0 = [0.0, 0.0]
                for c in 0..<2 { v0[c] = 0.5 * v0[c] + cur0[c]; if v0[c] > th0[c] { s0[c] = 1; v0[c] = 0 } }
                var s1 = [0.0, 0.0, 0.0]
                for o in 0..<3 {
                    v1[o] = 0.5 * v1[o] + b1[o] + w1[o * 2] * s0[0] + w1[o * 2 + 1] * s0[1]
                    if v1[o] > th1[o] { s1[o] = 1; v1[o] -= r1[o] }
                }
                out.append(s0 + s1)
            }
            return out
        }
        for a in stride(from: 0.0, through: 255, by: 17) {
            for b in stride(from: 0.0, through: 255, by: 51) {
                let x = [a, b, 255 - a, b / 2]
                #expect(try simulate(.unit, x) == simulate(.channel, x), "input \(x)")
            }
        }
    }
}
