// The float spiking neural ensemble (SNE, arXiv 2502.14023): K spiking students, a linear head over
// their concatenated features, an optional gate, and the teacher-feature partition they learned.
import Foundation
import SNETensor
import SNETrain

/// The shape of one spiking student: `conv.count` blocks of conv3x3 (pad 1) + BatchNorm + LIF +
/// 2x2 max pool, then flatten, an optional hidden LIF layer, a linear layer to `features` and the
/// non-spiking readout (mean over the T steps). The first conv sees the static input once (direct
/// encoding); every LIF runs in the Spike IR step order (spec §3.5).
public struct StudentSpec: Codable, Equatable, Sendable {
    /// Output channels of each conv block (e.g. `[8, 16]`).
    public var conv: [Int]
    /// Width of the hidden LIF layer after flatten (0: none).
    public var hidden: Int
    /// Readout size F (the features the head sees).
    public var features: Int
    /// LIF decay β, threshold θ and reset ("subtract" or "zero").
    public var beta: Float
    public var theta: Float
    public var reset: String
    /// Time steps T.
    public var timesteps: Int
    /// Fast-sigmoid surrogate slope.
    public var slope: Float
    /// PLIF (`--learn-beta`): each LIF layer learns its own decay β (`beta_logit`, starting at
    /// `beta`); the compiler reads each layer's β into its op's leak. nil (older files) or false: off.
    public var learnDecay: Bool?
    /// `--input-stride 2`: the first conv block's convolution runs at stride 2 and has no max pool
    /// (the same map size as conv + pool, with a quarter of the input layer's multiply-accumulates,
    /// which dominate a small student's energy). nil (older files) or 1: off.
    public var inputStride: Int?

    public init(conv: [Int] = [8, 16], hidden: Int = 64, features: Int = 32, beta: Float = 0.5, theta: Float = 1,
                reset: String = "subtract", timesteps: Int = 4, slope: Float = 5) {
        self.conv = conv; self.hidden = hidden; self.features = features; self.beta = beta; self.theta = theta
        self.reset = reset; self.timesteps = timesteps; self.slope = slope
    }

    /// Throws a one-line error naming the first bad field.
    public func validate() throws {
        guard !conv.isEmpty, conv.count <= 4, conv.allSatisfy({ (1...512).contains($0) }) else {
            throw SNEError("student conv widths \(conv): need 1…4 blocks of 1…512 channels")
        }
        guard (0...4096).contains(hidden) else { throw SNEError("--hidden \(hidden) (student.hidden in a config file): must be 0…4096") }
        guard (1...4096).contains(features) else { throw SNEError("--features \(features) (student.features in a config file): must be 1…4096") }
        guard beta >= 0, beta <= 1 else { throw SNEError("--beta \(beta) (student.beta in a config file): must be in [0, 1]") }
        guard theta > 0, theta.isFinite else { throw SNEError("--theta \(theta) (student.theta in a config file): must be > 0") }
        guard ["subtract", "zero"].contains(reset) else { throw SNEError("--reset '\(reset)' (student.reset in a config file): must be subtract or zero") }
        guard (1...64).contains(timesteps) else { throw SNEError("--timesteps \(timesteps) (student.timesteps in a config file): must be 1…64") }
        if let s = inputStride, ![1, 2].contains(s) { throw SNEError("--input-stride \(s) (student.inputStride in a config file): must be 1 or 2") }
    }

    /// The layers of a student's first `blocks` conv blocks (`conv1`, `bn1`, `lif1`, `pool1`, …):
    /// what a shared stem of that many blocks is.
    public static func stemLayers(_ blocks: Int) -> Int { 4 * blocks }
    /// Whether a checkpoint tensor belongs to the first `blocks` blocks (their convs and batch norms).
    public static func isStemTensor(_ name: String, blocks: Int) -> Bool {
        blocks > 0 && (1...blocks).contains { name.hasPrefix("conv\($0).") || name.hasPrefix("bn\($0).") }
    }

    /// The stem's tensors of `student` by name (its first `blocks` blocks' conv and batch norm).
    public static func stemState(_ student: Sequential, blocks: Int) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: student.stateDict().filter { isStemTensor($0.0, blocks: blocks) })
    }

    /// Multiply-accumulates of one forward step for a `[C, H, W]` input, counting every conv tap and
    /// linear weight once (spikes are not counted as sparse): the cost proxy that orders students of
    /// different sizes in a cascade (cheapest first).
    public func denseMACs(input: [Int]) -> Int {
        var c = input[0], h = input[1], w = input[2], macs = 0
        for (i, width) in conv.enumerated() {
            let (oh, ow) = blockOutput(i, h, w)
            macs += c * width * 9 * (i == 0 && strided ? oh * ow : h * w); c = width; h = oh; w = ow
        }
        var n = c * h * w
        if hidden > 0 { macs += n * hidden; n = hidden }
        return macs + n * features
    }

    /// The spike-rate cost weight of each LIF layer by name for `--rate-weights synops`: layer l's
    /// weight is `L · a_l / Σ_j a_j`, where `a_l` is the accumulates its (pooled) output would cost
    /// the next synaptic layer per step if every neuron spiked (conv: inputs · 9 · out channels,
    /// borders included; linear: in · out) and L the number of LIF layers. The cost
    /// `Σ_l w_l · rate_l` is then L times the accumulate-weighted mean rate — the spikes' share of
    /// the energy — and equals the uniform cost `Σ_l rate_l` when every layer fires at one rate.
    public func synopCostWeights(input: [Int]) -> [String: Float] {
        var h = input[1], w = input[2], terms: [(String, Double)] = []
        for (i, width) in conv.enumerated() {
            (h, w) = blockOutput(i, h, w)
            let pooled = Double(width * h * w)
            let fanOut = i + 1 < conv.count ? 9 * conv[i + 1] : (hidden > 0 ? hidden : features)
            terms.append(("lif\(i + 1)", pooled * Double(fanOut)))
        }
        if hidden > 0 { terms.append(("lifh", Double(hidden * features))) }
        let total = terms.reduce(0) { $0 + $1.1 }, l = Double(terms.count)
        return Dictionary(uniqueKeysWithValues: terms.map { ($0.0, Float(l * $0.1 / total)) })
    }

    /// Sets the `costWeight` of `student`'s LIF layers: `synopCostWeights` for `synops`, 1 otherwise.
    public func applyCostWeights(_ student: Sequential, input: [Int], synops: Bool) {
        let weights = synops ? synopCostWeights(input: input) : [:]
        for (name, layer) in student.layers {
            if let lif = layer as? LIF { lif.costWeight = weights[name] ?? 1 }
        }
    }

    /// Whether the first conv runs at stride 2 without a pool (`inputStride`).
    public var strided: Bool { (inputStride ?? 1) == 2 }

    /// The map size after conv block `i` of an `h` x `w` input: a stride-2 first conv (pad 1,
    /// 3x3) gives `(h − 1)/2 + 1`, a conv + 2x2 pool `h/2`.
    public func blockOutput(_ i: Int, _ h: Int, _ w: Int) -> (Int, Int) {
        i == 0 && strided ? ((h - 1) / 2 + 1, (w - 1) / 2 + 1) : (h / 2, w / 2)
    }

    /// The float student for a `[C, H, W]` input. Layer names (`conv1`, `bn1`, `lif1`, `pool1`, …,
    /// `flatten`, `fc1`, `lifh`, `fc2`, `readout`) are what checkpoints and the compiler read.
    public func build(input: [Int], rng: inout SeededRNG) throws -> Sequential {
        try validate()
        guard input.count == 3 else { throw SNEError("input shape \(input): expected [C, H, W]") }
        var layers: [(String, any Layer)] = []
        var c = input[0], h = input[1], w = input[2]
        let resetMode: ResetMode = reset == "zero" ? .zero : .subtract
        func lif(directInput: Bool) -> LIF {
            let l = LIF(beta: beta, theta: theta, reset: resetMode, surrogate: .fastSigmoid(slope: slope), directInput: directInput, order: .spec)
            if learnDecay == true { l.learnDecay() }
            return l
        }
        for (i, width) in conv.enumerated() {
            guard h >= 2, w >= 2 else { throw SNEError("student: input \(input) is too small for \(conv.count) pooling blocks") }
            let stride = i == 0 && strided ? 2 : 1
            layers.append(("conv\(i + 1)", Conv2d(c, width, kernelSize: 3, stride: stride, padding: 1, needsInputGradient: i > 0, rng: &rng)))
            layers.append(("bn\(i + 1)", BatchNorm2d(width)))
            layers.append(("lif\(i + 1)", lif(directInput: i == 0)))
            if stride == 1 { layers.append(("pool\(i + 1)", MaxPool2d(2))) }
            c = width; (h, w) = blockOutput(i, h, w)
        }
        layers.append(("flatten", Flatten()))
        var n = c * h * w
        if hidden > 0 {
            layers.append(("fc1", Linear(n, hidden, rng: &rng)))
            layers.append(("lifh", lif(directInput: false)))
            n = hidden
        }
        layers.append(("fc2", Linear(n, features, rng: &rng)))
        layers.append(("readout", Readout(.mean)))
        return Sequential(named: layers)
    }
}

/// The gate: average-pool the input by `pool` (1, 2 or 4), flatten, `hidden` ReLU units, K scores —
/// the shape Spike IR §5.1 runs.
public struct GateSpec: Codable, Equatable, Sendable {
    public var pool: Int
    public var hidden: Int
    public init(pool: Int = 4, hidden: Int = 32) { self.pool = pool; self.hidden = hidden }

    public func validate() throws {
        guard [1, 2, 4].contains(pool) else { throw SNEError("--gate-pool \(pool) (gate.pool in a config file): must be 1, 2 or 4") }
        guard (1...1024).contains(hidden) else { throw SNEError("--gate-hidden \(hidden) (gate.hidden in a config file): must be 1…1024") }
    }

    /// `AvgPool2d(pool)` (absent when 1) → `Flatten` → `fc1` → `ReLU` → `fc2` (K scores).
    public func build(input: [Int], students k: Int, rng: inout SeededRNG) throws -> Sequential {
        try validate()
        let n = input[0] * (input[1] / pool) * (input[2] / pool)
        guard n >= 1 else { throw SNEError("gate: input \(input) is smaller than the pool \(pool)") }
        var layers: [(String, any Layer)] = []
        if pool > 1 { layers.append(("pool", AvgPool2d(pool))) }
        layers += [("flatten", Flatten()), ("fc1", Linear(n, hidden, rng: &rng)), ("relu", ReLU()), ("fc2", Linear(hidden, k, rng: &rng))]
        return Sequential(named: layers)
    }
}

/// A trainer or model error: one line naming what is wrong. Most are about an input (a file, a
/// configuration, data); `isInput` is false when the work itself failed (an output not written).
public struct SNEError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public let isInput: Bool
    public init(_ message: String, isInput: Bool = true) { self.message = message; self.isInput = isInput }
    /// The work failed (not the input's fault).
    public static func failure(_ message: String) -> SNEError { SNEError(message, isInput: false) }
    public var description: String { message }
}

/// Everything that defines an ensemble's shape (saved inside the model file as JSON).
public struct EnsembleSpec: Codable, Equatable, Sendable {
    /// Input `[C, H, W]` (pixels are uint8 / 255 in the float model).
    public var input: [Int]
    public var classes: Int
    /// K students.
    public var students: Int
    public var student: StudentSpec
    /// nil: no gate (fixed order only).
    public var gate: GateSpec?
    /// Heterogeneous students: student k's shape is `perStudent[k]` (same `features` and
    /// `timesteps` as `student`); nil (and absent from files written before it): every student is
    /// `student`.
    public var perStudent: [StudentSpec]?
    /// A shared stem (`--stem N`): every student's first N conv blocks (`conv1`, `bn1`, `lif1`,
    /// `pool1`, …) hold the same frozen weights, student 0's, so the compiler computes them once
    /// (the program's stem, spec §4.1). nil (files written before it) and 0: off.
    public var stem: Int?
    public init(input: [Int], classes: Int, students: Int, student: StudentSpec, gate: GateSpec?, perStudent: [StudentSpec]? = nil,
                stem: Int? = nil) {
        self.input = input; self.classes = classes; self.students = students; self.student = student; self.gate = gate
        self.perStudent = perStudent; self.stem = stem
    }

    /// The conv blocks the students share (0: none).
    public var stemBlocks: Int { stem ?? 0 }
    /// Whether the students share a stem.
    public var hasStem: Bool { stemBlocks > 0 }

    /// Student k's shape.
    public func studentSpec(_ k: Int) -> StudentSpec { perStudent?[k] ?? student }

    /// Throws when `perStudent` does not fit: one per student, sharing F and T.
    public func validateStudents() throws {
        guard let p = perStudent else { return }
        guard p.count == students else { throw SNEError("\(p.count) student shapes for K = \(students) students") }
        for (k, s) in p.enumerated() {
            guard s.features == student.features, s.timesteps == student.timesteps else {
                throw SNEError("student \(k): features \(s.features) and T \(s.timesteps) must equal the ensemble's (\(student.features), \(student.timesteps))")
            }
            try s.validate()
        }
        if hasStem { try Self.validateStem((0..<students).map(studentSpec), blocks: stemBlocks) }
    }

    /// Students sharing a stem of `blocks` conv blocks need the same widths in those blocks.
    public static func validateStem(_ specs: [StudentSpec], blocks: Int) throws {
        guard let first = specs.first else { return }
        guard blocks <= first.conv.count else {
            throw SNEError("--stem \(blocks): the students have only \(first.conv.count) conv blocks to share")
        }
        let shared = Array(first.conv.prefix(blocks))
        for (k, s) in specs.enumerated() where Array(s.conv.prefix(blocks)) != shared {
            throw SNEError("--stem \(blocks): student \(k)'s first conv widths are \(s.conv.prefix(blocks).map(String.init).joined(separator: ",")), student 0's \(shared.map(String.init).joined(separator: ",")); students sharing a stem need the same widths there")
        }
    }
}

/// A trained (or training) float ensemble.
///
/// Inference with a set `A` of active students: `f_k = student_k(x)` for k ∈ A, `z = head([f_0 … f_{K−1}])`
/// with `f_k = 0` for k ∉ A (as in the integer program, spec §6). The run order is the gate's
/// score order (descending, ties to the lower index), or `order` when there is no gate.
public final class SNEModel {
    public let spec: EnsembleSpec
    public var students: [Sequential]
    /// `Linear(K·F → classes)` over the concatenated features.
    public var head: Linear
    public var gate: Sequential?
    /// Teacher feature dimensions regressed by each student (empty for a plain SNN).
    public var partition: [[Int]]
    /// The fixed run order (best single student first).
    public var order: [Int]
    /// Free-form facts (teacher accuracy, partition kind, training commands) carried to reports.
    public var info: [String: String]

    public init(spec: EnsembleSpec, seed: UInt64, partition: [[Int]] = []) throws {
        guard spec.input.count == 3, spec.input.allSatisfy({ $0 >= 1 }) else { throw SNEError("input shape \(spec.input): expected [C, H, W]") }
        guard (2...1024).contains(spec.classes) else { throw SNEError("classes \(spec.classes): must be 2…1024") }
        guard (1...16).contains(spec.students) else { throw SNEError("students K = \(spec.students): must be 1…16") }
        try spec.validateStudents()
        self.spec = spec
        var built: [Sequential] = []
        for k in 0..<spec.students {
            var rng = SeededRNG(seed: Self.studentSeed(seed, k))
            built.append(try spec.studentSpec(k).build(input: spec.input, rng: &rng))
        }
        if spec.hasStem { for s in built { s.freeze(prefix: StudentSpec.stemLayers(spec.stemBlocks)) } }
        students = built
        var rng = SeededRNG(seed: seed &+ 0x4EAD)
        head = Linear(spec.students * spec.student.features, spec.classes, rng: &rng)
        gate = try spec.gate.map { try $0.build(input: spec.input, students: spec.students, rng: &rng) }
        self.partition = partition
        order = Array(0..<spec.students)
        info = [:]
    }

    /// The seed of student k's initial weights: students are independent given the seed, so one
    /// trained in its own process starts from the same weights as in the single-process run.
    public static func studentSeed(_ seed: UInt64, _ k: Int) -> UInt64 { seed &* 0x9E37_79B9 &+ UInt64(k) &* 7_919 &+ 1 }

    public var K: Int { spec.students }
    public var F: Int { spec.student.features }
    public var T: Int { spec.student.timesteps }

    /// Runs the students in `active` on `x` `[B, C, H, W]` (evaluation mode) and returns their
    /// features `[B, F]` by student index.
    public func features(_ x: Tensor, active: [Int], compute: ComputeContext) throws -> [Int: Tensor] {
        let ctx = LayerContext(compute: compute, training: false, timeSteps: T)
        var out: [Int: Tensor] = [:]
        for k in active { out[k] = try students[k].forward(x, ctx) }
        return out
    }

    /// Head logits `[B, classes]` from per-student features; absent students contribute zeros.
    public func headLogits(_ feats: [Int: Tensor], batch: Int, compute: ComputeContext) throws -> Tensor {
        let ctx = LayerContext(compute: compute, training: false)
        return try head.forward(concat(feats, batch: batch), ctx)
    }

    /// `[B, K·F]` with student k's features at columns `k·F ..< (k+1)·F` (zeros when absent).
    public func concat(_ feats: [Int: Tensor], batch: Int) -> Tensor {
        let f = F, kf = K * f
        var z = Tensor(zeros: [batch, kf])
        for (k, t) in feats {
            for b in 0..<batch { for j in 0..<f { z.data[b * kf + k * f + j] = t.data[b * f + j] } }
        }
        return z
    }

    /// Gate scores `[B, K]` (nil without a gate).
    public func gateScores(_ x: Tensor, compute: ComputeContext) throws -> Tensor? {
        guard let gate else { return nil }
        return try gate.forward(x, LayerContext(compute: compute, training: false))
    }

    /// Run order per sample: gate score descending (ties: lower index), or the fixed order.
    public func runOrder(scores: Tensor?, batch: Int, useGate: Bool = true) -> [[Int]] {
        guard useGate, let s = scores else { return Array(repeating: order, count: batch) }
        return (0..<batch).map { b in Self.descending(s.data[(b * K)..<((b + 1) * K)]) }
    }

    /// Indices of `values` by value descending, ties to the lower index (spec §5's gate order).
    public static func descending<C: RandomAccessCollection>(_ values: C) -> [Int] where C.Element: Comparable, C.Index == Int {
        let base = values.startIndex
        return (0..<values.count).sorted { values[base + $0] != values[base + $1] ? values[base + $0] > values[base + $1] : $0 < $1 }
    }

    // MARK: saving

    static let format = "sne-ensemble-1"

    /// Writes the model (all tensors by name + spec JSON) atomically.
    public func save(to path: String) throws {
        var tensors: [(String, Tensor)] = []
        for (k, s) in students.enumerated() { tensors += s.stateDict().map { ("student\(k).\($0.0)", $0.1) } }
        tensors += head.stateDict().map { ("head.\($0.0)", $0.1) }
        if let gate { tensors += gate.stateDict().map { ("gate.\($0.0)", $0.1) } }
        var meta = info
        meta["format"] = Self.format
        meta["spec"] = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        meta["partition"] = String(decoding: try JSONEncoder().encode(partition), as: UTF8.self)
        meta["order"] = order.map(String.init).joined(separator: ",")
        do { try Checkpoint(tensors: tensors, metadata: meta).write(to: path) } catch let e as CheckpointError { throw SNEError.failure(e.message) }
    }

    /// Reads a model written by `save`; every error names the file and the problem.
    public static func load(from path: String) throws -> SNEModel {
        let ck: Checkpoint
        do { ck = try Checkpoint.read(from: path) } catch let e as CheckpointError { throw SNEError(e.message) }
        guard ck.metadata["format"] == format else {
            throw SNEError("\(path): not an sne model (format '\(ck.metadata["format"] ?? "none")', expected \(format); train one with 'sne train')")
        }
        guard let sj = ck.metadata["spec"], let spec = try? JSONDecoder().decode(EnsembleSpec.self, from: Data(sj.utf8)) else {
            throw SNEError("\(path): model spec is missing or malformed")
        }
        let partition = (ck.metadata["partition"]).flatMap { try? JSONDecoder().decode([[Int]].self, from: Data($0.utf8)) } ?? []
        let m = try SNEModel(spec: spec, seed: 0, partition: partition)
        let byName = ck.byName
        do {
            for (k, s) in m.students.enumerated() { try s.loadStateDict(byName, prefix: "student\(k).") }
            try m.head.loadStateDict(byName, prefix: "head.")
            if let g = m.gate { try g.loadStateDict(byName, prefix: "gate.") }
        } catch let e as CheckpointError { throw SNEError("\(path): \(e.message)") }
        let order = (ck.metadata["order"] ?? "").split(separator: ",").compactMap { Int($0) }
        guard Set(order) == Set(0..<m.K), order.count == m.K else { throw SNEError("\(path): run order '\(ck.metadata["order"] ?? "")' is not a permutation of 0..<\(m.K)") }
        m.order = order
        m.info = ck.metadata.filter { !["format", "spec", "partition", "order"].contains($0.key) }
        return m
    }
}
