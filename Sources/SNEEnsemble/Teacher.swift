// The ANN teacher: a small VGG-style CNN trained with augmentation and a cosine schedule, and the
// per-sample targets (penultimate features and logits) it gives the students, computed once and cached.
import Foundation
import SNETensor
import SNETrain
import SNEData

/// The built-in teacher: `[conv3x3 + BN + ReLU] x2 → pool → [conv3x3 + BN + ReLU] x2 → pool →
/// conv3x3 + BN + ReLU → global average pool` gives the D = 4·width penultimate features, then
/// dropout and a linear classifier. Channels: width, width, 2·width, 2·width, 4·width.
public struct TeacherSpec: Codable, Equatable, Sendable {
    public var width: Int
    public var dropout: Float
    public init(width: Int = 32, dropout: Float = 0.1) { self.width = width; self.dropout = dropout }

    public var features: Int { 4 * width }

    public func build(input: [Int], classes: Int, rng: inout SeededRNG) throws -> Sequential {
        guard (4...256).contains(width) else { throw SNEError("teacher width \(width): must be 4…256") }
        guard input.count == 3, input[1] >= 4, input[2] >= 4 else { throw SNEError("teacher: input \(input) must be [C, H, W] with H, W ≥ 4") }
        let w = width, c = input[0]
        var l: [(String, any Layer)] = []
        func block(_ i: Int, _ cin: Int, _ cout: Int) {
            l.append(("conv\(i)", Conv2d(cin, cout, kernelSize: 3, padding: 1, needsInputGradient: i > 1, rng: &rng)))
            l.append(("bn\(i)", BatchNorm2d(cout)))
            l.append(("relu\(i)", ReLU()))
        }
        block(1, c, w); block(2, w, w); l.append(("pool1", MaxPool2d(2)))
        block(3, w, 2 * w); block(4, 2 * w, 2 * w); l.append(("pool2", MaxPool2d(2)))
        block(5, 2 * w, 4 * w)
        l.append(("gap", AvgPool2d(input[1] / 4)))
        l.append(("flatten", Flatten()))
        if dropout > 0 { l.append(("drop", Dropout(dropout))) }
        l.append(("fc", Linear(4 * w, classes, rng: &rng)))
        return Sequential(named: l)
    }

    /// Multiply-accumulates of one dense inference on a `[C, H, W]` input (what the teacher costs).
    public func macs(input: [Int], classes: Int) -> Int {
        let c = input[0], h = input[1], w = input[2], k = 9, wd = width
        let full = h * w, half = (h / 2) * (w / 2), quarter = (h / 4) * (w / 4)
        return full * k * (c * wd + wd * wd) + half * k * (wd * 2 * wd + 2 * wd * 2 * wd) + quarter * k * (2 * wd * 4 * wd) + 4 * wd * classes
    }
}

/// A trained teacher network with its spec.
public final class Teacher {
    public let spec: TeacherSpec
    public let input: [Int]
    public let classes: Int
    public let net: Sequential
    public var testAccuracy: Double = .nan

    public init(spec: TeacherSpec, input: [Int], classes: Int, seed: UInt64) throws {
        self.spec = spec; self.input = input; self.classes = classes
        var rng = SeededRNG(seed: seed &+ 0x7EAC)
        net = try spec.build(input: input, classes: classes, rng: &rng)
    }

    /// Penultimate features `[B, D]` and logits `[B, classes]` in evaluation mode.
    public func callAsFunction(_ x: Tensor, compute: ComputeContext) throws -> (features: Tensor, logits: Tensor) {
        let ctx = LayerContext(compute: compute, training: false)
        var h = x, i = 0, feats: Tensor? = nil
        while i < net.layers.count {
            let (y, used) = try net.forwardStep(i, h, ctx)
            h = y
            if net.layers[i + used - 1].name == "flatten" { feats = h }
            i += used
        }
        return (feats!, h)
    }

    static let format = "sne-teacher-1"

    public func save(to path: String) throws {
        var meta: [String: String] = ["format": Self.format, "input": input.map(String.init).joined(separator: ","),
                                      "classes": "\(classes)", "test_accuracy": "\(testAccuracy)"]
        meta["spec"] = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        do { try Checkpoint(tensors: net.stateDict(), metadata: meta).write(to: path) } catch let e as CheckpointError { throw SNEError.failure(e.message) }
    }

    public static func load(from path: String) throws -> Teacher {
        let ck: Checkpoint
        do { ck = try Checkpoint.read(from: path) } catch let e as CheckpointError { throw SNEError(e.message) }
        guard ck.metadata["format"] == format, let sj = ck.metadata["spec"],
              let spec = try? JSONDecoder().decode(TeacherSpec.self, from: Data(sj.utf8)),
              let classes = Int(ck.metadata["classes"] ?? "") else {
            throw SNEError("\(path): not an sne teacher (train one with 'sne train teacher')")
        }
        let input = (ck.metadata["input"] ?? "").split(separator: ",").compactMap { Int($0) }
        let t = try Teacher(spec: spec, input: input, classes: classes, seed: 0)
        do { try t.net.loadStateDict(ck.byName) } catch let e as CheckpointError { throw SNEError("\(path): \(e.message)") }
        t.testAccuracy = Double(ck.metadata["test_accuracy"] ?? "") ?? .nan
        return t
    }
}

/// Options of a training stage that the CLI sets.
public struct StageOptions: Codable, Equatable, Sendable {
    public var epochs: Int
    public var batch: Int
    public var lr: Float
    public var weightDecay: Float
    public init(epochs: Int, batch: Int = 128, lr: Float = 2e-3, weightDecay: Float = 0) {
        self.epochs = epochs; self.batch = batch; self.lr = lr; self.weightDecay = weightDecay
    }
}

/// Evaluation-mode accuracy of a classifier `Sequential` on `data`.
func classifierAccuracy(_ net: Sequential, _ data: LabeledImages, compute: ComputeContext, timeSteps: Int = 1) throws -> Double {
    let ctx = LayerContext(compute: compute, training: false, timeSteps: timeSteps)
    var correct = 0
    let bs = 200   // as TeacherTargets.compute: activations under the mmap threshold; eval results do not depend on the batch
    for lo in stride(from: 0, to: data.count, by: bs) {
        let n = min(bs, data.count - lo)
        let x = try Tensor(shape: [n] + data.shape.dropFirst(), data: Array(data.pixels[(lo * data.imageSize)..<((lo + n) * data.imageSize)]))
        let pred = argmaxRows(try net.forward(x, ctx))
        for i in 0..<n where pred[i] == data.labels[lo + i] { correct += 1 }
    }
    return Double(correct) / Double(max(data.count, 1))
}

extension Teacher {
    /// Trains the teacher on `data.train` (cross-entropy, AdamW, cosine schedule with warm-up,
    /// random crop with 2-pixel padding and a horizontal flip where the dataset allows it), printing
    /// the test accuracy after each epoch. `checkpoint` enables per-epoch checkpoints and resume.
    /// `net` (default: the teacher's own) may wrap the teacher's layers with extra ones (the group
    /// dropout fine-tune); `warmup: false` starts the cosine schedule at its base rate.
    public func train(_ data: DatasetSplits, options o: StageOptions, seed: UInt64, compute: ComputeContext,
                      checkpoint: String?, resume: Bool, progress: ProgressSink, net: Sequential? = nil, name: String = "teacher",
                      warmup: Bool = true) throws {
        let net = net ?? self.net
        let aug = Augmentation(cropPadding: data.cropPadding, horizontalFlip: data.allowsFlip)
        let loader: BatchLoader
        do { loader = try BatchLoader(data.train, batchSize: min(o.batch, data.train.count), seed: seed, augmentation: aug, dropLast: true) }
        catch let e as DataError { throw SNEError(e.message) }
        let opt = AdamW(net.trainableParameters, weightDecay: o.weightDecay, compute: compute)
        let ctx = LayerContext(compute: compute, seed: seed &+ 11)
        let total = o.epochs * loader.batchesPerEpoch, warm = warmup ? min(200, total / 10) : 0
        let schedule = LRSchedule.cosine(base: o.lr, total: max(1, total - warm)).withWarmup(warm)
        var batches: EpochBatches? = nil, currentEpoch = -1
        let loop = EpochLoop(name: name, model: net, optimizer: opt, ctx: ctx, epochs: o.epochs,
                             batchesPerEpoch: loader.batchesPerEpoch, checkpoint: checkpoint, progress: progress)
        try loop.run(resume: resume, step: { epoch, _ in
            if epoch != currentEpoch { batches = loader.epoch(epoch); currentEpoch = epoch }
            guard let b = batches?.next() else { throw SNEError.failure("teacher: data loader ended early") }
            let x = try Tensor(shape: b.shape, data: b.pixels)
            let (l, y) = try trainStep(model: net, optimizer: opt, lr: schedule(opt.steps), input: x, ctx: ctx) {
                try Loss.crossEntropy($0, labels: b.labels)
            }
            let pred = argmaxRows(y)
            return StepResult(loss: Double(l), correct: zip(pred, b.labels).filter { $0 == $1 }.count, count: b.labels.count)
        }, endOfEpoch: { _ in
            self.testAccuracy = try classifierAccuracy(self.net, data.test, compute: compute)
            return String(format: "test acc %.2f%%", 100 * self.testAccuracy)
        })
        if testAccuracy.isNaN { testAccuracy = try classifierAccuracy(net, data.test, compute: compute) }
    }
}
