// The frontier's training levers in isolation: the teacher's group dropout keeps whole groups, the
// augmented views are deterministic images of the same pixels, a per-step readout passes every
// step through, and the mean over steps is what the readout computes.
import Testing
import Foundation
import SNETensor
import SNETrain
import SNEData
@testable import SNEEnsemble

@Suite struct TrainingLeverUnitTests {
    @Test func groupDropoutKeepsWholeGroupsAndIsIdentityInEvaluation() throws {
        let groups = [[0, 3], [1, 4], [2, 5]]
        let gd = GroupDropout(groups: groups)
        var x = Tensor(zeros: [64, 6])
        for i in 0..<x.count { x.data[i] = Float(i % 7) + 1 }
        let ctx = LayerContext(compute: ComputeContext(threads: 1), training: true, seed: 9)
        let y = try gd.forward(x, ctx)
        var kept = Set<Int>()
        for r in 0..<64 {
            var n = 0
            for (k, g) in groups.enumerated() {
                let on = g.map { y.data[r * 6 + $0] != 0 }
                #expect(on.allSatisfy { $0 } || on.allSatisfy { !$0 }, "row \(r) group \(k) split")
                if on[0] { n += 1; for j in g { #expect(y.data[r * 6 + j] == x.data[r * 6 + j]) } }   // no rescaling
            }
            #expect((1...3).contains(n))
            kept.insert(n)
        }
        #expect(kept.count == 3, "subset sizes 1…K all drawn: \(kept)")
        // backward masks the same elements
        let dx = try gd.backward(Tensor(shape: [64, 6], data: [Float](repeating: 1, count: 384)), ctx)
        for i in 0..<384 { #expect((dx.data[i] == 0) == (y.data[i] == 0)) }
        ctx.training = false
        #expect(try gd.forward(x, ctx) == x)
    }

    @Test func augmentedViewsAreDeterministicImagesOfTheSamePixels() throws {
        let root = DataFingerprintTests.roots[0]
        guard let d = try? Datasets.load("digits", root: root, limit: 64) else { Issue.record("needs the digits under \(root)"); return }
        let aug = try StudentAugmenter.augmentation(d, kinds: ["crop"])
        #expect(aug.cropPadding == 1 && !aug.horizontalFlip)   // 8x8 input: padding 1
        #expect(!d.allowsFlip)
        #expect(throws: SNEError.self) { try StudentAugmenter.augmentation(d, kinds: ["crop", "flip"]) }   // digits are not mirrored
        let idx = Array(0..<16)[...]
        let a = try StudentAugmenter.images(d.train, idx, view: 1, augmentation: aug)
        let b = try StudentAugmenter.images(d.train, idx, view: 1, augmentation: aug)
        let c = try StudentAugmenter.images(d.train, idx, view: 2, augmentation: aug)
        #expect(a == b)
        #expect(a != c)
        // a view of image i is the same whatever batch it is drawn in
        let single = try StudentAugmenter.images(d.train, [5][...], view: 1, augmentation: aug)
        #expect(Array(a.data[(5 * 64)..<(6 * 64)]) == single.data)
        // every pixel is one of the image's own values or the padding's 0 (a uint8 / 255 image)
        for i in 0..<16 {
            let own = Set(d.train.pixels[(i * 64)..<((i + 1) * 64)]).union([0])
            #expect(a.data[(i * 64)..<((i + 1) * 64)].allSatisfy { own.contains($0) })
        }
    }

    @Test func perStepReadoutPassesStepsAndMeanOverStepsIsTheReadout() throws {
        let t = 3
        let x = try Tensor(shape: [t * 2, 4], data: (0..<24).map { Float($0) })
        let ctx = LayerContext(compute: ComputeContext(threads: 1), training: true, timeSteps: t)
        let r = Readout(.mean)
        let mean = try r.forward(x, ctx)
        r.perStep = true
        #expect(try r.forward(x, ctx) == x)
        #expect(try r.backward(x, ctx) == x)
        #expect(Readout.mean(x, steps: t) == mean)
    }

    /// `--finetune-rate` sets the fine-tune's spike cost only; absent, the fine-tune takes
    /// `--rate`; both survive the config file.
    /// `--input-stride 2,1` and `--student-targets features,logits`: entry k is student k's, the
    /// last repeats; both survive a config round trip, and an older config (neither field) means
    /// `student.inputStride` and features for every student.
    @Test func perStudentStridesAndTargetsRepeatTheLastEntry() throws {
        var c = TrainConfig()
        c.students = 3
        c.student.inputStride = 2
        #expect(c.perStudentSpecs == nil && c.anyStrided && c.studentTarget(2) == "features" && c.distillsFeatures(0))
        c.inputStrides = [2, 1]
        c.studentTargets = ["features", "logits"]
        #expect((0..<3).map { c.studentSpec($0).inputStride } == [2, 1, 1])
        #expect(c.perStudentSpecs?.map(\.strided) == [true, false, false])
        #expect((0..<3).map(c.studentTarget) == ["features", "logits", "logits"])
        #expect((0..<3).map(c.distillsFeatures) == [true, false, false])
        try c.validate()
        let back = try JSONDecoder().decode(TrainConfig.self, from: JSONEncoder().encode(c))
        #expect(back == c)
        c.inputStrides = [1]
        #expect(!c.anyStrided)
        let old = try JSONDecoder().decode(TrainConfig.self, from: Data(#"{"students":2}"#.utf8))
        #expect(old.inputStrides == nil && old.studentTargets == nil && old.studentTarget(1) == "features")
    }

    /// `--prefix-temperature`: rows of prefix p < K are scored on exp(a_p) · z, the last prefix on
    /// z; the gradients for z and for a_p match central differences of the loss, and the scale
    /// leaves each row's argmax where it was.
    @Test func prefixTemperatureScalesEarlyPrefixesWithExactGradients() throws {
        let t = PrefixTemperature(K: 3)
        t.logScale.value.data = [0.7, -0.4]
        let z = try Tensor(shape: [3, 4], data: [0.3, -1.2, 2.0, 0.5, 1.1, 0.4, -0.3, 0.9, -0.6, 0.2, 0.8, 1.5])
        let labels = [2, 3, 1], prefix = [1, 2, 3]
        #expect(abs(t.scale(prefix: 1) - Float(exp(0.7))) < 1e-6 && t.scale(prefix: 3) == 1)
        func ce(_ x: Tensor) throws -> LossResult { try Loss.crossEntropy(x, labels: labels) }
        t.logScale.zeroGrad()
        let r = try t.loss(z, prefix: prefix, weight: 0.5, ce)
        var scaled = z
        for i in 0..<4 { scaled.data[i] *= Float(exp(0.7)); scaled.data[4 + i] *= Float(exp(-0.4)) }
        #expect(abs(r.value - (try ce(scaled)).value) < 1e-5)
        let h: Float = 1e-2
        for i in 0..<z.count {   // ∂L/∂z
            var zp = z, zm = z
            zp.data[i] += h; zm.data[i] -= h
            let num = (try t.loss(zp, prefix: prefix) { try ce($0) }.value - (try t.loss(zm, prefix: prefix) { try ce($0) }).value) / (2 * h)
            #expect(abs(num - r.grad.data[i]) < 2e-3, "z[\(i)]: \(num) vs \(r.grad.data[i])")
        }
        t.logScale.zeroGrad()
        _ = try t.loss(z, prefix: prefix, weight: 0.5, ce)
        let analytic = t.logScale.grad.data
        for p in 0..<2 {   // ∂L/∂a_p, times the weight 0.5
            let a = t.logScale.value.data[p]
            t.logScale.value.data[p] = a + h; let lp = try t.loss(z, prefix: prefix) { try ce($0) }.value
            t.logScale.value.data[p] = a - h; let lm = try t.loss(z, prefix: prefix) { try ce($0) }.value
            t.logScale.value.data[p] = a
            #expect(abs(0.5 * (lp - lm) / (2 * h) - analytic[p]) < 2e-3, "a[\(p)]")
        }
        #expect(argmaxRows(scaled) == argmaxRows(z))
        var c = TrainConfig()
        c.prefixTemperature = true
        #expect(throws: SNEError.self) { try c.validate() }
        c.cascade = true; c.gate = nil
        try c.validate()
        #expect(try JSONDecoder().decode(TrainConfig.self, from: JSONEncoder().encode(c)).prefixTemperature == true)
    }

    @Test func finetuneRateOverridesRateInTheFineTuneOnly() throws {
        var c = TrainConfig()
        #expect(c.loss.finetuneSpikeCost == 0)
        c.loss.rate = 0.05
        #expect(c.loss.finetuneSpikeCost == 0.05)
        c.loss.finetuneRate = 0.01
        #expect(c.loss.finetuneSpikeCost == 0.01 && c.loss.rate == 0.05)
        c.loss.rate = nil
        let back = try JSONDecoder().decode(TrainConfig.self, from: JSONEncoder().encode(c))
        #expect(back.loss.finetuneRate == 0.01 && back.loss.rate == nil && back.loss.finetuneSpikeCost == 0.01)
        let old = try JSONDecoder().decode(LossWeights.self, from: Data(#"{"mse":1,"kl":1,"ce":1,"tau":4,"rate":0.02}"#.utf8))
        #expect(old.finetuneRate == nil && old.finetuneSpikeCost == 0.02)
    }

    /// `--rate-weights synops`: each LIF layer's weight is L · a_l / Σ a, a_l the accumulates its
    /// pooled output costs the next layer if every neuron spiked (hand-computed for the shipped
    /// 4/16/64 student on 28x28: lif1 14·14·4 inputs · 9 · 16, lif2 7·7·16 · 64, lifh 64 · 32).
    @Test func synopCostWeightsFollowTheNextLayersAccumulates() throws {
        let spec = StudentSpec(conv: [4, 16], hidden: 64, features: 32)
        let w = spec.synopCostWeights(input: [1, 28, 28])
        let a: [Double] = [784 * 9 * 16, 784 * 64, 64 * 32]   // 112896, 50176, 2048
        let total = a.reduce(0, +)
        #expect(total == 165_120)
        #expect(w == ["lif1": Float(3 * a[0] / total), "lif2": Float(3 * a[1] / total), "lifh": Float(3 * a[2] / total)])
        #expect(abs(w.values.reduce(0, +) - 3) < 1e-5)   // one rate for all layers: the uniform cost
        // no hidden layer: the last block feeds the readout layer (features)
        let flat = StudentSpec(conv: [8], hidden: 0, features: 10).synopCostWeights(input: [1, 8, 8])
        #expect(flat == ["lif1": 1])
        // applied to a built student; uniform puts every weight back to 1
        var rng = SeededRNG(seed: 3)
        let s = try spec.build(input: [1, 28, 28], rng: &rng)
        spec.applyCostWeights(s, input: [1, 28, 28], synops: true)
        let lifs = s.layers.compactMap { l in (l.layer as? LIF).map { (l.name, $0.costWeight) } }
        #expect(lifs.map(\.0) == ["lif1", "lif2", "lifh"] && lifs.allSatisfy { w[$0.0] == $0.1 })
        spec.applyCostWeights(s, input: [1, 28, 28], synops: false)
        #expect(s.layers.compactMap { ($0.layer as? LIF)?.costWeight }.allSatisfy { $0 == 1 })
        // the setting survives the config file, and older files read as uniform
        var c = TrainConfig()
        #expect(!c.loss.synopRateWeights)
        c.loss.rateWeights = "synops"
        #expect(try JSONDecoder().decode(TrainConfig.self, from: JSONEncoder().encode(c)).loss.synopRateWeights)
    }

    /// The weighted rate cost adds λ·w / count to each output's gradient: the same gradient as a
    /// cost-free backward of `dy + λ·w / count`.
    @Test func weightedRateCostIsTheMeanRateGradientScaled() throws {
        let t = 2, b = 3
        var x = Tensor(zeros: [t * b, 5])
        for i in 0..<x.count { x.data[i] = Float((i * 37) % 11) / 5 }
        var dy = Tensor(zeros: [t * b, 5])
        for i in 0..<dy.count { dy.data[i] = Float((i * 13) % 7) / 10 - 0.3 }
        let lambda: Float = 0.02, weight: Float = 2.5
        let compute = ComputeContext(threads: 1)
        func grad(_ cost: Float, _ w: Float, _ g: Tensor) throws -> Tensor {
            let lif = LIF(order: .spec)
            lif.costWeight = w
            let ctx = LayerContext(compute: compute, training: true, timeSteps: t, spikeCost: cost)
            _ = try lif.forward(x, ctx)
            return try lif.backward(g, ctx)
        }
        var shifted = dy
        let c = lambda * weight / Float(dy.count)
        for i in 0..<shifted.count { shifted.data[i] += c }
        #expect(try grad(lambda, weight, dy) == grad(0, 1, shifted))
        #expect(try grad(lambda, weight, dy) != grad(lambda, 1, dy))
    }

    /// `--input-stride 2`: conv1 at stride 2 with no pool1, the same map sizes after it; the input
    /// layer's MACs a quarter (denseMACs, hand-computed); the float op count of a strided first conv
    /// equals a brute-force count over its outputs (every in-bounds tap on a nonzero pixel, spec §3.1).
    @Test func inputStrideTwoReplacesThePoolAndQuartersTheInputLayer() throws {
        var spec = StudentSpec(conv: [4, 16], hidden: 64, features: 32)
        let plain = spec.denseMACs(input: [1, 28, 28])
        spec.inputStride = 2
        #expect(spec.denseMACs(input: [1, 28, 28]) == plain - 4 * 9 * 28 * 28 + 4 * 9 * 14 * 14)
        #expect(spec.synopCostWeights(input: [1, 28, 28]) == StudentSpec(conv: [4, 16], hidden: 64, features: 32).synopCostWeights(input: [1, 28, 28]))
        var rng = SeededRNG(seed: 4)
        let s = try spec.build(input: [1, 28, 28], rng: &rng)
        #expect(s.layers.map(\.name) == ["conv1", "bn1", "lif1", "conv2", "bn2", "lif2", "pool2", "flatten", "fc1", "lifh", "fc2", "readout"])
        #expect((s.layers[0].layer as? Conv2d)?.stride == 2)
        #expect(spec.blockOutput(0, 7, 8) == (4, 4) && spec.blockOutput(1, 4, 4) == (2, 2))
        var bad = spec; bad.inputStride = 3
        #expect(throws: SNEError.self) { try bad.validate() }
        var c = TrainConfig(); c.student = spec; c.stem = 1
        #expect(throws: SNEError("--input-stride 2 with --stem: a shared stem is whole conv blocks with their pool; give one of them")) { try c.validate() }

        // the generic tap count is the stride-1 formula there, and the brute-force count for stride 2
        for n in [1, 2, 5, 28] { for i in 0..<n { #expect(OpCounter.taps(i, n, k: 3, stride: 1, pad: 1) == OpCounter.taps(i, n)) } }
        #expect((0..<6).map { OpCounter.taps($0, 6, k: 3, stride: 2, pad: 1) } == [1, 2, 1, 2, 1, 1])   // out = 3: row 5 reaches output 2 through ky = 2 only
        #expect((0..<5).map { OpCounter.taps($0, 5, k: 3, stride: 2, pad: 1) } == [1, 2, 1, 2, 1])
        let h = 9, w = 7, b = 2
        var x = Tensor(zeros: [b, 1, h, w])
        for i in 0..<x.count where (i * 7) % 3 != 0 { x.data[i] = Float((i * 11) % 5) / 4 }
        var small = StudentSpec(conv: [3], hidden: 0, features: 4, beta: 0.5, theta: 1, reset: "subtract", timesteps: 2, slope: 5)
        small.inputStride = 2
        let net = try small.build(input: [1, h, w], rng: &rng)
        let prof = try OpCounter.profile(net, x, timeSteps: 2, beta: 0.5, compute: ComputeContext(threads: 1))
        let oh = (h - 1) / 2 + 1, ow = (w - 1) / 2 + 1
        for r in 0..<b {
            var n = 0
            for oy in 0..<oh { for ox in 0..<ow { for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy * 2 + ky - 1, ix = ox * 2 + kx - 1
                if iy >= 0, iy < h, ix >= 0, ix < w, x.data[r * h * w + iy * w + ix] != 0 { n += 1 }
            } } } }
            #expect(prof.macs[r] == Double(n * 3) + 4, "sample \(r)")   // + the readout's F requant multiplies
        }
    }
}
