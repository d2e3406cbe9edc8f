// The few places where the compiler depends on the Spike IR version. Spike IR 2.0 has per-channel
// lif thresholds (`LIF.thetas`, spec §3.5) and per-feature readout requant (`Student.featMult` /
// `featShift`, spec §4), so per-channel weight scales (`--weights channel`) are exact: each
// channel's threshold is in its own current units, and each feature's requant absorbs its scale.
// (Under 1.0 both flags were false and per-tensor weights were forced.)
import SpikeIR

public enum IRCompat {
    /// True when `lif` takes one threshold per channel (Spike IR ≥ 2.0).
    public static let perChannelThresholds = true
    /// True when the readout requant is per feature (Spike IR ≥ 2.0).
    public static let perFeatureRequant = true

    /// A lif op with one threshold per channel.
    static func lif(stateBits: Int, thetas: [Int32], reset: Reset, leak: Leak) throws -> LIF {
        guard !thetas.isEmpty else { throw CompileError("lif: no channels") }
        return LIF(stateBits: stateBits, thetas: thetas, reset: reset, leak: leak)
    }

    /// The thresholds of a lif op, one per channel (`channels` is only used for a single-theta op).
    static func thetas(_ l: LIF, channels: Int) -> [Int32] {
        l.thetas.count == 1 && channels > 1 ? [Int32](repeating: l.thetas[0], count: channels) : l.thetas
    }

    /// A student with per-feature requant parameters.
    static func student(ops: [Op], features: Int, featMult: [Int32], featShift: [Int]) throws -> Student {
        guard featMult.count == features, featShift.count == features else {
            throw CompileError("student: \(featMult.count) feature multipliers for \(features) features")
        }
        return Student(ops: ops, features: features, featMult: featMult, featShift: featShift)
    }
}
