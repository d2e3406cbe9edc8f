// The float model read back as plain arrays: one `FloatStudent` per student (conv/BN/LIF/pool/
// flatten/dense/readout with their float parameters), the head and the gate. Every pass of the
// compiler works on these values, never on the training layers themselves.
import SNEEnsemble
import SNETensor
import SNETrain

/// A compiler error: one line naming what is wrong and where.
public struct CompileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A float convolution, PyTorch layout: `weight[o][i][ky][kx]`, `bias[o]`.
public struct FloatConv: Equatable, Sendable {
    public var cout: Int, cin: Int, k: Int, stride: Int, pad: Int
    public var weight: [Float]
    public var bias: [Float]
    public init(cout: Int, cin: Int, k: Int, stride: Int, pad: Int, weight: [Float], bias: [Float]) {
        self.cout = cout; self.cin = cin; self.k = k; self.stride = stride; self.pad = pad; self.weight = weight; self.bias = bias
    }
    /// Weights feeding output channel `o` (fan-in `cin·k·k`).
    public func row(_ o: Int) -> ArraySlice<Float> { let n = cin * k * k; return weight[(o * n)..<((o + 1) * n)] }
}

/// A float fully connected layer: `weight[o][i]`, `bias[o]`.
public struct FloatDense: Equatable, Sendable {
    public var out: Int, inputs: Int
    public var weight: [Float]
    public var bias: [Float]
    public init(out: Int, inputs: Int, weight: [Float], bias: [Float]) {
        self.out = out; self.inputs = inputs; self.weight = weight; self.bias = bias
    }
    public func row(_ o: Int) -> ArraySlice<Float> { weight[(o * inputs)..<((o + 1) * inputs)] }
}

/// Evaluation-mode batch norm as a per-channel affine map `y = scale·x + shift`
/// (`scale = γ/√(σ²+ε)`, `shift = β − μ·scale`).
public struct FloatAffine: Equatable, Sendable {
    public var scale: [Float], shift: [Float]
    public init(scale: [Float], shift: [Float]) { self.scale = scale; self.shift = shift }
}

/// LIF parameters as the float model runs them (Spike IR step order).
public struct FloatLIF: Equatable, Sendable {
    public var beta: Float, theta: Float, zeroReset: Bool
    public init(beta: Float, theta: Float, zeroReset: Bool) { self.beta = beta; self.theta = theta; self.zeroReset = zeroReset }
}

/// One layer of a float student, in model order.
public enum FloatOp: Equatable, Sendable {
    case conv(FloatConv)
    case batchNorm(FloatAffine)
    case lif(FloatLIF)
    case maxPool(Int)
    /// Flattens a `[C, H, W]` map (CHW order in the float model).
    case flatten(c: Int, h: Int, w: Int)
    case dense(FloatDense)
    /// Mean over the T steps.
    case readout
}

/// A float student as a list of ops (names kept for messages).
public struct FloatStudent: Equatable, Sendable {
    public var ops: [(name: String, op: FloatOp)]
    public init(ops: [(name: String, op: FloatOp)]) { self.ops = ops }
    public static func == (a: FloatStudent, b: FloatStudent) -> Bool {
        a.ops.count == b.ops.count && zip(a.ops, b.ops).allSatisfy { $0.name == $1.name && $0.op == $1.op }
    }
}

extension FloatStudent {
    /// Reads student `seq` of a model with input `[C, H, W]`. Throws on a layer the compiler
    /// does not know (naming it).
    public init(_ seq: Sequential, input: [Int]) throws {
        var ops: [(String, FloatOp)] = []
        var c = input[0], h = input[1], w = input[2]
        for (name, l) in seq.layers {
            switch l {
            case let conv as Conv2d:
                let s = conv.weight.value.shape
                guard s.count == 4, s[2] == s[3], s[1] == c else { throw CompileError("layer \(name): conv weight shape \(s) does not fit input channels \(c)") }
                let bias = conv.bias?.value.data ?? [Float](repeating: 0, count: s[0])
                ops.append((name, .conv(FloatConv(cout: s[0], cin: s[1], k: s[2], stride: conv.stride, pad: conv.padding, weight: conv.weight.value.data, bias: bias))))
                h = (h + 2 * conv.padding - s[2]) / conv.stride + 1; w = (w + 2 * conv.padding - s[2]) / conv.stride + 1; c = s[0]
            case let bn as BatchNorm2d:
                let n = bn.gamma.value.count
                var scale = [Float](repeating: 0, count: n), shift = scale
                for i in 0..<n {
                    scale[i] = bn.gamma.value.data[i] / (bn.runningVar.value.data[i] + bn.eps).squareRoot()
                    shift[i] = bn.beta.value.data[i] - bn.runningMean.value.data[i] * scale[i]
                }
                ops.append((name, .batchNorm(FloatAffine(scale: scale, shift: shift))))
            case let lif as LIF:
                guard lif.order == .spec else { throw CompileError("layer \(name): LIF runs in snnTorch order; the Spike IR needs order .spec (spec §3.5)") }
                ops.append((name, .lif(FloatLIF(beta: lif.beta, theta: lif.theta, zeroReset: lif.reset == .zero))))
            case let p as MaxPool2d:
                guard p.kernelSize == p.stride else { throw CompileError("layer \(name): max pool with stride \(p.stride) ≠ window \(p.kernelSize)") }
                ops.append((name, .maxPool(p.kernelSize))); h /= p.kernelSize; w /= p.kernelSize
            case is Flatten:
                ops.append((name, .flatten(c: c, h: h, w: w))); c = c * h * w; h = 1; w = 1
            case let d as Linear:
                ops.append((name, .dense(FloatDense(out: d.outFeatures, inputs: d.inFeatures, weight: d.weight.value.data,
                                                    bias: d.bias?.value.data ?? [Float](repeating: 0, count: d.outFeatures)))))
                c = d.outFeatures
            case let r as Readout:
                guard r.mode == .mean else { throw CompileError("layer \(name): readout mode \(r.mode.rawValue); the compiler expects mean") }
                ops.append((name, .readout))
            default:
                throw CompileError("layer \(name): \(type(of: l)) has no Spike IR lowering")
            }
        }
        self.ops = ops
    }
}
