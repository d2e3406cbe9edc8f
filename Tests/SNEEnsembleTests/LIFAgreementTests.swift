// The students' float LIF (order .spec) and the Spike IR interpreter's integer LIF (spec §3.5) give
// the same spikes on integer-valued currents, for every leak kind and both resets.
import Testing
import SNETensor
import SNETrain
import SpikeIR

@Suite struct LIFAgreementTests {
    /// (β, the integer leak that is exactly β on the membranes this test produces).
    static let leaks: [(Float, Leak)] = [(1, .none), (0.5, .shift(1)), (0.75, .mulShift(mult: 3, shift: 2)), (0, .mulShift(mult: 0, shift: 0))]

    @Test(arguments: [SpikeIR.Reset.subtract, .zero], [0, 1, 2, 3])
    func floatAndIntegerLIFSpikeAlike(_ reset: SpikeIR.Reset, _ leakIndex: Int) throws {
        let (beta, leak) = Self.leaks[leakIndex]
        let n = 64, t = 4
        // Currents cur[i] = 64·x[i] + bias[i] with x a multiple of 4: multiples of 256 = 4^T, so every
        // leak product below is exact in both arithmetics and only the step order can differ.
        var rng = SeededRNG(seed: 5)
        let x: [UInt8] = (0..<n).map { _ in UInt8(4 * (rng.next() % 40)) }
        let bias: [Int32] = (0..<n).map { _ in Int32(256 * (Int(rng.next() % 21) - 10)) }
        let theta: Int32 = 256 * 12
        var w = [Int8](repeating: 0, count: n * n)
        for i in 0..<n { w[i * n + i] = 64 }
        let student = Student(ops: [
            .inputDense(Dense(out: n, shift: 0, weights: w, bias: bias)),
            .lif(SpikeIR.LIF(stateBits: 32, theta: theta, reset: reset, leak: leak, channels: n)),
            .dense(Dense(out: 1, shift: 0, weights: [Int8](repeating: 1, count: n), bias: [0])),
            .readout,
        ], features: 1, featMult: 1, featShift: 0)
        let program = Program(name: "lif_agreement", input: Shape(h: 1, w: 1, c: n), timesteps: t, classes: 2, selection: .fixed,
                              order: [0], students: [student], head: Head(bias: [0, 0], weights: [[1, -1]]))
        let r = try Interpreter(program)(x, budget: 1, trace: true)
        let steps = try #require(r.trace?.students.first?.steps)

        let currents = (0..<n).map { Float(64 * Int32(x[$0]) + bias[$0]) }
        let lif = SNETrain.LIF(beta: beta, theta: Float(theta), reset: reset == .zero ? .zero : .subtract, directInput: true, order: .spec)
        let s = try lif.forward(try Tensor(shape: [1, n], data: currents), LayerContext(compute: ComputeContext(threads: 1), training: false, timeSteps: t))
        var fired = 0
        for step in 0..<t {
            let integer = steps[step][0].spikes
            let float = (0..<n).map { UInt8(s.data[step * n + $0]) }
            #expect(integer == float, "step \(step)")
            fired += integer.reduce(0) { $0 + Int($1) }
        }
        #expect(fired > 0 && fired < n * t)   // the case is not trivial
    }
}
