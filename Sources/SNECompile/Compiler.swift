// The quantizing compiler: a float `SNEModel` + calibration images → one Spike IR program.
//
// Passes, in order (one file each): FloatGraph (read the model), FoldBatchNorm, LowerStudent
// (QuantizeWeights, HWCLayout, RangeAnalysis, LIFFixedPoint; first conv → input_conv2d), FloatEval
// on the calibration set (feature and gate ranges), QuantizeHead (Requant), QuantizeGate, then
// the Spike IR validator (spec §7, §9) as the proof that nothing overflows. The arena is the
// runtime's exact plan (SNECodegen.ArenaPlan, reported by `sne check`).
import Foundation
import SNEEnsemble
import SNEData
import SNETensor
import SpikeIR
import SNEPasses

/// Compiler settings.
public struct CompileOptions: Sendable {
    /// Weight width: 8 (int8) or 4 (a 4-bit range stored in int8).
    public var weightBits = 8
    /// Weight scale granularity (per channel: per-channel thresholds, Spike IR 2.0).
    public var granularity: WeightGranularity = .perChannel
    /// LIF membrane width (spec §3.5: 16 or 32).
    public var stateBits = 32
    /// Confidence stop margin in float logit units (nil: off).
    public var stopMargin: Double?
    /// Program name (spec §2).
    public var name = "sne"
    public init() {}
}

/// What the compiler produced and how.
public struct CompiledModel: Sendable {
    public var program: Program
    /// One line per op / stage (scales, shifts, thresholds, bounds).
    public var notes: [String]
    /// LIF layer names per student (op order), for the activity check.
    public var lifNames: [[String]]
    /// Float value of one integer logit step (so integer logits compare with float ones).
    public var logitStep: Double
    /// Float calibration results (reused by the activity check).
    public var calibration: FloatEval
}

public enum ModelCompiler {
    /// Compiles `model`; `calibration` supplies activation ranges (a few hundred images suffice).
    public static func compile(_ model: SNEModel, calibration: LabeledImages, options: CompileOptions = CompileOptions(),
                               compute: ComputeContext = ComputeContext(threads: 1)) throws -> CompiledModel {
        try QuantizeWeights.check(bits: options.weightBits)
        guard options.stateBits == 16 || options.stateBits == 32 else { throw CompileError("state bits \(options.stateBits): must be 16 or 32 (spec §3.5)") }
        guard calibration.count > 0 else { throw CompileError("calibration: no images") }
        guard Array(calibration.shape.dropFirst()) == model.spec.input else {
            throw CompileError("calibration images are \(Array(calibration.shape.dropFirst())), the model expects \(model.spec.input)")
        }
        let input = model.spec.input
        var students: [LoweredStudent] = []
        var notes: [String] = []
        for k in 0..<model.K {
            let fs = try FoldBatchNorm.run(try FloatStudent(model.students[k], input: input))
            let low = try LowerStudent.run(fs, input: input, T: model.T, bits: options.weightBits, granularity: options.granularity,
                                           stateBits: options.stateBits, label: "student \(k)")
            students.append(low)
            notes += low.notes.map { "student \(k) \($0)" }
        }
        let cal = try FloatEval.run(model, calibration, compute: compute)
        // Readout ranges: per feature (spec §4 requantizes each feature with its own mult/shift).
        var fmax: [[Double]] = [], units: [[Double]] = []
        let F = model.F
        for k in 0..<model.K {
            let feats = cal.features[k]
            var perFeature = [Double](repeating: 0, count: F)
            for (j, v) in feats.enumerated() { perFeature[j % F] = max(perFeature[j % F], Double(abs(v))) }
            let u = students[k].featureUnits
            fmax.append(perFeature); units.append(u)
        }
        let head = try QuantizeHead.run(model, featureMax: fmax, units: units, bits: options.weightBits)
        for k in 0..<model.K {
            notes.append("student \(k) readout: max|feature| \(fmt(fmax[k].max()!)) → int8 step \(fmt(head.featureStep[k].max()!)), feat_mult \(head.featMult[k].min()!)…\(head.featMult[k].max()!) feat_shift \(head.featShift[k].min()!)…\(head.featShift[k].max()!)")
        }
        notes.append("head: logit step \(fmt(head.logitStep))")
        let gate = try QuantizeGate.run(model, hiddenMax: cal.gateHiddenMax, bits: options.weightBits)
        if let g = gate { notes.append("gate: pool \(g.pool), hidden max \(fmt(Double(cal.gateHiddenMax))) → requant mult \(g.layers[0].mult) shift \(g.layers[0].shift)") }
        var margin: Int32? = nil
        if let m = options.stopMargin {
            let v = (m / head.logitStep).rounded()
            guard v >= 0, v < 2_147_483_648 else { throw CompileError("stop margin \(m): \(v) logit steps is outside 0…2^31−1") }
            margin = Int32(v)
        }
        var program = Program(
            name: options.name, input: Shape(h: input[1], w: input[2], c: input[0]), timesteps: model.T,
            classes: model.spec.classes, selection: gate == nil ? .fixed : .gate, order: model.order, stopMargin: margin,
            gate: gate,
            students: try (0..<model.K).map { k in
                guard head.featMult[k].count == model.F, head.featShift[k].count == model.F else {
                    throw CompileError("student: \(head.featMult[k].count) feature multipliers for \(model.F) features")
                }
                return Student(ops: students[k].ops, features: model.F, featMult: head.featMult[k], featShift: head.featShift[k])
            },
            head: head.head)
        program.meta["sne.compiler"] = "sne-compile-1"
        program.meta["sne.logit_step"] = String(head.logitStep)
        program.meta["sne.weights"] = "int\(options.weightBits)-\(options.granularity.rawValue)"
        program.meta["sne.calibration_images"] = String(calibration.count)
        for (k, v) in model.info.sorted(by: { $0.key < $1.key }) where !k.contains("=") && !k.contains("\n") {
            program.meta["model." + k] = v.replacingOccurrences(of: "\n", with: " ")
        }
        if model.spec.hasStem {
            // The students' first blocks hold the same frozen weights (student 0's), so they lower
            // to the same ops: the program computes them once, as its stem (spec §4.1).
            let n = 3 * model.spec.stemBlocks   // per block: conv, lif, maxpool (LowerStudent)
            do { program = try StemSharing.share(program, ops: n) } catch let e as LoweringError {
                throw CompileError("shared stem: \(e.description) (retrain the students with --stem)")
            }
            notes.append("stem: the students' first \(model.spec.stemBlocks) block(s), \(n) ops, computed once for all students (spec §4.1)")
        }
        do { try ProgramValidator.validate(program) } catch let e as SpikeIRError {
            throw CompileError("the compiled program fails the Spike IR validator (a compiler bug): \(e)")
        }
        return CompiledModel(program: program, notes: notes, lifNames: students.map(\.lifNames), logitStep: head.logitStep, calibration: cal)
    }
}
