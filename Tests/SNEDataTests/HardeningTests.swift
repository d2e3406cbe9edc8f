// Bad inputs for every SNEData reader: numpy-written NPY files (Tests/SNEDataTests/NPYFiles,
// made by its generate.py) and generated malformed NPY headers, IDX sizes that overflow,
// gzip bombs, non-regular files, and files far larger than their header allows.
import Testing
import Foundation
import SNEBase
@testable import SNEData

let npyDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("NPYFiles").path

func writeTmp(_ name: String, _ bytes: [UInt8]) throws -> String {
    let p = tmpPath(name)
    try Data(bytes).write(to: URL(fileURLWithPath: p))
    return p
}

/// The message of the `DataError` `body` throws (fails the test when it does not throw one).
func dataError(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let e as DataError { return e.message } catch { return "not a DataError: \(error)" }
}

@Suite struct NPYSpecTests {
    @Test func numpyFilesMatchTheManifest() throws {
        let manifest = try String(contentsOfFile: npyDir + "/MANIFEST", encoding: .utf8)
        var checked = 0
        for line in manifest.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            let path = npyDir + "/" + f[0]
            if f[1] == "accept" {
                let parts = f[2].split(separator: " ", omittingEmptySubsequences: false)
                let shape = parts.count > 1 ? parts[1].split(separator: ",").compactMap { Int($0) } : []
                let a = try NPY.read(path)
                #expect(a.shape == shape, "\(f[0])")
                switch (a, String(parts[0])) {
                case (.uint8(let v, _), "uint8"): #expect(v.count == shape.reduce(1, *))
                case (.float32(let v, _), "float32"): #expect(v.count == shape.reduce(1, *))
                case (.int32(let v, _), "int32"): #expect(v.count == shape.reduce(1, *))
                default: Issue.record("\(f[0]): read as \(a), manifest says \(f[2])")
                }
            } else {
                let m = dataError { _ = try NPY.read(path) }
                #expect(m != nil && m!.contains(f[0]) && m!.split(separator: "\n").count == 1, "\(f[0]): \(m ?? "accepted")")
                if f.count > 2 { #expect(m?.contains(f[2]) == true, "\(f[0]): '\(m ?? "")' lacks '\(f[2])'") }
            }
            checked += 1
        }
        #expect(checked >= 25)
    }

    @Test func numpyValuesRoundTrip() throws {
        // u8_v1.npy holds arange(12) * 7 as (3, 4, 1); f4.npy linspace(-1, 1, 6) as (2, 3).
        #expect(try NPY.read(npyDir + "/u8_v3.npy") == .uint8((0..<12).map { UInt8($0 * 7) }, shape: [3, 4, 1]))
        guard case .float32(let f, _) = try NPY.read(npyDir + "/f4.npy") else { Issue.record("not float32"); return }
        #expect(f.first == -1 && f.last == 1)
        guard case .int32(let i, _) = try NPY.read(npyDir + "/i4.npy") else { Issue.record("not int32"); return }
        #expect(i == [-3, -2, -1, 0, 1, 2])
    }

    @Test func generatedMalformedHeadersAreRefusedWithTheReason() {
        let cases = BadInputs.malformedNPY()
        #expect(cases.count >= 30)
        for (what, bytes, phrase) in cases {
            let m = dataError { _ = try NPY.decode(bytes, source: "t.npy") }
            #expect(m != nil, "\(what): accepted")
            #expect(m?.hasPrefix("t.npy: ") == true && m?.contains("\n") == false, "\(what): \(m ?? "")")
            if !phrase.isEmpty { #expect(m?.contains(phrase) == true, "\(what): '\(m ?? "")' lacks '\(phrase)'") }
        }
        // The valid base of every case is accepted.
        #expect(throws: Never.self) { try NPY.decode(BadInputs.npy(BadInputs.good, body: [1, 2, 3, 4, 5, 6]), source: "t.npy") }
    }

    @Test func ourWriterIsReadBackInEveryVersion() throws {
        let a = NPYArray.uint8([1, 2, 3, 4, 5, 6], shape: [2, 3])
        var b = NPY.encode(a)
        #expect(try NPY.decode(b, source: "x") == a)
        // The same header as v2/v3: 4-byte length.
        let hl = Int(b[8]) | Int(b[9]) << 8
        for major: UInt8 in [2, 3] {
            b = [0x93] + Array("NUMPY".utf8) + [major, 0, UInt8(hl & 0xFF), UInt8(hl >> 8), 0, 0] + Array(NPY.encode(a)[10...])
            #expect(try NPY.decode(b, source: "x") == a)
        }
    }
}

@Suite struct ReaderBoundsTests {
    @Test func idxSizesThatOverflowAreRefusedEverywhere() throws {
        for (what, bytes) in BadInputs.overflowingIDX() {
            let m = dataError { _ = try IDX.parse(bytes, source: "x-idx3-ubyte") }
            #expect(m?.contains("describe more than") == true, "\(what): \(m ?? "accepted")")
            let img = try writeTmp("ov-images-idx3-ubyte", bytes)
            let lab = try writeTmp("ov-labels-idx1-ubyte", BadInputs.idx([3], data: [1, 2, 3]))
            defer { unlink(img); unlink(lab) }
            for limit in [nil, 1, 100] as [Int?] {
                let e = dataError { _ = try IDX.load(images: img, labels: lab, limit: limit) }
                #expect(e != nil && !e!.contains("\n"), "\(what) limit \(String(describing: limit)): \(e ?? "accepted")")
            }
        }
    }

    @Test func gzipBombStopsAtWhatTheHeaderAllows() throws {
        // An IDX header for 10 images of 28x28 (7856 bytes in all), then a stream of 64 MiB.
        let header = BadInputs.idx([10, 28, 28])
        var bomb = BadInputs.gzipBomb(byte: 0, count: 64 << 20)
        // Put the header in front as a stored gzip member so the file starts like a real one.
        let stored: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 1, UInt8(header.count), 0, ~UInt8(header.count), 0xFF] + header
            + withUnsafeBytes(of: CRC32.checksum(header).littleEndian, Array.init) + [UInt8(header.count), 0, 0, 0]
        bomb = stored + bomb
        let p = try writeTmp("bomb-images-idx3-ubyte.gz", bomb)
        let l = try writeTmp("bomb-labels-idx1-ubyte", BadInputs.idx([10], data: [UInt8](repeating: 1, count: 10)))
        defer { unlink(p); unlink(l) }
        let t0 = Date()
        let m = dataError { _ = try IDX.load(images: p, labels: l) }
        #expect(m?.contains("inflates to more than the 7856 bytes") == true, "\(m ?? "accepted")")
        #expect(Date().timeIntervalSince(t0) < 5)
        // Directly: the inflater stops once past maxOutput.
        let d = dataError { _ = try Gzip.decompress(BadInputs.gzipBomb(count: 1 << 20), source: "b.gz", maxOutput: 1000) }
        #expect(d?.contains("b.gz: inflates to more than the 1000 bytes") == true, "\(d ?? "")")
        // With `limit` (a header read) the first bytes come back.
        #expect(try Gzip.decompress(BadInputs.gzipBomb(byte: 9, count: 1 << 20), limit: 16) == [UInt8](repeating: 9, count: 16))
        // The generator is a valid stream: inflated in full it has the promised length.
        #expect(throws: DataError.self) { try Gzip.decompress(BadInputs.gzipBomb(count: 5000)) }   // zero trailer: CRC check fails
    }

    @Test func hugeFilesAreRefusedBeforeReading() throws {
        // A sparse 3 GiB file: refused by its size or its magic without being read.
        let p = tmpPath("huge.npy")
        let fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        #expect(fd >= 0)
        ftruncate(fd, 3 << 30); close(fd)
        defer { unlink(p) }
        let t0 = Date()
        #expect(dataError { _ = try NPY.read(p) }?.contains("bad magic") == true)
        #expect(dataError { _ = try IDX.load(images: p, labels: p) }?.contains("IDX element type 0x0 unsupported") == true)   // zeros: 00 00 00 00
        #expect(dataError { _ = try CIFAR10.load(files: [p]) }?.contains("more than CIFAR-10 data") == true)
        #expect(dataError { _ = try readMaybeGzip(p, maxOutput: 784, what: "a raw input") }?.contains("is more than a raw input can be (784 bytes)") == true)
        #expect(Date().timeIntervalSince(t0) < 2)
    }

    @Test func nonRegularFilesAreNamed() throws {
        let fifo = tmpPath("fifo")
        unlink(fifo)
        #expect(mkfifo(fifo, 0o644) == 0)
        defer { unlink(fifo) }
        let cases: [(String, String)] = [
            (fifo, "is a FIFO (named pipe), not a regular file"),
            ("/dev/null", "is a character device, not a regular file"),
            (NSTemporaryDirectory(), "is a directory, not a regular file"),
            ("/nonexistent/x.npy", "no such file"),
        ]
        for (path, phrase) in cases {
            for read in [{ _ = try NPY.read(path) }, { _ = try readMaybeGzip(path) }] as [() throws -> Void] {
                let m = dataError(read)
                #expect(m == "\(path): \(phrase)", "\(m ?? "accepted")")
            }
        }
    }
}

@Suite struct ReaderFuzzTests {
    /// Mutated NPY, IDX and gzip files through the readers in-process: every one either parses
    /// or throws a one-line `DataError` (a trap would end the test process). `SNE_FUZZ_N` sets
    /// the number of files (default 3000 here; `.ci/fuzz-readers.sh` runs 100000).
    @Test func mutatedFilesNeverCrash() throws {
        let n = Int(ProcessInfo.processInfo.environment["SNE_FUZZ_N"] ?? "") ?? 3000
        var seeds: [(String, [UInt8])] = []
        for f in (try? FileManager.default.contentsOfDirectory(atPath: npyDir)) ?? [] where f.hasSuffix(".npy") {
            seeds.append(("npy", [UInt8](try Data(contentsOf: URL(fileURLWithPath: npyDir + "/" + f)))))
        }
        seeds.append(("idx", BadInputs.idx([3, 2, 2], data: Array(0..<12))))
        seeds.append(("idx", BadInputs.idx([4], data: [1, 2, 3, 4])))
        let gz: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 0, 255, 203, 72, 205, 201, 201, 87, 200, 64, 39, 21, 1, 64, 113, 229, 167, 24, 0, 0, 0]
        seeds.append(("gzip", gz))
        seeds.append(("gzip", Array(BadInputs.gzipBomb(count: 600).prefix(40))))
        var m = BadInputs.Mutator(seed: 20261201)
        var accepted = 0, refused = 0, multiLine = 0
        for i in 0..<n {
            let (kind, seed) = seeds[i % seeds.count]
            let b = m.mutate(seed, focus: kind == "npy" ? 128 : 24)
            do {
                switch kind {
                case "npy": _ = try NPY.decode(b, source: "f")
                case "idx": _ = try IDX.parse(b, source: "f"); _ = try IDX.parse(b, source: "f", items: 2)
                default: _ = try Gzip.decompress(b, source: "f", maxOutput: 1 << 16); _ = try Gzip.decompress(b, source: "f", limit: 8, maxOutput: 1 << 16)
                }
                accepted += 1
            } catch let e as DataError {
                refused += 1
                if e.message.contains("\n") { multiLine += 1 }
            }
        }
        print("reader fuzz: \(n) mutated files (npy, idx, gzip), \(accepted) accepted, \(refused) refused, 0 crashes")
        #expect(accepted + refused == n && multiLine == 0)
    }
}
