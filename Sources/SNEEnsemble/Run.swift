// A training run directory: the saved config, the teacher and its cached outputs, the partition,
// each student, and the joined model — so stages can run as separate processes (a job array) and
// resume after a kill.
//
//   DIR/config.json              the resolved configuration (written by the first stage)
//   DIR/teacher.ckpt             built-in teacher weights (+ teacher.progress.ckpt while training)
//   DIR/teacher.train.{features,logits}.npy, DIR/teacher.test.logits.npy   cached teacher outputs
//   DIR/partition.json           the feature partition (K groups of teacher dims)
//   DIR/student-<k>.ckpt         trained student k (+ student-<k>.progress.ckpt while training)
//   DIR/model.sne                the ensemble: students + head + gate (written by join)
import Foundation
import SNETensor
import SNETrain
import SNEData

public final class TrainRun {
    public let dir: String
    public let config: TrainConfig
    public let compute: ComputeContext
    public let progress: ProgressSink
    private var cachedData: DatasetSplits?

    private let saveConfig: Bool
    private var prepared = false

    /// Opens the run directory. Nothing is created or written here: the directory and
    /// `config.json` are written by `prepare()` once the stage's inputs (the dataset, and an
    /// external teacher's files) have been read and checked, so a stage refused for bad input
    /// leaves no config behind for the next run to inherit.
    public init(dir: String, config: TrainConfig, progress: ProgressSink, saveConfig: Bool = true) throws {
        try config.validate()
        self.dir = dir; self.config = config; self.progress = progress; self.saveConfig = saveConfig
        compute = ComputeContext(threads: config.threads)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), !isDir.boolValue {
            throw SNEError("\(dir): exists and is not a directory")
        }
    }

    /// Creates the run directory and writes `config.json` (once, after the inputs were checked).
    func prepare() throws {
        guard !prepared else { return }
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw SNEError("\(dir): cannot create the run directory") }
        }
        if saveConfig { try config.write(configPath) }
        prepared = true
    }

    public var configPath: String { dir + "/config.json" }
    public var teacherPath: String { dir + "/teacher.ckpt" }
    public var partitionPath: String { dir + "/partition.json" }
    public var modelPath: String { dir + "/model.sne" }
    public func studentPath(_ k: Int) -> String { dir + "/student-\(k).ckpt" }

    /// Uses `d` as this run's dataset (a stage that shares its parent's data).
    func cachedDataSet(_ d: DatasetSplits) throws { cachedData = d; try prepare() }

    /// The dataset (loaded once per process).
    public func data() throws -> DatasetSplits {
        if let d = cachedData { return d }
        let t0 = Date()
        let d = try Datasets.load(config.dataset, root: config.data, limit: config.limit, testLimit: config.testLimit)
        progress.line(String(format: "data: %@ from %@: %d train, %d test images %@, %d classes (%.1f s)", d.name, d.source, d.train.count,
                             d.test.count, d.inputShape.map(String.init).joined(separator: "x"), d.classes, Date().timeIntervalSince(t0)))
        if config.augment != nil { _ = try StudentAugmenter.augmentation(d, kinds: config.augmentKinds) }   // before any stage runs
        cachedData = d
        if config.testLimit != nil, let w = SubsetBalance.warning(labels: d.test.labels, classes: d.classes, what: "the first \(d.test.count) test images (--test-limit)") {
            progress.line(w)
        }
        // With an external teacher, its files are the other input: `teacherTargets` prepares.
        if config.teacherFeatures == nil { try prepare() }
        return d
    }

    // MARK: teacher

    /// Trains the built-in teacher (resuming from its progress checkpoint with `resume`), saves it
    /// and caches its outputs on the training and test sets.
    @discardableResult
    public func trainTeacher(resume: Bool) throws -> Teacher {
        guard config.teacherFeatures == nil else { throw SNEError("this run uses an external teacher (teacherFeatures is set); nothing to train") }
        let d = try data()
        let t = try Teacher(spec: config.teacher, input: d.inputShape, classes: d.classes, seed: config.seed)
        let t0 = Date()
        try t.train(d, options: config.teacherStage, seed: config.seed, compute: compute, checkpoint: dir + "/teacher.progress.ckpt",
                    resume: resume, progress: progress)
        try t.save(to: teacherPath)
        progress.line(String(format: "teacher: test accuracy %.2f%%, %d MACs/inference, saved %@ (%@)", 100 * t.testAccuracy,
                             t.spec.macs(input: d.inputShape, classes: d.classes), teacherPath, formatDuration(Date().timeIntervalSince(t0))))
        try cacheTeacherOutputs(t)
        return t
    }

    func cacheTeacherOutputs(_ t: Teacher) throws {
        let d = try data()
        let train = try TeacherTargets.compute(t, on: d.train, compute: compute, progress: progress, what: "train")
        try train.save(prefix: dir + "/teacher.train")
        let test = try TeacherTargets.compute(t, on: d.test, compute: compute, progress: progress, what: "test")
        try test.save(prefix: dir + "/teacher.test")
        progress.line("teacher: cached outputs for \(train.count) train and \(test.count) test images (\(train.dims) features)")
    }

    /// The teacher's training-set targets: the external files, or the built-in teacher's cache
    /// (computed from `teacher.ckpt` if the cache is missing).
    public func teacherTargets() throws -> TeacherTargets {
        let d = try data()
        if let fp = config.teacherFeatures, let lp = config.teacherLogits {
            let t = try TeacherTargets.load(features: fp, logits: lp, samples: d.train.count, classes: d.classes, limited: config.limit != nil)
            try prepare()
            return t
        }
        let fp = dir + "/teacher.train.features.npy", lp = dir + "/teacher.train.logits.npy"
        if !FileManager.default.fileExists(atPath: fp) || !FileManager.default.fileExists(atPath: lp) {
            guard FileManager.default.fileExists(atPath: teacherPath) else {
                throw SNEError("\(dir): no teacher yet — run 'sne train teacher --out \(dir)' first, or give --teacher-features/--teacher-logits")
            }
            try cacheTeacherOutputs(try Teacher.load(from: teacherPath))
        }
        return try TeacherTargets.load(features: fp, logits: lp, samples: d.train.count, classes: d.classes, limited: config.limit != nil)
    }

    /// The teacher's test accuracy, when known: the built-in teacher's, or an external teacher's
    /// from its test logits (`--teacher-test-logits`) and the test labels.
    public func teacherInfo() -> [String: String] {
        if let lp = config.teacherTestLogits, let d = try? data(), let (z, zs) = try? TeacherTargets.readMatrix(lp, preferred: "logits"),
           zs[0] >= d.test.count, zs[1] == d.classes {
            var right = 0
            for i in 0..<d.test.count {
                let row = z[(i * zs[1])..<((i + 1) * zs[1])]
                if let top = row.indices.max(by: { row[$0] < row[$1] }), top - i * zs[1] == d.test.labels[i] { right += 1 }
            }
            return ["teacher.test_accuracy": String(format: "%.4f", Double(right) / Double(max(1, d.test.count))),
                    "teacher.kind": "external", "teacher.test_images": "\(d.test.count)"]
        }
        guard let t = try? Teacher.load(from: teacherPath) else { return [:] }
        var info = ["teacher.test_accuracy": String(format: "%.4f", t.testAccuracy), "teacher.width": "\(t.spec.width)"]
        info["teacher.macs"] = "\(t.spec.macs(input: t.input, classes: t.classes))"
        if let d = try? data() { info["teacher.test_images"] = "\(d.test.count)" }
        return info
    }
}
