// The training configuration: one JSON object (every field optional in the file, defaults below),
// overridden by command-line flags, and saved in the run directory so that every stage of a run
// (teacher, students, join) reads the same settings.
import Foundation
import SNEData

/// Loss weights of the distillation (SNE: feature MSE per student; then KL and cross-entropy on the
/// head's logits).
public struct LossWeights: Codable, Equatable, Sendable {
    public var mse: Float = 1
    public var kl: Float = 1
    public var ce: Float = 1
    /// Distillation temperature τ.
    public var tau: Float = 4
    /// Spike-rate (cost) regularizer λ (`--rate`): adds λ · (mean spike rate of each LIF layer's
    /// output) to every student loss, so training trades accuracy for fewer spikes, i.e. fewer
    /// accumulates in the next layer. nil (absent from older configs) or 0: off.
    public var rate: Float? = nil
    /// The spike-rate cost of the joint fine-tune (and of a plain SNN's training) only
    /// (`--finetune-rate`), overriding `rate` there: students distilled without a cost, then the
    /// ensemble taught to spike less as a whole. nil (older configs): `rate`.
    public var finetuneRate: Float? = nil
    /// How the spike-rate cost weighs the LIF layers (`--rate-weights`): "uniform" (nil, older
    /// configs) adds each layer's mean rate; "synops" weighs each layer by the accumulates its
    /// spikes cost the next layer (`StudentSpec.synopCostWeights`), so the cost follows the energy.
    public var rateWeights: String? = nil
    /// Whether the rate cost is weighted by accumulates (`rateWeights == "synops"`).
    public var synopRateWeights: Bool { rateWeights == "synops" }
    /// The spike-rate cost of the fine-tune: `finetuneRate`, else `rate`, else 0.
    public var finetuneSpikeCost: Float { finetuneRate ?? rate ?? 0 }
    /// Per-time-step class loss (`--tet`, Deng et al. 2022 "TET"): in the fine-tune (and the plain
    /// SNN's training) CE and KL are taken on each step's logits `head(f[t])` and averaged over
    /// the T steps, instead of on the logits of the mean feature. Inference is unchanged (the
    /// mean over T, what the program computes). nil (older configs) or false: off.
    public var tet: Bool? = nil
    /// LaSNN layer-wise distillation weight (`--layerwise X`): in the student stage, X times the
    /// attention-transfer loss between each conv block's spike rate and the built-in teacher's
    /// attention map at the same resolution. nil (older configs) or 0: off.
    public var layerwise: Float? = nil
    public init() {}
}

/// Everything a run needs. Paths are resolved relative to the current directory.
public struct TrainConfig: Codable, Equatable, Sendable {
    public var dataset: String = "fashion-mnist"
    public var data: String? = nil
    /// Train on the first N images only (quick runs); test on the first `testLimit`.
    public var limit: Int? = nil
    public var testLimit: Int? = nil
    public var seed: UInt64 = 1
    public var threads: Int? = nil

    public var teacher = TeacherSpec()
    public var teacherStage = StageOptions(epochs: 12, batch: 128, lr: 2e-3, weightDecay: 0.05)
    /// External teacher outputs (instead of the built-in teacher): `.npy` or `.safetensors`.
    public var teacherFeatures: String? = nil
    public var teacherLogits: String? = nil
    /// The external teacher's outputs on the test split (optional): per-student test R² while
    /// training and the teacher's test accuracy in the model (`sne eval`, `sne check`).
    public var teacherTestFeatures: String? = nil
    public var teacherTestLogits: String? = nil

    /// K, the partition kind (`informed`, `contiguous`, `random`, `spread`).
    public var students: Int = 4
    public var partition: String = "informed"
    public var student = StudentSpec()
    public var studentStage = StageOptions(epochs: 8, batch: 128, lr: 3e-3, weightDecay: 0)
    public var loss = LossWeights()

    /// Head training with whole-student dropout over the cached student features.
    public var headStage = StageOptions(epochs: 20, batch: 256, lr: 3e-3, weightDecay: 1e-4)
    public var gate: GateSpec? = GateSpec()
    public var gateStage = StageOptions(epochs: 15, batch: 256, lr: 3e-3, weightDecay: 1e-4)
    /// Joint fine-tune of students + head with the full loss (0: off).
    public var finetuneStage = StageOptions(epochs: 0, batch: 128, lr: 5e-4, weightDecay: 0)
    /// Cascade training (`--cascade`): the students run in one fixed order (no gate) and every
    /// prefix of that order is trained as a classifier — the head on prefixes, the fine-tune on the
    /// mean of CE + KL over all K prefixes — so a confidence stop after any student is sound.
    /// Absent (nil) in configs written before it existed; nil and false mean off.
    public var cascade: Bool? = nil
    /// How a cascade weighs its prefixes (`--cascade-weights`): "uniform" (each of the K prefixes
    /// 1/K, the default) or "linear" (prefix k weighs k / (1 + … + K): the full ensemble most, so the
    /// later students keep more of the head's attention). nil: uniform.
    public var cascadeWeights: String? = nil
    /// Per-prefix temperatures in a cascade's training (`--prefix-temperature`): prefix p < K is
    /// scored on exp(a_p) · logits with a learned a_p, so the one head can weigh the later students
    /// more in the full sum without making an early exit less accurate (`PrefixTemperature`).
    /// Training only. nil (older configs) or false: off.
    public var prefixTemperature: Bool? = nil
    /// Heterogeneous students (`--student-sizes`): per student its conv widths then its hidden
    /// width (e.g. `[[4, 16, 64], [8, 32, 128]]`); fewer entries than K repeat the last one. nil:
    /// every student is `student`. F, T and the LIF settings stay `student`'s.
    public var studentSizes: [[Int]]? = nil
    /// A shared stem (`--stem N`): student 0 trains as usual; students 1…K−1 train on top of its
    /// first N conv blocks, frozen, so the compiled program computes them once for all students
    /// (spec §4.1). nil (configs written before it) and 0: off.
    public var stem: Int? = nil
    /// Augmentation in the student stages (`--augment KINDS`): `crop` (zero padding 2, 1 below 16
    /// pixels, then a random crop back to size) and/or `flip` (a horizontal mirror, where the
    /// dataset allows it), comma-separated, with the teacher's targets computed on each augmented
    /// view (built-in teacher only). nil: off.
    public var augment: String? = nil
    /// The augmentation kinds of `augment` (empty: off).
    public var augmentKinds: Set<String> { Set((augment ?? "").split(separator: ",").map { String($0) }) }
    /// The SNE paper's teacher variant (`--teacher-group-dropout E`): after the partition, the
    /// built-in teacher is fine-tuned for E epochs with random whole feature groups zeroed (at a
    /// quarter of its learning rate), and the students distill that teacher. nil or 0: off.
    public var teacherGroupDropout: Int? = nil
    /// Per-student first-conv stride (`--input-stride 2,1`): entry k is student k's
    /// `inputStride`; fewer entries than K repeat the last one. nil: every student has
    /// `student.inputStride` (a single `--input-stride N`).
    public var inputStrides: [Int]? = nil
    /// Per-student training target in the student stage (`--student-targets features,logits`):
    /// "features" (the SNE paper's: regress the student's group of standardised teacher
    /// features) or "logits" (a temporary linear classifier on the student's F features, trained
    /// with ce·CE on the labels + kl·τ²·KL to the teacher's logits; the classifier is dropped and
    /// the head learns the student's features in the join, with no feature MSE in the fine-tune).
    /// Fewer entries than K repeat the last one. nil: features for every student.
    public var studentTargets: [String]? = nil

    public init() {}

    /// Student k's shape: `student` with `studentSizes`' conv and hidden widths and
    /// `inputStrides`' stride for k.
    public func studentSpec(_ k: Int) -> StudentSpec {
        var s = student
        if let sizes = studentSizes, !sizes.isEmpty {
            let e = sizes[min(k, sizes.count - 1)]
            s.conv = Array(e.dropLast()); s.hidden = e.last ?? student.hidden
        }
        if let strides = inputStrides, !strides.isEmpty { s.inputStride = strides[min(k, strides.count - 1)] }
        return s
    }

    /// The ensemble's per-student shapes (nil when they are all `student`).
    public var perStudentSpecs: [StudentSpec]? {
        studentSizes == nil && inputStrides == nil ? nil : (0..<students).map(studentSpec)
    }

    /// Whether some student's first conv runs at stride 2.
    public var anyStrided: Bool { (0..<students).contains { studentSpec($0).strided } }

    /// Student k's training target in the student stage: "features" or "logits" (`studentTargets`).
    public func studentTarget(_ k: Int) -> String {
        guard let t = studentTargets, !t.isEmpty else { return "features" }
        return t[min(k, t.count - 1)]
    }

    /// Whether student k distills the teacher's features (so the fine-tune keeps its feature MSE).
    public func distillsFeatures(_ k: Int) -> Bool { studentTarget(k) == "features" }

    /// Whether some student learns the labels and the teacher's logits instead of features.
    public var hasLogitsStudent: Bool { (0..<students).contains { !distillsFeatures($0) } }

    /// Whether the students share a stem.
    public var hasStem: Bool { (stem ?? 0) > 0 }

    /// Whether cascade training is on.
    public var isCascade: Bool { cascade == true }

    /// The weight of prefix k (1…K) in a cascade's loss; they sum to 1.
    public func prefixWeight(_ k: Int, of K: Int) -> Float {
        cascadeWeights == "linear" ? Float(2 * k) / Float(K * (K + 1)) : 1 / Float(K)
    }

    enum CodingKeys: String, CodingKey {
        case dataset, data, limit, testLimit, seed, threads, teacher, teacherStage, teacherFeatures, teacherLogits, teacherTestFeatures, teacherTestLogits, students,
             partition, student, studentStage, loss, headStage, gate, gateStage, finetuneStage, cascade, cascadeWeights, studentSizes, stem, augment, teacherGroupDropout,
             inputStrides, studentTargets, prefixTemperature
    }

    /// Decodes a config, keeping the default of every field the JSON leaves out.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainConfig()
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset) ?? d.dataset
        data = try c.decodeIfPresent(String.self, forKey: .data)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        testLimit = try c.decodeIfPresent(Int.self, forKey: .testLimit)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        threads = try c.decodeIfPresent(Int.self, forKey: .threads)
        teacher = try c.decodeIfPresent(TeacherSpec.self, forKey: .teacher) ?? d.teacher
        teacherStage = try c.decodeIfPresent(StageOptions.self, forKey: .teacherStage) ?? d.teacherStage
        teacherFeatures = try c.decodeIfPresent(String.self, forKey: .teacherFeatures)
        teacherLogits = try c.decodeIfPresent(String.self, forKey: .teacherLogits)
        teacherTestFeatures = try c.decodeIfPresent(String.self, forKey: .teacherTestFeatures)
        teacherTestLogits = try c.decodeIfPresent(String.self, forKey: .teacherTestLogits)
        students = try c.decodeIfPresent(Int.self, forKey: .students) ?? d.students
        partition = try c.decodeIfPresent(String.self, forKey: .partition) ?? d.partition
        student = try c.decodeIfPresent(StudentSpec.self, forKey: .student) ?? d.student
        studentStage = try c.decodeIfPresent(StageOptions.self, forKey: .studentStage) ?? d.studentStage
        loss = try c.decodeIfPresent(LossWeights.self, forKey: .loss) ?? d.loss
        headStage = try c.decodeIfPresent(StageOptions.self, forKey: .headStage) ?? d.headStage
        gate = c.contains(.gate) ? try c.decodeIfPresent(GateSpec.self, forKey: .gate) : d.gate
        gateStage = try c.decodeIfPresent(StageOptions.self, forKey: .gateStage) ?? d.gateStage
        finetuneStage = try c.decodeIfPresent(StageOptions.self, forKey: .finetuneStage) ?? d.finetuneStage
        cascade = try c.decodeIfPresent(Bool.self, forKey: .cascade)
        cascadeWeights = try c.decodeIfPresent(String.self, forKey: .cascadeWeights)
        studentSizes = try c.decodeIfPresent([[Int]].self, forKey: .studentSizes)
        stem = try c.decodeIfPresent(Int.self, forKey: .stem)
        augment = try c.decodeIfPresent(String.self, forKey: .augment)
        teacherGroupDropout = try c.decodeIfPresent(Int.self, forKey: .teacherGroupDropout)
        inputStrides = try c.decodeIfPresent([Int].self, forKey: .inputStrides)
        studentTargets = try c.decodeIfPresent([String].self, forKey: .studentTargets)
        prefixTemperature = try c.decodeIfPresent(Bool.self, forKey: .prefixTemperature)
        // configs written before the gate was saved as null: a cascade never had one
        if cascade == true && !c.contains(.gate) { gate = nil }
    }

    /// Encodes every field; an absent gate is written as `null`, so a run's saved config.json
    /// keeps "no gate" (`--no-gate`, `--cascade`) for the later stages that read it.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dataset, forKey: .dataset)
        try c.encodeIfPresent(data, forKey: .data)
        try c.encodeIfPresent(limit, forKey: .limit)
        try c.encodeIfPresent(testLimit, forKey: .testLimit)
        try c.encode(seed, forKey: .seed)
        try c.encodeIfPresent(threads, forKey: .threads)
        try c.encode(teacher, forKey: .teacher)
        try c.encode(teacherStage, forKey: .teacherStage)
        try c.encodeIfPresent(teacherFeatures, forKey: .teacherFeatures)
        try c.encodeIfPresent(teacherLogits, forKey: .teacherLogits)
        try c.encodeIfPresent(teacherTestFeatures, forKey: .teacherTestFeatures)
        try c.encodeIfPresent(teacherTestLogits, forKey: .teacherTestLogits)
        try c.encode(students, forKey: .students)
        try c.encode(partition, forKey: .partition)
        try c.encode(student, forKey: .student)
        try c.encode(studentStage, forKey: .studentStage)
        try c.encode(loss, forKey: .loss)
        try c.encode(headStage, forKey: .headStage)
        try c.encode(gate, forKey: .gate)   // null when there is none
        try c.encode(gateStage, forKey: .gateStage)
        try c.encode(finetuneStage, forKey: .finetuneStage)
        try c.encodeIfPresent(cascade, forKey: .cascade)
        try c.encodeIfPresent(cascadeWeights, forKey: .cascadeWeights)
        try c.encodeIfPresent(studentSizes, forKey: .studentSizes)
        try c.encodeIfPresent(stem, forKey: .stem)
        try c.encodeIfPresent(augment, forKey: .augment)
        try c.encodeIfPresent(teacherGroupDropout, forKey: .teacherGroupDropout)
        try c.encodeIfPresent(inputStrides, forKey: .inputStrides)
        try c.encodeIfPresent(studentTargets, forKey: .studentTargets)
        try c.encodeIfPresent(prefixTemperature, forKey: .prefixTemperature)
    }

    /// Reads a JSON config; errors name the file and the field.
    public static func read(_ path: String) throws -> TrainConfig {
        let d: Data
        do { d = Data(try InputFile(path).readAll(max: 1 << 20, what: "a config")) } catch let e as DataError { throw SNEError(e.message) }
        do { return try JSONDecoder().decode(TrainConfig.self, from: d) }
        catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            throw SNEError("\(path): field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw SNEError("\(path): '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is missing")
        } catch {
            throw SNEError("\(path): not a valid JSON config")
        }
    }

    /// Writes the config as sorted, indented JSON (atomically).
    public func write(_ path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(Array(try enc.encode(self)) + [0x0A], to: path)
    }

    /// Checks ranges; one line naming the first bad field.
    public func validate() throws {
        guard (1...16).contains(students) else { throw SNEError("--students \(students) (students in a config file): K must be 1…16") }
        guard ["informed", "contiguous", "random", "spread"].contains(partition) else {
            throw SNEError("--partition '\(partition)' (partition in a config file): must be informed, contiguous, random or spread")
        }
        try student.validate()
        if let sizes = studentSizes {
            guard !sizes.isEmpty, sizes.count <= students, sizes.allSatisfy({ (2...5).contains($0.count) }) else {
                throw SNEError("--student-sizes (studentSizes in a config file): 1…K entries of 1…4 conv widths and a hidden width, e.g. 4,16,64/8,32,128")
            }
            for k in 0..<students {
                do { try studentSpec(k).validate() } catch let e as SNEError { throw SNEError("--student-sizes, student \(k): \(e.message)") }
            }
        }
        if let n = stem, n < 0 || n > 4 { throw SNEError("--stem \(n) (stem in a config file): the shared conv blocks, 0…4") }
        if hasStem { try EnsembleSpec.validateStem((0..<students).map(studentSpec), blocks: stem!) }
        if let a = augment, augmentKinds.isEmpty || !augmentKinds.isSubset(of: ["crop", "flip"]) {
            throw SNEError("--augment '\(a)' (augment in a config file): crop, flip or crop,flip")
        }
        if augment != nil && (loss.layerwise ?? 0) > 0 {
            throw SNEError("--layerwise and --augment together are not supported: the teacher's maps are cached for the original images; give one of them")
        }
        if augment != nil && (teacherGroupDropout ?? 0) > 0 {
            throw SNEError("--augment and --teacher-group-dropout together are not supported: the augmented views' targets come from the original teacher; give one of them")
        }
        if let e = teacherGroupDropout, e < 0 || e > 1000 { throw SNEError("--teacher-group-dropout \(e) (teacherGroupDropout in a config file): epochs, 0…1000") }
        if let st = inputStrides, st.isEmpty || st.count > students || !st.allSatisfy({ [1, 2].contains($0) }) {
            throw SNEError("--input-stride \(st.map(String.init).joined(separator: ",")) (inputStrides in a config file): 1…K strides of 1 or 2, e.g. 2,1")
        }
        if let t = studentTargets, t.isEmpty || t.count > students || !t.allSatisfy({ ["features", "logits"].contains($0) }) {
            throw SNEError("--student-targets \(t.joined(separator: ",")) (studentTargets in a config file): 1…K entries of features or logits, e.g. features,logits")
        }
        if hasLogitsStudent && (loss.layerwise ?? 0) > 0 {
            throw SNEError("--student-targets logits with --layerwise: the layer-wise loss is added to the feature distillation; give one of them")
        }
        if hasLogitsStudent && loss.ce == 0 && loss.kl == 0 {
            throw SNEError("--student-targets logits with --ce 0 --kl 0: a logits student needs a class loss")
        }
        if anyStrided && hasStem {
            throw SNEError("--input-stride 2 with --stem: a shared stem is whole conv blocks with their pool; give one of them")
        }
        if anyStrided && (loss.layerwise ?? 0) > 0 {
            throw SNEError("--input-stride 2 with --layerwise: the layer-wise maps are read after each block's pool; give one of them")
        }
        if hasStem && student.learnDecay == true {
            throw SNEError("--learn-beta with --stem: each student would learn its own decay in the shared blocks; give one of them")
        }
        try gate?.validate()
        if let w = cascadeWeights, !["uniform", "linear"].contains(w) {
            throw SNEError("--cascade-weights '\(w)' (cascadeWeights in a config file): must be uniform or linear")
        }
        if prefixTemperature == true && !isCascade {
            throw SNEError("--prefix-temperature belongs to a cascade (its prefixes): give --cascade too")
        }
        if isCascade && gate != nil {
            throw SNEError("--cascade runs the students in one fixed order: it takes no gate (cascade with gate in a config file; use --no-gate)")
        }
        // Each stage field with the flag that sets it (none: config file only).
        let flags: [String: (epochs: String?, lr: String?, batch: String?)] = [
            "teacherStage": ("--teacher-epochs", nil, "--batch"), "studentStage": ("--student-epochs", "--student-lr", "--batch"),
            "headStage": ("--head-epochs", nil, nil), "gateStage": ("--gate-epochs", nil, nil), "finetuneStage": ("--finetune-epochs", nil, nil)]
        func name(_ flag: String?, _ field: String, _ value: String) -> String {
            flag.map { "\($0) \(value) (\(field) in a config file)" } ?? "\(field) = \(value) (config file)"
        }
        for (n, s) in [("teacherStage", teacherStage), ("studentStage", studentStage), ("headStage", headStage), ("gateStage", gateStage),
                       ("finetuneStage", finetuneStage)] {
            let f = flags[n]
            guard (0...10_000).contains(s.epochs) else { throw SNEError("\(name(f?.epochs, n + ".epochs", "\(s.epochs)")): must be 0…10000") }
            guard (1...65_536).contains(s.batch) else { throw SNEError("\(name(f?.batch, n + ".batch", "\(s.batch)")): must be 1…65536") }
            guard s.lr > 0, s.lr.isFinite else { throw SNEError("\(name(f?.lr, n + ".lr", "\(s.lr)")): must be > 0") }
            guard s.weightDecay >= 0, s.weightDecay.isFinite else { throw SNEError("\(n).weightDecay = \(s.weightDecay) (config file): must be ≥ 0") }
        }
        guard loss.tau > 0, [loss.mse, loss.kl, loss.ce, loss.rate ?? 0, loss.finetuneRate ?? 0, loss.layerwise ?? 0].allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw SNEError("--mse, --kl, --ce, --rate, --finetune-rate, --layerwise must be ≥ 0 and --tau > 0 (loss.mse, loss.kl, loss.ce, loss.rate, loss.finetuneRate, loss.layerwise, loss.tau in a config file)")
        }
        if let w = loss.rateWeights, !["uniform", "synops"].contains(w) {
            throw SNEError("--rate-weights '\(w)' (loss.rateWeights in a config file): must be uniform or synops")
        }
        if (teacherTestFeatures != nil || teacherTestLogits != nil) && teacherFeatures == nil {
            throw SNEError("--teacher-test-features/--teacher-test-logits belong to an external teacher: give --teacher-features and --teacher-logits too")
        }
        guard (teacherFeatures == nil) == (teacherLogits == nil) else {
            throw SNEError("an external teacher needs both --teacher-features and --teacher-logits (teacherFeatures and teacherLogits in a config file); \(teacherFeatures == nil ? "--teacher-features" : "--teacher-logits") is missing")
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees a half-written file and an existing file is only replaced whole.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    guard FileManager.default.createFile(atPath: tmp.path, contents: Data(bytes)) else {
        throw SNEError.failure("\(path): cannot write (is the directory there and writable?)")
    }
    if rename(tmp.path, url.path) != 0 {
        let e = errno
        try? FileManager.default.removeItem(at: tmp)
        throw SNEError.failure("\(path): cannot move the new file into place (\(String(cString: strerror(e))))")
    }
}
