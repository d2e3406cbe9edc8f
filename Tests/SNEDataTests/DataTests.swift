// Tests for SNEData: gzip/inflate (stored, fixed, dynamic blocks; corruption), IDX on real MNIST,
// CIFAR-10 and NPY round trips and malformed files, and the deterministic background loader.
import Testing
import Foundation
@testable import SNEData

/// `../shared/data` relative to the checkout (found from this file's path), or nil when absent.
func sharedData(_ sub: String) -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.deletingLastPathComponent().appendingPathComponent("shared/data/\(sub)").path
    return FileManager.default.fileExists(atPath: dir) ? dir : nil
}

func tmpPath(_ name: String) -> String {
    NSTemporaryDirectory() + "sne-data-\(getpid())-\(name)"
}

@Suite struct GzipTests {
    // Made with zlib (raw deflate level 9 = fixed Huffman, level 0 = stored) plus a gzip header/trailer.
    let fixed: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 0, 255, 203, 72, 205, 201, 201, 87, 200, 64, 39, 21, 1, 64, 113, 229, 167, 24, 0, 0, 0]
    let stored: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 0, 255, 1, 3, 0, 252, 255, 97, 98, 99, 194, 65, 36, 53, 3, 0, 0, 0]

    @Test func fixedAndStoredBlocks() throws {
        #expect(try Gzip.decompress(fixed) == Array("hello hello hello hello!".utf8))
        #expect(try Gzip.decompress(stored) == Array("abc".utf8))
        #expect(try Gzip.decompress(stored + fixed) == Array("abchello hello hello hello!".utf8))   // two members
    }

    @Test func corruptionAndTruncationThrowOneClearError() {
        for cut in [5, 12, fixed.count - 3] {
            #expect(throws: DataError.self) { try Gzip.decompress(Array(fixed[0..<cut]), source: "x.gz") }
        }
        var bad = fixed; bad[bad.count - 8] ^= 0xFF   // CRC
        do { _ = try Gzip.decompress(bad, source: "x.gz"); Issue.record("no error") } catch let e as DataError {
            #expect(e.message == "x.gz: gzip CRC-32 check failed (corrupt file)")
        } catch { Issue.record("\(error)") }
        #expect(throws: DataError.self) { try Gzip.decompress([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]) }
    }

    /// docs/loaders.md §1.5, decision 2: a file read to its exact end (limit = its whole output)
    /// has its trailer checked; only a stream known to go on past the limit skips it.
    @Test func exactEndReadChecksTheTrailer() throws {
        let text = Array("hello hello hello hello!".utf8)
        var bad = fixed; bad[bad.count - 8] ^= 0xFF   // wrong CRC
        for limit in [text.count, text.count + 1, text.count + 100] {
            #expect(try Gzip.decompress(fixed, limit: limit) == text)
            do { _ = try Gzip.decompress(bad, source: "x.gz", limit: limit); Issue.record("limit \(limit): wrong CRC accepted") }
            catch let e as DataError { #expect(e.message == "x.gz: gzip CRC-32 check failed (corrupt file)") }
        }
        // A prefix of the stream: no trailer is reachable, the first `limit` bytes come back.
        for limit in [1, 5, text.count - 1] {
            #expect(try Gzip.decompress(bad, limit: limit) == Array(text[0..<limit]))
        }
    }

    @Test func realMNISTDynamicBlocks() throws {
        guard let dir = sharedData("mnist") else { print("skipping: ../shared/data/mnist not found"); return }
        // The label file whole (dynamic Huffman blocks, CRC and length checked), images: the first 100.
        let labels = try readMaybeGzip(dir + "/t10k-labels-idx1-ubyte.gz")
        #expect(labels.count == 8 + 10000)
        let test = try IDX.load(directory: dir, split: "t10k", limit: 100)
        #expect(test.shape == [100, 1, 28, 28])
        #expect(Array(test.labels.prefix(10)) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        #expect(test.labels == Array(labels[8..<108]).map(Int.init))
        #expect(test.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(test.pixels.contains { $0 > 0.99 })
    }

    @Test func truncatedRealFileFails() throws {
        guard let dir = sharedData("mnist") else { print("skipping: ../shared/data/mnist not found"); return }
        let bytes = [UInt8](FileManager.default.contents(atPath: dir + "/t10k-labels-idx1-ubyte.gz")!)
        let p = tmpPath("trunc.gz")
        try Data(bytes[0..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: p))
        defer { try? FileManager.default.removeItem(atPath: p) }
        do { _ = try readMaybeGzip(p); Issue.record("no error") } catch let e as DataError {
            #expect(e.message.hasPrefix(p + ": truncated"))
        }
    }
}

@Suite struct FormatTests {
    @Test func idxHeaderChecks() throws {
        let good: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]
        #expect(try IDX.parse(good, source: "l").dims == [3])
        #expect(throws: DataError.self) { try IDX.parse([1, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9], source: "l") }
        #expect(throws: DataError.self) { try IDX.parse([0, 0, 8, 1, 0, 0, 0, 3, 7, 8], source: "l") }
        #expect(throws: DataError.self) { try IDX.parse([0, 0, 0x0D, 1, 0, 0, 0, 1, 7, 7, 7, 7], source: "l") }
        #expect(throws: DataError.self) { try IDX.load(directory: "/nonexistent", split: "train") }
    }

    @Test func cifar10() throws {
        var bytes: [UInt8] = []
        for i in 0..<3 { bytes.append(UInt8(i)); bytes += (0..<3072).map { UInt8(($0 + i) % 256) } }
        let d = try CIFAR10.parse(bytes, source: "c")
        #expect(d.shape == [3, 3, 32, 32] && d.labels == [0, 1, 2])
        #expect(d.pixels[3072 + 1] == Float(2) / 255)
        #expect(throws: DataError.self) { try CIFAR10.parse(Array(bytes.dropLast()), source: "c") }
        var badLabel = bytes; badLabel[0] = 10
        #expect(throws: DataError.self) { try CIFAR10.parse(badLabel, source: "c") }
    }

    @Test func npyRoundTrips() throws {
        let arrays: [NPYArray] = [.float32([1.5, -2, 3.25, 0, 1e-7, 42], shape: [2, 3]), .int32([-1, 2, 3], shape: [3]),
                                  .uint8([0, 255, 7, 9], shape: [2, 1, 2]), .float32([], shape: [0, 4])]
        for a in arrays {
            let p = tmpPath("a.npy")
            try NPY.write(a, to: p)
            defer { try? FileManager.default.removeItem(atPath: p) }
            #expect(try NPY.read(p) == a)
            #expect(NPY.encode(a).count % 16 == (a.shape.reduce(1, *) * (a.shape == [2, 1, 2] ? 1 : 4)) % 16)
        }
    }

    @Test func npyMalformed() {
        let good = NPY.encode(.float32([1, 2, 3], shape: [3]))
        #expect(throws: DataError.self) { try NPY.decode(Array(good.dropLast()), source: "a.npy") }
        #expect(throws: DataError.self) { try NPY.decode([1, 2, 3], source: "a.npy") }
        var f8 = good
        if let i = (0..<(f8.count - 2)).first(where: { f8[$0] == UInt8(ascii: "<") && f8[$0 + 1] == UInt8(ascii: "f") }) { f8[i + 2] = UInt8(ascii: "8") }
        do { _ = try NPY.decode(f8, source: "a.npy"); Issue.record("no error") } catch let e as DataError {
            #expect(e.message.contains("dtype '<f8' unsupported"))
        } catch { Issue.record("\(error)") }
    }
}

@Suite struct LoaderTests {
    func toy(_ n: Int) throws -> LabeledImages {
        try LabeledImages(shape: [n, 1, 4, 4], pixels: (0..<(n * 16)).map { Float($0) }, labels: Array(0..<n))
    }

    @Test func deterministicShuffleCoversEverySampleOnce() throws {
        let l = try BatchLoader(try toy(50), batchSize: 8, seed: 3)
        let a = Array(l.epoch(0)), b = Array(l.epoch(0)), c = Array(l.epoch(1))
        #expect(a.count == 7 && a.last!.labels.count == 2)
        #expect(a.flatMap(\.labels) == b.flatMap(\.labels))
        #expect(a.flatMap(\.labels) != c.flatMap(\.labels))
        #expect(a.flatMap(\.labels).sorted() == Array(0..<50))
        // Resuming mid-epoch gives the same remaining batches.
        #expect(Array(l.epoch(0, startBatch: 4)).flatMap(\.labels) == a[4...].flatMap(\.labels))
        // Pixels follow their labels.
        for batch in a { for (k, lab) in batch.labels.enumerated() { #expect(batch.pixels[k * 16] == Float(lab * 16)) } }
    }

    @Test func augmentationIsDeterministicAndCorrect() throws {
        let aug = Augmentation(cropPadding: 1, horizontalFlip: true, noiseStd: 0.1)
        let l = try BatchLoader(try toy(20), batchSize: 5, seed: 9, augmentation: aug, dropLast: true)
        #expect(Array(l.epoch(2)).map(\.pixels) == Array(l.epoch(2)).map(\.pixels))
        var img: [Float] = [1, 2, 3, 4]
        var rng = DataRNG(seed: 0)
        var flips = 0
        for _ in 0..<20 {
            var x = img
            Augmentation(horizontalFlip: true).apply(&x, c: 1, h: 2, w: 2, rng: &rng)
            #expect(x == [1, 2, 3, 4] || x == [2, 1, 4, 3])
            if x != img { flips += 1 }
        }
        #expect(flips > 0 && flips < 20)
        Augmentation(cropPadding: 1).apply(&img, c: 1, h: 2, w: 2, rng: &rng)
        #expect(img.filter { $0 != 0 }.allSatisfy { [1, 2, 3, 4].contains($0) })
    }

    @Test func abandonedEpochStopsItsThread() throws {
        let l = try BatchLoader(try toy(100), batchSize: 2, prefetch: 1)
        let e = l.epoch(0)
        #expect(e.next() != nil)
        e.cancel()
        #expect(throws: DataError.self) { try BatchLoader(try toy(1), batchSize: 0) }
    }
}
