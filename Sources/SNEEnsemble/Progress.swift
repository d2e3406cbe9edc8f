// Progress output for long runs (a live bar within an epoch, one line per epoch) and the epoch loop
// with atomic per-epoch checkpoints and exact resume that every training stage shares.
import Foundation
import SNETensor
import SNETrain
import SNEData

/// Where a trainer writes: `line` for lasting lines (one per epoch), `bar` for the live status
/// within an epoch (overwritten in place on a terminal, throttled otherwise).
public struct ProgressSink: @unchecked Sendable {
    public let line: (String) -> Void
    public let bar: (String) -> Void
    public init(line: @escaping (String) -> Void, bar: @escaping (String) -> Void) { self.line = line; self.bar = bar }

    /// Nothing is written.
    public static let silent = ProgressSink(line: { _ in }, bar: { _ in })

    /// Standard error: a `\r`-refreshed bar on a terminal, at most one bar line per 15 s otherwise.
    public static func standardError() -> ProgressSink {
        let tty = isatty(2) != 0
        final class Clock: @unchecked Sendable { var last = Date.distantPast; var barShown = false }
        let clock = Clock()
        func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
        return ProgressSink(line: { s in
            if tty && clock.barShown { write("\r\u{1B}[2K") }
            clock.barShown = false
            write(s + "\n")
        }, bar: { s in
            if tty {
                write("\r\u{1B}[2K" + s); clock.barShown = true
            } else if Date().timeIntervalSince(clock.last) >= 15 {
                clock.last = Date(); write(s + "\n")
            }
        })
    }
}

/// Formats seconds as `1m05s` / `42s`.
func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
}

/// What one training step reports.
struct StepResult {
    var loss: Double
    /// Correct predictions among `scored` samples (0 scored: the stage has no accuracy).
    var correct: Int
    /// Samples processed.
    var count: Int
    var scored: Int
    init(loss: Double, correct: Int, count: Int, scored: Int? = nil) {
        self.loss = loss; self.correct = correct; self.count = count; self.scored = scored ?? count
    }
}

/// One training stage (teacher, a student, the head, the gate, a fine-tune): `epochs` passes of
/// `batchesPerEpoch` steps, an atomic checkpoint of model + optimizer + random stream after every
/// epoch, and exact resume from it (same seed and thread count give the same weights as an
/// uninterrupted run).
struct EpochLoop {
    let name: String
    let model: any Layer
    let optimizer: any Optimizer
    let ctx: LayerContext
    let epochs: Int
    let batchesPerEpoch: Int
    let checkpoint: String?
    let progress: ProgressSink

    /// Runs the remaining epochs. `step(epoch, batch)` trains on one batch; `endOfEpoch(epoch)`
    /// returns extra text for the epoch line (e.g. a test accuracy). Returns the last epoch's
    /// mean loss and accuracy.
    @discardableResult
    func run(resume: Bool, step: (Int, Int) throws -> StepResult, endOfEpoch: (Int) throws -> String = { _ in "" }) throws -> (loss: Double, accuracy: Double) {
        var start = 0
        if resume, let checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
            let ck: Checkpoint
            do { ck = try Checkpoint.read(from: checkpoint) } catch let e as CheckpointError { throw SNEError(e.message) }
            guard ck.metadata["stage"] == name else {
                throw SNEError("\(checkpoint): checkpoint of stage '\(ck.metadata["stage"] ?? "?")', not '\(name)' (delete it or drop --resume)")
            }
            do {
                let (rng, meta) = try TrainingCheckpoint.restore(ck, model: model, optimizer: optimizer)
                ctx.rng = rng
                start = Int(meta["epoch"] ?? "") ?? 0
            } catch let e as CheckpointError { throw SNEError("\(checkpoint): \(e.message) (was it written with another configuration?)") }
            progress.line("\(name): resumed from \(checkpoint) after epoch \(start)")
        }
        var last = (loss: Double.nan, accuracy: Double.nan)
        for epoch in start..<epochs {
            let t0 = Date()
            var lossSum = 0.0, correct = 0, seen = 0, scored = 0, steps = 0
            for b in 0..<batchesPerEpoch {
                let r = try step(epoch, b)
                lossSum += r.loss; correct += r.correct; seen += r.count; scored += r.scored; steps += 1
                let dt = Date().timeIntervalSince(t0)
                let eta = dt / Double(b + 1) * Double(batchesPerEpoch - b - 1)
                let acc = scored > 0 ? String(format: "  acc %.2f%%", 100 * Double(correct) / Double(scored)) : ""
                progress.bar(String(format: "%@ epoch %d/%d [%@] %d/%d  loss %.4f%@  %.0f img/s  ETA %@", name, epoch + 1, epochs,
                                    bar(Double(b + 1) / Double(batchesPerEpoch)), b + 1, batchesPerEpoch, lossSum / Double(steps),
                                    acc, Double(seen) / max(dt, 1e-9), formatDuration(eta)))
            }
            let dt = Date().timeIntervalSince(t0)
            last = (lossSum / Double(max(steps, 1)), scored > 0 ? Double(correct) / Double(scored) : .nan)
            if let checkpoint {
                var ck = TrainingCheckpoint.make(model: model, optimizer: optimizer, rng: ctx.rng, progress: ["epoch": "\(epoch + 1)"])
                ck.metadata["stage"] = name
                do { try ck.write(to: checkpoint) } catch let e as CheckpointError { throw SNEError.failure(e.message) }
            }
            let extra = try endOfEpoch(epoch)
            let acc = scored > 0 ? String(format: ", train acc %.2f%%", 100 * last.accuracy) : ""
            progress.line(String(format: "%@ epoch %d/%d: loss %.4f%@%@, %@ (%.0f img/s)", name, epoch + 1, epochs, last.loss,
                                 acc, extra.isEmpty ? "" : ", " + extra, formatDuration(dt), Double(seen) / max(dt, 1e-9)))
        }
        return last
    }

    private func bar(_ f: Double) -> String {
        let n = 20, k = Int((f * Double(n)).rounded(.down))
        return String(repeating: "#", count: k) + String(repeating: ".", count: n - k)
    }
}

/// Gathers rows `idx` of a `[N, ...]` float array with `per` floats per row.
func gatherRows(_ src: [Float], per: Int, _ idx: ArraySlice<Int>) -> [Float] {
    var out = [Float](repeating: 0, count: idx.count * per)
    src.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
        for (r, i) in idx.enumerated() { (o.baseAddress! + r * per).update(from: s.baseAddress! + i * per, count: per) }
    } }
    return out
}

/// Index of the largest value in each row of `[B, C]` (first on ties).
func argmaxRows(_ t: Tensor) -> [Int] {
    let b = t.shape[0], c = t.count / max(b, 1)
    return (0..<b).map { i in
        var best = 0
        for k in 1..<c where t.data[i * c + k] > t.data[i * c + best] { best = k }
        return best
    }
}
