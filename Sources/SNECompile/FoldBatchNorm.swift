// Pass: fold evaluation-mode BatchNorm into the convolution before it.
//
//   y = scale[o]·(Σ w[o]·x + b[o]) + shift[o]  =  Σ (scale[o]·w[o])·x + (scale[o]·b[o] + shift[o])
//
// After this pass a student has no `batchNorm` op; a BN not directly after a conv is refused.

public enum FoldBatchNorm {
    /// The folded student (BN ops removed, their affine map merged into the preceding conv).
    public static func run(_ s: FloatStudent) throws -> FloatStudent {
        var out: [(name: String, op: FloatOp)] = []
        for (name, op) in s.ops {
            guard case .batchNorm(let bn) = op else { out.append((name, op)); continue }
            guard let last = out.last, case .conv(var c) = last.op else {
                throw CompileError("layer \(name): BatchNorm not directly after a conv cannot be folded")
            }
            guard bn.scale.count == c.cout else { throw CompileError("layer \(name): \(bn.scale.count) channels, conv \(last.name) has \(c.cout)") }
            c = fold(c, bn)
            out[out.count - 1] = (last.name + "+" + name, .conv(c))
        }
        return FloatStudent(ops: out)
    }

    /// `w'[o] = scale[o]·w[o]`, `b'[o] = scale[o]·b[o] + shift[o]`.
    public static func fold(_ c: FloatConv, _ bn: FloatAffine) -> FloatConv {
        var r = c
        let n = c.cin * c.k * c.k
        for o in 0..<c.cout {
            for i in 0..<n { r.weight[o * n + i] = c.weight[o * n + i] * bn.scale[o] }
            r.bias[o] = c.bias[o] * bn.scale[o] + bn.shift[o]
        }
        return r
    }
}
