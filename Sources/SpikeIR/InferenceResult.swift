// What one inference returns: logits, prediction, active students, operation counts, trace (spec §8).

/// Operations actually executed (spec §8).
public struct Counts: Hashable, Sendable {
    /// Synaptic accumulates: spike-driven weight adds, pool adds, readout adds.
    public var synops: Int = 0
    /// Multiply-accumulates and multiplies (input stage, leak, requantization, gate, head).
    public var macs: Int = 0
    /// LIF neuron updates (one per neuron per step).
    public var neuronUpdates: Int = 0
    public init(synops: Int = 0, macs: Int = 0, neuronUpdates: Int = 0) {
        self.synops = synops; self.macs = macs; self.neuronUpdates = neuronUpdates
    }
    public static func + (a: Counts, b: Counts) -> Counts {
        Counts(synops: a.synops + b.synops, macs: a.macs + b.macs, neuronUpdates: a.neuronUpdates + b.neuronUpdates)
    }
    public static func += (a: inout Counts, b: Counts) { a = a + b }
}

/// One `lif` op at one step: its spikes and membranes after reset, HWC order (spec §8).
public struct LayerStep: Hashable, Sendable {
    /// Index of the `lif` op in the student's op list.
    public var op: Int
    public var spikes: [UInt8]
    public var membranes: [Int32]
    /// `loihi_lif` only: the synaptic currents `u` (spec §3.10); empty for `lif`.
    public var currents: [Int32]
    public init(op: Int, spikes: [UInt8], membranes: [Int32], currents: [Int32] = []) {
        self.op = op; self.spikes = spikes; self.membranes = membranes; self.currents = currents
    }
}

/// The full trace of one student run.
public struct StudentTrace: Hashable, Sendable {
    public var student: Int
    /// `steps[t][j]` is the j-th `lif` op of the student at step t.
    public var steps: [[LayerStep]]
    /// Readout features f and their int8 requantization q (spec §4).
    public var features: [Int32]
    public var quantized: [Int8]
    public init(student: Int, steps: [[LayerStep]], features: [Int32], quantized: [Int8]) {
        self.student = student; self.steps = steps; self.features = features; self.quantized = quantized
    }
}

/// The full trace of the shared stem's run (spec §4.1, §8): its `lif` / `loihi_lif` ops per step.
public struct StemTrace: Hashable, Sendable {
    /// `steps[t][j]` is the j-th `lif` / `loihi_lif` op of the stem at step t (`LayerStep.op` = its
    /// index in the stem's op list).
    public var steps: [[LayerStep]]
    /// Position in `Trace.students` (run order) of the student that triggered the stem: the
    /// stem's bytes enter the trace stream just before that student's (spec §8).
    public var before: Int
    public init(steps: [[LayerStep]], before: Int) { self.steps = steps; self.before = before }
}

/// The full trace of an inference, students in run order (spec §8), and the stem's if it ran.
public struct Trace: Hashable, Sendable {
    public var students: [StudentTrace]
    /// The stem's trace, nil when the program has no stem or it did not run.
    public var stem: StemTrace?
    public init(students: [StudentTrace], stem: StemTrace? = nil) { self.students = students; self.stem = stem }
}

/// The result of one inference (spec §8).
public struct InferenceResult: Hashable, Sendable {
    public var logits: [Int32]
    /// Lowest index of the maximal logit.
    public var prediction: Int
    /// Students actually run, in run order.
    public var active: [Int]
    /// Gate scores (spec §5.1), empty when `select = fixed`.
    public var gateScores: [Int32]
    /// Per student index (all K; zero for students not run), per op.
    public var opCounts: [[Counts]]
    public var gateCounts: Counts
    public var headCounts: Counts
    /// Per stem op (spec §4.1, §8): what the shared stem executed; empty when the program has no
    /// stem or the stem did not run (no student starting with `stem` ran).
    public var stemOpCounts: [Counts]
    /// The stem's total (zero when it did not run).
    public var stemCounts: Counts { stemOpCounts.reduce(Counts(), +) }
    /// FNV-1a 32 over the trace byte stream (spec §8).
    public var traceHash: UInt32
    /// The full trace, when requested.
    public var trace: Trace?

    /// Students + stem + gate + head.
    public var total: Counts {
        opCounts.joined().reduce(gateCounts + headCounts + stemCounts, +)
    }

    /// Per-op counts in the C runtime's `ctx->op_counts` order (docs/c-runtime.md): every
    /// student's ops in index order, then the `stemOps` ops of the stem (zeros when it did not run).
    public func flatOpCounts(stemOps: Int) -> [Counts] {
        Array(opCounts.joined()) + (stemOpCounts.isEmpty ? [Counts](repeating: Counts(), count: stemOps) : stemOpCounts)
    }

    public init(logits: [Int32], prediction: Int, active: [Int], gateScores: [Int32],
                opCounts: [[Counts]], gateCounts: Counts, headCounts: Counts,
                traceHash: UInt32, trace: Trace?, stemOpCounts: [Counts] = []) {
        self.logits = logits; self.prediction = prediction; self.active = active
        self.gateScores = gateScores; self.opCounts = opCounts; self.gateCounts = gateCounts
        self.headCounts = headCounts; self.traceHash = traceHash; self.trace = trace
        self.stemOpCounts = stemOpCounts
    }
}
