// docs/loaders.md §6: the inputs the format leaves open, decided once and checked in both .snep
// loaders (Swift ProgramFile.decode, C sne_blob_load via runtime-c/tests/sne_diff.c):
// decision 1, an empty META section, is accepted; decision 3, a gzipped .snep, is refused.
import Foundation
import Testing
@testable import SNECodegen
import SNEBase
@testable import SpikeIR

@Suite struct LoaderDecisionTests {
    static func u32(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
    static func put(_ b: inout [UInt8], _ i: Int, _ v: Int) { for k in 0..<4 { b[i + k] = UInt8((v >> (8 * k)) & 0xFF) } }

    /// `b` (a program with a META section) with that section emptied: size 0, its bytes and
    /// padding removed, file size and CRC fixed up — the only change is META's length.
    static func emptyMeta(_ src: [UInt8]) throws -> [UInt8] {
        var b = src
        let n = u32(b, 12)
        let last = 16 + 12 * (n - 1)
        try #require(u32(b, last) == 5, "the last section is not META")
        let off = u32(b, last + 4)
        put(&b, last + 8, 0)
        b.removeSubrange(off..<(b.count - 4))          // META bytes + padding, up to the CRC
        put(&b, 8, b.count)
        let c = CRC32.checksum(b[0..<(b.count - 4)])
        put(&b, b.count - 4, Int(c))
        return b
    }

    /// The C loader's status for each blob (0 = SNE_OK).
    static func cStatus(_ blobs: [[UInt8]]) throws -> [Int] {
        let dir = NSTemporaryDirectory() + "sne-loader-decisions-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir)
        try Data(DiffVectors.encode(blobs.map { ($0, [], 0) })).write(to: URL(fileURLWithPath: dir + "/v.sned"))
        let r = try Shell.run([exe, dir + "/v.sned"])
        try #require(r.status == 0, "sne_diff: \(r.stderr)")
        var st = [Int](repeating: -1, count: blobs.count)
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("L ") {
            let f = l.split(separator: " ")
            if let i = Int(f[1]), let s = Int(f[2]) { st[i] = s }
        }
        return st
    }

    @Test func emptyMetaIsAcceptedByBothLoaders() throws {
        let src = [UInt8](try Data(contentsOf: URL(fileURLWithPath: checkoutRoot + "/examples/programs/fmnist4.snep")))
        let original = try ProgramFile.decode(src)
        try #require(!original.meta.bytes.isEmpty, "fmnist4.snep has no META to empty")
        let b = try Self.emptyMeta(src)
        let p = try ProgramFile.decode(b)
        #expect(p.meta.bytes.isEmpty)
        var same = original; same.meta = Meta()
        #expect(try ProgramFile.encode(p) == ProgramFile.encode(same), "an empty META reads as no META")
        guard Shell.has("cc") else { print("skipping the C loader: no cc"); return }
        #expect(try Self.cStatus([src, b]) == [0, 0])
    }

    @Test func gzippedProgramIsRefusedByBothLoaders() throws {
        let src = [UInt8](try Data(contentsOf: URL(fileURLWithPath: checkoutRoot + "/examples/programs/fmnist4.snep")))
        let dir = NSTemporaryDirectory() + "sne-gz-snep-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(src).write(to: URL(fileURLWithPath: dir + "/p.snep"))
        guard Shell.has("gzip") else { print("skipping: no gzip"); return }
        _ = try Shell.run(["gzip", "-n", dir + "/p.snep"])
        let gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/p.snep.gz")))
        #expect(throws: SpikeIRError.self) { _ = try ProgramFile.decode(gz) }
        guard Shell.has("cc") else { print("skipping the C loader: no cc"); return }
        #expect(try Self.cStatus([gz]) == [4], "SNE_E_FORMAT at the magic")
    }
}
