// `sne train`: the spiking neural ensemble trainer — teacher, students, join (head + gate), the
// whole pipeline, and the plain-SNN baseline — over one run directory.
import Foundation
import SNEEnsemble
import SNETensor

struct TrainCommand: Command {
    static let name = "train"
    static let summary = "train a spiking neural ensemble: teacher, students, join, or all (sne), or a plain SNN"
    static let usage = """
    usage: sne train <stage> [--out DIR] [--config FILE] [flags]
    stages:
      teacher        train the built-in CNN teacher and cache its outputs on the data
      student        train one student (--index k) against its part of the teacher features
      join           train the head (with student dropout) and the gate, write DIR/model.sne
      sne            all of the above in one process: teacher (unless cached or external), students, join
      plain          a plain SNN baseline (K = 1, no teacher, cross-entropy), written to DIR/model.sne
    run directory (default runs/<dataset>, or runs/<dataset>-plain for plain):
      --out DIR             where config.json, teacher.ckpt, student-<k>.ckpt and model.sne go
      --config FILE         a JSON config (docs/user-guide.md lists its fields); flags override it.
                            Without --config, DIR/config.json is used when it exists.
      --resume              continue each stage from its last per-epoch checkpoint
    data:
      --dataset NAME        fashion-mnist (default), mnist, digits, cifar10, or npy:DIR
      --data DIR            dataset root (searched: \(Datasets.searchOrder))
      --limit N             train on the first N images; --test-limit N tests on the first N
    teacher:
      --teacher-width N     built-in teacher channels (N, N, 2N, 2N, 4N; features D = 4N; default 32)
      --teacher-epochs N    (default 12)
      --teacher-features F  external teacher: per-sample features [N, D] (.npy float32 or .safetensors)
      --teacher-logits F    external teacher: per-sample logits [N, classes]
      --teacher-test-features F, --teacher-test-logits F   the external teacher's outputs on the
                            test split (optional): per-student test R² and the teacher's accuracy
    ensemble:
      --students K          number of students (default 4)
      --partition P         informed (default), contiguous, random or spread (informed's
                            clusters dealt across the students)
      --conv A,B            student conv widths (default 8,16)
      --hidden N            student hidden LIF width (default 64; 0 = none)
      --features F          student readout size (default 32)
      --timesteps T         time steps (default 4)
      --beta X --theta X --reset subtract|zero    LIF decay, threshold, reset
      --student-epochs N    (default 8)   --student-lr X (default 3e-3)   --batch N (default 128)
      --index k             the student to train (stage student)
      --mse X --kl X --ce X --tau X   loss weights (feature MSE, KL, cross-entropy) and temperature
      --rate X              spike-rate cost: + X · mean spike rate of each LIF layer (default 0)
      --finetune-rate X     the spike-rate cost of the joint fine-tune (and plain training) only,
                            instead of --rate there: students distilled without it (default --rate)
      --rate-weights uniform|synops   how the rate cost weighs the LIF layers: each layer's mean
                            rate (default), or by the accumulates its spikes cost the next layer
      --teacher-group-dropout E   fine-tune the built-in teacher E epochs with whole feature
                            groups of the partition dropped, then distill that teacher (SNE paper)
      --learn-beta          PLIF: each LIF layer learns its decay β (from --beta), compiled into
                            its op's leak
      --input-stride 2      the first conv runs at stride 2 with no max pool after it: the same
                            map size, a quarter of the input layer's multiply-accumulates;
                            per student: --input-stride 2,1 (fewer than K entries repeat the last)
      --augment crop|flip|crop,flip   augment the students' training images (4 fixed views
                            per image; flip only where the dataset allows it), the built-in
                            teacher's targets computed on each view
      --layerwise X         LaSNN layer-wise distillation: + X · attention transfer between each
                            student conv block's spike rate and the built-in teacher's map at that
                            resolution, in the student stage (default 0)
      --tet                 per-time-step class loss in the fine-tune and plain training (CE and
                            KL on each step's logits, averaged over T; inference unchanged)
      --head-epochs N --gate-epochs N --finetune-epochs N
      --no-gate             no gate (fixed order only)   --gate-pool 1|2|4   --gate-hidden N
      --student-sizes A,B,H/A,B,H/…   heterogeneous students: conv widths and hidden width per
                            student (fewer than K entries repeat the last), e.g. 4,16,64/8,32,128
      --student-targets features|logits[,…]   per student (fewer than K entries repeat the
                            last): distill its group of teacher features (default), or learn the
                            labels and the teacher's logits (--ce, --kl) through a temporary
                            linear classifier, e.g. features,logits
      --cascade             every prefix of the fixed order is a classifier (head and fine-tune
                            trained on all K prefixes; implies --no-gate): for confidence stops
      --cascade-weights uniform|linear   prefix k weighs 1/K (default) or ∝ k
      --prefix-temperature  each prefix but the last is scored on a learned multiple of the
                            logits in training, so the head can weigh the later students more in
                            the full sum without weakening the early exits (training only)
      --stem N              the students share student 0's first N conv blocks (conv, LIF, pool),
                            frozen: the program computes them once, so a later student costs only
                            its own layers. Train student 0 before the others.
    other:
      --seed N              (default 1)    --threads N (default: all cores)
    Same seed + same thread count give the same weights, also across separate student processes.
    """

    let stage: String
    let out: String
    let config: TrainConfig
    let index: Int?
    let resume: Bool
    let explicitConfig: Bool

    init(_ args: Arguments) throws {
        var a = args
        stage = try a.positional("stage (teacher, student, join, sne or plain)")
        guard ["teacher", "student", "join", "sne", "plain"].contains(stage) else {
            throw CLIError.usage("sne train: unknown stage '\(stage)' (teacher, student, join, sne, plain)")
        }
        let cfgPath = try a.option("config")
        let outOpt = try a.option("out")
        let datasetOpt = try a.option("dataset")
        var c = TrainConfig()
        if let cfgPath {
            do { c = try TrainConfig.read(cfgPath) } catch let e as SNEError { throw CLIError.usage(e.message) }
        }
        let ds = datasetOpt ?? c.dataset
        let defaultOut = "runs/" + ds.replacingOccurrences(of: "npy:", with: "npy-").replacingOccurrences(of: "/", with: "_") + (stage == "plain" ? "-plain" : "")
        out = outOpt ?? defaultOut
        if cfgPath == nil, FileManager.default.fileExists(atPath: out + "/config.json") {
            do { c = try TrainConfig.read(out + "/config.json") } catch let e as SNEError { throw CLIError.usage(e.message) }
        }
        explicitConfig = cfgPath != nil
        if let datasetOpt { c.dataset = datasetOpt }
        if let v = try a.option("data") { c.data = Self.absolute(v) }
        if let v = try a.int("limit", in: 1...100_000_000) { c.limit = v }
        if let v = try a.int("test-limit", in: 1...100_000_000) { c.testLimit = v }
        if let v = try a.int("seed", in: 0...Int(Int32.max)) { c.seed = UInt64(v) }
        if let v = try a.int("threads", in: 1...256) { c.threads = v }
        if let v = try a.int("teacher-width", in: 4...256) { c.teacher.width = v }
        if let v = try a.int("teacher-epochs", in: 0...10_000) { c.teacherStage.epochs = v }
        if let v = try a.option("teacher-features") { c.teacherFeatures = Self.absolute(v) }
        if let v = try a.option("teacher-logits") { c.teacherLogits = Self.absolute(v) }
        if let v = try a.option("teacher-test-features") { c.teacherTestFeatures = Self.absolute(v) }
        if let v = try a.option("teacher-test-logits") { c.teacherTestLogits = Self.absolute(v) }
        if let v = try a.int("students", in: 1...16) { c.students = v }
        if let v = try a.option("partition") { c.partition = v }
        if let v = try a.option("conv") {
            let w = v.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !w.isEmpty, w.allSatisfy({ $0 != nil }) else { throw CLIError.usage("sne train: --conv must be comma-separated integers, got '\(v)'") }
            c.student.conv = w.map { $0! }
        }
        if let v = try a.int("hidden", in: 0...4096) { c.student.hidden = v }
        if let v = try a.option("student-sizes") {
            let entries = v.split(separator: "/", omittingEmptySubsequences: false).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) } }
            guard entries.allSatisfy({ e in e.allSatisfy { $0 != nil } }) else {
                throw CLIError.usage("sne train: --student-sizes '\(v)': expected widths like 4,16,64/8,32,128 (conv widths then hidden, per student)")
            }
            c.studentSizes = entries.map { $0.map { $0! } }
        }
        if let v = try a.int("features", in: 1...4096) { c.student.features = v }
        if let v = try a.int("timesteps", in: 1...64) { c.student.timesteps = v }
        if let v = try a.double("beta") { c.student.beta = Float(v) }
        if let v = try a.double("theta") { c.student.theta = Float(v) }
        if let v = try a.option("reset") { c.student.reset = v }
        if let v = try a.int("student-epochs", in: 0...10_000) { c.studentStage.epochs = v }
        if let v = try a.double("student-lr") { c.studentStage.lr = Float(v) }
        if let v = try a.int("batch", in: 1...65_536) { c.studentStage.batch = v; c.teacherStage.batch = v }
        if let v = try a.double("mse") { c.loss.mse = Float(v) }
        if let v = try a.double("kl") { c.loss.kl = Float(v) }
        if let v = try a.double("ce") { c.loss.ce = Float(v) }
        if let v = try a.double("tau") { c.loss.tau = Float(v) }
        if let v = try a.double("rate") { c.loss.rate = Float(v) }
        if let v = try a.double("finetune-rate") { c.loss.finetuneRate = Float(v) }
        if let v = try a.option("rate-weights") { c.loss.rateWeights = v }
        if a.flag("tet") { c.loss.tet = true }
        if let v = try a.option("augment") { c.augment = v }
        if a.flag("learn-beta") { c.student.learnDecay = true }
        if let v = try a.option("input-stride") {
            let list = v.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !list.isEmpty, list.allSatisfy({ $0 == 1 || $0 == 2 }) else {
                throw CLIError.usage("sne train: --input-stride must be 1 or 2, or one per student like 2,1, got '\(CLIText.escaped(v))'")
            }
            if list.count == 1 { c.student.inputStride = list[0]!; c.inputStrides = nil } else { c.inputStrides = list.map { $0! } }
        }
        if let v = try a.option("student-targets") {
            c.studentTargets = v.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let v = try a.int("teacher-group-dropout", in: 0...1000) { c.teacherGroupDropout = v }
        if let v = try a.double("layerwise") { c.loss.layerwise = Float(v) }
        if let v = try a.int("head-epochs", in: 0...10_000) { c.headStage.epochs = v }
        if let v = try a.int("gate-epochs", in: 0...10_000) { c.gateStage.epochs = v }
        if let v = try a.int("finetune-epochs", in: 0...10_000) { c.finetuneStage.epochs = v }
        if a.flag("no-gate") { c.gate = nil }
        if a.flag("cascade") { c.cascade = true; c.gate = nil }
        if let v = try a.option("cascade-weights") { c.cascadeWeights = v }
        if a.flag("prefix-temperature") { c.prefixTemperature = true }
        if let v = try a.int("stem", in: 0...4) { c.stem = v }
        if let v = try a.int("gate-pool", in: 1...4) { if c.gate == nil { c.gate = GateSpec() }; c.gate!.pool = v }
        if let v = try a.int("gate-hidden", in: 1...1024) { if c.gate == nil { c.gate = GateSpec() }; c.gate!.hidden = v }
        index = try a.int("index", in: 0...15)
        resume = a.flag("resume")
        try a.finish()
        if stage == "plain" { c.students = 1; c.teacherFeatures = nil; c.teacherLogits = nil; c.gate = nil }
        if stage == "student" {
            guard let index else { throw CLIError.usage("sne train student: --index k is required (0…K−1)") }
            guard index < c.students else { throw CLIError.usage("sne train student: --index \(index) is out of range for K = \(c.students)") }
        }
        do { try c.validate() } catch let e as SNEError { throw CLIError.usage("sne train: \(e.message)") }
        try Self.refuseOtherDataset(dir: out, dataset: c.dataset)
        config = c
    }

    /// A run directory whose `config.json` names another dataset is refused: its teacher,
    /// partition and students belong to that data.
    static func refuseOtherDataset(dir: String, dataset: String) throws {
        let path = dir + "/config.json"
        guard FileManager.default.fileExists(atPath: path) else { return }
        let saved: TrainConfig
        do { saved = try TrainConfig.read(path) } catch let e as SNEError { throw CLIError.input(e.message) }
        guard saved.dataset == dataset else {
            throw CLIError.usage("\(path): this run directory holds a run on \(saved.dataset), not \(dataset); give another --out (or remove \(dir))")
        }
    }

    /// `path` made absolute against the working directory, so a config.json that records it
    /// still works when a later stage runs from another directory.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).standardized.path
    }

    func run(out o: inout TextSink, err: inout TextSink) throws {
        let t0 = Date()
        do {
            let run = try TrainRun(dir: out, config: config, progress: .standardError())
            switch stage {
            case "teacher":
                try run.trainTeacher(resume: resume)
            case "student":
                try run.trainStudent(index!, resume: resume)
            case "join":
                let m = try run.join(resume: resume)
                o.write("model: \(run.modelPath) (K = \(m.K), \(m.gate == nil ? "fixed order" : "gate"))\n")
            case "sne":
                if config.teacherFeatures == nil && !FileManager.default.fileExists(atPath: run.teacherPath) {
                    try run.trainTeacher(resume: resume)
                }
                for k in 0..<config.students { try run.trainStudent(k, resume: resume) }
                let m = try run.join(resume: resume)
                o.write("model: \(run.modelPath) (K = \(m.K), \(m.gate == nil ? "fixed order" : "gate"))\n")
            default:
                let m = try run.trainPlain(resume: resume)
                o.write("model: \(run.modelPath) (plain SNN, \(m.spec.student.conv.map(String.init).joined(separator: "/"))/\(m.spec.student.hidden))\n")
            }
        } catch let e as SNEError { throw e.isInput ? CLIError.input(e.message) : CLIError.failure(e.message) }
        o.write(String(format: "sne train %@: done in %@\n", stage, Self.duration(Date().timeIntervalSince(t0))))
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
