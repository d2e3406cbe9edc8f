// `sne demo`: the first ten minutes — train a small ensemble on the shipped Fashion-MNIST slice,
// compile it to an integer program, emit and build the C for the host, verify it bit-exactly
// against the interpreter, and report teacher vs ensemble per budget with ops, energy, flash and RAM.
import Foundation
import SNEBase
import SNEEnsemble
import SNECompile
import SNECodegen
import SNEData
import SNETensor
import SpikeIR

struct DemoCommand: Command {
    static let name = "demo"
    static let summary = "train, compile, verify and report a small ensemble on the shipped Fashion-MNIST slice"
    static let usage = """
    usage: sne demo [--out DIR] [--data DIR] [--dataset NAME] [--threads N] [--verify-images N]
      --out DIR            where the run goes (default runs/demo): model, program, C, report.html
      --dataset NAME       fashion-mnist-slice (default: the 8,000 + 2,000 images shipped in examples/data,
                           installed to PREFIX/share/sne/data by ./install.sh)
                           or any dataset sne train takes (e.g. fashion-mnist for the full set)
      --data DIR           dataset root (searched: \(Datasets.searchOrder))
      --threads N          worker threads (default: all cores)
      --verify-images N    test images verified bit-exactly on the host C build at every budget (default 16)
    Steps: teacher → 4 spiking students (distilled, informed partition) → head for every prefix
    of the students (a cascade, the shipped recipe; conv1 at stride 2) → joint fine-tune with a spike-rate cost →
    compile (int8 per-channel, fixed-point LIF) → check (float vs integer on the test
    set) → C for the host, built and verified bit-exactly against the interpreter → report.
    """

    let out: String
    let dataset: String
    let data: String?
    let threads: Int?
    let verifyImages: Int

    init(_ args: Arguments) throws {
        var a = args
        out = try a.option("out") ?? "runs/demo"
        dataset = try a.option("dataset") ?? "fashion-mnist-slice"
        data = try a.option("data")
        threads = try a.int("threads", in: 1...256)
        verifyImages = try a.int("verify-images", in: 1...10_000) ?? 16
        try a.finish()
        try TrainCommand.refuseOtherDataset(dir: out, dataset: dataset)
    }

    /// The demo's configuration: small and quick, the same pipeline as a full run.
    func config() -> TrainConfig {
        var c = TrainConfig()
        c.dataset = dataset; c.data = data.map(TrainCommand.absolute); c.threads = threads; c.seed = 1
        c.teacher = TeacherSpec(width: 16, dropout: 0.1)
        c.teacherStage = StageOptions(epochs: 15, batch: 64, lr: 3e-3, weightDecay: 0.05)
        c.students = 4; c.partition = "informed"
        c.student = StudentSpec(conv: [6, 16], hidden: 64, features: 16, beta: 0.5, theta: 1, reset: "subtract", timesteps: 4, slope: 5)
        c.student.inputStride = 2        // conv1 at stride 2, no pool after it (the shipped recipe)
        c.studentStage = StageOptions(epochs: 6, batch: 64, lr: 3e-3, weightDecay: 0)
        c.headStage = StageOptions(epochs: 20, batch: 128, lr: 3e-3, weightDecay: 1e-4)
        c.cascade = true; c.gate = nil   // the shipped recipe (examples/fashion-mnist): a cascade,
        c.loss.finetuneRate = 0.01       // with a spike-rate cost in the fine-tune only
        c.finetuneStage = StageOptions(epochs: 3, batch: 64, lr: 5e-4, weightDecay: 0)
        return c
    }

    func run(out o: inout TextSink, err: inout TextSink) throws {
        let t0 = Date()
        let progress = ProgressSink.standardError()
        func step(_ s: String) { progress.line("== " + s + String(format: "  [%@]", TrainCommand.duration(Date().timeIntervalSince(t0)))) }
        do {
            // 1. Train.
            step("1/5 train: teacher, 4 students, cascade head, fine-tune")
            // A rerun with the same configuration continues from what is there; anything else starts over.
            let same = (try? TrainConfig.read(out + "/config.json")) == config()
            let run = try TrainRun(dir: out, config: config(), progress: progress)
            let d = try run.data()
            if !same || !FileManager.default.fileExists(atPath: run.teacherPath) { try run.trainTeacher(resume: same) }
            for k in 0..<4 { try run.trainStudent(k, resume: same) }
            let model = try run.join(resume: same)

            // 2. Compile.
            step("2/5 compile: quantize to one integer Spike IR program")
            var opts = CompileOptions()
            opts.granularity = .perChannel
            opts.stopMargin = 0.5
            opts.name = "demo"
            let tc = Date()
            // The same pipeline as `sne compile` (QAT off): compile → activity check → refusal of a
            // silent or saturated layer; its notes and activity lines go to the progress stream.
            let compiled = try CompilePipeline.run(model, calibration: { d.train.prefix(256) }, options: opts,
                                                   compute: ComputeContext(threads: threads), log: { progress.line($0) }).compiled
            let program = compiled.program
            let programPath = out + "/demo.snep"
            try AtomicFile.write(try ProgramFile.encode(program), to: programPath)
            progress.line(String(format: "compile: %@ (%d students, T = %d) in %.2f s", programPath, program.students.count, program.timesteps,
                                 Date().timeIntervalSince(tc)))

            // 3. Check: float vs integer on the test set.
            step("3/5 check: float model vs integer program on \(d.test.count) test images")
            var check = try Check.run(model: model, program: program, data: d.test, compute: ComputeContext(threads: threads))
            for name in Target.names {
                guard let t = try? Target.named(name) else { continue }
                let mem = MemoryReport(program, target: t)
                check.memory.append(MemoryRow(target: name, flash: mem.flash, ram: mem.ram, arena: mem.arena, fits: mem.fitError == nil,
                                              note: "tables + descriptor and arena + context; runtime code and stack not included"))
            }
            try AtomicFile.write(Array(CheckRender.html(check).utf8), to: out + "/report.html")
            try AtomicFile.write(Array(CheckRender.json(check).utf8), to: out + "/report.json")

            // 4. C for the host, built and verified bit-exactly.
            step("4/5 C: emit for the host, build, verify bit-exactly against the interpreter")
            let host = try Target.named("host")
            try CEmitter(program, target: host).write(to: out + "/c-host")
            let xs = (0..<min(verifyImages, d.test.count)).map {
                HWCLayout.imageHWC(d.test.pixels[($0 * d.test.imageSize)..<(($0 + 1) * d.test.imageSize)], c: d.inputShape[0], h: d.inputShape[1], w: d.inputShape[2])
            }
            let vr = try Verifier.verify(program, target: host, inputs: xs, budgets: [], mode: .specialized)
            guard vr.passed else {
                throw CLIError.failure("verify on host: FAIL, \(vr.mismatches.count) mismatching vector(s); first: \(vr.mismatches.first ?? "")")
            }
            progress.line("verify demo on host: PASS, \(vr.vectors) vectors (\(xs.count) images x \(program.students.count) budgets) bit-exact")

            // 5. Report.
            step("5/5 report")
            o.write(Self.summary(check, model: model, verified: vr.vectors, dir: out))
        } catch let e as SNEError { throw e.isInput ? CLIError.input(e.message) : CLIError.failure(e.message) }
        catch let e as CompileError { throw CLIError.failure(e.description) }
        catch let e as CodegenError { throw CLIError.failure(e.description) }
        catch let e as SpikeIRError { throw CLIError.failure(e.description) }
        o.write("sne demo: done in \(TrainCommand.duration(Date().timeIntervalSince(t0)))\n")
    }

    static func summary(_ r: CheckResult, model: SNEModel, verified: Int, dir: String) -> String {
        var s = "\nteacher vs spiking ensemble on \(r.images) test images (integer program = what runs on the device):\n"
        s += "  model                       float acc   int acc   students   MACs      accumulates   energy µJ\n"
        if let t = r.references.first(where: { $0.label == "teacher" }), let macs = Double(model.info["teacher.macs"] ?? "") {
            s += String(format: "  teacher (CNN, float)        %7.2f%%         -          -   %-9.0f %-13d %9.3f\n", 100 * t.accuracy, macs, 0, t.energy)
        }
        for row in r.rows {
            let label = (model.gate == nil ? "SNE, first \(row.budget)" : "SNE, gate top-\(row.budget)").padding(toLength: 27, withPad: " ", startingAt: 0)
            s += String(format: "  %@ %7.2f%%   %6.2f%%   %8.2f   %-9d %-13d %9.3f\n", label, 100 * row.floatAccuracy,
                        100 * row.intAccuracy, row.intStudents, row.total.macs / max(row.images, 1), row.total.synops / max(row.images, 1), row.energy)
        }
        if let c = r.confidence {
            s += String(format: "  SNE, confidence stop        %7.2f%%   %6.2f%%   %8.2f   %-9d %-13d %9.3f\n", 100 * c.floatAccuracy,
                        100 * c.intAccuracy, c.intStudents, c.total.macs / max(c.images, 1), c.total.synops / max(c.images, 1), c.energy)
        }
        s += "memory of the emitted C (flash / RAM bytes: model tables + descriptor / arena + context):\n"
        for m in r.memory { s += "  \(m.target.padding(toLength: 10, withPad: " ", startingAt: 0)) \(m.flash) / \(m.ram)\(m.fits ? "" : "  (does not fit: \(m.note))")\n" }
        s += "host C build verified bit-exactly against the interpreter: \(verified) vectors\n"
        s += "report: \(dir)/report.html   program: \(dir)/demo.snep   C: \(dir)/c-host/\n"
        return s
    }
}
