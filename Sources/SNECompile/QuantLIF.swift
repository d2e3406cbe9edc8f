// The integer LIF of spec §3.5 inside a float training graph (quantization-aware training).
//
// Forward, per neuron, in integer membrane units (S per float unit, from the compiler's scales):
//   cur = round(I·S)                       (the current grid; straight-through in backward)
//   v'  = leak(m)                          (spec §3.5 exactly: rshr rounding, the dead zone)
//   v   = satw(v' + cur, state_bits)       (saturation)
//   s   = v ≥ θ;  m = v − θ (subtract) or 0 (zero) after a spike, else v
// Backward (BPTT, reset detached as in SNETrain.LIF): with u = (v − θ)/S,
//   dL/dv[t] = dL/ds[t]·σ'(u) + dL/dm[t]·(1 − s[t] for zero reset, else 1)
//   dL/dm[t−1] = β_eff · dL/dv[t],   dL/dI[t] = dL/dv[t]
// where σ' is the layer's surrogate and β_eff the decay the integer leak realises.
import SNETensor
import SNETrain
import SpikeIR

/// Integer-grid LIF state for one forward/backward (not a `Layer`: the QAT loop calls it in place
/// of the float LIF it shadows).
final class QuantLIF {
    let lif: SNETrain.LIF
    /// Per channel (one entry: the same for every channel).
    let scales: [Double], thetas: [Int64]
    let leak: Leak, bits: Int
    private var u: [Float] = []        // (v − θ)/S per neuron-step, for the surrogate
    private var fired: [UInt8] = []
    private var shape: [Int] = []
    private var steps = 0, perStep = 0

    init(_ lif: SNETrain.LIF, scales: [Double], thetas: [Int32], leak: Leak, bits: Int) {
        self.lif = lif; self.scales = scales; self.thetas = thetas.map(Int64.init); self.leak = leak; self.bits = bits
    }

    /// The channel of neuron `i` of one step: NCHW maps and `[N, F]` vectors.
    func channel(_ i: Int) -> Int {
        guard scales.count > 1 else { return 0 }
        if shape.count == 4 { return (i / (shape[2] * shape[3])) % shape[1] }
        return i % shape[shape.count - 1]
    }

    func forward(_ x: Tensor, T: Int) -> Tensor {
        let direct = lif.directInput
        perStep = direct ? x.count : x.count / T
        steps = T
        shape = x.shape
        var outShape = x.shape
        if direct { outShape[0] *= T }
        var y = Tensor(zeros: outShape)
        u = [Float](repeating: 0, count: perStep * T); fired = [UInt8](repeating: 0, count: perStep * T)
        let hi = (Int64(1) << Int64(bits - 1)) - 1, lo = -hi - 1, zero = lif.reset == .zero
        var m = [Int64](repeating: 0, count: perStep)
        for t in 0..<T {
            let xo = direct ? 0 : t * perStep, o = t * perStep
            for i in 0..<perStep {
                let ch = channel(i), scale = scales[ch], theta = thetas[ch]
                let cur = Int64((Double(x.data[xo + i]) * scale).rounded())          // current grid
                var v: Int64
                switch leak {                                                       // spec §3.5 step 1
                case .none: v = m[i]
                case .mulShift(let mm, let ss): v = Fixed.rshr(m[i] * Int64(mm), ss)
                case .shift(let ss): v = m[i] - Fixed.rshr(m[i], ss)
                }
                v = min(max(v + cur, lo), hi)                                       // satw (step 2)
                u[o + i] = Float(Double(v - theta) / scale)
                if v >= theta { y.data[o + i] = 1; fired[o + i] = 1; m[i] = zero ? 0 : v - theta } else { m[i] = v }
            }
        }
        return y
    }

    func backward(_ dy: Tensor) -> Tensor {
        let T = steps, n = perStep, beta = Float(LIFFixedPoint.effectiveBeta(leak)), zero = lif.reset == .zero
        var dx = Tensor(zeros: shape)
        var gm = [Float](repeating: 0, count: n)
        for t in stride(from: T - 1, through: 0, by: -1) {
            let o = t * n, xo = lif.directInput ? 0 : t * n
            for i in 0..<n {
                let carry = zero && fired[o + i] == 1 ? 0 : gm[i]
                let gv = dy.data[o + i] * lif.surrogate.derivative(u[o + i]) + carry
                dx.data[xo + i] += gv
                gm[i] = beta * gv
            }
        }
        u = []; fired = []
        return dx
    }
}
