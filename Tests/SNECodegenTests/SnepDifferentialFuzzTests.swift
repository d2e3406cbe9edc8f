// The .snep differential fuzz harness: every valid .snep file the repository holds is mutated
// (byte flips and sets, field extremes, insertions, deletions, truncation) and each mutant is
// loaded by the Swift decoder and the C blob loader (runtime-c/tests/sne_diff.c). They must
// agree on accept/reject and on the error class (version, CRC, any other refusal). The harness
// knows nothing of the layout: a trailing CRC-32 and a length field are fixed up only when the
// seed file shows them (its last 4 bytes are the CRC of the rest; a u32 equals the file size).
// `SNE_SNEP_FUZZ_N` sets the number of mutants (default 1200; .ci/fuzz-readers.sh runs 100000).
import Foundation
import Testing
@testable import SNECodegen
import SNEBase
import SpikeIR
@testable import SpikeIRFixtures

/// The valid `.snep` files of the checkout (examples, conformance vectors, the Loihi vectors,
/// anything else): versions 2.0 and 2.1 (the Loihi ops, opcodes 10–12), both read by the C runtime.
func repoPrograms() -> [(String, [UInt8])] {
    let root = checkoutRoot
    guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
    var out: [(String, [UInt8])] = []
    while let rel = e.nextObject() as? String {
        if rel.hasPrefix(".build") || rel.hasPrefix(".git") || rel.hasPrefix("runs") { e.skipDescendants(); continue }
        if rel.hasSuffix(".snep"), let d = FileManager.default.contents(atPath: root + "/" + rel) {
            let b = [UInt8](d)
            if b.count > 8, (try? ProgramFile.decode(b)) != nil { out.append((rel, b)) }
        }
    }
    return out.sorted { $0.0 < $1.0 }
}

struct SnepMutator {
    var rng: SplitMix64
    /// The byte offset of a u32 that holds the file size, and whether the file ends in its CRC-32.
    static func discover(_ b: [UInt8]) -> (sizeAt: Int?, crc: Bool) {
        func u32(_ i: Int) -> UInt32 { UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24 }
        let sizeAt = stride(from: 0, to: min(64, b.count - 3), by: 4).first { u32($0) == UInt32(b.count) }
        let crc = b.count > 4 && CRC32.checksum(b[0..<(b.count - 4)]) == u32(b.count - 4)
        return (sizeAt, crc)
    }

    mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        let shape = Self.discover(seed)
        var b = seed
        for _ in 0..<rng.int(1...3) {
            guard !b.isEmpty else { break }
            // Half the edits land in the first 256 bytes (headers, tables), the rest anywhere.
            let i = rng.chance(0.5) ? rng.int(0...min(b.count - 1, 255)) : rng.int(0...(b.count - 1))
            switch rng.int(0...6) {
            case 0: b[i] ^= UInt8(1 << rng.int(0...7))
            case 1: b[i] = rng.pick([0, 1, 0x7F, 0x80, 0xFF, 0x0D, 0x0A, 0xC3, 0xCC])
            case 2: b[i] = UInt8(rng.int(0...255))
            case 3 where i + 4 <= b.count:
                let v = rng.pick([UInt32.max, 0, 1 << 31, 0x7FFF_FFFF, UInt32(b.count), 1])
                for k in 0..<4 { b[i + k] = UInt8((v >> (8 * UInt32(k))) & 0xFF) }
            case 4: b.insert(UInt8(rng.int(0...255)), at: i)
            case 5: b.remove(at: i)
            default: if rng.chance(0.3) { b = Array(b.prefix(rng.int(0...b.count))) } else { b[i] = ~b[i] }
            }
        }
        if rng.chance(0.85) {   // reach the checks behind the length and CRC checks
            if let at = shape.sizeAt, at + 4 <= b.count { for k in 0..<4 { b[at + k] = UInt8((b.count >> (8 * k)) & 0xFF) } }
            if shape.crc, b.count > 4 {
                let c = CRC32.checksum(b[0..<(b.count - 4)])
                for k in 0..<4 { b[b.count - 4 + k] = UInt8((c >> (8 * UInt32(k))) & 0xFF) }
            }
        }
        return b
    }
}

enum LoadClass: String { case ok, version, crc, invalid }

@Suite("snep loaders: Swift and C agree on mutated repository programs")
struct SnepDifferentialFuzzTests {
    static func swiftClass(_ b: [UInt8]) -> (LoadClass, Int?) {
        do { _ = try ProgramFile.decode(b); return (.ok, nil) } catch let SpikeIRError.invalid(field, offset, _) {
            if field.hasPrefix("version") { return (.version, offset) }
            if field == "crc" { return (.crc, offset) }
            return (.invalid, offset)
        } catch { return (.invalid, nil) }
    }
    static func cClass(_ status: Int) -> LoadClass {
        switch status { case 0: .ok; case 5: .version; case 6: .crc; default: .invalid }
    }

    @Test("accept/reject and error class agree; disagreements are saved as reproducers")
    func differential() throws {
        let n = Int(ProcessInfo.processInfo.environment["SNE_SNEP_FUZZ_N"] ?? "") ?? 1200
        let seeds = repoPrograms()
        try #require(!seeds.isEmpty)
        let dir = tempDir("snep-fuzz")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir)
        var m = SnepMutator(rng: SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["SNE_SNEP_FUZZ_SEED"] ?? "") ?? 20261201))
        var done = 0, bothOK = 0, bothNo = 0, sameOffset = 0
        var disagree: [(String, [UInt8])] = []
        while done < n {
            // Batches of at most 1000 mutants / 64 MB, one C driver run each.
            var batch: [[UInt8]] = [], bytes = 0
            while done + batch.count < n && batch.count < 1000 && bytes < 64 << 20 {
                let (_, seed) = seeds[(done + batch.count) % seeds.count]
                let b = m.mutate(seed)
                batch.append(b); bytes += b.count
            }
            try Data(DiffVectors.encode(batch.map { ($0, [], 0) })).write(to: URL(fileURLWithPath: dir + "/v.sned"))
            let r = try Shell.run([exe, dir + "/v.sned"])
            try #require(r.status == 0, "sne_diff exited \(r.status): \(r.stderr.prefix(300))")
            var cRes: [Int: (Int, Int)] = [:]
            for l in r.stdout.split(separator: "\n") where l.hasPrefix("L ") {
                let f = l.split(separator: " ")
                if f.count >= 4, let i = Int(f[1]), let s = Int(f[2]), let o = Int(f[3]) { cRes[i] = (s, o) }
            }
            for (i, b) in batch.enumerated() {
                let (sc, so) = Self.swiftClass(b)
                guard let (cs, co) = cRes[i] else { disagree.append(("C gave no result", b)); continue }
                let cc = Self.cClass(cs)
                if sc != cc {
                    disagree.append(("Swift \(sc.rawValue)\(so.map { " at \($0)" } ?? ""), C \(cc.rawValue) (status \(cs)) at \(co)", b))
                } else if sc == .ok { bothOK += 1 } else {
                    bothNo += 1
                    if so == co { sameOffset += 1 }
                }
            }
            done += batch.count
        }
        // Reproducers for the lead / the loader owners.
        let keep = ProcessInfo.processInfo.environment["SNE_SNEP_FUZZ_KEEP"].map { $0 }
        if let keep, !disagree.isEmpty {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            for (j, d) in disagree.prefix(50).enumerated() { try? Data(d.1).write(to: URL(fileURLWithPath: keep + "/disagree-\(j).snep")) }
        }
        let v21 = seeds.filter { $0.1[6] == 1 }.count
        print("snep differential: \(n) mutants of \(seeds.count) repository programs (\(v21) of them version 2.1); both accept \(bothOK), both refuse \(bothNo) (same class; same byte offset \(sameOffset)), disagreements \(disagree.count)")
        #expect(disagree.isEmpty, "\(disagree.prefix(5).map(\.0).joined(separator: "\n"))")
    }
}
