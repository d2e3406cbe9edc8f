// Host differential tests: thousands of (random program x random input x every budget) runs of the
// C runtime (blob mode, one compiled driver reading all programs from one file) against the
// Swift interpreter — logits, prediction, active list, counts and trace hash, bit for bit.
import Foundation
import Testing
@testable import SNECodegen
import SNEBase
import SpikeIR
@testable import SpikeIRFixtures

struct DiffCase { var program: Program; var inputs: [[UInt8]] }

func tempDir(_ tag: String) -> String {
    let d = NSTemporaryDirectory() + "sne-test-\(tag)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Runs every case through the compiled driver and returns mismatch lines (empty = all equal) and the number of compared runs.
func runDifferential(_ cases: [DiffCase], compiler: String = "cc", flags: [String] = ["-O2"], env: [String: String] = [:],
                     traceHash: Bool = true) throws -> ([String], Int) {
    let dir = tempDir("diff")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let exe = try DiffVectors.buildDriver(into: dir, compiler: compiler, flags: flags, traceHash: traceHash)
    let items = try cases.map { (blob: try ProgramFile.encode($0.program), inputs: $0.inputs, inputSize: $0.program.input.size) }
    try Data(DiffVectors.encode(items)).write(to: URL(fileURLWithPath: dir + "/vectors.sned"))
    let r = try Shell.run([exe, dir + "/vectors.sned"], env: env)
    guard r.status == 0 else { return (["driver exited \(r.status): \(r.stderr.prefix(2000))"], 0) }
    var lines: [Int: [Substring]] = [:]
    var opLines: [String: Substring] = [:]   // "p i k" -> "C" line: gate, head and per-op counts (uint64)
    for l in r.stdout.split(separator: "\n") {
        let f = l.split(separator: " ", maxSplits: 2)
        if l.hasPrefix("C ") {
            let g = l.split(separator: " ")
            if g.count >= 4 { opLines["\(g[1]) \(g[2]) \(g[3])"] = l }
            continue
        }
        if f.count >= 2, let p = Int(f[1]) { lines[p, default: []].append(l) }
    }
    var mism: [String] = [], compared = 0
    for (pi, c) in cases.enumerated() {
        let interp = try Interpreter(c.program)
        let ls = lines[pi] ?? []
        guard let load = ls.first, load.hasPrefix("L \(pi) 0 ") else {
            mism.append("program \(pi): C loader rejected a valid program: \(ls.first ?? "no output")"); continue
        }
        var idx = 1
        for (ii, x) in c.inputs.enumerated() {
            for k in 0...(c.program.students.count + 1) {
                guard idx < ls.count else { mism.append("program \(pi): output ended early"); break }
                let line = ls[idx]; idx += 1
                // strip the program index: "R p i k ..." -> "R i k ..."
                let f = line.split(separator: " ", maxSplits: 2)
                guard let (i, kk, got) = Verifier.parseLine(Substring("R " + f[2])), i == ii, kk == k else {
                    mism.append("program \(pi): unparsable line \(line)"); continue
                }
                compared += 1
                if k < 1 || k > c.program.students.count {
                    if got.status != 2 { mism.append("program \(pi) input \(ii) budget \(k): expected SNE_E_BUDGET, got \(got.status)") }
                    continue
                }
                let res = try interp(x, budget: k)
                let exp = Verifier.expectedResult(res, traceHash: traceHash)
                if got != exp {
                    mism.append("program \(pi) (\(c.program.name)) input \(ii) budget \(k): C \(got) vs Swift \(exp)")
                }
                // spec §8 counts per student per op (all K students, zeros for those not run), gate, head
                // C's op_counts: every student's ops, then the stem's (zeros when it did not run), and its total
                let ops = res.flatOpCounts(stemOps: c.program.stem?.count ?? 0).map { "\($0.synops),\($0.macs),\($0.neuronUpdates)" }.joined(separator: ";")
                let sc = res.stemCounts
                let want = "C \(pi) \(ii) \(k) \(res.gateCounts.synops),\(res.gateCounts.macs) \(res.headCounts.macs) \(ops) \(sc.synops),\(sc.macs),\(sc.neuronUpdates)"
                if opLines["\(pi) \(ii) \(k)"].map(String.init) != want {
                    mism.append("program \(pi) input \(ii) budget \(k): per-op counts: C '\(opLines["\(pi) \(ii) \(k)"] ?? "none")' vs Swift '\(want)'")
                }
            }
        }
        if mism.count > 5 { break }
    }
    return (mism, compared)
}

func randomCases(seed: UInt64, programs: Int, inputs: Int, limits: RandomProgram.Limits = .init()) -> [DiffCase] {
    var g = RandomProgram(seed: seed, limits: limits)
    return (0..<programs).map { _ in
        let p = g.program()
        return DiffCase(program: p, inputs: (0..<inputs).map { _ in g.input(for: p) })
    }
}

@Suite("differential: C runtime vs Swift interpreter (host)")
struct DifferentialTests {
    @Test("random programs x random inputs x all budgets, bit-exact")
    func randomPrograms() throws {
        let cases = randomCases(seed: 1, programs: 2000, inputs: 4)
        let (mism, n) = try runDifferential(cases)
        print("differential host: \(cases.count) programs, \(n) runs (inputs x budgets 0…K+1)")
        #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
        #expect(n > 5000)
    }

    /// The one-channel input conv's fast walk (input_conv_c1) at every stride: random one-channel
    /// programs whose students start with a strided input_conv2d of 4 or 8 output channels.
    @Test("one-channel input convs of stride 2 and 3 (the specialized walk), bit-exact")
    func stridedOneChannelInputConvs() throws {
        var limits = RandomProgram.Limits(); limits.maxChannels = 1; limits.maxSide = 12
        let cases = randomCases(seed: 77, programs: 3000, inputs: 3, limits: limits).filter { c in
            c.program.students.contains { s in
                if case .inputConv2D(let v) = s.ops.first { return v.stride > 1 && v.cout % 4 == 0 }
                return false
            }
        }
        let fullRows = cases.filter { c in c.program.students.contains { s in
            if case .inputConv2D(let v) = s.ops.first { return v.stride > 1 && v.cout % 4 == 0 && v.kh == 3 && v.kw == 3 }
            return false
        } }
        #expect(cases.count >= 20 && fullRows.count >= 3, "\(cases.count) strided programs, \(fullRows.count) with 3x3 kernels")
        let (mism, n) = try runDifferential(cases)
        print("differential host, strided one-channel input convs: \(cases.count) programs, \(n) runs")
        #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
    }

    @Test("deployment build (SNE_TRACE_HASH=0: the stem and lif+maxpool fast paths), bit-exact but for the hash")
    func deployedBuild() throws {
        let cases = randomCases(seed: 7, programs: 1000, inputs: 4)
        let (mism, n) = try runDifferential(cases, traceHash: false)
        print("differential host, deployment build: \(cases.count) programs, \(n) runs")
        #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
        #expect(n > 2500)
    }

    @Test("generic loops only (SNE_SPECIALIZE=0), deployment and trace builds, bit-exact")
    func genericLoops() throws {
        let cases = randomCases(seed: 9, programs: 400, inputs: 3)
        for traceHash in [false, true] {
            let (mism, n) = try runDifferential(cases, flags: ["-O2", "-DSNE_SPECIALIZE=0"], traceHash: traceHash)
            print("differential host, SNE_SPECIALIZE=0, trace hash \(traceHash): \(cases.count) programs, \(n) runs")
            #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
            #expect(n > 1000)
        }
    }

    @Test("deployment build under ASan + UBSan (clang)")
    func deployedSanitizers() throws {
        guard let cc = sanitizerClang() else { print("skipped: no clang"); return }
        let cases = randomCases(seed: 8, programs: 150, inputs: 3)
        let (mism, _) = try runDifferential(cases, compiler: cc, flags: ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
                                            env: ["ASAN_OPTIONS": "detect_leaks=0"], traceHash: false)
        #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
    }

    @Test("same set under ASan + UBSan (clang)")
    func sanitizers() throws {
        guard let cc = sanitizerClang() else { print("skipped: no clang"); return }
        let cases = randomCases(seed: 2, programs: 200, inputs: 3)
        let (mism, n) = try runDifferential(cases, compiler: cc,
            flags: ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"],
            env: ["ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"])
        print("differential host ASan+UBSan: \(cases.count) programs, \(n) runs")
        #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
    }
}

@Suite("blob loader: C accepts exactly what the Swift decoder accepts")
struct LoaderDifferentialTests {
    @Test("mutated blobs (CRC fixed up) — same accept/reject, same results when accepted")
    func mutatedBlobs() throws {
        var g = RandomProgram(seed: 77, limits: .tiny)
        var rng = SplitMix64(seed: 99)
        var blobs: [[UInt8]] = [], programs: [Program?] = []
        for _ in 0..<150 {
            let p = g.program()
            let clean = try ProgramFile.encode(p)
            for m in 0..<8 {
                var b = clean
                let flips = m == 0 ? 0 : rng.int(1...3)
                for _ in 0..<flips {
                    // bias mutations toward the header, tables and small fields
                    let i = rng.chance(0.5) ? rng.int(0...min(b.count - 5, 200)) : rng.int(0...(b.count - 5))
                    b[i] = rng.chance(0.5) ? UInt8(rng.int(0...255)) : b[i] ^ UInt8(1 << rng.int(0...7))
                }
                if rng.chance(0.9) {
                    let c = CRC32.checksum(b[0..<(b.count - 4)])
                    for k in 0..<4 { b[b.count - 4 + k] = UInt8((c >> (8 * UInt32(k))) & 0xFF) }
                }
                if m == 7 { b = Array(b.prefix(rng.int(0...b.count))) }   // truncation
                blobs.append(b)
                programs.append(try? ProgramFile.decode(b))
            }
        }
        let dir = tempDir("loader")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir)
        let items = blobs.enumerated().map { (i, b) -> (blob: [UInt8], inputs: [[UInt8]], inputSize: Int) in
            if let p = programs[i] { return (b, [g.input(for: p)], p.input.size) }
            return (b, [], 0)
        }
        try Data(DiffVectors.encode(items)).write(to: URL(fileURLWithPath: dir + "/v.sned"))
        let r = try Shell.run([exe, dir + "/v.sned"])
        #expect(r.status == 0)
        var mism: [String] = [], accepted = 0
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("L ") {
            let f = l.split(separator: " ")
            guard let i = Int(f[1]), let st = Int(f[2]) else { continue }
            let swiftOK = programs[i] != nil
            if swiftOK { accepted += 1 }
            if (st == 0) != swiftOK {
                let why: String
                do { _ = try ProgramFile.decode(blobs[i]); why = "Swift accepts" } catch { why = "Swift: \(error)" }
                mism.append("blob \(i): C status \(st) at byte \(f[3]), \(why)")
            }
        }
        print("loader differential: \(blobs.count) blobs, \(accepted) valid, \(mism.count) disagreements")
        #expect(mism.isEmpty, "\(mism.prefix(8).joined(separator: "\n"))")
    }
}

/// `p`'s file with a META section holding exactly `text` (any bytes), CRC and sizes fixed up.
func fileWithMeta(_ p: Program, _ text: [UInt8]) throws -> [UInt8] {
    var q = p
    q.meta = [:]
    let b = try ProgramFile.encode(q)
    func u32(_ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24 }
    func put(_ v: Int, _ out: inout [UInt8]) { for i in 0..<4 { out.append(UInt8((v >> (8 * i)) & 0xFF)) } }
    let n = u32(12), oldCRC = b.count - 4
    var out = Array(b[0..<8])
    let metaOff = oldCRC + 12, end = metaOff + ((text.count + 3) & ~3)
    put(end + 4, &out); put(n + 1, &out)
    for i in 0..<n {
        put(u32(16 + 12 * i), &out); put(u32(20 + 12 * i) + 12, &out); put(u32(24 + 12 * i), &out)
    }
    put(5, &out); put(metaOff, &out); put(text.count, &out)
    out += b[(16 + 12 * n)..<oldCRC]
    out += text
    while out.count % 4 != 0 { out.append(0) }
    put(Int(CRC32.checksum(out)), &out)
    return out
}

@Suite("META is bytes: the Swift and C loaders agree")
struct MetaLoaderTests {
    @Test("non-ASCII, NFC/NFD key pairs, \\r\\n values, invalid UTF-8: same accept/reject and offset")
    func metaBytes() throws {
        var g = RandomProgram(seed: 5, limits: .tiny)
        let p = g.program()
        let nfc = Array("caf\u{E9}".utf8), nfd = Array("cafe\u{301}".utf8)
        func t(_ s: String) -> [UInt8] { Array(s.utf8) }
        // (text, accepted, entries when accepted)
        let cases: [([UInt8], Bool, Int)] = [
            (nfc + t("=1\n") + nfd + t("=2\n"), true, 2),               // NFC vs NFD: two different keys
            (nfd + t("=2\n") + nfc + t("=1\n"), true, 2),               // unsorted: accepted, re-encoded sorted
            (nfc + t("=1\n") + nfc + t("=2\n"), false, 0),              // byte-equal duplicate
            (t("a=1\r\nb=2\r\n"), true, 2),                             // \r is part of the value
            (t("a\r=1\na=2\n"), true, 2),                               // "a\r" and "a" are different keys
            (t("\u{65E5}\u{672C}=\u{8A9E}\n\u{1F600}=\u{10348}\n"), true, 2),   // non-ASCII, non-BMP
            (t("k=v"), true, 1),                                        // last \n missing
            (t("\n\nk=v\n\n"), true, 1),                                // empty lines skipped
            (t("k=v=w\n"), true, 1),                                    // key ends at the first '='
            (t("k=\0x\n"), true, 1),                                    // NUL is valid UTF-8
            (t("k=\n"), true, 1),                                       // empty value
            (t("=v\n"), false, 0),                                      // empty key
            (t("novalue\n"), false, 0),                                 // no '='
            (t("k=v\nbad line\n"), false, 0),
            (t("k=") + [0xC0, 0xAF] + t("\n"), false, 0),               // overlong '/'
            (t("k=") + [0xED, 0xA0, 0x80] + t("\n"), false, 0),         // surrogate U+D800
            (t("k=") + [0xF4, 0x90, 0x80, 0x80] + t("\n"), false, 0),   // above U+10FFFF
            (t("k=") + [0xE2, 0x82], false, 0),                         // truncated at the end
            ([0x80] + t("=v\n"), false, 0),                             // lone continuation byte in a key
            (t("k=") + [0xFF] + t("\n"), false, 0),
            (t("a=1\n") + [0xE2, 0x82] + t("=x\n") + t("a=2\n"), false, 0),  // UTF-8 is checked before duplicates
        ]
        var blobs: [[UInt8]] = []
        for (text, ok, entries) in cases {
            let b = try fileWithMeta(p, text)
            blobs.append(b)
            do {
                let q = try ProgramFile.decode(b)
                #expect(ok, "Swift accepted META \(text)")
                #expect(q.meta.count == entries, "META \(text): \(q.meta.count) entries")
                #expect(try ProgramFile.decode(ProgramFile.encode(q)) == q, "META \(text) round trip")
            } catch let e as SpikeIRError {
                #expect(!ok, "Swift rejected META \(text): \(e)")
            }
        }
        // spot checks of the decoded byte strings
        let crlf = try ProgramFile.decode(blobs[3]).meta
        #expect(crlf[bytes: t("a")] == t("1\r") && crlf["b"] == "2\r")
        let pair = try ProgramFile.decode(blobs[0]).meta
        #expect(pair[bytes: nfc] == t("1") && pair[bytes: nfd] == t("2"))
        #expect(pair.entries.map(\.key) == [nfd, nfc], "sorted by bytes: 'e' (0x65) < 0xC3")

        let dir = tempDir("meta")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir)
        try Data(DiffVectors.encode(blobs.map { (blob: $0, inputs: [], inputSize: 0) })).write(to: URL(fileURLWithPath: dir + "/m.sned"))
        let r = try Shell.run([exe, dir + "/m.sned"])
        #expect(r.status == 0)
        var n = 0
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("L ") {
            let f = l.split(separator: " ")
            guard let i = Int(f[1]), let st = Int(f[2]), let off = Int(f[3]) else { continue }
            n += 1
            var swiftOffset = -1
            do { _ = try ProgramFile.decode(blobs[i]) } catch SpikeIRError.invalid(_, let o, _) { swiftOffset = o }
            #expect((st == 0) == cases[i].1, "META case \(i): C status \(st) at \(off)")
            if st != 0 { #expect(off == swiftOffset, "META case \(i): C fails at byte \(off), Swift at \(swiftOffset)") }
        }
        #expect(n == cases.count)
    }
}
