// The SNE paper's teacher variant (`--teacher-group-dropout E`): after the partition, the teacher is
// fine-tuned for E epochs with whole feature groups dropped — per image a random subset of the K
// groups (size uniform 1…K) keeps its penultimate features, the others are zeroed — so each
// group, like each student, carries class information on its own; the students then distill the
// fine-tuned teacher's features and logits.
import Foundation
import SNETensor
import SNETrain
import SNEData

/// Zeroes whole groups of `[B, D]` features in training: per row a random subset of the groups
/// (size uniform 1…K, as the ensemble's student dropout) is kept, without rescaling — what the
/// ensemble's head sees when students are missing. Identity in evaluation.
final class GroupDropout: Layer {
    let groups: [[Int]]
    private var mask: [Float] = []
    init(groups: [[Int]]) { self.groups = groups }
    var attributes: [String: String] { ["groups": "\(groups.count)"] }
    func clearSaved() { mask = [] }

    func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        guard ctx.training, groups.count > 1 else { mask = []; return x }
        guard x.rank == 2 else { throw LayerError("GroupDropout: expected [B, D] features, got \(x.shape)") }
        let b = x.shape[0], d = x.shape[1], k = groups.count
        mask = [Float](repeating: 0, count: b * d)
        var order = Array(0..<k)
        for r in 0..<b {
            let keep = 1 + Int(ctx.rng.next() % UInt64(k))
            for i in stride(from: k - 1, to: 0, by: -1) { order.swapAt(i, Int(ctx.rng.next() % UInt64(i + 1))) }
            for g in order[..<keep] { for j in groups[g] { mask[r * d + j] = 1 } }
        }
        var y = x
        for i in 0..<y.count { y.data[i] *= mask[i] }
        return y
    }

    func backward(_ dy: Tensor, _ ctx: LayerContext) throws -> Tensor {
        if mask.isEmpty { return dy }
        var dx = dy
        for i in 0..<dx.count { dx.data[i] *= mask[i] }
        mask = []
        return dx
    }
}

extension TrainRun {
    /// The group-dropout teacher's files in the run folder (`teacher-gd.ckpt`, its cached outputs
    /// `teacher-gd.{train,test}.{features,logits}.npy`).
    var groupDropoutTeacherPath: String { dir + "/teacher-gd.ckpt" }

    /// The targets the students distill and the partition: the teacher's (or the external
    /// teacher's) outputs, or with `--teacher-group-dropout E` the outputs of the teacher fine-tuned
    /// with group dropout over that partition (fine-tuned and cached on first use).
    func distillationTargets() throws -> (targets: TeacherTargets, partition: [[Int]]) {
        let base = try teacherTargets()
        let part = try partition(base)
        guard let e = config.teacherGroupDropout, e > 0 else { return (base, part) }
        let d = try data()
        let prefix = dir + "/teacher-gd"
        if FileManager.default.fileExists(atPath: groupDropoutTeacherPath),
           let t = try? TeacherTargets.load(features: prefix + ".train.features.npy", logits: prefix + ".train.logits.npy",
                                            samples: d.train.count, classes: d.classes) {
            return (t, part)
        }
        guard config.teacherFeatures == nil else {
            throw SNEError("--teacher-group-dropout fine-tunes the built-in teacher; an external teacher (--teacher-features) cannot be fine-tuned here")
        }
        let teacher = try Teacher.load(from: teacherPath)
        guard part.allSatisfy({ $0.allSatisfy { $0 < teacher.spec.features } }) else {
            throw SNEError("\(dir)/partition.json does not fit the teacher's \(teacher.spec.features) features")
        }
        let t0 = Date()
        // The teacher's own layers with the group dropout after the pooled features.
        var layers = teacher.net.layers.map { ($0.name, $0.layer) }
        guard let at = layers.firstIndex(where: { $0.0 == "flatten" }) else { throw SNEError.failure("teacher: no flatten layer") }
        layers.insert(("groupdrop", GroupDropout(groups: part)), at: at + 1)
        let o = StageOptions(epochs: e, batch: config.teacherStage.batch, lr: config.teacherStage.lr / 4, weightDecay: config.teacherStage.weightDecay)
        try teacher.train(d, options: o, seed: config.seed &+ 0x6D0, compute: compute, checkpoint: dir + "/teacher-gd.progress.ckpt",
                          resume: true, progress: progress, net: Sequential(named: layers), name: "teacher (group dropout)", warmup: false)
        try teacher.save(to: groupDropoutTeacherPath)
        let train = try TeacherTargets.compute(teacher, on: d.train, compute: compute, progress: progress, what: "train")
        try train.save(prefix: prefix + ".train")
        let test = try TeacherTargets.compute(teacher, on: d.test, compute: compute, progress: progress, what: "test")
        try test.save(prefix: prefix + ".test")
        progress.line(String(format: "teacher (group dropout, %d epochs over the %d groups): test accuracy %.2f%%, saved %@ (%@)", e, part.count,
                             100 * teacher.testAccuracy, groupDropoutTeacherPath, formatDuration(Date().timeIntervalSince(t0))))
        return (train, part)
    }

    /// The teacher's test features the students' test R² uses.
    var teacherTestFeaturesPath: String {
        if let e = config.teacherGroupDropout, e > 0 { return dir + "/teacher-gd.test.features.npy" }
        return config.teacherTestFeatures ?? dir + "/teacher.test.features.npy"
    }
}
