// Benchmarks (not timed tests; run with SNE_BENCH=1): instructions per synaptic accumulate on host
// (callgrind) and Cortex-M4 (QEMU instruction count), cycles per inference on AVR (simavr).
// Marginal cost: two programs differing only in the width of the spike-driven dense layer;
// Δinstructions / Δsynops isolates the row-add loop.
import Foundation
import Testing
@testable import SNECodegen
import SNEBase
import SpikeIR
@testable import SpikeIRFixtures

func synBench(width: Int, inputs: Int = 256) -> Program {
    var g = SplitMix64(seed: 42)
    let d0 = Dense(out: inputs, shift: 0, weights: [Int8](repeating: 0, count: inputs), bias: [Int32](repeating: 1000, count: inputs))
    let w1 = (0..<(inputs * width)).map { _ in Int8(g.int(-3...3)) }
    let d1 = Dense(out: width, shift: 0, weights: w1, bias: [Int32](repeating: 0, count: width))
    let w2 = (0..<(width * 16)).map { _ in Int8(g.int(-2...2)) }
    let d2 = Dense(out: 16, shift: 0, weights: w2, bias: [Int32](repeating: 0, count: 16))
    let s = Student(ops: [.inputDense(d0), .lif(LIF(theta: 1, channels: inputs)), .dense(d1), .lif(LIF(theta: 4, channels: width)), .dense(d2), .readout],
                    features: 16, featMult: 1 << 20, featShift: 24)
    return Program(name: "synbench\(width)", input: Shape(h: 1, w: 1, c: 1), timesteps: 4, classes: 2, selection: .fixed,
                   order: [0], students: [s], head: Head(bias: [0, 0], weights: [(0..<32).map { Int8($0 % 5 - 2) }]))
}

@Suite("benchmarks", .enabled(if: ProcessInfo.processInfo.environment["SNE_BENCH"] == "1"), .serialized)
struct BenchmarkTests {
    @Test("instructions per synaptic accumulate", arguments: ["host", "cortex-m4", "cortex-m3", "riscv32", "avr"])
    func perSynop(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        let widths = name == "avr" ? [16, 48] : [1024, 2048]
        var res: [(Int, Int)] = []
        for w in widths {
            let p = synBench(width: w, inputs: name == "avr" ? 64 : 256)
            let x: [UInt8] = [255]
            let r = try Verifier.verify(p, target: t, inputs: [x], budgets: [1])
            #expect(r.passed)
            let synops = try Interpreter(p)(x, budget: 1).total.synops
            res.append((r.countValue ?? 0, synops))
            print("bench \(name) width \(w): \(r.count ?? "?") total, synops \(synops), \(String(format: "%.2f", Double(r.countValue ?? 0) / Double(synops))) per synop (all-in)")
        }
        let di = Double(res[1].0 - res[0].0), ds = Double(res[1].1 - res[0].1)
        print("bench \(name): marginal \(String(format: "%.3f", di / ds)) \(name == "avr" ? "cycles" : "instructions") per synaptic accumulate")
    }

    @Test("fmnist4: per-inference count and memory per target", arguments: ["host", "cortex-m4", "cortex-m3", "riscv32", "avr"])
    func fmnist(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        let p = Fixtures.fmnistSized(seed: 1)
        let rm = try RuntimeMeasure.runtime(t)
        let m = MemoryReport(p, target: t, runtimeCode: rm.code, stack: rm.stack)
        for l in m.lines { print("bench fmnist \(l)") }
        if m.fitError != nil { return }
        let x = [UInt8](try Data(contentsOf: URL(fileURLWithPath: checkoutRoot + "/examples/programs/fmnist-test-0.u8")))
        for k in [1, 4] {
            let r = try Verifier.verify(p, target: t, inputs: [x], budgets: [k])
            let c = try Interpreter(p)(x, budget: k).total
            print("bench fmnist \(name) k=\(k): \(r.count ?? "?") (synops \(c.synops), macs \(c.macs), neuron updates \(c.neuronUpdates)); ELF size \(r.elfSize ?? "")")
            // the deployment build: SNE_TRACE_HASH=0 (docs/c-runtime.md)
            let d = try Verifier.verify(p, target: t, inputs: [x], budgets: [k], traceHash: false)
            #expect(d.passed)
            print("bench fmnist \(name) k=\(k) SNE_TRACE_HASH=0: \(d.count ?? "?"); ELF size \(d.elfSize ?? "")")
        }
    }
}
