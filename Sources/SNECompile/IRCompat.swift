// The few places where the compiler depends on the Spike IR version (1.0: one theta per lif op and
// one feature requant per student; 2.0: per-channel thresholds and per-feature requant). Everything
// else builds the IR through these helpers, so the switch to 2.0 touches only this file.
import SpikeIR

public enum IRCompat {
    /// True when `lif` takes one threshold per channel (Spike IR ≥ 2.0).
    public static let perChannelThresholds = false
    /// True when the readout requant is per feature (Spike IR ≥ 2.0).
    public static let perFeatureRequant = false

    /// A lif op with the given thresholds (all equal unless `perChannelThresholds`).
    static func lif(stateBits: Int, thetas: [Int32], reset: Reset, leak: Leak) throws -> LIF {
        guard let t0 = thetas.first, thetas.allSatisfy({ $0 == t0 }) else {
            throw CompileError("per-channel thresholds need Spike IR 2.0; this build reads Spike IR \(Program.versionMajor).\(Program.versionMinor) (one theta per lif, spec §3.5): use per-tensor weights")
        }
        return LIF(stateBits: stateBits, theta: t0, reset: reset, leak: leak)
    }

    /// The thresholds of a lif op, one per channel (`channels` copies of the single theta in 1.0).
    static func thetas(_ l: LIF, channels: Int) -> [Int32] { [Int32](repeating: l.theta, count: channels) }

    /// A student with per-feature requant parameters (all equal unless `perFeatureRequant`).
    static func student(ops: [Op], features: Int, featMult: [Int32], featShift: [Int]) throws -> Student {
        guard let m = featMult.first, let s = featShift.first, featMult.allSatisfy({ $0 == m }), featShift.allSatisfy({ $0 == s }) else {
            throw CompileError("per-feature readout requant needs Spike IR 2.0; this build reads Spike IR \(Program.versionMajor).\(Program.versionMinor)")
        }
        return Student(ops: ops, features: features, featMult: m, featShift: s)
    }
}
