// Reference programs built in code: the Fashion-MNIST-sized benchmark program.
import SNEBase
import SpikeIR

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
                .lif(LIF(stateBits: 32, theta: 200, reset: .subtract, leak: .mulShift(mult: 29491, shift: 15), channels: 16)),
                .maxPool(size: 2),
                .conv2D(c2),
                .lif(LIF(stateBits: 16, theta: 60, reset: .subtract, leak: .shift(3), channels: 32)),
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
                    l.thetas = l.thetas.map { Int32(min(max(Double($0) * f, 1), maxTheta)) }
                    p.students[st.student].ops[opIdx] = .lif(l)
                    lifIdx += 1
                }
                let fmax = st.features.map { abs(Int($0)) }.max() ?? 1
                var s = 0
                while s < 30 && (fmax >> s) > 100 { s += 1 }
                p.students[st.student].featShift = [Int](repeating: s, count: p.students[st.student].features)
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

    /// Edge-value programs for the conformance vectors (Tests/SpikeIRTests/Vectors/eNN): every
    /// field new in Spike IR 2.0 at its limits — per-channel thresholds 1 and 2^(bits−1)−1 (16 and
    /// 32 bits), per-feature feat_mult 0 and 2^31−1 with feat_shift 0 and 62, input zero points
    /// 0…255 on 16 channels (the most that may be nonzero), a zero point with stride > 1 where
    /// padded positions feed no output, C = 17 (zero points must be 0), and META with NFC/NFD key
    /// pairs, `\r`, `=` in a value, an empty value and non-BMP characters. Each with one input.
    public static func edgePrograms() -> [(Program, [UInt8])] {
        var rng = SplitMix64(seed: 0xED6E)
        func w(_ n: Int, _ m: Int) -> [Int8] { (0..<n).map { _ in Int8(rng.int(-m...m)) } }
        func b(_ n: Int, _ m: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.int(-m...m)) } }
        var out: [(Program, [UInt8])] = []

        // e00: 3x3x16 input, zero points 0, 1, …, 255 spread over 16 channels; thresholds at both ends.
        do {
            let c = Shape(h: 3, w: 3, c: 16)
            let zp: [UInt8] = [0, 1, 2, 127, 128, 254, 255, 255, 0, 17, 200, 255, 64, 3, 99, 255]
            let conv = Conv2D(cout: 2, kh: 3, kw: 3, stride: 1, pad: 1, shift: 10, weights: w(16 * 9 * 2, 60), bias: b(2, 3000))
            let s0 = Student(ops: [
                .inputConv2D(conv),
                .lif(LIF(stateBits: 32, thetas: [1, Int32.max], reset: .subtract, leak: .mulShift(mult: 1, shift: 1))),
                .flatten,
                .dense(Dense(out: 3, shift: 0, weights: w(18 * 3, 100), bias: [5, -5, 40])),
                .lif(LIF(stateBits: 16, thetas: [1, 32767, 20], reset: .zero, leak: .shift(1))),
                .dense(Dense(out: 4, shift: 0, weights: w(3 * 4, 127), bias: [1000, -1000, 77, -3])),
                .readout,
            ], features: 4, featMult: [0, Int32.max, 1, 3], featShift: [0, 62, 0, 62])
            let d = Dense(out: 5, shift: 12, weights: w(144 * 5, 127), bias: b(5, 100000))
            let s1 = Student(ops: [
                .inputDense(d),
                .lif(LIF(stateBits: 16, thetas: [1, 2, 32767, 300, 32766], reset: .subtract, leak: .mulShift(mult: 7, shift: 3))),
                .dense(Dense(out: 5, shift: 1, weights: w(25, 127), bias: b(5, 50))),
                .readout,
            ], features: 5, featMult: [Int32.max, 0, 65536, 1, 12345], featShift: [62, 62, 0, 16, 7])
            var meta: Meta = ["caf\u{E9}": "nfc", "cafe\u{301}": "nfd", "crlf": "value\r", "eq": "a=b=c",
                              "empty": "", "\u{1F600}": "\u{10348}\u{4E2D}", "Zeta": "uppercase sorts first"]
            meta["note"] = "edge vector e00"
            let p = Program(name: "edge_zp16", input: c, timesteps: 5, classes: 3, selection: .fixed, order: [1, 0],
                            students: [s0, s1], head: Head(bias: [0, 10, -10], weights: [w(12, 127), w(15, 127)]),
                            meta: meta, inputZeroPoint: zp)
            let x = (0..<c.size).map { i -> UInt8 in [0, 255, 0, 128, 1][i % 5] }
            out.append((p, x))
        }
        // e01: zero point 255 with stride 3, pad 3, kernel 4: most padded positions feed no output;
        // gate selection and a confidence stop.
        do {
            let c = Shape(h: 5, w: 5, c: 1)
            let conv = Conv2D(cout: 3, kh: 4, kw: 4, stride: 3, pad: 3, shift: 8, weights: w(16 * 3, 127), bias: b(3, 500))
            func student(_ th: [Int32]) -> Student {
                Student(ops: [.inputConv2D(conv), .lif(LIF(stateBits: 32, thetas: th, reset: .zero, leak: .none)),
                              .conv2D(Conv2D(cout: 2, kh: 1, kw: 1, stride: 1, pad: 0, shift: 0, weights: w(6, 50), bias: [3, -3])),
                              .readout],
                        features: 18, featMult: (0..<18).map { Int32($0 * 1000) }, featShift: (0..<18).map { $0 % 3 == 0 ? 0 : 5 })
            }
            let gate = Gate(pool: 2, layers: [GateLayer(inputs: 4, outputs: 2, weights: w(8, 127), bias: [0, 0], mult: 0, shift: 0)])
            let p = Program(name: "edge_zp_stride", input: c, timesteps: 3, classes: 2, selection: .gate, order: [0, 1],
                            stopMargin: 0, gate: gate, students: [student([1, 50, Int32.max]), student([Int32.max, 1, 1])],
                            head: Head(bias: [0, 0], weights: [w(36, 127), w(36, 127)]), inputZeroPoint: [255])
            out.append((p, (0..<25).map { UInt8(($0 * 37) % 256) }))
        }
        // e02: C = 17 (> 16: the zero point must be all 0), per-channel thresholds on 17 channels.
        do {
            let c = Shape(h: 2, w: 2, c: 17)
            let conv = Conv2D(cout: 17, kh: 1, kw: 1, stride: 1, pad: 0, shift: 6, weights: w(17 * 17, 127), bias: b(17, 2000))
            let s0 = Student(ops: [.inputConv2D(conv),
                                   .lif(LIF(stateBits: 32, thetas: (0..<17).map { Int32(1 << ($0 + 4)) }, reset: .subtract, leak: .shift(31))),
                                   .maxPool(size: 2),
                                   .dense(Dense(out: 2, shift: 0, weights: w(34, 127), bias: [0, 1])),
                                   .readout],
                             features: 2, featMult: [1, 2], featShift: [0, 1])
            let p = Program(name: "edge_c17", input: c, timesteps: 2, classes: 2, selection: .fixed, order: [0],
                            students: [s0], head: Head(bias: [0, 0], weights: [w(4, 127)]))
            out.append((p, (0..<c.size).map { _ in UInt8(rng.int(0...255)) }))
        }
        return out
    }
}
