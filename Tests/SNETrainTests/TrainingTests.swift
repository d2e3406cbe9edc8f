// Determinism, exact resume from checkpoints, checkpoint validation, optimizers and schedules.
import Testing
import Foundation
@testable import SNETrain
@testable import SNETensor

func tinySpikingNet(seed: UInt64) -> Sequential {
    var rng = SeededRNG(seed: seed)
    return Sequential(named: [
        ("conv", Conv2d(1, 4, kernelSize: 3, padding: 1, rng: &rng)), ("bn", BatchNorm2d(4)), ("repeat", RepeatTime()),
        ("lif", LIF(beta: 0.6, theta: 0.5)), ("pool", MaxPool2d(2)), ("flat", Flatten()), ("drop", Dropout(0.1)),
        ("fc", Linear(4 * 4 * 4, 3, rng: &rng)), ("readout", Readout(.mean)),
    ])
}

struct TinyRun {
    let model: Sequential
    let opt: AdamW
    let ctx: LayerContext
    let x: Tensor
    let labels = [0, 1, 2, 1, 0, 2]
    init(threads: Int) {
        model = tinySpikingNet(seed: 1)
        opt = AdamW(model.trainableParameters, weightDecay: 0.01)
        ctx = LayerContext(compute: ComputeContext(threads: threads), seed: 2, timeSteps: 3)
        var rng = SeededRNG(seed: 3)
        x = Tensor.randomUniform([6, 1, 8, 8], 0, 2, using: &rng)
    }
    func step(_ i: Int) throws {
        try trainStep(model: model, optimizer: opt, lr: LRSchedule.cosine(base: 0.01, total: 10).withWarmup(2)(i), input: x, ctx: ctx) {
            try Loss.crossEntropy($0, labels: labels)
        }
    }
    var weights: [[Float]] { model.stateDict().map(\.1.data) }
}

@Suite struct TrainingTests {
    @Test func sameSeedAndThreadsGiveBitIdenticalWeights() throws {
        let a = TinyRun(threads: 2), b = TinyRun(threads: 2)
        for i in 0..<4 { try a.step(i); try b.step(i) }
        #expect(a.weights == b.weights)
        #expect(a.weights != TinyRun(threads: 2).weights)   // training changed them
    }

    @Test func resumeFromCheckpointIsExact() throws {
        let full = TinyRun(threads: 2)
        for i in 0..<4 { try full.step(i) }

        let first = TinyRun(threads: 2)
        for i in 0..<2 { try first.step(i) }
        let path = NSTemporaryDirectory() + "sne-ckpt-\(getpid()).bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TrainingCheckpoint.make(model: first.model, optimizer: first.opt, rng: first.ctx.rng, progress: ["step": "2"]).write(to: path)

        let resumed = TinyRun(threads: 2)
        let (rng, progress) = try TrainingCheckpoint.restore(try Checkpoint.read(from: path), model: resumed.model, optimizer: resumed.opt)
        resumed.ctx.rng = rng
        #expect(progress["step"] == "2")
        for i in 2..<4 { try resumed.step(i) }
        #expect(resumed.weights == full.weights)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test func checkpointRejectsBadFiles() throws {
        let ck = Checkpoint(tensors: [("w", Tensor(repeating: 2, shape: [2, 3]))], metadata: ["k": "v"])
        let bytes = try ck.encoded()
        #expect(try Checkpoint(decoding: bytes) == ck)
        for cut in [3, 12, bytes.count - 1] {
            #expect(throws: CheckpointError.self) { try Checkpoint(decoding: bytes.prefix(cut), source: "c.ckpt") }
        }
        var wrongVersion = bytes; wrongVersion[8] = 9
        do { _ = try Checkpoint(decoding: wrongVersion, source: "c.ckpt"); Issue.record("no error") } catch let e as CheckpointError {
            #expect(e.message == "c.ckpt: checkpoint version 9 is not supported (expected 1)")
        }
        let model = tinySpikingNet(seed: 1)
        #expect(throws: CheckpointError.self) { try model.loadStateDict(["conv.weight": Tensor(zeros: [1])]) }
        #expect(throws: CheckpointError.self) { try Checkpoint.read(from: "/nonexistent/x.ckpt") }
    }

    @Test func parametersAreNamedForTheCompiler() {
        let names = tinySpikingNet(seed: 1).namedParameters().map(\.0)
        #expect(names == ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "fc.weight", "fc.bias"])
        let lif = LIF(beta: 0.25, theta: 2, reset: .zero, surrogate: .atan(alpha: 2))
        #expect(lif.attributes == ["beta": "0.25", "theta": "2.0", "reset": "zero", "surrogate": "atan(2.0)", "directInput": "false", "order": "snntorch"])
    }

    @Test func sgdMomentumNesterovAndDecay() {
        let p = Parameter("w", Tensor(repeating: 1, shape: [1]))
        let sgd = SGD([p], momentum: 0.9, nesterov: false, weightDecay: 0.1)
        p.grad = Tensor(repeating: 1, shape: [1]); sgd.step(lr: 0.1)   // v = 1.1, w = 1 - 0.11
        #expect(abs(p.value.data[0] - 0.89) < 1e-6)
        p.grad = Tensor(repeating: 1, shape: [1]); sgd.step(lr: 0.1)   // v = 0.9*1.1 + 1 + 0.089 = 2.079
        #expect(abs(p.value.data[0] - (0.89 - 0.2079)) < 1e-5)
        let q = Parameter("w", Tensor(repeating: 1, shape: [1]))
        let nes = SGD([q], momentum: 0.5, nesterov: true)
        q.grad = Tensor(repeating: 2, shape: [1]); nes.step(lr: 0.1)   // v = 2, d = 2 + 0.5*2 = 3
        #expect(abs(q.value.data[0] - 0.7) < 1e-6)
    }

    @Test func adamFirstStepMovesByLearningRate() {
        let p = Parameter("w", Tensor(repeating: 1, shape: [2]))
        let adam = AdamW([p], weightDecay: 0.5)
        p.grad = try! Tensor(shape: [2], data: [3, -0.001])
        adam.step(lr: 0.01)
        // decoupled decay: w *= 1 - lr*wd, then the bias-corrected step is ±lr.
        #expect(abs(p.value.data[0] - (0.995 - 0.01)) < 1e-5)
        #expect(abs(p.value.data[1] - (0.995 + 0.01)) < 1e-4)
    }

    @Test func parallelAdamMatchesSerial() {
        var rng = SeededRNG(seed: 5)
        let a = Parameter("w", Tensor.randomNormal([70_000], std: 1, using: &rng))
        let b = Parameter("w", a.value)
        let g = Tensor.randomNormal([70_000], std: 1, using: &rng)
        let serial = AdamW([a], weightDecay: 0.1), parallel = AdamW([b], weightDecay: 0.1, compute: ComputeContext(threads: 2))
        for _ in 0..<3 { a.grad = g; b.grad = g; serial.step(lr: 0.01); parallel.step(lr: 0.01) }
        #expect(a.value == b.value)
    }

    /// The C update (sne_adamw_update, vectorised) computes the same bits as the elementwise Swift
    /// loop it replaced: w -= wd·w; m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g·g; w -= s·m / (√v/√bc2 + eps).
    @Test func adamMatchesScalarReference() {
        var rng = SeededRNG(seed: 6)
        let n = 1_003
        let p = Parameter("w", Tensor.randomNormal([n], std: 1, using: &rng))
        var w = p.value.data, m = [Float](repeating: 0, count: n), v = m
        let adam = AdamW([p], beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05)
        for step in 1...4 {
            let g = Tensor.randomNormal([n], std: Float(step), using: &rng)
            p.grad = g
            let lr: Float = 0.003
            adam.step(lr: lr)
            let bc1 = 1 - Float(pow(Double(Float(0.9)), Double(step))), bc2 = 1 - Float(pow(Double(Float(0.999)), Double(step)))
            let stepSize = lr / bc1, bc2sqrt = bc2.squareRoot(), wd = Float(0.05) * lr
            let b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
            for i in 0..<n {
                let gi = g.data[i]
                w[i] -= wd * w[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                w[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2sqrt + eps)
            }
            #expect(p.value.data == w)
        }
    }

    @Test func schedules() {
        let c = LRSchedule.cosine(base: 1, total: 10, minimum: 0.1)
        #expect(c(0) == 1 && abs(c(5) - 0.55) < 1e-6 && abs(c(10) - 0.1) < 1e-6 && abs(c(20) - 0.1) < 1e-6)
        let s = LRSchedule.step(base: 1, every: 3, gamma: 0.5)
        #expect(s(2) == 1 && s(3) == 0.5 && s(7) == 0.25)
        let w = LRSchedule.constant(0.4).withWarmup(4)
        #expect(abs(w(0) - 0.1) < 1e-7 && abs(w(3) - 0.4) < 1e-7 && w(10) == 0.4)
    }

    @Test func referenceStudentShapesAndMemory() throws {
        var rng = SeededRNG(seed: 0)
        let m = Models.referenceStudent(rng: &rng)
        let ctx = LayerContext(compute: ComputeContext(threads: 2), timeSteps: 4)
        let y = try m.forward(Tensor(repeating: 0.5, shape: [2, 1, 28, 28]), ctx)
        #expect(y.shape == [2, 32])
        #expect(m.savedBytes > 0)
        _ = try m.backward(Tensor(repeating: 1, shape: [2, 32]), ctx)
        #expect(m.savedBytes == 0)   // everything released after backward
    }
}

/// `Sequential.freeze(prefix:)` (the shared stem): frozen layers keep their values and batch-norm
/// statistics through training, leave `trainableParameters`, and the rest still learns.
@Suite struct FreezePrefixTests {
    @Test func frozenPrefixStaysPutAndTheRestLearns() throws {
        let run = TinyRun(threads: 1)
        let m = run.model
        m.freeze(prefix: 2)   // conv + bn
        #expect(m.frozenPrefix == 2)
        let frozenNames = Set(m.namedParameters().filter { $0.1.frozen }.map(\.0))
        #expect(frozenNames == ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"])
        let before = Dictionary(uniqueKeysWithValues: m.stateDict())
        let opt = AdamW(m.trainableParameters, weightDecay: 0.01)
        #expect(!m.trainableParameters.contains { $0.frozen })
        for i in 0..<3 {
            try trainStep(model: m, optimizer: opt, lr: 0.01, input: run.x, ctx: run.ctx) {
                try Loss.crossEntropy($0, labels: run.labels)
            }
            _ = i
        }
        for (name, t) in m.stateDict() {
            if frozenNames.contains(name) { #expect(t.data == before[name]!.data, "\(name) changed") }
        }
        #expect(m.stateDict().first { $0.0 == "fc.weight" }!.1.data != before["fc.weight"]!.data)
        #expect(run.ctx.training, "forward restores the context's training flag")
    }
}
