// The one compile pipeline (`sne compile MODEL`, `sne compile MODEL --target loihi`, `sne demo`):
// optional quantization-aware fine-tuning → the quantizing compiler → the activity check (every
// LIF's float vs integer spike rate on the calibration images) → refusal of a silent or saturated
// layer unless allowed. Callers only load data and write files; the rules live here.
import Foundation
import SNEData
import SNEEnsemble
import SNETensor

/// Quantization-aware fine-tuning before the compile (`--qat-epochs`): `epochs` on `data` at
/// learning rate `lr`, with the compile's weight bits and granularity.
public struct QATStep {
    public var data: LabeledImages
    public var epochs: Int, lr: Double
    public init(data: LabeledImages, epochs: Int, lr: Double) { self.data = data; self.epochs = epochs; self.lr = lr }
}

/// What the pipeline produced: the compiled model and its activity check.
public struct PipelineResult: Sendable {
    public var compiled: CompiledModel
    public var activity: [LayerActivity]
    /// Silent or saturated layers (`ActivityCheck.problems`); non-empty only with `allowInactive`.
    public var problems: [String]
    /// Seconds spent in the quantizing compiler alone.
    public var compileSeconds: Double
}

public enum CompilePipeline {
    /// Runs the pipeline on `model` (fine-tuned in place when `qat` is given).
    /// - `afterQAT` gets the fine-tuning's per-epoch lines once it is done (before the compile);
    /// - `calibration` is asked for the calibration images after that (so a caller's data checks
    ///   run in the same order as before the pipeline existed);
    /// - `log` gets the compiler's notes, then one line per LIF's activity, each indented by two
    ///   spaces, before a refusal.
    /// Throws `CompileError` when a layer is silent or saturated and `allowInactive` is false.
    public static func run(_ model: SNEModel, qat: QATStep? = nil, calibration: () throws -> LabeledImages,
                           options: CompileOptions, allowInactive: Bool = false, compute: ComputeContext,
                           afterQAT: ([String]) throws -> Void = { _ in },
                           log: (String) -> Void = { _ in }) throws -> PipelineResult {
        if let q = qat {
            var opts = FineTuneOptions()
            opts.epochs = q.epochs; opts.lr = Float(q.lr); opts.weightBits = options.weightBits; opts.granularity = options.granularity
            var lines: [String] = []
            try FineTune.run(model, data: q.data, options: opts, compute: compute) { lines.append($0) }
            model.info["qat"] = "\(q.epochs) epochs, lr \(q.lr), \(q.data.count) images, int\(options.weightBits)"
            try afterQAT(lines)
        }
        let cal = try calibration()
        let tc = Date()
        let compiled = try ModelCompiler.compile(model, calibration: cal, options: options, compute: compute)
        let seconds = Date().timeIntervalSince(tc)
        let (c, h, w) = (model.spec.input[0], model.spec.input[1], model.spec.input[2])
        let images = (0..<cal.count).map { HWCLayout.imageHWC(cal.pixels[($0 * cal.imageSize)..<(($0 + 1) * cal.imageSize)], c: c, h: h, w: w) }
        let act = try ActivityCheck.compare(compiled.program, lifNames: compiled.lifNames, float: compiled.calibration, images: images)
        for n in compiled.notes { log("  " + n) }
        for a in act {
            log(String(format: "  activity student %d %@: float %.3f%%, integer %.3f%%", a.student, a.name, 100 * a.floatRate, 100 * a.intRate))
        }
        let problems = ActivityCheck.problems(act)
        if !problems.isEmpty && !allowInactive {
            throw CompileError(problems[0] + (problems.count > 1 ? " (and \(problems.count - 1) more)" : "") + "; no program written")
        }
        return PipelineResult(compiled: compiled, activity: act, problems: problems, compileSeconds: seconds)
    }
}
