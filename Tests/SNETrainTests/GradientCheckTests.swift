// Finite-difference gradient checks for every layer and loss, and an independent BPTT reference for LIF.
import Testing
import Foundation
@testable import SNETrain
@testable import SNETensor

/// A fresh context per use: a ComputeContext serves one caller at a time, and tests run concurrently.
var compute: ComputeContext { ComputeContext(threads: 2) }

/// Central differences of `L = Σ r·layer(x)` against the layer's backward, for sampled input
/// elements and sampled elements of every trainable parameter.
func gradCheck(_ layer: any Layer, x: Tensor, timeSteps: Int = 1, eps: Float = 1e-3, tol: Double = 1e-2,
               checkInput: Bool = true, samples: Int = 24, file: String = #fileID, line: Int = #line) throws {
    let cc = compute
    func ctx() -> LayerContext { LayerContext(compute: cc, training: true, seed: 77, timeSteps: timeSteps) }
    let y = try layer.forward(x, ctx())
    var rng = SeededRNG(seed: 5)
    let r = Tensor.randomNormal(y.shape, std: 1, using: &rng)
    layer.zeroGrad()
    let c = ctx()
    _ = try layer.forward(x, c)
    let dx = try layer.backward(r, c)
    func loss(_ x: Tensor) throws -> Double {
        let y = try layer.forward(x, ctx())
        layer.clearSaved()
        return zip(y.data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    func check(_ analytic: Float, _ plus: Double, _ minus: Double, _ what: String) {
        let fd = (plus - minus) / (2 * Double(eps))
        let err = abs(fd - Double(analytic)) / max(1, abs(fd), abs(Double(analytic)))
        #expect(err < tol, "\(what): finite difference \(fd), backward \(analytic)")
    }
    if checkInput {
        for k in 0..<min(samples, x.count) {
            let i = (k * 7919) % x.count
            var xp = x, xm = x
            xp.data[i] += eps; xm.data[i] -= eps
            check(dx.data[i], try loss(xp), try loss(xm), "\(type(of: layer)) dx[\(i)]")
        }
    }
    for (name, p) in layer.namedParameters() where p.trainable {
        let g = p.grad
        for k in 0..<min(samples, p.value.count) {
            let i = (k * 7919) % p.value.count
            let old = p.value.data[i]
            p.value.data[i] = old + eps; let lp = try loss(x)
            p.value.data[i] = old - eps; let lm = try loss(x)
            p.value.data[i] = old
            check(g.data[i], lp, lm, "\(type(of: layer)) d\(name)[\(i)]")
        }
    }
}

func randn(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = SeededRNG(seed: seed)
    return Tensor.randomNormal(shape, std: std, using: &rng)
}

@Suite struct LayerGradientTests {
    @Test func linear() throws {
        var rng = SeededRNG(seed: 1)
        try gradCheck(Linear(7, 5, rng: &rng), x: randn([4, 7], seed: 2))
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 0), (1, 1, 0)])
    func conv2d(_ cfg: (Int, Int, Int)) throws {
        var rng = SeededRNG(seed: 1)
        try gradCheck(Conv2d(2, 3, kernelSize: cfg.0, stride: cfg.1, padding: cfg.2, rng: &rng), x: randn([2, 2, 6, 5], seed: 3))
    }

    @Test func batchNormTrainAndEval() throws {
        let bn = BatchNorm2d(3)
        bn.gamma.value = randn([3], seed: 8); bn.beta.value = randn([3], seed: 9)
        try gradCheck(bn, x: randn([4, 3, 3, 3], seed: 4, std: 2))
        // Per-time-step statistics on a [T*B, C, H, W] batch.
        try gradCheck(BatchNorm2d(2, perTimeStep: true), x: randn([6, 2, 2, 2], seed: 5), timeSteps: 3)
        // Evaluation mode: a fixed affine map.
        let ev = BatchNorm2d(2)
        ev.runningMean.value = try Tensor(shape: [2], data: [0.5, -1]); ev.runningVar.value = try Tensor(shape: [2], data: [2, 0.5])
        let c = LayerContext(compute: compute, training: false)
        let y = try ev.forward(Tensor(repeating: 1, shape: [1, 2, 1, 1]), c)
        #expect(abs(y.data[0] - 0.5 / (2 + 1e-5).squareRoot()) < 1e-6)
        let dx = try ev.backward(Tensor(repeating: 1, shape: [1, 2, 1, 1]), c)
        #expect(abs(dx.data[1] - 1 / (0.5 + 1e-5).squareRoot()) < 1e-5)
    }

    @Test func batchNormRunningStatsMatchPyTorchConvention() throws {
        let bn = BatchNorm2d(1)
        let x = try Tensor(shape: [4, 1, 1, 1], data: [1, 2, 3, 4])
        _ = try bn.forward(x, LayerContext(compute: compute))
        #expect(abs(bn.runningMean.value.data[0] - 0.25) < 1e-6)          // 0.9*0 + 0.1*2.5
        #expect(abs(bn.runningVar.value.data[0] - (0.9 + 0.1 * 5.0 / 3)) < 1e-6)  // unbiased var 1.6667
    }

    @Test func pooling() throws {
        // Distinct, well separated values so a small perturbation never changes the argmax.
        var vals = (0..<(2 * 2 * 6 * 6)).map { Float($0) * 0.05 }
        var rng = SeededRNG(seed: 3)
        vals.shuffle(using: &rng)
        let x = try Tensor(shape: [2, 2, 6, 6], data: vals)
        try gradCheck(MaxPool2d(2), x: x)
        try gradCheck(MaxPool2d(3, stride: 2), x: x)
        try gradCheck(AvgPool2d(2), x: x)
    }

    @Test func reluDropoutFlattenResidualRepeat() throws {
        try gradCheck(ReLU(), x: randn([3, 10], seed: 6))
        try gradCheck(Dropout(0.4), x: randn([3, 10], seed: 7))
        try gradCheck(Flatten(), x: randn([2, 3, 2, 2], seed: 8))
        var rng = SeededRNG(seed: 2)
        try gradCheck(Residual(Sequential([Linear(6, 6, rng: &rng), ReLU()])), x: randn([3, 6], seed: 19))
        try gradCheck(RepeatTime(), x: randn([2, 3], seed: 10), timeSteps: 3)
        try gradCheck(Parallel([Linear(6, 2, rng: &rng), Sequential([Linear(6, 3, rng: &rng)])]), x: randn([3, 6], seed: 18))
        try gradCheck(Readout(.mean), x: randn([6, 3], seed: 11), timeSteps: 3)
        try gradCheck(Readout(.sum), x: randn([6, 3], seed: 12), timeSteps: 2)
    }

    // Seeds for the ReLU-containing checks are chosen so no pre-activation sits within eps of the kink.
    @Test func smallCNN() throws {
        var rng = SeededRNG(seed: 4)
        let net = Sequential([Conv2d(1, 3, kernelSize: 3, padding: 1, rng: &rng), BatchNorm2d(3), ReLU(), AvgPool2d(2),
                              Flatten(), Linear(12, 4, rng: &rng)])
        try gradCheck(net, x: randn([3, 1, 4, 4], seed: 14), eps: 1e-3, tol: 2e-2)
    }

    @Test func dropoutIsDeterministicAndScales() throws {
        let d = Dropout(0.5)
        let x = Tensor(repeating: 1, shape: [1, 1000])
        let a = try d.forward(x, LayerContext(compute: compute, seed: 3))
        let b = try d.forward(x, LayerContext(compute: compute, seed: 3))
        #expect(a == b)
        #expect(Set(a.data).isSubset(of: [0, 2]))
        #expect(abs(a.sum() / 1000 - 1) < 0.1)
        #expect(try d.forward(x, LayerContext(compute: compute, training: false)) == x)
    }

    @Test func shapeErrorsThrowNotTrap() throws {
        var rng = SeededRNG(seed: 1)
        let c = LayerContext(compute: compute)
        #expect(throws: LayerError.self) { try Linear(3, 2, rng: &rng).forward(Tensor(zeros: [2, 4]), c) }
        #expect(throws: LayerError.self) { try Conv2d(3, 2, kernelSize: 3, rng: &rng).forward(Tensor(zeros: [1, 2, 5, 5]), c) }
        #expect(throws: LayerError.self) { try BatchNorm2d(3).forward(Tensor(zeros: [1, 2, 5, 5]), c) }
        #expect(throws: LayerError.self) { try LIF().backward(Tensor(zeros: [2]), c) }
        let seq = Sequential(named: [("fc", Linear(3, 2, rng: &rng))])
        do { _ = try seq.forward(Tensor(zeros: [1, 5]), c); Issue.record("no throw") } catch let e as LayerError {
            #expect(e.message.hasPrefix("[fc] Linear(3→2)"))
        }
    }
}

/// Plain Double BPTT for LIF (the semantics written out step by step), loss `Σ r·s`.
func referenceLIF(x: [Double], r: [Double], t: Int, beta: Double, theta: Double, subtract: Bool,
                  sg: (Double) -> Double) -> (s: [Double], dx: [Double]) {
    let f = x.count / t
    var m = [Double](repeating: 0, count: x.count), s = m
    for j in 0..<f {
        var mem = 0.0, sp = 0.0
        for k in 0..<t {
            let i = k * f + j
            mem = subtract ? beta * mem + x[i] - theta * sp : (beta * mem + x[i]) * (1 - sp)
            sp = mem - theta > 0 ? 1 : 0
            m[i] = mem; s[i] = sp
        }
    }
    var dx = [Double](repeating: 0, count: x.count)
    for j in 0..<f {
        var dmNext = 0.0   // dL/dmem[k+1]
        for k in stride(from: t - 1, through: 0, by: -1) {
            let i = k * f + j
            let keepNext = subtract ? 1.0 : (k + 1 < t ? 1 - s[i] : 1)   // d mem[k+1] / d mem[k] factor besides beta
            let dm = r[i] * sg(m[i] - theta) + beta * keepNext * dmNext
            let keep = subtract ? 1.0 : (k > 0 ? 1 - s[i - f] : 1)
            dx[i] = dm * keep
            dmNext = dm
        }
    }
    return (s, dx)
}

/// The Spike IR order (spec §3.5) written out in Double: `v = β·m + x`, fire on `v ≥ θ`, reset at
/// once; BPTT with the reset detached, `g = r·σ'(v − θ) + keep·carry`, `carry = β·g`; and the
/// learned decay's gradient `dβ = Σ_t g[t]·m[t−1]`, `m` the membrane after reset.
func referenceSpecLIF(x: [Double], r: [Double], t: Int, beta: Double, theta: Double, subtract: Bool,
                      sg: (Double) -> Double) -> (s: [Double], dx: [Double], dbeta: Double) {
    let f = x.count / t
    var v = [Double](repeating: 0, count: x.count), s = v, m = v
    for j in 0..<f {
        var mp = 0.0
        for k in 0..<t {
            let i = k * f + j
            v[i] = beta * mp + x[i]
            s[i] = v[i] >= theta ? 1 : 0
            m[i] = subtract ? v[i] - theta * s[i] : v[i] * (1 - s[i])
            mp = m[i]
        }
    }
    var dx = [Double](repeating: 0, count: x.count), db = 0.0
    for j in 0..<f {
        var carry = 0.0
        for k in stride(from: t - 1, through: 0, by: -1) {
            let i = k * f + j
            let keep = subtract ? 1.0 : 1 - s[i]
            let g = r[i] * sg(v[i] - theta) + keep * carry
            dx[i] = g
            if k > 0 { db += g * m[(k - 1) * f + j] }
            carry = beta * g
        }
    }
    return (s, dx, db)
}

@Suite struct LIFTests {
    /// PLIF: the learned decay's gradient is the surrogate BPTT's `Σ_t dL/dv[t]·m[t−1]` times
    /// `dβ/dw = β(1 − β)`; the input gradient is unchanged by learning β.
    @Test(arguments: [ResetMode.subtract, .zero], [false, true])
    func learnedDecayGradientMatchesReference(_ reset: ResetMode, _ direct: Bool) throws {
        let t = 5, b = 3, f = 4
        let x = randn([(direct ? 1 : t) * b, f], seed: 25, std: 0.8)
        let r = randn([t * b, f], seed: 26)
        let lif = LIF(beta: 0.7, theta: 0.6, reset: reset, directInput: direct, order: .spec)
        lif.learnDecay()
        #expect(abs(lif.beta - 0.7) < 1e-6)
        #expect(lif.trainableParameters.count == 1)
        let c = LayerContext(compute: compute, timeSteps: t)
        lif.zeroGrad()
        _ = try lif.forward(x, c)
        let dx = try lif.backward(r, c)
        let xs = direct ? (0..<t).flatMap { _ in x.data.map(Double.init) } : x.data.map(Double.init)
        let sg = { (u: Double) in Double(Surrogate.fastSigmoid(slope: 25).derivative(Float(u))) }
        let beta = Double(lif.beta)
        let ref = referenceSpecLIF(x: xs, r: r.data.map(Double.init), t: t, beta: beta, theta: 0.6, subtract: reset == .subtract, sg: sg)
        let db = ref.dbeta
        let dw = Double(lif.betaLogit!.grad.data[0])
        #expect(abs(dw - db * beta * (1 - beta)) < 1e-4 * max(1, abs(dw)), "dw \(dw), reference \(db * beta * (1 - beta))")
        #expect(db != 0)
        let n = b * f
        for i in 0..<dx.count {
            let expected = direct ? (0..<t).reduce(0.0) { $0 + ref.dx[$1 * n + i] } : ref.dx[i]
            #expect(abs(Double(dx.data[i]) - expected) < 1e-4, "dx[\(i)]")
        }
    }

    @Test(arguments: [ResetMode.subtract, .zero], [Surrogate.fastSigmoid(slope: 25), .atan(alpha: 2)])
    func specOrderMatchesReference(_ reset: ResetMode, _ sg: Surrogate) throws {
        let t = 5, b = 3, f = 4
        let x = randn([t * b, f], seed: 23, std: 0.8)
        let r = randn([t * b, f], seed: 24)
        let lif = LIF(beta: 0.7, theta: 0.6, reset: reset, surrogate: sg, order: .spec)
        let c = LayerContext(compute: compute, timeSteps: t)
        let s = try lif.forward(x, c)
        let dx = try lif.backward(r, c)
        let ref = referenceSpecLIF(x: x.data.map(Double.init), r: r.data.map(Double.init), t: t, beta: 0.7, theta: 0.6,
                                   subtract: reset == .subtract, sg: { Double(sg.derivative(Float($0))) })
        #expect(s.data.map(Double.init) == ref.s)
        #expect(s.sum() > 0 && s.sum() < Double(s.count))
        for i in 0..<dx.count { #expect(abs(Double(dx.data[i]) - ref.dx[i]) < 1e-5, "dx[\(i)]") }
    }

    @Test func spikeCostAddsLambdaOverCountToTheOutputGradient() throws {
        // The rate cost λ · mean(s): backward with spikeCost λ equals backward of dy + λ / count.
        let t = 4, b = 2, f = 5
        let x = randn([t * b, f], seed: 31, std: 0.8), r = randn([t * b, f], seed: 32)
        let lif = LIF(beta: 0.5, theta: 0.6, order: .spec)
        let withCost = LayerContext(compute: compute, timeSteps: t, spikeCost: 0.3)
        _ = try lif.forward(x, withCost)
        let dx = try lif.backward(r, withCost)
        var shifted = r
        for i in 0..<shifted.count { shifted.data[i] += 0.3 / Float(r.count) }
        let plain = LayerContext(compute: compute, timeSteps: t)
        _ = try lif.forward(x, plain)
        let ref = try lif.backward(shifted, plain)
        #expect(dx.data == ref.data)
        #expect(dx.data != (try { _ = try lif.forward(x, plain); return try lif.backward(r, plain) }()).data)
    }

    @Test func specOrderFiresOnEqualityAndResetsAtOnce() throws {
        // θ = 2, β = 0.5, constant input 2: on the first step v = 2 fires in the spec order (2 ≥ 2)
        // but not in snnTorch's (2 > 2 is false).
        let c = LayerContext(compute: compute, timeSteps: 3)
        let x = try Tensor(shape: [1, 1], data: [2])
        let spec = try LIF(beta: 0.5, theta: 2, directInput: true, order: .spec).forward(x, c)
        let torch = try LIF(beta: 0.5, theta: 2, directInput: true).forward(x, c)
        // spec: v = 2 → spike, m = 0; v = 2 → spike; v = 2 → spike.
        #expect(spec.data == [1, 1, 1])
        // snnTorch: mem = 2 (no spike), 3 → spike, 0.5*3 + 2 − 2 = 1.5 (no spike).
        #expect(torch.data == [0, 1, 0])
    }

    @Test(arguments: [Surrogate.fastSigmoid(slope: 25), .atan(alpha: 2), .triangle(width: 1)])
    func surrogateMatchesDerivativeOfItsPrimitive(_ sg: Surrogate) {
        // fast sigmoid: d/du u/(1+k|u|); atan: d/du (1/π)·atan(π/2·α·u); triangle: its integral.
        func primitive(_ u: Double) -> Double {
            switch sg {
            case .fastSigmoid(let k): return u / (1 + Double(k) * abs(u))
            case .atan(let a): return atan(Double.pi / 2 * Double(a) * u) / Double.pi
            case .triangle(let w):
                let w = Double(w), c = min(max(u, -w), w)
                return c - c * abs(c) / (2 * w)
            }
        }
        for u in stride(from: -2.0, through: 2.0, by: 0.137) {
            let h = 1e-6
            let fd = (primitive(u + h) - primitive(u - h)) / (2 * h)
            #expect(abs(fd - Double(sg.derivative(Float(u)))) < 1e-4, "\(sg) at \(u)")
        }
    }

    @Test(arguments: [ResetMode.subtract, .zero], [Surrogate.fastSigmoid(slope: 25), .atan(alpha: 2), .triangle(width: 0.5)])
    func bpttMatchesReference(_ reset: ResetMode, _ sg: Surrogate) throws {
        let t = 5, b = 3, f = 4
        let x = randn([t * b, f], seed: 21, std: 0.8)
        let r = randn([t * b, f], seed: 22)
        let lif = LIF(beta: 0.7, theta: 0.6, reset: reset, surrogate: sg)
        let c = LayerContext(compute: compute, timeSteps: t)
        let s = try lif.forward(x, c)
        #expect(lif.savedBytes == t * b * f * 4)
        let dx = try lif.backward(r, c)
        let ref = referenceLIF(x: x.data.map(Double.init), r: r.data.map(Double.init), t: t, beta: 0.7, theta: 0.6,
                               subtract: reset == .subtract, sg: { Double(sg.derivative(Float($0))) })
        #expect(s.data.map(Double.init) == ref.s)
        #expect(s.sum() > 0 && s.sum() < Double(s.count))   // some neurons fire, not all
        for i in 0..<dx.count { #expect(abs(Double(dx.data[i]) - ref.dx[i]) < 1e-5, "dx[\(i)]") }
    }

    @Test(arguments: [ResetMode.subtract, .zero])
    func directInputEqualsRepeatedInput(_ reset: ResetMode) throws {
        let t = 4, x = randn([3, 5], seed: 40, std: 1.5), r = randn([t * 3, 5], seed: 41)
        let c = LayerContext(compute: compute, timeSteps: t)
        let direct = LIF(beta: 0.6, theta: 0.7, reset: reset, directInput: true), plain = LIF(beta: 0.6, theta: 0.7, reset: reset)
        let rep = RepeatTime()
        let s1 = try direct.forward(x, c), s2 = try plain.forward(try rep.forward(x, c), c)
        #expect(s1 == s2)
        let d1 = try direct.backward(r, c), d2 = try rep.backward(try plain.backward(r, c), c)
        #expect(d1.shape == x.shape)
        for i in 0..<d1.count { #expect(abs(d1.data[i] - d2.data[i]) < 1e-5) }
    }

    /// `Sequential` fuses LIF + MaxPool2d(k): outputs, input gradients and saved state must be the
    /// same bits as running the two layers one after the other. Widths 28 and 36 cover the vector
    /// routing path (full and partial 16-window groups), 6 the scalar tail, k = 3 the generic path.
    @Test(arguments: [(ResetMode.subtract, 2, 28, false), (.zero, 2, 6, false), (.subtract, 2, 36, true), (.zero, 3, 9, true),
                      (.subtract, 3, 6, false)])
    func fusedPoolingIsBitIdentical(_ reset: ResetMode, _ k: Int, _ width: Int, _ direct: Bool) throws {
        let t = 3, b = 2, ch = 3, h = 2 * k
        for (sg, vectorRouting) in [(Surrogate.fastSigmoid(slope: 25), true), (.atan(alpha: 2), true), (.fastSigmoid(slope: 25), false)] {
            let x = randn([direct ? b : t * b, ch, h, width], seed: 50, std: 1.2)
            // ISA level 2 routes 2x2 gradients with AVX-512 where the CPU has it; level 1 the scalar way.
            let c = LayerContext(compute: vectorRouting ? compute : ComputeContext(threads: 2, isaCap: 1), timeSteps: t)
            for order in [LIFOrder.snntorch, .spec] {
                let make = { LIF(beta: 0.6, theta: 0.5, reset: reset, surrogate: sg, directInput: direct, order: order) }
                let fused = Sequential([make(), MaxPool2d(k)])
                let lif = make(), pool = MaxPool2d(k)
                c.training = true
                let y1 = try fused.forward(x, c), y2 = try pool.forward(try lif.forward(x, c), c)
                #expect(y1 == y2)
                #expect(y1.sum() > 0 && y1.sum() < Double(y1.count))
                let r = randn(y1.shape, seed: 51)
                let d1 = try fused.backward(r, c), d2 = try lif.backward(try pool.backward(r, c), c)
                #expect(d1.shape == d2.shape)
                #expect(d1.data.map(\.bitPattern) == d2.data.map(\.bitPattern) || d1.data == d2.data)
                c.training = false
                #expect(try fused.forward(x, c) == y1)
            }
        }
    }

    /// `Sequential` folds a training BatchNorm2d into the LIF after it (and a max pool after that):
    /// the batch norm's output is never written, the LIF computes it plane by plane. Outputs, input
    /// gradients, the BN parameter gradients, running statistics and the learned decay's gradient
    /// must be the same bits as the layers run one after the other (plain and per-step BN, direct
    /// input, with and without the pool, both step orders and resets, 1 and 2 threads).
    @Test(arguments: [(false, false, 2), (true, false, 2), (false, true, 2), (true, false, 1), (false, false, 1)])
    func fusedBatchNormLIFIsBitIdentical(_ perStep: Bool, _ direct: Bool, _ k: Int) throws {
        let t = 3, b = 4, ch = 3, hw = 10
        let x = randn([direct ? b : t * b, ch, hw, hw], seed: 70, std: 1.3)
        for threads in [1, 2] {
            for (order, reset) in [(LIFOrder.snntorch, ResetMode.subtract), (.snntorch, .zero), (.spec, .subtract), (.spec, .zero)] {
                let c = LayerContext(compute: ComputeContext(threads: threads), timeSteps: t)
                func makeBN() -> BatchNorm2d {
                    let bn = BatchNorm2d(ch, perTimeStep: perStep)
                    for i in 0..<ch { bn.gamma.value.data[i] = 0.7 + 0.3 * Float(i); bn.beta.value.data[i] = 0.4 - 0.2 * Float(i) }
                    return bn
                }
                func makeLIF() -> LIF {
                    let l = LIF(beta: 0.6, theta: 0.5, reset: reset, directInput: direct, order: order)
                    if order == .spec { l.learnDecay() }
                    return l
                }
                let bn1 = makeBN(), lif1 = makeLIF(), bn2 = makeBN(), lif2 = makeLIF(), pool2 = MaxPool2d(k)
                let fused = Sequential(k > 1 ? [bn1, lif1, MaxPool2d(k)] : [bn1, lif1])
                c.training = true
                let y1 = try fused.forward(x, c)
                var y2 = try lif2.forward(try bn2.forward(x, c), c)
                if k > 1 { y2 = try pool2.forward(y2, c) }
                #expect(y1 == y2)
                #expect(y1.sum() > 0 && y1.sum() < Double(y1.count))
                #expect(lif1.lastMembrane == lif2.lastMembrane)
                #expect(fused.savedBytes < bn2.savedBytes + lif2.savedBytes + pool2.savedBytes)
                let r = randn(y1.shape, seed: 71)
                let d1 = try fused.backward(r, c)
                let d2 = try bn2.backward(try lif2.backward(k > 1 ? try pool2.backward(r, c) : r, c), c)
                #expect(d1.data.map(\.bitPattern) == d2.data.map(\.bitPattern))
                #expect(bn1.gamma.grad.data.map(\.bitPattern) == bn2.gamma.grad.data.map(\.bitPattern))
                #expect(bn1.beta.grad.data.map(\.bitPattern) == bn2.beta.grad.data.map(\.bitPattern))
                #expect(bn1.runningMean.value == bn2.runningMean.value && bn1.runningVar.value == bn2.runningVar.value)
                if order == .spec {
                    #expect(lif1.betaLogit!.grad.data.map(\.bitPattern) == lif2.betaLogit!.grad.data.map(\.bitPattern))
                }
                #expect(fused.savedBytes == 0)
                c.training = false
                var e2 = try lif2.forward(try bn2.forward(x, c), c)
                if k > 1 { e2 = try pool2.forward(e2, c) }
                #expect(try fused.forward(x, c) == e2)
            }
        }
    }

    /// `Sequential` runs BatchNorm2d + ReLU as one pass in training: outputs, input gradients and the
    /// BN parameter gradients must be the same bits as the two layers run one after the other (plain
    /// and per-time-step BN, a plane size crossing the 64-lane sums, rank 2).
    @Test(arguments: [([4, 3, 5, 13], false), ([6, 2, 9, 9], true), ([8, 5], false)])
    func fusedBatchNormReLUIsBitIdentical(_ shape: [Int], _ perStep: Bool) throws {
        let x = randn(shape, seed: 60, std: 1.5)
        let c = LayerContext(compute: compute, timeSteps: perStep ? 2 : 1)
        let bn1 = BatchNorm2d(shape[1], perTimeStep: perStep), bn2 = BatchNorm2d(shape[1], perTimeStep: perStep)
        for bn in [bn1, bn2] { for i in 0..<shape[1] { bn.gamma.value.data[i] = 0.5 + Float(i); bn.beta.value.data[i] = 0.1 * Float(i) - 0.2 } }
        let fused = Sequential([bn1, ReLU()])
        let relu = ReLU()
        c.training = true
        let y1 = try fused.forward(x, c), y2 = try relu.forward(try bn2.forward(x, c), c)
        #expect(y1.data.map(\.bitPattern) == y2.data.map(\.bitPattern))
        #expect(y1.data.contains(0) && y1.data.contains { $0 > 0 })
        let r = randn(y1.shape, seed: 61)
        let d1 = try fused.backward(r, c), d2 = try bn2.backward(try relu.backward(r, c), c)
        #expect(d1.data.map(\.bitPattern) == d2.data.map(\.bitPattern))
        #expect(bn1.gamma.grad.data.map(\.bitPattern) == bn2.gamma.grad.data.map(\.bitPattern))
        #expect(bn1.beta.grad.data.map(\.bitPattern) == bn2.beta.grad.data.map(\.bitPattern))
        #expect(bn1.runningVar.value == bn2.runningVar.value)
        c.training = false
        #expect(try fused.forward(x, c) == (try relu.forward(try bn2.forward(x, c), c)))
    }

    /// `Sequential` lets a training Conv2d directly followed by a BatchNorm2d compute the batch
    /// norm's per-plane statistics on its output image by image, and a max pool after BN + ReLU
    /// apply them as it reads (the BN output never written): outputs, input gradients, every
    /// parameter gradient and the running statistics must be the same bits as the layers run one
    /// after the other, on each convolution path (row-vector direct: 1 input channel; channel-blocked:
    /// 8 → 16; im2col: stride 2), with a ReLU (0), a per-step BN + LIF + pool (1), nothing (2) or a
    /// ReLU + pool (3, also with odd planes the pool cannot absorb) after, 1 and 2 threads; and the
    /// results must not depend on the thread count.
    @Test(arguments: [(1, 4, 1, 0), (8, 16, 1, 0), (3, 5, 2, 0), (8, 16, 1, 1), (8, 16, 1, 2), (8, 16, 1, 3), (1, 4, 1, 3), (3, 5, 2, 3)])
    func convComputesBatchNormStatisticsBitIdentically(_ cin: Int, _ cout: Int, _ stride: Int, _ after: Int) throws {
        let t = 2, n = 6
        let x = randn([n, cin, 14, 14], seed: 80, std: 1.1)
        var ref: (Tensor, Tensor, [Float])? = nil
        for threads in [1, 2] {
            let c = LayerContext(compute: ComputeContext(threads: threads), timeSteps: t)
            func make() -> [any Layer] {
                var rng = SeededRNG(seed: 81)
                let conv = Conv2d(cin, cout, kernelSize: 3, stride: stride, padding: 1, rng: &rng)
                let bn = BatchNorm2d(cout, perTimeStep: after == 1)
                for i in 0..<cout { bn.gamma.value.data[i] = (i == 1 ? -0.8 : 0.6) + 0.1 * Float(i); bn.beta.value.data[i] = 0.3 - 0.05 * Float(i) }
                let tail: [any Layer] = after == 0 ? [ReLU()] : after == 1 ? [LIF(beta: 0.6, theta: 0.5), MaxPool2d(2)]
                    : after == 2 ? [Flatten()] : [ReLU(), MaxPool2d(2)]
                return [conv, bn] + tail
            }
            let layers1 = make(), layers2 = make()
            let fused = Sequential(layers1)
            c.training = true
            let y1 = try fused.forward(x, c)
            var y2 = x
            for l in layers2 { y2 = try l.forward(y2, c) }
            #expect(y1.data.map(\.bitPattern) == y2.data.map(\.bitPattern))
            #expect(y1.data.contains(0) || after == 2)
            let r = randn(y1.shape, seed: 82)
            let d1 = try fused.backward(r, c)
            var d2 = r
            for l in layers2.reversed() { d2 = try l.backward(d2, c) }
            #expect(d1.data.map(\.bitPattern) == d2.data.map(\.bitPattern))
            for (p1, p2) in zip(fused.parameters, layers2.flatMap(\.parameters)) {
                #expect(p1.value.data.map(\.bitPattern) == p2.value.data.map(\.bitPattern))
                #expect(p1.grad.data.map(\.bitPattern) == p2.grad.data.map(\.bitPattern))
            }
            let bn1 = layers1[1] as! BatchNorm2d
            if let (ry, rd, rv) = ref {
                #expect(y1 == ry && d1 == rd && bn1.runningVar.value.data == rv)
            } else { ref = (y1, d1, bn1.runningVar.value.data) }
        }
    }

    /// The batch statistics (per-plane sums and squared deviations, combined in double) against a
    /// double-precision reference, including a channel whose mean is far above its spread.
    @Test func batchNormStatisticsAreAccurate() throws {
        let n = 5, ch = 3, h = 7, w = 9
        var x = randn([n, ch, h, w], seed: 90, std: 1)
        for i in 0..<n { for j in 0..<(h * w) { x.data[(i * ch + 2) * h * w + j] = 1000 + 0.01 * x.data[(i * ch + 2) * h * w + j] } }
        let bn = BatchNorm2d(ch, momentum: 1)
        _ = try bn.forward(x, LayerContext(compute: compute))
        let m = Double(n * h * w)
        for cc in 0..<ch {
            var vals: [Double] = []
            for i in 0..<n { for j in 0..<(h * w) { vals.append(Double(x.data[(i * ch + cc) * h * w + j])) } }
            let mean = vals.reduce(0, +) / m
            let unbiased = vals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (m - 1)
            #expect(abs(Double(bn.runningMean.value.data[cc]) - mean) <= 1e-6 * max(1, abs(mean)))
            #expect(abs(Double(bn.runningVar.value.data[cc]) - unbiased) <= 1e-5 * unbiased)
        }
    }

    @Test func membranePathFiniteDifferenceWithSpikesHeldFixed() throws {
        // With theta far above any membrane value no spike can occur, so the forward is the linear
        // leaky integrator; a readout of `mem` then equals the surrogate-free BPTT chain. We check
        // dL/dx of L = Σ_t r_t·σ'(0)… via the identity: LIF backward with r = 1/σ'(mem−θ) per element
        // is the pure membrane adjoint Σ_{k≥t} β^{k−t}.
        let t = 4, f = 3
        let x = randn([t, f], seed: 30, std: 0.1)
        let lif = LIF(beta: 0.5, theta: 100, surrogate: .fastSigmoid(slope: 1))
        let c = LayerContext(compute: compute, timeSteps: t)
        _ = try lif.forward(x, c)
        let mem = lif.lastMembrane!
        var r = Tensor(zeros: x.shape)
        for i in 0..<r.count { r.data[i] = 1 / Surrogate.fastSigmoid(slope: 1).derivative(mem.data[i] - 100) }
        let dx = try lif.backward(r, c)
        for k in 0..<t { for j in 0..<f {
            let expected = (k..<t).reduce(0.0) { $0 + pow(0.5, Double($1 - k)) }
            #expect(abs(Double(dx.data[k * f + j]) - expected) < 1e-3)
        } }
        // And the membrane itself is the linear leaky sum (finite differences of mem are exact here).
        for k in 0..<t { for j in 0..<f {
            let expected = (0...k).reduce(0.0) { $0 + pow(0.5, Double(k - $1)) * Double(x.data[$1 * f + j]) }
            #expect(abs(Double(mem.data[k * f + j]) - expected) < 1e-5)
        } }
    }
}

@Suite struct LossGradientTests {
    func fdCheck(_ x: Tensor, _ f: (Tensor) throws -> LossResult, eps: Float = 1e-3, tol: Double = 1e-2) throws {
        let g = try f(x).grad
        for i in 0..<x.count {
            var p = x, m = x
            p.data[i] += eps; m.data[i] -= eps
            let fd = (Double(try f(p).value) - Double(try f(m).value)) / (2 * Double(eps))
            #expect(abs(fd - Double(g.data[i])) <= tol * max(1, abs(fd)), "element \(i): fd \(fd) vs \(g.data[i])")
        }
    }

    @Test func crossEntropy() throws {
        try fdCheck(randn([3, 5], seed: 1)) { try Loss.crossEntropy($0, labels: [0, 4, 2]) }
        #expect(throws: LayerError.self) { try Loss.crossEntropy(randn([2, 3], seed: 1), labels: [0, 3]) }
        let uniform = try Loss.crossEntropy(Tensor(zeros: [1, 4]), labels: [1])
        #expect(abs(uniform.value - Float(log(4.0))) < 1e-6)
    }

    @Test func distillationKL() throws {
        let t = randn([3, 5], seed: 2, std: 2)
        for tau: Float in [1, 4] {
            try fdCheck(randn([3, 5], seed: 3)) { try Loss.distillationKL(student: $0, teacher: t, temperature: tau) }
        }
        #expect(try Loss.distillationKL(student: t, teacher: t, temperature: 3).value.magnitude < 1e-6)
    }

    @Test func mse() throws {
        let y = randn([2, 4], seed: 4)
        try fdCheck(randn([2, 4], seed: 5)) { try Loss.mse($0, y) }
        #expect(throws: LayerError.self) { try Loss.mse(y, Tensor(zeros: [4, 2])) }
    }

    @Test func attentionTransfer() throws {
        let teacher = randn([2, 5, 3, 3], seed: 6)
        try fdCheck(randn([2, 3, 3, 3], seed: 7)) { try Loss.attentionTransfer(student: $0, teacher: teacher) }
        let a = try Loss.attentionMap(teacher)
        for b in 0..<2 {
            let n = (0..<9).reduce(0.0) { $0 + Double(a.data[b * 9 + $1] * a.data[b * 9 + $1]) }
            #expect(abs(n - 1) < 1e-5)
        }
    }
}
