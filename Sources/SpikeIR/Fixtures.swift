// Reference programs built in code: the Fashion-MNIST-sized benchmark program.

public enum Fixtures {
    /// A Fashion-MNIST-sized program (issue 2): 28x28x1 → input_conv2d 3x3 16ch + lif → maxpool 2
    /// → conv2d 3x3 32ch + lif → maxpool 2 → flatten → dense 1568→32 → readout; K = 4, T = 4,
    /// gate with pool 4 (49→16→4), 10 classes. Weights are seeded random; the LIF thresholds are
    /// calibrated on a synthetic garment-like image to spike rates of about 10 % per step.
    /// Deterministic for a given seed.
    public static func fmnistSized(seed: UInt64 = 1) -> Program {
        var rng = SplitMix64(seed: seed &+ 0xF00D)
        func w(_ n: Int, _ lo: Int, _ hi: Int) -> [Int8] { (0..<n).map { _ in Int8(rng.int(lo...hi)) } }
        let K = 4, T = 4, classes = 10
        var students: [Student] = []
        for _ in 0..<K {
            let c1 = Conv2D(cout: 16, kh: 3, kw: 3, stride: 1, pad: 1, shift: 6, weights: w(9 * 16, -40, 40),
                            bias: (0..<16).map { _ in Int32(rng.int(-500...500)) })
            let c2 = Conv2D(cout: 32, kh: 3, kw: 3, stride: 1, pad: 1, shift: 1, weights: w(144 * 32, -30, 40),
                            bias: (0..<32).map { _ in Int32(rng.int(-20...20)) })
            let d = Dense(out: 32, shift: 1, weights: w(1568 * 32, -30, 30), bias: (0..<32).map { _ in Int32(rng.int(-20...20)) })
            students.append(Student(ops: [
                .inputConv2D(c1),
                .lif(LIF(stateBits: 32, theta: 200, reset: .subtract, leak: .mulShift(mult: 29491, shift: 15))),
                .maxPool(size: 2),
                .conv2D(c2),
                .lif(LIF(stateBits: 16, theta: 60, reset: .subtract, leak: .shift(3))),
                .maxPool(size: 2),
                .flatten,
                .dense(d),
                .readout,
            ], features: 32, featMult: 1, featShift: 4))
        }
        let gate = Gate(pool: 4, layers: [
            GateLayer(inputs: 49, outputs: 16, weights: w(49 * 16, -20, 20), bias: (0..<16).map { _ in Int32(rng.int(-2000...2000)) },
                      mult: 1, shift: 9),
            GateLayer(inputs: 16, outputs: 4, weights: w(16 * 4, -30, 30), bias: [0, 0, 0, 0], mult: 0, shift: 0),
        ])
        let head = Head(bias: (0..<classes).map { _ in Int32(rng.int(-100...100)) },
                        weights: (0..<K).map { _ in w(32 * classes, -30, 30) })
        var p = Program(name: "fmnist4", input: Shape(h: 28, w: 28, c: 1), timesteps: T, classes: classes,
                        selection: .gate, order: [0, 1, 2, 3], stopMargin: nil, gate: gate,
                        students: students, head: head, meta: ["fixture": "fmnistSized", "seed": "\(seed)"])
        calibrate(&p)
        return p
    }

    /// A synthetic 28x28 garment-like image: a textured ellipse on a zero background.
    public static func syntheticImage(seed: UInt64 = 3) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var img = [UInt8](repeating: 0, count: 784)
        for y in 0..<28 { for x in 0..<28 {
            let dy = Double(y - 14) / 12, dx = Double(x - 14) / 8
            if dy * dy + dx * dx <= 1 { img[y * 28 + x] = UInt8(120 + rng.int(0...135)) }
        } }
        return img
    }

    /// Scales each LIF threshold towards a ~10 % spike rate, then sets feat_shift so |q| stays in range.
    static func calibrate(_ p: inout Program) {
        let x = syntheticImage()
        let target = 0.10
        for _ in 0..<8 {
            guard let interp = try? Interpreter(p), let r = try? interp(x, budget: p.students.count, trace: true),
                  let trace = r.trace else { return }
            for st in trace.students {
                var lifIdx = 0
                for opIdx in p.students[st.student].ops.indices {
                    guard case .lif(var l) = p.students[st.student].ops[opIdx] else { continue }
                    var spikes = 0, total = 0
                    for step in st.steps { let ls = step[lifIdx]; spikes += ls.spikes.reduce(0) { $0 + Int($1) }; total += ls.spikes.count }
                    let rate = max(Double(spikes) / Double(max(total, 1)), 0.002)
                    let f = min(max(pow2(rate / target, 0.7), 0.25), 4.0)
                    let maxTheta = Double((1 << (l.stateBits - 1)) - 1)
                    l.theta = Int32(min(max(Double(l.theta) * f, 1), maxTheta))
                    p.students[st.student].ops[opIdx] = .lif(l)
                    lifIdx += 1
                }
                let fmax = st.features.map { abs(Int($0)) }.max() ?? 1
                var s = 0
                while s < 30 && (fmax >> s) > 100 { s += 1 }
                p.students[st.student].featShift = s
            }
        }
    }

    /// x^e for x > 0 without Foundation.
    static func pow2(_ x: Double, _ e: Double) -> Double {
        // exp(e·ln x) via a few Newton-free series is overkill; bisection on log2 is plenty here.
        var lo = -20.0, hi = 20.0
        for _ in 0..<60 { let m = (lo + hi) / 2; if exp2(m) < x { lo = m } else { hi = m } }
        return exp2(lo * e)
    }
    static func exp2(_ y: Double) -> Double {
        var r = 1.0, n = y
        while n >= 1 { r *= 2; n -= 1 }
        while n < 0 { r /= 2; n += 1 }
        // 2^n for n in [0,1): series of e^(n ln2)
        let z = n * 0.6931471805599453
        var term = 1.0, sum = 1.0
        for i in 1..<20 { term *= z / Double(i); sum += term }
        return r * sum
    }
}
