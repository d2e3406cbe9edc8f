// `sne info --target T`: the deployed build measured on the target's emulator, per budget, with
// the latency at stated clocks (docs/c-runtime.md, "Cost on the device").
import Foundation
import SNECodegen
import SpikeIR

enum InfoMeasure {
    /// Builds the deployed C (SNE_TRACE_HASH=0) for `target`, runs `inputs` at every budget (stop
    /// as in the program), checks them bit-exactly against the interpreter, and prints one line per
    /// budget: instructions (QEMU) or cycles (simavr) per inference and the latency at `clocks`.
    static func lines(_ p: Program, target name: String, inputs: [[UInt8]], clocks: [Double]?) throws -> [String] {
        let t = try cliTarget(name)
        let mhz = clocks ?? Latency.defaultClocks(t.name)
        var out: [String] = []
        for k in 1...p.students.count {
            let r: VerifyReport
            do { r = try Verifier.verify(p, target: t, inputs: inputs, budgets: [k], traceHash: false) }
            catch let e as CodegenError {
                if case .usage(let m) = e { throw CLIError.usage(m) }
                throw CLIError.failure(e.description)
            }
            guard r.passed else { throw CLIError.failure("sne info: the C on \(t.name) differs from the interpreter: \(r.mismatches[0])") }
            guard let c = r.countValue, r.vectors > 0 else {
                out.append("device k=\(k)  \(t.name): no count (the emulator gave none)"); continue
            }
            let lat = Latency(perInference: c / r.vectors, cycles: (r.count ?? "").hasPrefix("cycles"))
            out.append("device k=\(k)  \(t.name) (deployed build, with the test driver) \(lat.line(clocks: mhz))")
        }
        return out
    }
}
