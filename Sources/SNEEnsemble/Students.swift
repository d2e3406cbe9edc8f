// The ensemble stages of a run: the partition, each student's feature distillation, the join (head
// with whole-student dropout, fixed order, gate), the optional joint fine-tune, and the plain SNN.
import Foundation
import SNETensor
import SNETrain
import SNEData

/// Per-dimension standardisation of the teacher features: `(f − mean) / std` (std floored at 1e-6).
public struct FeatureNorm: Sendable {
    public var mean: [Float], std: [Float]
    public init(_ t: TeacherTargets) {
        let n = t.count, d = t.dims
        var m = [Double](repeating: 0, count: d), s = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { m[j] += Double(t.features[r * d + j]) } }
        for j in 0..<d { m[j] /= Double(n) }
        for r in 0..<n { for j in 0..<d { let x = Double(t.features[r * d + j]) - m[j]; s[j] += x * x } }
        mean = m.map { Float($0) }
        std = s.map { Float(max(($0 / Double(n)).squareRoot(), 1e-6)) }
    }

    /// The standardised columns `group` of `[N, D]` features, as `[N, |group|]`.
    public func columns(_ t: TeacherTargets, _ group: [Int]) -> [Float] {
        let g = group.count, d = t.dims
        var out = [Float](repeating: 0, count: t.count * g)
        for r in 0..<t.count { for (c, j) in group.enumerated() { out[r * g + c] = (t.features[r * d + j] - mean[j]) / std[j] } }
        return out
    }
}

/// A seeded permutation of `0..<n` for `epoch` (the order batches are taken in).
func epochOrder(_ n: Int, seed: UInt64, epoch: Int) -> [Int] {
    var rng = DataRNG(seed: seed &+ UInt64(epoch) &* 0x2545_F491_4F6C_DD1D &+ 0x51)
    var idx = Array(0..<n)
    for i in stride(from: n - 1, to: 0, by: -1) { idx.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    return idx
}

/// Images `idx` of `data` as a `[B, C, H, W]` tensor.
func imageBatch(_ data: LabeledImages, _ idx: ArraySlice<Int>) throws -> Tensor {
    try Tensor(shape: [idx.count] + data.shape.dropFirst(), data: gatherRows(data.pixels, per: data.imageSize, idx))
}

extension TrainRun {
    // MARK: partition

    /// The run's partition: read from `partition.json` when it matches K and the kind, else computed
    /// from the teacher features and saved.
    public func partition(_ t: TeacherTargets) throws -> [[Int]] {
        struct Saved: Codable { var kind: String; var students: Int; var dims: Int; var groups: [[Int]]; var within: Double; var across: Double }
        if let d = FileManager.default.contents(atPath: partitionPath), let s = try? JSONDecoder().decode(Saved.self, from: d),
           s.kind == config.partition, s.students == config.students, s.dims == t.dims {
            return s.groups
        }
        let groups = try Partition.make(config.partition, dims: t.dims, groups: config.students, features: t.features, samples: t.count, seed: config.seed)
        let coh = Partition.coherence(groups, correlation: Partition.absCorrelation(t.features, n: t.count, d: t.dims))
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        try writeAtomically(Array(try enc.encode(Saved(kind: config.partition, students: config.students, dims: t.dims, groups: groups,
                                                       within: coh.within, across: coh.across))), to: partitionPath)
        progress.line(String(format: "partition: %@, %d groups of %@ teacher features; mean |corr| within groups %.3f, across %.3f",
                             config.partition, groups.count, groups.map { String($0.count) }.joined(separator: "/"), coh.within, coh.across))
        return groups
    }

    // MARK: students

    /// Trains student k to regress its group of (standardised) teacher features, MSE through a
    /// learned projection when F differs from the group size — or, with `studentTarget(k)` =
    /// "logits", to classify: ce·CE on the labels + kl·τ²·KL to the teacher's logits through a
    /// temporary linear classifier (F → classes) that is not kept; writes `student-<k>.ckpt`.
    public func trainStudent(_ k: Int, resume: Bool) throws {
        let d = try data(), (tt, part) = try distillationTargets()
        guard k >= 0, k < part.count else { throw SNEError("student index \(k) is out of range for K = \(part.count)") }
        if resume, let ck = try? Checkpoint.read(from: studentPath(k)), ck.metadata["epochs"] == "\(config.studentStage.epochs)" {
            progress.line("student \(k): already trained (\(studentPath(k)))")
            return
        }
        let group = part[k], g = group.count
        let norm = FeatureNorm(tt)
        let target = norm.columns(tt, group)
        var rng = SeededRNG(seed: SNEModel.studentSeed(config.seed, k))
        let student = try config.studentSpec(k).build(input: d.inputShape, rng: &rng)
        config.studentSpec(k).applyCostWeights(student, input: d.inputShape, synops: config.loss.synopRateWeights)
        var stemNote: String? = nil
        if config.hasStem && k > 0 { stemNote = try loadStem(into: student) }
        let f = config.student.features, byLogits = !config.distillsFeatures(k), c = d.classes
        let proj: Linear? = byLogits ? Linear(f, c, rng: &rng) : f == g ? nil : Linear(f, g, rng: &rng)
        let net = Sequential(named: [("student", student)] + (proj.map { [("proj", $0)] } ?? []))
        let opt = AdamW(net.trainableParameters, weightDecay: config.studentStage.weightDecay, compute: compute)
        let ctx = LayerContext(compute: compute, seed: config.seed &+ 100 &+ UInt64(k), timeSteps: config.student.timesteps,
                               spikeCost: config.loss.rate ?? 0)
        let o = config.studentStage, bs = min(o.batch, d.train.count), nb = d.train.count / bs
        let total = o.epochs * nb, warm = min(100, total / 10)
        let schedule = LRSchedule.cosine(base: o.lr, total: max(1, total - warm)).withWarmup(warm)
        var order: [Int] = [], orderEpoch = -1
        let aug = try augmenter(d, teacher: true, norm: norm)
        let att = (config.loss.layerwise ?? 0) > 0 ? try teacherAttention(d) : nil
        let testN = min(2000, d.test.count)
        let testTargets: [Float]? = byLogits ? nil : try? {
            let tf = try TeacherTargets.readMatrix(teacherTestFeaturesPath, preferred: "features")
            guard tf.1[0] >= testN, tf.1[1] == tt.dims else { return nil }
            let tst = try TeacherTargets(features: Array(tf.0[0..<(testN * tt.dims)]), logits: [Float](repeating: 0, count: testN),
                                         count: testN, dims: tt.dims, classes: 1)
            return norm.columns(tst, group)   // standardised with the training set's statistics
        }()
        let t0 = Date()
        let loop = EpochLoop(name: "student \(k)", model: net, optimizer: opt, ctx: ctx, epochs: o.epochs, batchesPerEpoch: nb,
                             checkpoint: dir + "/student-\(k).progress.ckpt", progress: progress)
        try loop.run(resume: resume, step: { epoch, b in
            if epoch != orderEpoch { order = epochOrder(d.train.count, seed: config.seed &+ UInt64(k) &* 7, epoch: epoch); orderEpoch = epoch }
            let idx = order[(b * bs)..<((b + 1) * bs)]
            if byLogits {
                let view = (epoch + k) % (aug?.views ?? 1)
                let x = try aug?.images(d.train, idx, view: view) ?? imageBatch(d.train, idx)
                let teacher = config.loss.kl > 0 ? try teacherLogits(tt, idx, view: view, aug: aug) : nil
                let lab = idx.map { d.train.labels[$0] }
                let (l, z) = try trainStep(model: net, optimizer: opt, lr: schedule(opt.steps), input: x, ctx: ctx) {
                    try self.classLoss($0, labels: lab, teacher: teacher)
                }
                return StepResult(loss: Double(l), correct: zip(argmaxRows(z), lab).filter { $0 == $1 }.count, count: bs)
            }
            let x: Tensor, y: Tensor
            if let aug {
                let view = (epoch + k) % aug.views
                x = try aug.images(d.train, idx, view: view); y = try Tensor(shape: [bs, g], data: aug.columns(idx, view: view, group: group))
            } else {
                x = try imageBatch(d.train, idx); y = try Tensor(shape: [bs, g], data: gatherRows(target, per: g, idx))
            }
            let l: Float
            if let att {
                l = try layerwiseStep(student: student, proj: proj, optimizer: opt, lr: schedule(opt.steps), x: x, y: y, attention: att,
                                      idx: idx, weight: config.loss.layerwise!, ctx: ctx)
            } else {
                l = try trainStep(model: net, optimizer: opt, lr: schedule(opt.steps), input: x, ctx: ctx) {
                    let r = try Loss.mse($0, y)
                    return LossResult(value: r.value * config.loss.mse, grad: Self.scaled(r.grad, config.loss.mse))
                }.loss
            }
            return StepResult(loss: Double(l), correct: 0, count: bs, scored: 0)
        }, endOfEpoch: { _ in
            if byLogits {   // the student with its temporary classifier, on the first test images
                var right = 0
                try forEachTestBatch(net, d.test, count: testN) { lo, n, p in
                    right += zip(argmaxRows(p), d.test.labels[lo..<(lo + n)]).filter { $0 == $1 }.count
                }
                return String(format: "test acc (first %d, own classifier) %.2f%%", testN, 100 * Double(right) / Double(max(1, testN)))
            }
            guard let tgt = testTargets else { return "" }
            var se = 0.0
            try forEachTestBatch(net, d.test, count: testN) { lo, n, p in
                for i in 0..<(n * g) { let e = Double(p.data[i] - tgt[lo * g + i]); se += e * e }
            }
            return String(format: "test feature MSE %.4f (R² %.3f)", se / Double(testN * g), 1 - se / Double(testN * g))
        })
        var ck = Checkpoint(tensors: student.stateDict(), metadata: ["format": "sne-student-1", "index": "\(k)", "epochs": "\(o.epochs)",
                                                                     "group": group.map(String.init).joined(separator: ","),
                                                                     "target": byLogits ? "logits" : "features"])
        if let stemNote { ck.metadata["stem"] = stemNote }
        ck.metadata["seconds"] = String(format: "%.1f", Date().timeIntervalSince(t0))
        do { try ck.write(to: studentPath(k)) } catch let e as CheckpointError { throw SNEError.failure(e.message) }
        progress.line("student \(k): saved \(studentPath(k)) (\(formatDuration(Date().timeIntervalSince(t0))))")
    }

    /// With `--stem N`: copies student 0's first N conv blocks (conv, bn) from its checkpoint into
    /// `student` and freezes it; returns what the checkpoint records about it.
    func loadStem(into student: Sequential) throws -> String {
        let ck: Checkpoint
        do { ck = try Checkpoint.read(from: studentPath(0)) } catch {
            throw SNEError("\(studentPath(0)): student 0 is not trained yet; with --stem the other students train on its first blocks — run 'sne train student --index 0 --out \(dir)' first")
        }
        let blocks = config.stem ?? 0
        let stem = ck.byName.filter { StudentSpec.isStemTensor($0.key, blocks: blocks) }
        do { try student.loadStateDict(stem, partial: true) } catch let e as CheckpointError {
            throw SNEError("\(studentPath(0)): \(e.message) (its first blocks do not fit this student: --stem needs the same conv widths there)")
        }
        student.freeze(prefix: StudentSpec.stemLayers(blocks))
        return "student 0, \(blocks) block\(blocks == 1 ? "" : "s"), \(ck.metadata["epochs"] ?? "?") epochs"
    }

    /// Runs `net` in evaluation mode on the first `count` images of `data`, 500 at a time, and
    /// hands each batch's first index, size and output to `body`.
    func forEachTestBatch(_ net: any Layer, _ data: LabeledImages, count: Int, _ body: (Int, Int, Tensor) throws -> Void) throws {
        let ectx = LayerContext(compute: compute, training: false, timeSteps: config.student.timesteps)
        for lo in stride(from: 0, to: count, by: 500) {
            let n = min(500, count - lo)
            try body(lo, n, try net.forward(try imageBatch(data, Array(lo..<(lo + n))[...]), ectx))
        }
    }

    /// The teacher's logits `[B, classes]` on images `idx`: on augmented view `view` when `aug`
    /// holds the teacher's outputs on its views, else the cached ones on the original images.
    func teacherLogits(_ tt: TeacherTargets, _ idx: ArraySlice<Int>, view: Int, aug: StudentAugmenter?) throws -> Tensor {
        if let aug, aug.targets != nil { return try aug.logits(idx, view: view) }
        return try Tensor(shape: [idx.count, tt.classes], data: gatherRows(tt.logits, per: tt.classes, idx))
    }

    static func scaled(_ t: Tensor, _ s: Float) -> Tensor {
        if s == 1 { return t }
        var r = t
        for i in 0..<r.count { r.data[i] *= s }
        return r
    }

    // MARK: join

    /// Loads the K trained students, trains the head with whole-student dropout (cross-entropy +
    /// KL to the teacher), fixes the run order (best single student first), trains the gate, runs
    /// the optional joint fine-tune, and writes `model.sne`.
    @discardableResult
    public func join(resume: Bool) throws -> SNEModel {
        let d = try data(), (tt, part) = try distillationTargets()
        let spec = EnsembleSpec(input: d.inputShape, classes: d.classes, students: config.students, student: config.student, gate: config.gate,
                                perStudent: config.perStudentSpecs, stem: config.hasStem ? config.stem : nil)
        let model = try SNEModel(spec: spec, seed: config.seed, partition: part)
        for k in 0..<model.K {
            let ck: Checkpoint
            do { ck = try Checkpoint.read(from: studentPath(k)) } catch {
                throw SNEError("\(studentPath(k)): student \(k) is not trained yet — run 'sne train student --index \(k) --out \(dir)'")
            }
            do { try model.students[k].loadStateDict(ck.byName) } catch let e as CheckpointError {
                throw SNEError("\(studentPath(k)): \(e.message) (trained with another configuration?)")
            }
        }
        if spec.hasStem {   // every student must hold student 0's stem, bit for bit
            let s0 = StudentSpec.stemState(model.students[0], blocks: spec.stemBlocks)
            for k in 1..<model.K {
                for (name, t) in StudentSpec.stemState(model.students[k], blocks: spec.stemBlocks) where s0[name]?.data != t.data {
                    throw SNEError("\(studentPath(k)): its stem differs from student 0's (was student 0 retrained after it?) — retrain student \(k) with --stem")
                }
            }
        }
        let t0 = Date()
        var trainF = try Features.compute(model, d.train, compute: compute, progress: progress, what: "train")
        try trainHead(model, features: trainF, labels: d.train.labels, teacherLogits: tt.logits, resume: resume, name: "head")
        model.order = try Features.singleStudentOrder(model, trainF, labels: d.train.labels, compute: compute)
        if config.isCascade {
            if spec.perStudent != nil {
                // Students of different sizes: the cheapest first (ties keep the accuracy order).
                let cost = (0..<model.K).map { spec.studentSpec($0).denseMACs(input: spec.input) }
                model.order = model.order.enumerated().sorted { (cost[$0.element], $0.offset) < (cost[$1.element], $1.offset) }.map(\.element)
            }
            // The order is fixed from here on: every stage after this trains its prefixes.
            progress.line("cascade: fixed order \(model.order.map(String.init).joined(separator: ",")); every prefix trained as a classifier")
        }
        let temps = config.isCascade && config.prefixTemperature == true && model.K > 1 ? PrefixTemperature(K: model.K) : nil
        if config.finetuneStage.epochs > 0 {
            try finetune(model, data: d, targets: tt, partition: part, resume: resume, temperatures: temps)
            trainF = try Features.compute(model, d.train, compute: compute, progress: progress, what: "train")
            try trainHead(model, features: trainF, labels: d.train.labels, teacherLogits: tt.logits, resume: resume, name: "head (after fine-tune)",
                          prefixes: config.isCascade, temperatures: temps)
            if !config.isCascade { model.order = try Features.singleStudentOrder(model, trainF, labels: d.train.labels, compute: compute) }
        } else if config.isCascade {
            try trainHead(model, features: trainF, labels: d.train.labels, teacherLogits: tt.logits, resume: resume, name: "head (prefixes)",
                          prefixes: true, temperatures: temps)
        }
        if let temps {
            model.info["train.prefix_scales"] = temps.summary
            progress.line("cascade: learned prefix temperatures (prefix:scale) \(temps.summary)")
        }
        if model.gate != nil { try trainGate(model, data: d, features: trainF, resume: resume) }
        model.info.merge(teacherInfo()) { a, _ in a }
        model.info["partition.kind"] = config.partition
        model.info["train.images"] = "\(d.train.count)"   // the first N training images; the rest are held out (sne check --held-out)
        if config.isCascade { model.info["train.cascade"] = "1" }
        model.info["dataset"] = d.name
        model.info.merge(DataFingerprint.info(for: d)) { $1 }
        model.info["train.seconds.join"] = String(format: "%.1f", Date().timeIntervalSince(t0))
        try model.save(to: modelPath)
        let testF = try Features.compute(model, d.test, compute: compute, progress: progress, what: "test")
        let scores = try model.gateScores(try Features.allImages(d.test), compute: compute)
        var line = "join: test accuracy by budget k (fixed order \(model.order.map(String.init).joined(separator: ",")))"
        for k in 1...model.K {
            let fixed = try Features.accuracy(model, testF, labels: d.test.labels, budget: k, scores: nil, compute: compute)
            line += String(format: "  k=%d %.2f%%", k, 100 * fixed)
            if let scores {
                let gated = try Features.accuracy(model, testF, labels: d.test.labels, budget: k, scores: scores, compute: compute)
                line += String(format: " (gate %.2f%%)", 100 * gated)
            }
        }
        progress.line(line)
        progress.line("join: saved \(modelPath)")
        return model
    }

    /// Head training over cached student features `[N, K·F]`: per sample a random number k of
    /// students (uniform 1…K) stay, the rest are zeroed (absent students contribute nothing, as in
    /// the integer program) — a random subset of that size, or with `prefixes` the first k of
    /// `model.order` (cascade); loss = ce·CE + kl·KL(τ).
    func trainHead(_ model: SNEModel, features: [Float], labels: [Int], teacherLogits: [Float]?, resume: Bool, name: String,
                   prefixes: Bool = false, temperatures temps: PrefixTemperature? = nil) throws {
        let o = config.headStage, n = labels.count, kf = model.K * model.F, K = model.K, F = model.F, c = model.spec.classes
        let bs = min(o.batch, n), nb = n / bs
        // With prefix temperatures the head and the temperatures train (and checkpoint) together.
        let trained: any Layer = prefixes ? temps.map { Sequential(named: [("head", model.head), ("prefix", $0)]) } ?? model.head : model.head
        let opt = AdamW(trained.trainableParameters, weightDecay: o.weightDecay, compute: compute)
        let ctx = LayerContext(compute: compute, seed: config.seed &+ 0x4EAD)
        let total = max(1, o.epochs * nb)
        let schedule = LRSchedule.cosine(base: o.lr, total: total)
        var order: [Int] = [], orderEpoch = -1
        let useKL = config.loss.kl > 0 && teacherLogits != nil
        let loop = EpochLoop(name: name, model: trained, optimizer: opt, ctx: ctx, epochs: o.epochs, batchesPerEpoch: nb,
                             checkpoint: dir + (name == "head" ? "/head.progress.ckpt" : name == "head (prefixes)" ? "/head-prefixes.progress.ckpt" : "/head-finetuned.progress.ckpt"), progress: progress)
        try loop.run(resume: resume, step: { epoch, b in
            if epoch != orderEpoch { order = epochOrder(n, seed: config.seed &+ 0x4EAD, epoch: epoch); orderEpoch = epoch }
            let idx = order[(b * bs)..<((b + 1) * bs)]
            var x = try Tensor(shape: [bs, kf], data: gatherRows(features, per: kf, idx))
            var kept = [Int](repeating: K, count: bs)
            if K > 1 {
                for r in 0..<bs {
                    var keep = 1 + Int(ctx.rng.next() % UInt64(K))
                    if prefixes && config.cascadeWeights == "linear" {   // P(keep = k) ∝ k
                        var u = Int(ctx.rng.next() % UInt64(K * (K + 1) / 2))
                        keep = 1
                        while u >= keep { u -= keep; keep += 1 }
                    }
                    var ids = prefixes ? model.order : Array(0..<K)
                    if !prefixes { for i in stride(from: K - 1, to: 0, by: -1) { ids.swapAt(i, Int(ctx.rng.next() % UInt64(i + 1))) } }
                    for s in ids[keep...] { for j in 0..<F { x.data[r * kf + s * F + j] = 0 } }
                    kept[r] = keep
                }
            }
            let lab = idx.map { labels[$0] }
            let (l, y) = try trainStep(model: trained, optimizer: opt, lr: schedule(opt.steps), input: x, ctx: ctx) { z in
                let teacher = useKL ? try Tensor(shape: [bs, c], data: gatherRows(teacherLogits!, per: c, idx)) : nil
                if let temps, prefixes { return try temps.loss(z, prefix: kept) { try self.classLoss($0, labels: lab, teacher: teacher) } }
                return try self.classLoss(z, labels: lab, teacher: teacher)
            }
            let pred = argmaxRows(y)
            return StepResult(loss: Double(l), correct: zip(pred, lab).filter { $0 == $1 }.count, count: bs)
        })
    }

    /// `ce·CE(z, labels) + kl·τ²·KL(teacher/τ ‖ z/τ)` with its gradient.
    func classLoss(_ z: Tensor, labels: [Int], teacher: Tensor?) throws -> LossResult {
        let ce = try Loss.crossEntropy(z, labels: labels)
        var value = ce.value * config.loss.ce
        var grad = Self.scaled(ce.grad, config.loss.ce)
        if let teacher, config.loss.kl > 0 {
            let kl = try Loss.distillationKL(student: z, teacher: teacher, temperature: config.loss.tau)
            value += kl.value * config.loss.kl
            for i in 0..<grad.count { grad.data[i] += kl.grad.data[i] * config.loss.kl }
        }
        return LossResult(value: value, grad: grad)
    }

    /// The gate learns, per input, which students serve it best: its K scores are trained toward
    /// `softmax(−L_k / 0.5)`, `L_k` the head's cross-entropy with student k alone on that input
    /// (soft cross-entropy, i.e. KL at temperature 1).
    func trainGate(_ model: SNEModel, data d: DatasetSplits, features: [Float], resume: Bool) throws {
        guard let gate = model.gate else { return }
        let n = d.train.count, K = model.K
        let single = try Features.singleStudentLosses(model, features, labels: d.train.labels, compute: compute)   // [N, K]
        var target = [Float](repeating: 0, count: n * K)
        for i in 0..<(n * K) { target[i] = -single[i] / 0.5 }
        let o = config.gateStage, bs = min(o.batch, n), nb = n / bs
        let opt = AdamW(gate.trainableParameters, weightDecay: o.weightDecay, compute: compute)
        let ctx = LayerContext(compute: compute, seed: config.seed &+ 0x6A7E)
        let schedule = LRSchedule.cosine(base: o.lr, total: max(1, o.epochs * nb))
        var order: [Int] = [], orderEpoch = -1
        let loop = EpochLoop(name: "gate", model: gate, optimizer: opt, ctx: ctx, epochs: o.epochs, batchesPerEpoch: nb,
                             checkpoint: dir + "/gate.progress.ckpt", progress: progress)
        try loop.run(resume: resume, step: { epoch, b in
            if epoch != orderEpoch { order = epochOrder(n, seed: config.seed &+ 0x6A7E, epoch: epoch); orderEpoch = epoch }
            let idx = order[(b * bs)..<((b + 1) * bs)]
            let x = try imageBatch(d.train, idx)
            let t = try Tensor(shape: [bs, K], data: gatherRows(target, per: K, idx))
            let (l, y) = try trainStep(model: gate, optimizer: opt, lr: schedule(opt.steps), input: x, ctx: ctx) {
                try Loss.distillationKL(student: $0, teacher: t, temperature: 1)
            }
            // "acc": how often the gate's first choice is the best single student.
            let pick = argmaxRows(y), best = argmaxRows(t)
            return StepResult(loss: Double(l), correct: zip(pick, best).filter { $0 == $1 }.count, count: bs)
        })
    }

    /// Joint fine-tune: per batch a random subset of students (size uniform 1…K) runs in training
    /// mode; loss = ce·CE + kl·KL on the head's logits + mse·MSE of each active student's features to
    /// its standardised teacher group (when F equals the group size); students and head update.
    /// Cascade (`config.isCascade`): every student runs, and the class loss is the mean over the K
    /// prefixes of `model.order` of ce·CE + kl·KL on the head's logits with only that prefix present,
    /// so student `order[0]` learns from all K terms and every prefix is a classifier.
    func finetune(_ model: SNEModel, data d: DatasetSplits, targets tt: TeacherTargets?, partition part: [[Int]], resume: Bool,
                  temperatures temps: PrefixTemperature? = nil) throws {
        let o = config.finetuneStage, n = d.train.count, K = model.K, F = model.F, c = model.spec.classes
        let bs = min(o.batch, n), nb = n / bs
        let norm = tt.map { FeatureNorm($0) }
        let groupTargets: [[Float]]? = (tt != nil && config.loss.mse > 0 && part.allSatisfy { $0.count == F }) ? part.map { norm!.columns(tt!, $0) } : nil
        let all = Sequential(named: model.students.enumerated().map { ("student\($0.offset)", $0.element as any Layer) } + [("head", model.head)]
                             + (temps.map { [("prefix", $0 as any Layer)] } ?? []))
        // A shared stem trains here too, jointly: computed once per batch by student 0's layers,
        // fed to every student's remaining layers, its gradient the sum over the students; its
        // values are copied into the other students' (frozen) copies after every epoch.
        let stem = StemTraining(model)
        defer { stem?.finish() }
        let opt = AdamW(all.trainableParameters, weightDecay: o.weightDecay, compute: compute)
        let ctx = LayerContext(compute: compute, seed: config.seed &+ 0xF17E, timeSteps: model.T, spikeCost: config.loss.finetuneSpikeCost)
        for (k, s) in model.students.enumerated() {
            model.spec.studentSpec(k).applyCostWeights(s, input: model.spec.input, synops: config.loss.synopRateWeights)
        }
        let schedule = LRSchedule.cosine(base: o.lr, total: max(1, o.epochs * nb))
        var order: [Int] = [], orderEpoch = -1
        // TET (`--tet`): the students' readouts pass every step's features through, the head maps
        // each step's features (rows t·B + b) to logits, CE and KL average over the T·B rows.
        let tet = config.loss.tet ?? false, T = model.T, rows = tet ? T * bs : bs
        let readouts = model.students.compactMap { $0.layers.last?.layer as? Readout }
        let aug = try augmenter(d, teacher: tt != nil && (config.loss.kl > 0 || groupTargets != nil), norm: norm)
        let viewTargets = aug?.targets == nil ? nil : aug   // the teacher's outputs on the views, when the stage uses them
        let loop = EpochLoop(name: K > 1 ? "fine-tune" : "plain SNN", model: all, optimizer: opt, ctx: ctx, epochs: o.epochs, batchesPerEpoch: nb,
                             checkpoint: dir + "/finetune.progress.ckpt", progress: progress)
        try loop.run(resume: resume, step: { epoch, b in
            if epoch != orderEpoch { order = epochOrder(n, seed: config.seed &+ 0xF17E, epoch: epoch); orderEpoch = epoch }
            let idx = order[(b * bs)..<((b + 1) * bs)]
            let view = epoch % (aug?.views ?? 1)
            let x = try aug?.images(d.train, idx, view: view) ?? imageBatch(d.train, idx)
            let lab = idx.map { d.train.labels[$0] }
            var active = Array(0..<K)
            if K > 1 && !config.isCascade {
                let keep = 1 + Int(ctx.rng.next() % UInt64(K))
                for i in stride(from: K - 1, to: 0, by: -1) { active.swapAt(i, Int(ctx.rng.next() % UInt64(i + 1))) }
                active = Array(active[..<keep]).sorted()
            }
            all.zeroGrad()
            ctx.training = true
            for r in readouts { r.perStep = tet }
            defer { for r in readouts { r.perStep = false } }
            var feats: [Int: Tensor] = [:]
            let h0 = try stem?.forward(x, ctx)
            for k in active { feats[k] = try stem?.rest(k).forward(h0!, ctx) ?? model.students[k].forward(x, ctx) }
            var teacher = (tt != nil && config.loss.kl > 0) ? try teacherLogits(tt!, idx, view: view, aug: viewTargets) : nil
            let labels = tet ? Array(repeating: lab, count: T).flatMap { $0 } : lab
            if tet, let t0 = teacher { teacher = try Tensor(shape: [rows, c], data: Array(repeating: t0.data, count: T).flatMap { $0 }) }
            // One class-loss term per prefix (cascade) or one for the active set; the head's
            // gradient accumulates over the terms, the feature gradient is summed into dcat.
            let prefixes: [[Int]] = config.isCascade ? (1...K).map { Array(model.order[..<$0]) } : [active]
            var loss = 0.0 as Float, z = Tensor(zeros: [rows, c]), dcat = Tensor(zeros: [rows, K * F])
            for p in prefixes {
                let w = config.isCascade ? config.prefixWeight(p.count, of: K) : 1
                z = try model.head.forward(model.concat(feats.filter { p.contains($0.key) }, batch: rows), ctx)
                let cl = try temps.map { t in try t.loss(z, prefix: [p.count], weight: w) { try classLoss($0, labels: labels, teacher: teacher) } }
                    ?? classLoss(z, labels: labels, teacher: teacher)
                loss += cl.value * w
                let dk = try model.head.backward(Self.scaled(cl.grad, w), ctx)
                for k in p { for r in 0..<rows { for j in 0..<F { dcat.data[r * K * F + k * F + j] += dk.data[r * K * F + k * F + j] } } }
            }
            for k in active {
                var df = Tensor(zeros: [rows, F])
                for r in 0..<rows { for j in 0..<F { df.data[r * F + j] = dcat.data[r * K * F + k * F + j] } }
                if let gt = groupTargets, config.distillsFeatures(k) {
                    // On the mean feature over T (what the program's readout gives) in both modes.
                    let mean = tet ? Readout.mean(feats[k]!, steps: T) : feats[k]!
                    let target = try Tensor(shape: [bs, F], data: viewTargets?.columns(idx, view: view, group: part[k]) ?? gatherRows(gt[k], per: F, idx))
                    let m = try Loss.mse(mean, target)
                    loss += m.value * config.loss.mse
                    // d mean / d f[t] = 1/T: each step's rows get the mean's gradient over T
                    for i in 0..<df.count { df.data[i] += m.grad.data[i % (bs * F)] * config.loss.mse / Float(tet ? T : 1) }
                }
                if let stem { stem.accumulate(try stem.rest(k).backward(df, ctx)) } else { _ = try model.students[k].backward(df, ctx) }
            }
            try stem?.backward(ctx)   // before clearing: an inactive student 0 holds the stem's layers
            for k in 0..<K where !active.contains(k) { model.students[k].clearSaved() }
            opt.step(lr: schedule(opt.steps))
            let pred = argmaxRows(tet ? Readout.mean(z, steps: T) : z)
            return StepResult(loss: Double(loss), correct: zip(pred, lab).filter { $0 == $1 }.count, count: bs)
        }, endOfEpoch: { _ in
            stem?.sync()
            let testN = min(2000, d.test.count)
            let tf = try Features.compute(model, d.test.prefix(testN), compute: self.compute, progress: .silent, what: "test")
            let acc = try Features.accuracy(model, tf, labels: Array(d.test.labels[0..<testN]), budget: K, scores: nil, compute: self.compute)
            return String(format: "test acc (first %d, all students) %.2f%%", testN, 100 * acc)
        })
    }

    // MARK: plain SNN

    /// The plain SNN baseline: one student (K = 1) and the linear head trained end to end with
    /// cross-entropy on the labels only (no teacher), `studentStage` epochs; writes `model.sne`.
    @discardableResult
    public func trainPlain(resume: Bool) throws -> SNEModel {
        let d = try data()
        let spec = EnsembleSpec(input: d.inputShape, classes: d.classes, students: 1, student: config.student, gate: nil)
        let model = try SNEModel(spec: spec, seed: config.seed)
        let sub = try TrainRun(dir: dir, config: { var c = config; c.finetuneStage = c.studentStage; c.loss.kl = 0; c.loss.mse = 0; c.loss.ce = 1; return c }(),
                               progress: progress, saveConfig: false)
        try sub.cachedDataSet(d)
        let t0 = Date()
        try sub.finetune(model, data: d, targets: nil, partition: [], resume: resume)
        model.info["kind"] = "plain"
        model.info["train.images"] = "\(d.train.count)"
        model.info["dataset"] = d.name
        model.info.merge(DataFingerprint.info(for: d)) { $1 }
        model.info["train.seconds"] = String(format: "%.1f", Date().timeIntervalSince(t0))
        try model.save(to: modelPath)
        let tf = try Features.compute(model, d.test, compute: compute, progress: progress, what: "test")
        let acc = try Features.accuracy(model, tf, labels: d.test.labels, budget: 1, scores: nil, compute: compute)
        progress.line(String(format: "plain SNN: test accuracy %.2f%%, saved %@", 100 * acc, modelPath))
        return model
    }
}

/// The joint training of a shared stem in the fine-tune (`--stem N`): student 0's first blocks run
/// once per batch, unfrozen; every student's remaining layers run on their output; the stem's
/// input gradient is the sum of the students'. `sync` copies the stem into the other students'
/// frozen copies (so each student alone still computes what the program computes), `finish`
/// does that and freezes the stem again.
final class StemTraining {
    let model: SNEModel
    let n: Int
    let stem: Sequential
    let rests: [Sequential]
    var dh: Tensor? = nil

    init?(_ model: SNEModel) {
        guard model.spec.hasStem else { return nil }
        self.model = model
        let n = StudentSpec.stemLayers(model.spec.stemBlocks)
        self.n = n
        stem = Sequential(named: Array(model.students[0].layers[0..<n]))   // the same layer objects
        rests = model.students.map { Sequential(named: Array($0.layers[n...])) }
        for (_, p) in model.students[0].namedParameters() { p.frozen = false }
        for r in rests { if let c = r.layers.first?.layer as? Conv2d { c.needsInputGradient = true } }
    }

    func rest(_ k: Int) -> Sequential { rests[k] }

    func forward(_ x: Tensor, _ ctx: LayerContext) throws -> Tensor {
        dh = nil
        return try stem.forward(x, ctx)
    }

    /// Adds one student's gradient with respect to the stem's output.
    func accumulate(_ g: Tensor) {
        if dh == nil { dh = g } else { dh!.addInPlace(g) }
    }

    func backward(_ ctx: LayerContext) throws {
        if let g = dh { _ = try stem.backward(g, ctx) } else { stem.clearSaved() }
        dh = nil
    }

    func sync() {
        let s0 = StudentSpec.stemState(model.students[0], blocks: model.spec.stemBlocks)
        for s in model.students.dropFirst() {
            for (name, p) in s.namedParameters() { if let v = s0[name] { p.value = v } }
        }
    }

    func finish() {
        sync()
        for s in model.students { s.freeze(prefix: n) }
    }
}

