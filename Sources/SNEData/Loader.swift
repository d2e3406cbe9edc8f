// Deterministic shuffling, batching and augmentation, produced on a background thread.
import Foundation
import SNEBase

/// The data order and augmentation generator: SNEBase's SplitMix64 (no global state).
public typealias DataRNG = SplitMix64

extension SplitMix64 {
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func below(_ n: Int) -> Int { Int(uniform() * Double(n)) % max(n, 1) }
    mutating func gaussian() -> Float {
        let u1 = uniform() + 0x1p-54, u2 = uniform()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

/// Training-time augmentation, applied per image.
public struct Augmentation: Sendable, Equatable {
    /// Zero-pad by this many pixels and crop back at a random offset (0 = off).
    public var cropPadding: Int
    /// Mirror left-right with probability 1/2.
    public var horizontalFlip: Bool
    /// Add N(0, std²) noise to every pixel (0 = off).
    public var noiseStd: Float

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, noiseStd: Float = 0) {
        self.cropPadding = cropPadding; self.horizontalFlip = horizontalFlip; self.noiseStd = noiseStd
    }
    public static let none = Augmentation()
    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip && noiseStd == 0 }

    /// Augments one `[C, H, W]` image in place.
    public func apply(_ img: inout [Float], c: Int, h: Int, w: Int, rng: inout DataRNG) {
        if cropPadding > 0 {
            let p = cropPadding
            let dy = rng.below(2 * p + 1) - p, dx = rng.below(2 * p + 1) - p
            let src = img
            for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                let sy = y + dy, sx = x + dx
                img[(ch * h + y) * w + x] = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? src[(ch * h + sy) * w + sx] : 0
            } } }
        }
        if horizontalFlip && rng.next() & 1 == 1 {
            for ch in 0..<c { for y in 0..<h {
                let row = (ch * h + y) * w
                for x in 0..<(w / 2) { img.swapAt(row + x, row + w - 1 - x) }
            } }
        }
        if noiseStd > 0 { for i in img.indices { img[i] += noiseStd * rng.gaussian() } }
    }
}

/// One batch: `[B, C, H, W]` pixels and labels, with its index within the epoch.
public struct Batch: Sendable {
    public let index: Int
    public let shape: [Int]
    public let pixels: [Float]
    public let labels: [Int]
}

/// Splits a dataset into batches in a seeded order, augmenting on a background thread that keeps
/// up to `prefetch` batches ready. Epoch `e` always yields the same batches for the same seed,
/// whatever the timing, so training resumes exactly from (epoch, batch index).
public final class BatchLoader: @unchecked Sendable {
    public let data: LabeledImages
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let augmentation: Augmentation
    public let dropLast: Bool
    public let prefetch: Int

    public init(_ data: LabeledImages, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0,
                augmentation: Augmentation = .none, dropLast: Bool = false, prefetch: Int = 3) throws {
        guard batchSize >= 1 else { throw DataError("BatchLoader: batch size must be >= 1, got \(batchSize)") }
        guard data.count > 0 else { throw DataError("BatchLoader: the dataset is empty") }
        self.data = data; self.batchSize = batchSize; self.shuffle = shuffle; self.seed = seed
        self.augmentation = augmentation; self.dropLast = dropLast; self.prefetch = max(1, prefetch)
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int { dropLast ? data.count / batchSize : (data.count + batchSize - 1) / batchSize }

    /// The sample order of epoch `epoch` (Fisher–Yates with a per-epoch seed).
    public func order(epoch: Int) -> [Int] {
        var idx = Array(0..<data.count)
        guard shuffle else { return idx }
        var rng = DataRNG(seed: seed ^ (0xA5A5_0000_0000 &+ UInt64(epoch) &* 0x9E37_79B9))
        for i in stride(from: idx.count - 1, to: 0, by: -1) { idx.swapAt(i, rng.below(i + 1)) }
        return idx
    }

    /// Builds batch `b` of `epoch` (deterministic; used by the background producer).
    public func makeBatch(epoch: Int, index b: Int, order: [Int]) -> Batch {
        let lo = b * batchSize, hi = min(lo + batchSize, order.count)
        let per = data.imageSize, (c, h, w) = (data.shape[1], data.shape[2], data.shape[3])
        var px = [Float](repeating: 0, count: (hi - lo) * per)
        var labels = [Int](repeating: 0, count: hi - lo)
        var rng = DataRNG(seed: seed &+ UInt64(epoch) &* 1_000_003 &+ UInt64(b) &* 7_919 &+ 0x5151)
        data.pixels.withUnsafeBufferPointer { src in
            for (k, i) in order[lo..<hi].enumerated() {
                labels[k] = data.labels[i]
                if augmentation.isIdentity {
                    for j in 0..<per { px[k * per + j] = src[i * per + j] }
                } else {
                    var img = Array(src[(i * per)..<((i + 1) * per)])
                    augmentation.apply(&img, c: c, h: h, w: w, rng: &rng)
                    for j in 0..<per { px[k * per + j] = img[j] }
                }
            }
        }
        return Batch(index: b, shape: [hi - lo, c, h, w], pixels: px, labels: labels)
    }

    /// The batches of `epoch` from `startBatch` on, produced by a background thread.
    public func epoch(_ epoch: Int, startBatch: Int = 0) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch, start: startBatch)
    }
}

/// The bounded queue between the producer thread and the consumer.
final class BatchChannel: @unchecked Sendable {
    let cond = NSCondition()
    var queue: [Batch] = []
    var finished = false
    var cancelled = false
}

/// A one-pass sequence of batches filled by a background thread (bounded queue). Dropping it
/// (or calling `cancel`) stops the producer.
public final class EpochBatches: Sequence, IteratorProtocol, @unchecked Sendable {
    private let ch = BatchChannel()

    init(loader: BatchLoader, epoch: Int, start: Int) {
        let total = loader.batchesPerEpoch
        let first = Swift.min(start, total)
        let ch = self.ch
        let t = Thread {
            let order = loader.order(epoch: epoch)
            for b in first..<total {
                let batch = loader.makeBatch(epoch: epoch, index: b, order: order)
                ch.cond.lock()
                while ch.queue.count >= loader.prefetch && !ch.cancelled { ch.cond.wait() }
                if ch.cancelled { ch.cond.unlock(); return }
                ch.queue.append(batch)
                ch.cond.broadcast()
                ch.cond.unlock()
            }
            ch.cond.lock(); ch.finished = true; ch.cond.broadcast(); ch.cond.unlock()
        }
        t.name = "sne.data"
        t.start()
    }

    deinit { cancel() }

    /// Stops the producer (remaining batches are dropped).
    public func cancel() { ch.cond.lock(); ch.cancelled = true; ch.cond.broadcast(); ch.cond.unlock() }

    public func next() -> Batch? {
        ch.cond.lock(); defer { ch.cond.unlock() }
        while ch.queue.isEmpty && !ch.finished && !ch.cancelled { ch.cond.wait() }
        if ch.queue.isEmpty { return nil }
        let b = ch.queue.removeFirst()
        ch.cond.broadcast()
        return b
    }
}
