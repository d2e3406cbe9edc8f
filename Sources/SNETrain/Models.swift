// Ready-made networks: the reference student of the benchmark and the MNIST example models.
import SNETensor

public enum Models {
    /// The benchmark's reference student (snnTorch `snntorch_student_bench.py`), input `[B, 1, 28, 28]`,
    /// run with `ctx.timeSteps = T` (direct input, the same current every step):
    /// conv3x3(1→16)+BN+LIF → maxpool2 → conv3x3(16→32)+BN+LIF → maxpool2 → linear(1568→128)+LIF
    /// → linear(128→outputs) → readout (mean over T). LIF β = 0.5, θ = 1, subtractive reset,
    /// fast-sigmoid slope 25. The first conv+BN run once per batch (their input is the same each step)
    /// and feed `lif1` as direct input; the second BN keeps per-step statistics, as a per-step BN call does.
    public static func referenceStudent(outputs: Int = 32, rng: inout SeededRNG) -> Sequential {
        let lif = { LIF(beta: 0.5, theta: 1, reset: .subtract, surrogate: .fastSigmoid(slope: 25)) }
        return Sequential(named: [
            ("conv1", Conv2d(1, 16, kernelSize: 3, padding: 1, needsInputGradient: false, rng: &rng)),
            ("bn1", BatchNorm2d(16)),
            ("lif1", LIF(beta: 0.5, theta: 1, reset: .subtract, surrogate: .fastSigmoid(slope: 25), directInput: true)),
            ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(16, 32, kernelSize: 3, padding: 1, rng: &rng)),
            ("bn2", BatchNorm2d(32, perTimeStep: true)),
            ("lif2", lif()),
            ("pool2", MaxPool2d(2)),
            ("flatten", Flatten()),
            ("fc1", Linear(32 * 7 * 7, 128, rng: &rng)),
            ("lif3", lif()),
            ("fc2", Linear(128, outputs, rng: &rng)),
            ("readout", Readout(.mean)),
        ])
    }

    /// A small MNIST CNN: conv3x3(1→16)+BN+ReLU → maxpool2 → conv3x3(16→32)+BN+ReLU → maxpool2
    /// → linear(1568→128)+ReLU → dropout → linear(128→10).
    public static func mnistCNN(rng: inout SeededRNG) -> Sequential {
        Sequential(named: [
            ("conv1", Conv2d(1, 16, kernelSize: 3, padding: 1, needsInputGradient: false, rng: &rng)),
            ("bn1", BatchNorm2d(16)), ("relu1", ReLU()), ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(16, 32, kernelSize: 3, padding: 1, rng: &rng)),
            ("bn2", BatchNorm2d(32)), ("relu2", ReLU()), ("pool2", MaxPool2d(2)),
            ("flatten", Flatten()),
            ("fc1", Linear(32 * 7 * 7, 128, rng: &rng)), ("relu3", ReLU()), ("drop", Dropout(0.2)),
            ("fc2", Linear(128, 10, rng: &rng)),
        ])
    }
}

/// One optimisation step of a model on a batch: zero grads, forward, loss, backward, update.
/// Returns the loss value and the model's output.
@discardableResult
public func trainStep(model: any Layer, optimizer: any Optimizer, lr: Float, input: Tensor, ctx: LayerContext,
                      loss: (Tensor) throws -> LossResult) throws -> (loss: Float, output: Tensor) {
    model.zeroGrad()
    ctx.training = true
    let y = try model.forward(input, ctx)
    let l = try loss(y)
    _ = try model.backward(l.grad, ctx)
    optimizer.step(lr: lr)
    return (l.value, y)
}
