// `sne compile`: one verb, two forms — a trained model → a Spike IR program (the quantizing
// compiler, SNECompile), and a program → C99 for a target (SNECodegen).
import Foundation
import SNEEnsemble
import SNECodegen
import SNECompile
import SNEData
import SNETensor
import SpikeIR

struct CompileCommand: Command {
    static let name = "compile"
    static let summary = "compile a trained model to a program (.snep), or a program to C99 for a target"
    static let usage = """
        usage: sne compile MODEL -o PROGRAM.snep --data DIR [flags]      (model → integer program)
               sne compile PROGRAM.snep --target T -o DIR [--mode M]     (program → C99 for a target)
               sne compile MODEL|PROGRAM --target loihi -o DIR [--data DIR]  (→ Loihi mode for Lava)
        (-o PATH may be written --output PATH)

        Form 1 quantizes a model written by `sne train` (SNEModel.save): folds BatchNorm, int8
        weights, fixed-point LIF thresholds/leaks, calibrated readout requant, integer head and
        gate, first conv as input_conv2d; proves the spec §7 bounds; checks every LIF's spike rate
        (float vs integer) and refuses a silent (< 0.1 %) or saturated (> 95 %) layer.
          --data DIR          folder with train-images-idx3-ubyte[.gz] (calibration images)
          --calibration N     calibration images, the first N of the train split (default 256)
          --weight-bits B     8 (default) or 4 (a 4-bit range stored in int8; IR weights are int8)
          --weights G         channel (default: one scale per output channel, exact with Spike IR 2.0
                              per-channel thresholds) or tensor (one scale per layer)
          --stop-margin X     confidence stop margin in float logit units (default off)
          --name NAME         program name (default: the output file's stem)
          --allow-inactive    write the program even if a layer is silent or saturated
          --force             go on when DIR is not the data the model was trained on (its test
                              split's first images differ from the model's record); warns instead
          --qat-epochs N      quantization-aware fine-tuning first (fake-quant weights, integer LIF)
          --qat-lr X          its learning rate (default 5e-4);  --qat-limit N  its train images (default all)
          --qat-out MODEL2    also save the fine-tuned float model
          --threads N         worker threads for the float passes (default 2)
        Form 2 writes DIR/<name>.h, <name>.c, the sne runtime files, Makefile and CMakeLists.txt
        (built in a temporary directory, then renamed; an existing DIR is replaced only if sne
        wrote it). Prints the exact memory report; refuses a program too large for T.
          --target   host, cortex-m4, cortex-m3, riscv32, avr, or loihi (a Loihi-mode program as
                     .npy arrays + model.json + a Lava runner script; docs/neuromorphic.md)
          --board B  also check the program fits board B's flash and RAM (datasheet figures;
                     \(Board.names)); refused with the numbers when it does not
          --mode     specialized (const tables + descriptor, default) or blob (.snep image
                     validated by sne_blob_load at init; swap it to update the model)
        Form 3 lowers a program to its Loihi mode (spec §3.10–§3.12) and writes DIR/program.snep,
        model.json, per-op .npy arrays and a Lava runner; given a MODEL and --data (and any form-1
        flag) it quantizes the model first. `sne check MODEL PROGRAM --loihi` measures the Loihi
        mode's accuracy; `sne verify PROGRAM --target lava` checks it bit for bit against Lava.
        """

    enum Form: Sendable {
        case emit(target: String, mode: EmitMode, board: Board?)
        case model(ModelForm)
        /// `sne compile MODEL --target loihi --data DIR -o DIR`: quantize, then lower and export.
        case modelToLoihi(ModelForm)
    }
    struct ModelForm: Sendable {
        var data: String, calibration: Int, bits: Int, granularity: WeightGranularity, margin: Double?, name: String?
        var allowInactive: Bool, qatEpochs: Int, qatLR: Double, qatLimit: Int?, qatOut: String?, threads: Int
        var force = false
    }
    let input: String, out: String, form: Form

    init(_ args: Arguments) throws {
        var a = args
        let target = try a.option("target")
        var o = try a.option("output")
        let modeArg = try a.option("mode")
        func modelForm(_ d: String) throws -> ModelForm {
            let g = try a.option("weights") ?? "channel"
            guard let gran = WeightGranularity(rawValue: g) else { throw CLIError.usage("sne compile: --weights must be tensor or channel, got '\(g)'") }
            let bits = try a.int("weight-bits", in: 1...64) ?? 8
            guard bits == 8 || bits == 4 else {
                throw CLIError.usage("sne compile: --weight-bits \(bits): Spike IR weights are int8 (spec §3); use 8, or 4 for a 4-bit range")
            }
            var m = ModelForm(
                data: d, calibration: try a.int("calibration", in: 1...100_000) ?? 256, bits: bits, granularity: gran,
                margin: try a.double("stop-margin"), name: try a.option("name"), allowInactive: a.flag("allow-inactive"),
                qatEpochs: try a.int("qat-epochs", in: 0...1000) ?? 0, qatLR: try a.double("qat-lr") ?? 5e-4,
                qatLimit: try a.int("qat-limit", in: 1...10_000_000), qatOut: try a.option("qat-out"),
                threads: try a.int("threads", in: 1...256) ?? 2)
            m.force = a.flag("force")
            if let x = m.margin, x < 0 { throw CLIError.usage("sne compile: --stop-margin must be ≥ 0, got \(x)") }
            return m
        }
        if let t = target {
            let m = modeArg ?? "specialized"
            guard let md = EmitMode(rawValue: m) else { throw CLIError.usage("sne compile: --mode must be specialized or blob, got '\(m)'") }
            if t == "loihi", let d = try a.option("data") {
                if modeArg != nil { throw CLIError.usage("sne compile: --mode applies to C targets, not loihi") }
                form = .modelToLoihi(try modelForm(d))
            } else {
                let board = try a.option("board").map(Board.named)
                if let board, board.target != t {
                    throw CLIError.usage("sne compile: board \(board.name) runs \(board.target) code; give --target \(board.target) with --board \(board.name)")
                }
                form = .emit(target: t, mode: md, board: board)
            }
        } else {
            if modeArg != nil { throw CLIError.usage("sne compile: --mode applies to the program → C form (with --target)") }
            guard let d = try a.option("data") else {
                throw CLIError.usage("sne compile: give --target T to emit C from a program, or --data DIR to compile a model (see 'sne compile --help')")
            }
            form = .model(try modelForm(d))
        }
        // `-o PATH` arrives as two positionals (the parser only knows `--` flags).
        var pos: [String] = []
        while let x = a.optionalPositional() {
            if x == "-o" {
                guard let d = a.optionalPositional() else { throw CLIError.usage("sne compile: -o needs a path") }
                if o != nil { throw CLIError.usage("sne compile: -o given more than once") }
                o = d
            } else { pos.append(x) }
        }
        try a.finish()
        guard let outPath = o else { throw CLIError.usage("sne compile: -o is required (a directory with --target, else the .snep to write)") }
        guard pos.count == 1 else {
            throw CLIError.usage(pos.isEmpty ? "sne compile: missing MODEL or PROGRAM (see 'sne compile --help')" : "sne compile: unexpected argument '\(pos[1])'")
        }
        out = outPath
        input = pos[0]
    }

    func run(out o: inout TextSink, err: inout TextSink) throws {
        switch form {
        case .emit(let target, let mode, let board): try emit(target: target, mode: mode, board: board, out: &o)
        case .model(let m):
            let p = try compileModel(m, out: &o, err: &err)
            let bytes: [UInt8]
            do { bytes = try ProgramFile.encode(p) } catch let e as SpikeIRError { throw CLIError.failure(e.description) }
            try InputFiles.writeAtomically(bytes, path: out, flag: "-o")
            o.write("wrote \(out)\n")
        case .modelToLoihi(let m):
            if FileManager.default.fileExists(atPath: input), !ModelFiles.isModel(input) {
                throw CLIError.usage("sne compile: \(input) is a program; lower it with: sne compile \(input) --target loihi -o DIR (no --data)")
            }
            try LoihiCommands.compile(try compileModel(m, out: &o, err: &err), out: out, &o)
        }
    }

    func emit(target: String, mode: EmitMode, board: Board?, out o: inout TextSink) throws {
        if ModelFiles.isModel(input) {
            if target == "loihi" { throw CLIError.usage("sne compile: \(input) is a model; give --data DIR (calibration images) to quantize and lower it in one step") }
            throw CLIError.usage("sne compile: \(input) is a model; compile it to a program first: sne compile \(input) -o PROGRAM.snep --data DIR")
        }
        if target == "loihi" { return try LoihiCommands.compile(input, out: out, &o) }   // LoihiCommands.swift
        let p = try InputFiles.program(input)
        let t = try cliTarget(target)
        let rm = t.toolchainPresent ? try? RuntimeMeasure.runtime(t, mode: mode) : nil
        let mem = MemoryReport(p, target: t, mode: mode, runtimeCode: rm?.code, stack: rm?.stack)
        if let e = mem.fitError { throw CLIError.failure(e) }
        let boardFit = try board?.fit(p, mode: mode)
        if let f = boardFit, let why = f.why {
            throw CLIError.failure("program too large for board \(f.board.name) (\(f.board.part)): \(why); nothing written (sne info PROGRAM lists the boards it fits)")
        }
        if let kind = OutputPath.existingNonRegular(out), kind != "a directory" {
            throw CLIError.usage("sne compile: -o \(out): is \(kind), not a directory")
        }
        if FileManager.default.fileExists(atPath: out), OutputPath.existingNonRegular(out) == nil {
            throw CLIError.usage("sne compile: -o \(out): is a regular file, not a directory")
        }
        do { try CEmitter(p, mode: mode, target: t).write(to: out) } catch let e as CodegenError {
            if e.description.hasPrefix("cannot write") { throw CLIError.failure("\(out): cannot write (\(OutputPath.reason(forWriting: out)))") }
            throw CLIError.failure(e.description)
        }
        o.write("wrote \(out.hasSuffix("/") ? out : out + "/")\(p.name).h, \(p.name).c (+ runtime, \(EmittedBuild.portHeader), Makefile and CMakeLists.txt for \(t.name)), mode \(mode.rawValue)\n")
        for l in mem.lines { o.write(l + "\n") }
        if rm == nil { o.write("(runtime code and stack not measured: \(t.compiler) not installed)\n") }
        if let f = boardFit { o.write(f.line + "\n") }
    }

    /// Quantizes the model (form 1) and returns the program; the caller writes it.
    func compileModel(_ m: ModelForm, out o: inout TextSink, err: inout TextSink) throws -> Program {
        if FileManager.default.fileExists(atPath: input), !ModelFiles.isModel(input) {
            throw CLIError.usage("sne compile: \(input) is not a model file; to emit C from a program give --target T")
        }
        let model = try ModelFiles.load(input)
        let t0 = Date()
        let compute = ComputeContext(threads: m.threads)
        let qat = m.qatEpochs > 0
            ? QATStep(data: try ModelFiles.images(m.data, split: "train", limit: m.qatLimit, dataset: model.info["dataset"]), epochs: m.qatEpochs, lr: m.qatLR)
            : nil
        var opts = CompileOptions()
        opts.weightBits = m.bits; opts.granularity = m.granularity; opts.stopMargin = m.margin
        opts.name = m.name ?? ModelFiles.programName(out.hasSuffix("/") ? String(out.dropLast()) : out)
        var calCount = 0
        let result: PipelineResult
        do {
            // SNECompile `CompilePipeline`: QAT → compile → activity check → refusal (as `sne demo`).
            result = try CompilePipeline.run(model, qat: qat, calibration: {
                if let t = ModelFiles.fingerprintImages(m.data, dataset: model.info["dataset"]) {
                    try ModelFiles.checkData(model, path: input, test: t, force: m.force, err: &err)
                } else if model.info["data.fingerprint"] != nil {
                    err.write("note: \(CLIText.escaped(m.data)) has no test split, so the calibration data is not checked against what \(CLIText.escaped(input)) was trained on\n")
                }
                let cal = try ModelFiles.images(m.data, split: "train", limit: m.calibration, dataset: model.info["dataset"])
                calCount = cal.count
                return cal
            }, options: opts, allowInactive: m.allowInactive, compute: compute, afterQAT: { lines in
                for l in lines { err.write(l + "\n") }
                if let q = m.qatOut { do { try model.save(to: q) } catch { throw CLIError.failure("\(q): \(error)") }; o.write("wrote \(q) (fine-tuned float model)\n") }
            }, log: { o.write($0 + "\n") })
        } catch let e as CompileError { throw CLIError.failure(e.message) }
        let compiled = result.compiled
        for p in result.problems { err.write("warning: " + p + "\n") }
        o.write(String(format: "program %@ (K=%d, T=%d, %@), compiled in %.2f s (%d calibration images; total %.2f s)\n",
                       compiled.program.name, model.K, model.T, compiled.program.meta["sne.weights"] ?? "", result.compileSeconds, calCount,
                       Date().timeIntervalSince(t0)))
        return compiled.program
    }
}

/// A target by name, as a CLI error when unknown.
func cliTarget(_ name: String) throws -> Target {
    do { return try Target.named(name) } catch let e as CodegenError {
        throw CLIError.usage(e.description + "; or loihi (compile) / lava (verify) for the Loihi mode")
    }
}

/// Model files and dataset folders for `compile` and `check`.
enum ModelFiles {
    /// Refuses (without `force`: exit 2) or warns (with it) when `test`, the first test images of
    /// the data a command was given, is not what the model at `path` was trained on.
    static func checkData(_ model: SNEModel, path: String, test: LabeledImages, force: Bool, err: inout TextSink) throws {
        guard let why = DataFingerprint.mismatch(info: model.info, test: test) else { return }
        if force { err.write("warning: \(CLIText.escaped(path)): \(why); going on (--force)\n"); return }
        throw CLIError.input("\(path): \(why); give the data it was trained on, or --force to go on anyway")
    }

    /// The first `DataFingerprint.images` test images under `dir` for the model's dataset, or nil
    /// when `dir` holds no test split (then nothing can be compared).
    static func fingerprintImages(_ dir: String, dataset: String?) -> LabeledImages? {
        try? images(dir, split: "t10k", limit: DataFingerprint.images, dataset: dataset)
    }

    /// True when `path` starts like a checkpoint (not "SNEP").
    static func isModel(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let b = [UInt8](h.readData(ofLength: 4))
        return b.count == 4 && b != Array("SNEP".utf8)
    }

    /// The model at `path`; a missing, unreadable or malformed file, or a Spike IR program given
    /// where a model belongs, is bad input (exit 2).
    static func load(_ path: String, command: String = "") throws -> SNEModel {
        let head: [UInt8]
        do { let f = try InputFile(path); head = try f.read(at: 0, count: 4) } catch let e as DataError { throw CLIError.input(e.message) }
        if head == Array("SNEP".utf8) {
            throw CLIError.usage("\(path): is a Spike IR program, not a model (MODEL is the model.sne written by 'sne train')")
        }
        do { return try SNEModel.load(from: path) } catch let e as SNEError { throw e.isInput ? CLIError.input(e.message) : CLIError.failure(e.message) }
    }

    /// IDX images of `split` from DIR (or DIR/fashion-mnist, DIR/mnist when DIR is a data root).
    /// The `split` ("train" or "t10k") images of an IDX folder `dir`; otherwise the dataset the
    /// model was trained on (`dataset`, e.g. digits or npy:DIR) looked up under the root `dir`.
    static func images(_ dir: String, split: String, limit: Int?, dataset: String? = nil) throws -> LabeledImages {
        let fm = FileManager.default
        let stem = "\(split)-images-idx3-ubyte"
        let idxSets = ["fashion-mnist", "mnist", "fashion-mnist-slice"]
        let candidates = dataset.map { idxSets.contains($0) ? [dir, dir + "/" + $0] : [] } ?? [dir, dir + "/fashion-mnist", dir + "/mnist"]
        for d in candidates where fm.fileExists(atPath: d + "/" + stem + ".gz") || fm.fileExists(atPath: d + "/" + stem) {
            do { return try IDX.load(directory: d, split: split, limit: limit) } catch let e as DataError { throw CLIError.input(e.message) }
        }
        if let dataset, !idxSets.contains(dataset) {
            do {
                let d = try Datasets.load(dataset, root: dir, limit: split == "train" ? limit : 1, testLimit: split == "train" ? 1 : limit)
                return split == "train" ? d.train : d.test
            } catch let e as SNEError { throw CLIError.input(e.message) }
        }
        throw CLIError.input("\(dir): no \(stem)[.gz] (give the folder holding the IDX files, e.g. ../shared/data/fashion-mnist, or the data root holding the model's dataset)")
    }

    /// A valid program name (spec §2) from an output path's stem.
    static func programName(_ path: String) -> String {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var s = String(stem.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }.filter(\.isASCII).prefix(31))
        if s.isEmpty || s.first!.isNumber { s = "m" + s.prefix(30) }
        return s
    }
}
