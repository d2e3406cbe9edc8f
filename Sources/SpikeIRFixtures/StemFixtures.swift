// Hand-built programs with a shared stem (Spike IR 2.2, spec §3.13, §4.1) for the conformance
// vectors sNN (Tests/SpikeIRTests/Vectors): every student on the stem; a mixed program whose stem
// runs lazily in the middle (and not at all at k = 1); a confidence stop that keeps the stem from
// running; a gate choosing among stem students; Loihi ops inside the stem; T = 1 with a stem
// ending in flatten. Deterministic.
import SNEBase
import SpikeIR

public enum StemFixtures {
    /// (program, input) pairs, in vector order s00, s01, …
    public static func programs() -> [(Program, [UInt8])] {
        var rng = SplitMix64(seed: 0x57E4)
        func w(_ n: Int, _ m: Int) -> [Int8] { (0..<n).map { _ in Int8(rng.int(-m...m)) } }
        func b(_ n: Int, _ m: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.int(-m...m)) } }
        let input = Shape(h: 6, w: 6, c: 2), T = 4, classes = 3
        let x = (0..<input.size).map { i -> UInt8 in UInt8((i * 53 + 17) % 256) }

        // The stem of s00–s03: input_conv2d 3x3 → lif (per-channel θ, mulshift leak) → maxpool 2: 3x3x3 spikes.
        func convStem() -> [Op] {
            [.inputConv2D(Conv2D(cout: 3, kh: 3, kw: 3, stride: 1, pad: 1, shift: 7, weights: w(2 * 9 * 3, 40), bias: b(3, 200))),
             .lif(LIF(stateBits: 32, thetas: [30, 45, 60], reset: .subtract, leak: .mulShift(mult: 3, shift: 2))),
             .maxPool(size: 2)]
        }
        let so = Shape(h: 3, w: 3, c: 3)
        // A student on the stem: conv2d → lif (16-bit) → flatten → dense → readout (F = 5).
        func convReader() -> Student {
            Student(ops: [.stem,
                          .conv2D(Conv2D(cout: 4, kh: 3, kw: 3, stride: 1, pad: 1, shift: 0, weights: w(3 * 9 * 4, 12), bias: b(4, 10))),
                          .lif(LIF(stateBits: 16, thetas: [8, 12, 16, 20], reset: .zero, leak: .shift(2))),
                          .flatten,
                          .dense(Dense(out: 5, shift: 0, weights: w(36 * 5, 30), bias: b(5, 20))),
                          .readout],
                    features: 5, featMult: [3, 5, 7, 9, 11], featShift: [2, 3, 2, 3, 2])
        }
        // A student on the stem straight into a dense readout (F = 4).
        func denseReader() -> Student {
            Student(ops: [.stem, .flatten, .dense(Dense(out: 4, shift: 0, weights: w(so.size * 4, 30), bias: b(4, 20))), .readout],
                    features: 4, featMult: 5, featShift: 3)
        }
        // A student with its own input op (unchanged by the stem).
        func ownInput() -> Student {
            Student(ops: [.inputDense(Dense(out: 6, shift: 9, weights: w(input.size * 6, 30), bias: b(6, 500))),
                          .lif(LIF(stateBits: 32, theta: 25, reset: .subtract, leak: .none, channels: 6)),
                          .dense(Dense(out: 3, shift: 0, weights: w(18, 40), bias: b(3, 10))),
                          .readout],
                    features: 3, featMult: 9, featShift: 3)
        }
        func head(_ ss: [Student]) -> Head {
            Head(bias: b(classes, 100), weights: ss.map { w($0.features * classes, 60) })
        }
        var out: [(Program, [UInt8])] = []

        // s00: every student on the stem, fixed order 2, 0, 1.
        do {
            let ss = [convReader(), denseReader(), convReader()]
            out.append((Program(name: "stem_all", input: input, timesteps: T, classes: classes, selection: .fixed,
                                order: [2, 0, 1], students: ss, head: head(ss), stem: convStem()), x))
        }
        // s01: mixed: student 0 has its own input op and runs first (k = 1: the stem does not run),
        // then the stem runs lazily before student 1 and student 2 reuses S.
        do {
            let ss = [ownInput(), convReader(), denseReader()]
            out.append((Program(name: "stem_mixed", input: input, timesteps: T, classes: classes, selection: .fixed,
                                order: [0, 1, 2], students: ss, head: head(ss), meta: ["case": "lazy stem"], stem: convStem()), x))
        }
        // s02: confidence stop with margin 0: after the first student (its own input op) it always
        // stops, so the stem never runs at any budget and costs nothing.
        do {
            let ss = [ownInput(), denseReader(), convReader()]
            out.append((Program(name: "stem_stop", input: input, timesteps: T, classes: classes, selection: .fixed,
                                order: [0, 2, 1], stopMargin: 0, students: ss, head: head(ss), stem: convStem()), x))
        }
        // s03: a gate choosing among a mixed set; a confidence stop with a margin that sometimes holds.
        do {
            let ss = [convReader(), ownInput(), denseReader(), convReader()]
            let gate = Gate(pool: 2, layers: [
                GateLayer(inputs: 18, outputs: 5, weights: w(18 * 5, 60), bias: b(5, 2000), mult: 3, shift: 10),
                GateLayer(inputs: 5, outputs: 4, weights: w(20, 100), bias: [0, 50, -50, 10], mult: 0, shift: 0)])
            out.append((Program(name: "stem_gate", input: input, timesteps: T, classes: classes, selection: .gate,
                                order: [0, 1, 2, 3], stopMargin: 5000, gate: gate, students: ss, head: head(ss), stem: convStem()), x))
        }
        // s04: Loihi ops inside the stem (opcodes 10–12 with the stem: a 2.2 file): input_dense → loihi_lif
        // (bias source) → loihi_dense → loihi_lif (synaptic); two readers.
        do {
            let stem: [Op] = [
                .inputDense(Dense(out: 8, shift: 7, weights: w(input.size * 8, 10), bias: b(8, 300))),
                .loihi(.lif(LoihiLIF(source: .bias, du: 4095, dv: 400, vth: 300, biasExp: 6, biasMant: b(8, 600).map { Int16($0) }))),
                .loihi(.dense(LoihiDense(out: 6, weightExp: 2, weights: w(8 * 6, 100)))),
                .loihi(.lif(LoihiLIF(source: .synaptic, du: 1000, dv: 200, vth: 250, biasExp: 0, biasMant: b(6, 50).map { Int16($0) }))),
            ]
            func reader(_ n: Int) -> Student {
                Student(ops: [.stem, .dense(Dense(out: n, shift: 0, weights: w(6 * n, 50), bias: b(n, 20))), .readout],
                        features: n, featMult: 7, featShift: 2)
            }
            let ss = [reader(3), reader(4)]
            out.append((Program(name: "stem_loihi", input: input, timesteps: 6, classes: classes, selection: .fixed,
                                order: [1, 0], students: ss, head: head(ss), stem: stem), x))
        }
        // s05: T = 1, a stem ending in flatten after a 16-bit lif on a vector; one student.
        do {
            let stem: [Op] = [
                .inputDense(Dense(out: 5, shift: 8, weights: w(input.size * 5, 25), bias: b(5, 1000))),
                .lif(LIF(stateBits: 16, thetas: [1, 10, 100, 1000, 32767], reset: .subtract, leak: .shift(1))),
                .flatten]
            let ss = [Student(ops: [.stem, .dense(Dense(out: 2, shift: 0, weights: w(10, 127), bias: [0, 1])), .readout],
                              features: 2, featMult: [1, Int32.max], featShift: [0, 62])]
            out.append((Program(name: "stem_t1", input: input, timesteps: 1, classes: 2, selection: .fixed,
                                order: [0], students: ss, head: Head(bias: [0, 0], weights: [w(4, 127)]), stem: stem), x))
        }
        return out
    }
}
