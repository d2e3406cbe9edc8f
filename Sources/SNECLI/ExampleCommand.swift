// `sne example`: training examples on MNIST — a small CNN and a small LIF spiking network.
import Foundation
import SNEEnsemble
import SNEData
import SNETensor
import SNETrain

struct ExampleCommand: Command {
    static let name = "example"
    static let summary = "training examples: mnist-cnn, mnist-lif (full MNIST from ../shared/data)"
    static let usage = """
    usage: sne example <mnist-cnn|mnist-lif> [flags]
      mnist-cnn     conv-BN-ReLU x2 + MLP, cross-entropy, AdamW + cosine schedule
      mnist-lif     the reference spiking student (T=4 LIF, direct input) with a 10-way readout
      --data DIR        dataset root holding mnist/ (searched: \(Datasets.searchOrder))
      --dataset NAME    mnist (default) or fashion-mnist
      --epochs N        training epochs (default: 2 for mnist-cnn, 3 for mnist-lif)
      --batch N         batch size (default 64)
      --lr X            peak learning rate (default 2e-3)
      --threads N       worker threads (default: all cores)
      --limit N         train on the first N images only (quick runs)
      --seed N          random seed (default 1)
      --checkpoint P    save a checkpoint at every epoch end (atomic); resume from it if it exists
    """

    let example: String
    let dataRoot: String?
    let dataset: String
    let epochs: Int
    let batch: Int
    let lr: Float
    let threads: Int
    let limit: Int?
    let seed: UInt64
    let checkpoint: String?

    init(_ args: Arguments) throws {
        var a = args
        example = try a.positional("example name (mnist-cnn or mnist-lif)")
        guard ["mnist-cnn", "mnist-lif"].contains(example) else {
            throw CLIError.usage("sne example: unknown example '\(example)' (mnist-cnn, mnist-lif)")
        }
        dataRoot = try a.option("data")
        dataset = try a.option("dataset") ?? "mnist"
        guard ["mnist", "fashion-mnist"].contains(dataset) else { throw CLIError.usage("sne example: --dataset must be mnist or fashion-mnist") }
        epochs = try a.int("epochs", in: 1...1000) ?? (example == "mnist-cnn" ? 2 : 3)
        batch = try a.int("batch", in: 1...4096) ?? 64
        lr = Float(try a.double("lr") ?? 2e-3)
        threads = try a.int("threads", in: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
        limit = try a.int("limit", in: 1...10_000_000)
        seed = UInt64(try a.int("seed", in: 0...Int(Int32.max)) ?? 1)
        checkpoint = try a.option("checkpoint")
        try a.finish()
    }

    /// The first data root (`Datasets.roots`: the order every command uses) holding `<dataset>/`.
    static func findDataset(_ name: String, explicit: String?) throws -> String {
        var tried: [String] = []
        for r in Datasets.roots(explicit: explicit) {
            for dir in [(r as NSString).appendingPathComponent(name), r] {
                tried.append(dir)
                let fm = FileManager.default
                if fm.fileExists(atPath: dir + "/train-images-idx3-ubyte.gz") || fm.fileExists(atPath: dir + "/train-images-idx3-ubyte") {
                    return dir
                }
            }
        }
        throw CLIError.input("\(name) dataset not found; tried: \(tried.joined(separator: ", ")) (give --data DIR or set SNE_DATA)")
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        let dir = try Self.findDataset(dataset, explicit: dataRoot)
        let t0 = Date()
        let train: LabeledImages, test: LabeledImages
        do {
            train = try IDX.load(directory: dir, split: "train", limit: limit)
            test = try IDX.load(directory: dir, split: "t10k")
        } catch let e as DataError { throw CLIError.input(e.message) }   // a malformed dataset is bad input (exit 2)
        err.write("loaded \(dataset) from \(dir): \(train.count) train, \(test.count) test images (\(String(format: "%.1f", Date().timeIntervalSince(t0))) s)\n")

        let spiking = example == "mnist-lif"
        var rng = SeededRNG(seed: seed)
        let model = spiking ? Models.referenceStudent(outputs: 10, rng: &rng) : Models.mnistCNN(rng: &rng)
        let compute = ComputeContext(threads: threads)
        let opt = AdamW(model.trainableParameters, weightDecay: spiking ? 0 : 1e-4, compute: compute)
        let ctx = LayerContext(compute: compute, seed: seed &+ 1, timeSteps: spiking ? 4 : 1)
        let loader = try BatchLoader(train, batchSize: batch, seed: seed, dropLast: true)
        let total = epochs * loader.batchesPerEpoch
        let schedule = LRSchedule.cosine(base: lr, total: total - min(100, total / 10)).withWarmup(min(100, total / 10))

        var startEpoch = 0
        if let checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
            do {
                let (r, progress) = try TrainingCheckpoint.restore(try Checkpoint.read(from: checkpoint), model: model, optimizer: opt)
                ctx.rng = r
                startEpoch = Int(progress["epoch"] ?? "") ?? 0
                err.write("resumed from \(checkpoint) at epoch \(startEpoch)\n")
            } catch { throw CLIError.failure("\(error)") }
        }

        var accuracy = 0.0
        for epoch in startEpoch..<epochs {
            let te = Date()
            var lossSum = 0.0, seen = 0
            for b in loader.epoch(epoch) {
                let x = try Tensor(shape: b.shape, data: b.pixels)
                let (l, _) = try trainStep(model: model, optimizer: opt, lr: schedule(opt.steps), input: x, ctx: ctx) {
                    try Loss.crossEntropy($0, labels: b.labels)
                }
                lossSum += Double(l); seen += 1
            }
            let trainTime = Date().timeIntervalSince(te)
            accuracy = try evaluate(model, test, ctx)
            out.write(String(format: "%@ epoch %d/%d: loss %.4f, test accuracy %.2f%%, %.1f s (%.0f images/s)\n",
                             example, epoch + 1, epochs, lossSum / Double(max(seen, 1)), accuracy * 100, trainTime,
                             Double(seen * batch) / trainTime))
            if let checkpoint {
                try TrainingCheckpoint.make(model: model, optimizer: opt, rng: ctx.rng, progress: ["epoch": "\(epoch + 1)", "example": example])
                    .write(to: checkpoint)
            }
        }
        out.write(String(format: "%@: final test accuracy %.2f%% (%d threads, total %.1f s)\n", example, accuracy * 100, threads, Date().timeIntervalSince(t0)))
    }

    /// Top-1 accuracy in evaluation mode (BN running statistics, no dropout).
    func evaluate(_ model: Sequential, _ data: LabeledImages, _ ctx: LayerContext) throws -> Double {
        ctx.training = false
        defer { ctx.training = true }
        var correct = 0
        let bs = 500
        for lo in stride(from: 0, to: data.count, by: bs) {
            let n = min(bs, data.count - lo)
            let x = try Tensor(shape: [n] + data.shape.dropFirst(), data: Array(data.pixels[(lo * data.imageSize)..<((lo + n) * data.imageSize)]))
            let y = try model.forward(x, ctx)
            let c = y.shape[1]
            for i in 0..<n {
                var best = 0
                for k in 1..<c where y.data[i * c + k] > y.data[i * c + best] { best = k }
                if best == data.labels[lo + i] { correct += 1 }
            }
        }
        return Double(correct) / Double(data.count)
    }
}
