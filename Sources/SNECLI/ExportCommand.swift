// `sne export`: write a program's students and head as a NIR graph (docs/neuromorphic.md).
import Foundation
import SNECodegen
import SpikeIR

struct ExportCommand: Command {
    static let name = "export"
    static let summary = "write a program as a NIR graph (.nir, HDF5) for other SNN frameworks"
    static let usage = """
        usage: sne export PROGRAM --nir FILE.nir [--nir-thresholds unit|channel]
          writes every student (conv/dense → Conv2d/Affine, lif → LIF, maxpool → SumPool2d +
          Threshold, readout → I) and the head (one Affine + Output per student; logits = the sum
          of the outputs) as a NIR 1.0 HDF5 file, atomically. NIR cannot carry rounding,
          saturation, the subtract reset, the gate, budgets or the confidence stop: see
          docs/neuromorphic.md for what the export does with each.
          LIFs fire on v > θ_c − ½ (NIR's strict test; sne's membranes are integers, v ≥ θ_c):
          --nir-thresholds unit     (default) every LIF threshold is 1 and the conv/dense feeding it
                                    has output channel c divided by θ_c − ½ (exact; snnTorch imports it)
          --nir-thresholds channel  thresholds θ_c − ½ per channel and unscaled weights (the NIR
                                    membrane equals sne's; snnTorch refuses differing θ_c)
        """
    let program: String, nir: String, thresholds: NIRThresholds
    init(_ args: Arguments) throws {
        var a = args
        guard let n = try a.option("nir") else { throw CLIError.usage("sne export: --nir FILE is required") }
        nir = n
        let t = try a.option("nir-thresholds") ?? NIRThresholds.unit.rawValue
        guard let m = NIRThresholds(rawValue: t) else {
            throw CLIError.usage("sne export: --nir-thresholds must be unit or channel, got '\(t)'")
        }
        thresholds = m
        program = try a.positional("PROGRAM")
        try a.finish()
    }
    func run(out: inout TextSink, err: inout TextSink) throws {
        let p = try InputFiles.program(program)
        let bytes: [UInt8]
        do { bytes = try NIRExport.encode(p, thresholds: thresholds) } catch let e as CodegenError { throw CLIError.failure(e.description) }
        try InputFiles.writeAtomically(bytes, path: nir, flag: "--nir")
        out.write("wrote \(nir): NIR graph of \(p.students.count) students + head, \(thresholds.rawValue) thresholds, \(bytes.count) bytes\n")
    }
}
