// `sne bench interp`: reference-interpreter throughput (owned by the Spike IR work).
import Foundation
import SNEBase
import SpikeIR
import SpikeIRFixtures
import SNEData

/// Runs the interpreter benchmark; `BenchCommand` dispatches `sne bench interp` here.
/// Builds `Fixtures.fmnistSized`, runs it on real Fashion-MNIST test images when
/// `../shared/data/fashion-mnist/t10k-images-idx3-ubyte(.gz)` can be read (gzip by SNEData), else on random images; one thread; median inferences/s over runs.
func benchInterpreter(_ args: inout Arguments, out: inout TextSink) throws {
    let runs = try args.int("runs", in: 1...1000) ?? 5
    let images = try args.int("images", in: 1...10000) ?? 64
    let noHash = args.flag("no-hash")
    try args.finish()
    let p = Fixtures.fmnistSized(seed: 1)
    let interp: Interpreter
    do { interp = try Interpreter(p) } catch { throw CLIError.failure("\(error)") }
    var inputs: [[UInt8]] = []
    var source = ""
    let base = "../shared/data/fashion-mnist/t10k-images-idx3-ubyte"
    let raw: [UInt8]? = (try? readMaybeGzip(base, limit: 16 + 784 * images))
        ?? (try? readMaybeGzip(base + ".gz", limit: 16 + 784 * images))
    if let raw, raw.count >= 16 + 784 * images {
        for i in 0..<images { inputs.append(Array(raw[(16 + 784 * i)..<(16 + 784 * (i + 1))])) }
        source = "the first \(images) Fashion-MNIST test images (\(base))"
    } else {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<images { inputs.append((0..<784).map { _ in rng.chance(0.5) ? 0 : UInt8(rng.int(1...255)) }) }
        source = "\(images) random images (Fashion-MNIST not found at \(base))"
    }
    out.write("interpreter benchmark: program \(p.name) (28x28x1, conv 16 + conv 32, T=\(p.timesteps), K=\(p.students.count), gate pool 4)\n")
    out.write("inputs: \(source); 1 thread; median of \(runs) runs\(noHash ? "; trace hash off" : "")\n")
    for k in 1...p.students.count {
        var rates: [Double] = []
        var synops = 0, macs = 0
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            synops = 0; macs = 0
            for x in inputs {
                guard let r = try? interp(x, budget: k, traceHash: !noHash) else { throw CLIError.failure("inference failed") }
                synops += r.total.synops; macs += r.total.macs
            }
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            rates.append(Double(inputs.count) / dt)
        }
        rates.sort()
        out.write(String(format: "k=%d  %8.1f inferences/s   mean synops/inference %.0f   mean macs/inference %.0f\n",
                         k, rates[rates.count / 2], Double(synops) / Double(inputs.count), Double(macs) / Double(inputs.count)))
    }
}
