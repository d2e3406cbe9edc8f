// Pass: lower one BN-folded float student to Spike IR ops (spec §3).
//
// The first conv reads the static uint8 image once: `input_conv2d` (spec §3.1) with the /255 of
// the float input folded into its weights. Later convs and dense layers read spikes (spec §3.3,
// §3.4). Each synaptic op: weights quantized (QuantizeWeights), `bias_q = round(b / scale)` in
// accumulator units, output shift from RangeAnalysis, then the LIF after it gets thresholds in the
// resulting current units (LIFFixedPoint). The readout sums T currents (spec §3.9), so a float
// feature (a mean over T) is `T·S[o]` integer units.
import Foundation
import SpikeIR

/// One lowered student and the scales the next passes need.
public struct LoweredStudent: Sendable {
    public var ops: [Op]
    /// Integer readout units per float feature, per feature (`T·S_last[o]`).
    public var featureUnits: [Double]
    /// Per Spike IR op: a line for the compile report (scales, shift, threshold, bounds).
    public var notes: [String]
    /// Names of the float LIF layers, in op order (for the activity check).
    public var lifNames: [String]
    /// Per LIF, per channel: integer membrane units per float unit (`S` of the current feeding it).
    public var lifScale: [[Double]]
}

public enum LowerStudent {
    public static func run(_ s: FloatStudent, input: [Int], T: Int, bits: Int, granularity: WeightGranularity,
                           stateBits: Int = 32, label: String) throws -> LoweredStudent {
        var ops: [Op] = []
        var notes: [String] = []
        var lifNames: [String] = []
        var lifScale: [[Double]] = []
        var pendingCHW: (c: Int, h: Int, w: Int)? = nil
        var lastS: [Double] = []
        let list = s.ops
        for (idx, (name, op)) in list.enumerated() {
            let next = list[(idx + 1)...].first { if case .lif = $0.op { return true }; if case .readout = $0.op { return true }; return false }
            func consumer() throws -> (RangeAnalysis.Consumer, Leak?) {
                guard let n = next else { throw CompileError("\(label) layer \(name): no LIF or readout after it") }
                if case .lif(let l) = n.op {
                    let leak = try LIFFixedPoint.leak(beta: l.beta)
                    return (.lif(theta: l.theta, beta: LIFFixedPoint.effectiveBeta(leak), bits: stateBits), leak)
                }
                return (.readout, nil)
            }
            switch op {
            case .conv(let c):
                let first = ops.isEmpty
                let w = first ? c.weight.map { $0 / 255 } : c.weight
                let q = try QuantizeWeights.run(w, out: c.cout, bits: bits, granularity: granularity)
                let (biasQ, acc) = try bias(c.bias, q, out: c.cout, xmax: first ? 255 : 1, where: "\(label) \(name)")
                let base = q.scale.map { 1 / $0 }
                let (cons, _) = try consumer()
                let sh = try RangeAnalysis.shift(acc: acc, base: base, consumer: cons, T: T, where: "\(label) \(name)")
                lastS = base.map { $0 / Double(UInt64(1) << UInt64(sh)) }
                let conv = Conv2D(cout: c.cout, kh: c.k, kw: c.k, stride: c.stride, pad: c.pad, shift: sh,
                                  weights: HWCLayout.conv(q.q, cout: c.cout, cin: c.cin, k: c.k), bias: biasQ)
                ops.append(first ? .inputConv2D(conv) : .conv2D(conv))
                notes.append("\(name): \(first ? "input_conv2d" : "conv2d") \(c.cin)→\(c.cout) k=\(c.k) weight step \(fmt(q.scale.max()!)) shift \(sh) |acc| ≤ \(acc.max()!)")
            case .dense(let d):
                guard !ops.isEmpty else { throw CompileError("\(label) layer \(name): a dense first layer is not supported (students start with a conv)") }
                let q = try QuantizeWeights.run(d.weight, out: d.out, bits: bits, granularity: granularity)
                let (biasQ, acc) = try bias(d.bias, q, out: d.out, xmax: 1, where: "\(label) \(name)")
                let base = q.scale.map { 1 / $0 }
                let (cons, _) = try consumer()
                let sh = try RangeAnalysis.shift(acc: acc, base: base, consumer: cons, T: T, where: "\(label) \(name)")
                lastS = base.map { $0 / Double(UInt64(1) << UInt64(sh)) }
                ops.append(.dense(Dense(out: d.out, shift: sh, weights: HWCLayout.dense(q.q, out: d.out, inputs: d.inputs, chw: pendingCHW), bias: biasQ)))
                pendingCHW = nil
                notes.append("\(name): dense \(d.inputs)→\(d.out) weight step \(fmt(q.scale.max()!)) shift \(sh) |acc| ≤ \(acc.max()!)")
            case .lif(let l):
                let leak = try LIFFixedPoint.leak(beta: l.beta)
                let th = try LIFFixedPoint.thetas(l.theta, currentScale: lastS, stateBits: stateBits)
                guard !th.isEmpty else { throw CompileError("lif: no channels") }
                // one threshold per channel (spec §3.5), so per-channel weight scales are exact
                ops.append(.lif(LIF(stateBits: stateBits, thetas: th, reset: l.zeroReset ? .zero : .subtract, leak: leak)))
                lifNames.append(name); lifScale.append(lastS)
                notes.append("\(name): lif theta \(th.min()!)…\(th.max()!) (θ=\(l.theta)) leak \(leak) (β=\(l.beta) → \(fmt(LIFFixedPoint.effectiveBeta(leak))))")
            case .maxPool(let p):
                ops.append(.maxPool(size: p))
            case .flatten(let c, let h, let w):
                ops.append(.flatten); pendingCHW = (c, h, w)
            case .readout:
                ops.append(.readout)
            case .batchNorm:
                throw CompileError("\(label) layer \(name): BatchNorm left after folding")
            }
        }
        guard case .readout = ops.last else { throw CompileError("\(label): the student does not end in a readout") }
        return LoweredStudent(ops: ops, featureUnits: lastS.map { Double(T) * $0 }, notes: notes, lifNames: lifNames, lifScale: lifScale)
    }

    /// `bias_q[o] = round(b[o] / scale[o])` and the accumulator bound `|bias_q| + xmax·Σ|q[o]|`.
    static func bias(_ b: [Float], _ q: QuantizedWeights, out: Int, xmax: Int64, where name: String) throws -> ([Int32], [Int64]) {
        let n = q.q.count / out
        var bq = [Int32](repeating: 0, count: out), acc = [Int64](repeating: 0, count: out)
        for o in 0..<out {
            let v = (Double(b[o]) / q.scale[o]).rounded()
            guard abs(v) <= Double(RangeAnalysis.B) else {
                throw CompileError("\(name) channel \(o): bias \(b[o]) is \(v) weight steps, beyond int32 (spec §3); the layer's weights are tiny next to its bias")
            }
            bq[o] = Int32(v)
            var s = Int64(abs(Int64(bq[o])))
            for i in 0..<n { s += xmax * Int64(abs(Int(q.q[o * n + i]))) }
            acc[o] = s
        }
        return (bq, acc)
    }
}

func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
