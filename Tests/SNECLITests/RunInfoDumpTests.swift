// `sne run`, `sne info`, `sne dump` on the example program, input formats and error exits.
import Foundation
import Testing
@testable import SNECLI
import SNEBase
import SpikeIR

let exampleProgram = repoRoot.appendingPathComponent("examples/programs/fmnist4.snep").path
let exampleImage = repoRoot.appendingPathComponent("examples/programs/fmnist-test-0.u8").path

func tmpPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("sne-rid-\(getpid())-\(name)").path
}

@Suite struct RunInfoDumpTests {
    @Test("info --target / --clock and verify --clock: bad values are usage errors before any build")
    func latencyFlags() {
        for argv in [["info", exampleProgram, "--target", "host"], ["info", exampleProgram, "--target", "pdp11"],
                     ["info", exampleProgram, "--clock", "80"], ["info", exampleProgram, "--target", "cortex-m4", "--clock", "0"],
                     ["verify", exampleProgram, "--target", "cortex-m4", "--clock", "fast"]] {
            let (code, _, err) = sne(argv)
            #expect(code == 2, "\(argv): \(err)")
            #expect(err.split(separator: "\n").count == 1, "\(argv): \(err)")
        }
    }

    @Test func readmeCommand() {
        let (code, out, err) = sne(["run", exampleProgram, "--input", exampleImage, "--budget", "2"])
        #expect(code == 0, "\(err)")
        #expect(out.contains("prediction") && out.contains("active") && out.contains("synops=") && out.contains("trace hash"))
    }

    @Test func jsonAndTrace() throws {
        let trace = tmpPath("trace.json")
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let (code, out, err) = sne(["run", exampleProgram, "--input", exampleImage, "--budget", "1", "--json", "--trace", trace])
        #expect(code == 0, "\(err)")
        let j = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        #expect((j?["logits"] as? [Any])?.count == 10)
        #expect((j?["active"] as? [Any])?.count == 1)
        let t = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any]
        let students = t?["students"] as? [[String: Any]]
        #expect(students?.count == 1)
        #expect((students?.first?["steps"] as? [Any])?.count == 4)
    }

    @Test func inputFormatsAgree() throws {
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: exampleImage)))
        // NPY v1, uint8, shape (28, 28, 1)
        var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (28, 28, 1), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let npy = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8) + raw
        let npyPath = tmpPath("x.npy")
        try Data(npy).write(to: URL(fileURLWithPath: npyPath))
        // IDX with two images, the example second
        let idx: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 0, count: 784) + raw
        let idxPath = tmpPath("x-idx3-ubyte")
        try Data(idx).write(to: URL(fileURLWithPath: idxPath))
        defer { try? FileManager.default.removeItem(atPath: npyPath); try? FileManager.default.removeItem(atPath: idxPath) }
        let a = sne(["run", exampleProgram, "--input", exampleImage, "--json"])
        let b = sne(["run", exampleProgram, "--input", npyPath, "--json"])
        let c = sne(["run", exampleProgram, "--input", idxPath, "--index", "1", "--json"])
        #expect(a.0 == 0 && b.0 == 0 && c.0 == 0, "\(b.2) \(c.2)")
        #expect(a.1 == b.1 && a.1 == c.1)
        // float NPY is a clean error
        var floatNpy = npy
        let pat = Array("|u1".utf8)
        if let off = (0..<(npy.count - 3)).first(where: { Array(npy[$0..<($0 + 3)]) == pat }) {
            floatNpy[off] = UInt8(ascii: "<"); floatNpy[off + 1] = UInt8(ascii: "f"); floatNpy[off + 2] = UInt8(ascii: "4")
        }
        try Data(floatNpy).write(to: URL(fileURLWithPath: npyPath))
        let d = sne(["run", exampleProgram, "--input", npyPath])
        #expect(d.0 == 2 && d.2.contains("uint8"))   // bad input: exit 2 (ExitCode.usage)
    }

    @Test func errorsAreCleanWithExitCodes() throws {
        var r = sne(["run", exampleProgram, "--input", exampleImage, "--budget", "0"])
        #expect(r.0 == 2 && r.2.contains("--budget must be an integer 1…4"))
        r = sne(["run", exampleProgram, "--input", exampleImage, "--budget", "5"])
        #expect(r.0 == 2 && r.2.contains("budget"))
        r = sne(["run", exampleProgram])
        #expect(r.0 == 2)
        r = sne(["run", exampleProgram, "--input", exampleImage, "--bogus"])
        #expect(r.0 == 2)
        r = sne(["run", exampleProgram, "--input", exampleProgram])
        #expect(r.0 == 2 && r.2.contains("784"))
        // a corrupt program: one line naming field and byte offset
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: exampleProgram)))
        bytes[100] ^= 1
        let bad = tmpPath("bad.snep")
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        defer { try? FileManager.default.removeItem(atPath: bad) }
        for cmd in ["run", "info", "dump"] {
            let argv = cmd == "run" ? [cmd, bad, "--input", exampleImage] : [cmd, bad]
            r = sne(argv)
            #expect(r.0 == 2 && r.2.contains("at byte") && r.2.split(separator: "\n").count == 1, "\(cmd): \(r.2)")
        }
        r = sne(["dump", "/nonexistent/x.snep"])
        #expect(r.0 == 2 && r.2 == "sne dump: /nonexistent/x.snep: no such file\n", "\(r.2)")
        // a version 1.0 file (major patched, CRC fixed up): one clear line telling to recompile
        var v1 = [UInt8](try Data(contentsOf: URL(fileURLWithPath: exampleProgram)))
        v1[4] = 1; v1[5] = 0
        let crc = SNEBase.CRC32.checksum(v1[0..<(v1.count - 4)])
        for i in 0..<4 { v1[v1.count - 4 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        let old = tmpPath("v1.snep")
        try Data(v1).write(to: URL(fileURLWithPath: old))
        defer { try? FileManager.default.removeItem(atPath: old) }
        r = sne(["run", old, "--input", exampleImage])
        #expect(r.0 == 2 && r.2.contains("version 1.0 file: this sne reads 2.x; recompile the model")
                && r.2.split(separator: "\n").count == 1, "\(r.2)")
    }

    @Test func infoAndDump() {
        let (c1, info, e1) = sne(["info", exampleProgram, "--input", exampleImage])
        #expect(c1 == 0, "\(e1)")
        #expect(info.contains("parameters") && info.contains("ops bound") && info.contains("ops k=4") && info.contains("28x28x16"))
        let (c2, dump, _) = sne(["dump", exampleProgram])
        #expect(c2 == 0)
        #expect(dump.hasPrefix("program fmnist4  version 2.0  input 28x28x1  T=4  K=4  classes=10  select=gate"))
        // shared per-channel thresholds and per-feature shifts print as one number
        #expect(dump.contains("lif          28x28x16  theta=") && !dump.contains("theta=["), "\(dump)")
        #expect(dump.contains("input_conv2d 28x28x1 -> 28x28x16") && dump.contains("head  classes=10  F=[32,32,32,32]"))
    }
}
