// Augmentation for the student stages (`--augment`): each training image has A fixed augmented
// views (random crop after zero padding, and a horizontal flip where the dataset allows it); the
// teacher's targets on every view are computed once, by running the teacher on the view, and
// cached beside the teacher, so the students and every run sharing that teacher reuse them.
import Foundation
import SNETensor
import SNETrain
import SNEData

/// The augmented views of a training set and the teacher's outputs on them (`TrainConfig.augment`).
///
/// View `a` of image `i` is a function of `(i, a)` only (not of the run's seed), so the cache is
/// shared by all students, stages and seeds. Epoch `e` of a stage uses view `(e + offset) mod A`.
/// Pixels stay the dataset's uint8 / 255 values (a crop pads with 0, a flip moves pixels): an
/// augmented image is an image the integer program could be given.
final class StudentAugmenter {
    /// Views per image.
    static let views = 4
    var views: Int { Self.views }
    let augmentation: Augmentation
    /// Rows `a·N + i`: the teacher on view a of image i (nil: a stage without a teacher).
    let targets: TeacherTargets?
    let norm: FeatureNorm?
    let count: Int

    init(_ augmentation: Augmentation, data: DatasetSplits, targets: TeacherTargets?, norm: FeatureNorm?) {
        self.augmentation = augmentation
        self.targets = targets; self.norm = norm; self.count = data.train.count
    }

    /// `kinds` ⊆ {crop, flip} on `data`; refuses a flip where the dataset forbids it (`TrainRun.data`
    /// checks it this way when the data is loaded).
    static func augmentation(_ data: DatasetSplits, kinds: Set<String>) throws -> Augmentation {
        if kinds.contains("flip") && !data.allowsFlip {
            throw SNEError("--augment flip: \(data.name) images change meaning when mirrored; use --augment crop")
        }
        return Augmentation(cropPadding: kinds.contains("crop") ? data.cropPadding : 0, horizontalFlip: kinds.contains("flip"))
    }

    /// View `view` of images `idx` as `[B, C, H, W]`.
    static func images(_ data: LabeledImages, _ idx: ArraySlice<Int>, view: Int, augmentation: Augmentation) throws -> Tensor {
        let n = data.imageSize, c = data.shape[1], h = data.shape[2], w = data.shape[3]
        var pixels = gatherRows(data.pixels, per: n, idx)
        var img = [Float](repeating: 0, count: n)
        for (r, i) in idx.enumerated() {
            var rng = DataRNG(seed: UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(view) &* 0xBF58_476D_1CE4_E5B9 &+ 0xA06)
            for j in 0..<n { img[j] = pixels[r * n + j] }
            augmentation.apply(&img, c: c, h: h, w: w, rng: &rng)
            for j in 0..<n { pixels[r * n + j] = img[j] }
        }
        return try Tensor(shape: [idx.count, c, h, w], data: pixels)
    }

    /// View `view` of training images `idx`.
    func images(_ data: LabeledImages, _ idx: ArraySlice<Int>, view: Int) throws -> Tensor {
        try Self.images(data, idx, view: view, augmentation: augmentation)
    }

    /// The standardised teacher feature columns `group` on view `view` of images `idx`, `[B, |group|]`.
    func columns(_ idx: ArraySlice<Int>, view: Int, group: [Int]) -> [Float] {
        let t = targets!, d = t.dims, g = group.count, base = view * count
        var out = [Float](repeating: 0, count: idx.count * g)
        for (r, i) in idx.enumerated() {
            let row = (base + i) * d
            for (k, j) in group.enumerated() { out[r * g + k] = (t.features[row + j] - norm!.mean[j]) / norm!.std[j] }
        }
        return out
    }

    /// The teacher's logits on view `view` of images `idx`, `[B, classes]`.
    func logits(_ idx: ArraySlice<Int>, view: Int) throws -> Tensor {
        let t = targets!
        return try Tensor(shape: [idx.count, t.classes], data: gatherRows(t.logits, per: t.classes, idx.map { view * count + $0 }[...]))
    }
}

extension TrainRun {
    /// The augmenter of a run with `--augment` (nil without it). `teacher`: whether the stage needs
    /// the teacher's targets on the views; they come from the built-in teacher only (an external
    /// teacher's outputs exist for the original images alone).
    func augmenter(_ d: DatasetSplits, teacher needsTeacher: Bool, norm: FeatureNorm?) throws -> StudentAugmenter? {
        guard config.augment != nil else { return nil }
        let views = StudentAugmenter.views, aug = try StudentAugmenter.augmentation(d, kinds: config.augmentKinds)
        guard needsTeacher else { return StudentAugmenter(aug, data: d, targets: nil, norm: nil) }
        guard config.teacherFeatures == nil else {
            throw SNEError("--augment needs the built-in teacher (its targets are computed on the augmented images); an external teacher (--teacher-features) gives them for the original images only")
        }
        guard FileManager.default.fileExists(atPath: teacherPath) else {
            throw SNEError("\(dir): --augment runs the teacher on the augmented images, and \(teacherPath) is missing — run 'sne train teacher --out \(dir)' first")
        }
        // Beside the teacher checkpoint (through a symlink: runs sharing a teacher share the cache).
        let home = URL(fileURLWithPath: teacherPath).resolvingSymlinksInPath().deletingLastPathComponent().path
        let kinds = ["crop", "flip"].filter(config.augmentKinds.contains).joined(separator: "-")
        let prefix = home + "/teacher.train.aug-\(kinds)-\(views)x\(d.train.count)"
        let rows = views * d.train.count
        if let t = try? TeacherTargets.load(features: prefix + ".features.npy", logits: prefix + ".logits.npy", samples: rows, classes: d.classes) {
            return StudentAugmenter(aug, data: d, targets: t, norm: norm)
        }
        let teacher = try Teacher.load(from: teacherPath)
        let t0 = Date(), n = d.train.count
        // Row v·N + i is view v of image i: the views one after the other (a batch may span two).
        let t = try TeacherTargets.compute(teacher, count: rows, compute: compute, progress: progress, what: "\(views) augmented views") { r in
            var pixels: [Float] = [], lo = r.lowerBound
            while lo < r.upperBound {
                let v = lo / n, hi = min(r.upperBound, (v + 1) * n)
                pixels += try StudentAugmenter.images(d.train, Array((lo - v * n)..<(hi - v * n))[...], view: v, augmentation: aug).data
                lo = hi
            }
            return try Tensor(shape: [r.count] + d.train.shape.dropFirst(), data: pixels)
        }
        try t.save(prefix: prefix)
        progress.line("teacher: cached outputs on \(views) augmented views of \(d.train.count) train images in \(prefix).*.npy (\(formatDuration(Date().timeIntervalSince(t0))))")
        return StudentAugmenter(aug, data: d, targets: t, norm: norm)
    }
}
