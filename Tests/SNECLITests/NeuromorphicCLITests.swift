// `sne export --nir`, `sne compile --target loihi`, `sne verify --target lava`: exit codes, files,
// one-line errors (docs/neuromorphic.md). Lava itself is exercised in SNECodegenTests.
import Foundation
import Testing
@testable import SNECLI
import SpikeIR

@Suite struct NeuromorphicCLITests {
    let fmnist = exampleProgram
    func tmp(_ tag: String) -> String { NSTemporaryDirectory() + "sne-cli-\(tag)-\(UUID().uuidString.prefix(8))" }

    @Test func exportWritesNIR() throws {
        let path = tmp("nir") + ".nir"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (code, out, err) = sne(["export", fmnist, "--nir", path])
        #expect(code == 0, "\(err)")
        #expect(out.contains("NIR graph of 4 students"))
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(b[0..<4]) == [0x89, 0x48, 0x44, 0x46])
    }

    @Test func exportUsageAndInputErrors() {
        let (c1, _, e1) = sne(["export", fmnist])
        #expect(c1 == 2 && e1.contains("--nir FILE is required"))
        let (c2, _, e2) = sne(["export", "/nonexistent.snep", "--nir", "/tmp/x.nir"])
        #expect(c2 == 2 && e2.split(separator: "\n").count == 1, "\(e2)")
    }

    @Test func compileLoihiWritesTheDirectory() throws {
        let dir = tmp("loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (code, out, err) = sne(["compile", fmnist, "--target", "loihi", "-o", dir])
        #expect(code == 0, "\(err)")
        #expect(out.contains("lowering: T 4 → 8"))
        for f in ["model.json", "program.snep", "sne_lava.py", "run_lava.sh", "s0_op2_w.npy", "head_bias.npy"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + f), "\(f)")
        }
        let q = try ProgramFile.read(path: dir + "/program.snep")
        #expect(q.fileVersionMinor == 1)
        // the Loihi-mode program (2.1) also compiles for the C targets (runtime-c runs opcodes 10–12)
        let cdir = tmp("c")
        defer { try? FileManager.default.removeItem(atPath: cdir) }
        for mode in ["specialized", "blob"] {
            let (c2, _, e2) = sne(["compile", dir + "/program.snep", "--target", "host", "--mode", mode, "-o", cdir])
            #expect(c2 == 0, "\(mode): \(e2)")
            #expect(FileManager.default.fileExists(atPath: cdir + "/\(q.name).c") && FileManager.default.fileExists(atPath: cdir + "/sne_ops.c"), "\(mode)")
        }
        // compiling again over sne's own output replaces it; a foreign directory is refused
        #expect(sne(["compile", fmnist, "--target", "loihi", "-o", dir]).0 == 0)
        let foreign = tmp("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: foreign + "/keep.txt"))
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        let (c3, _, e3) = sne(["compile", fmnist, "--target", "loihi", "-o", foreign])
        #expect(c3 == 1 && e3.contains("refusing to overwrite"), "\(e3)")
    }
}
