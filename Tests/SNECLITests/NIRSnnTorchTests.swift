// The trained Fashion-MNIST ensemble through NIR into snnTorch, end to end with the CLI:
// `sne export --nir` (unit thresholds) → targets/nir/snntorch_run.py (snnTorch's importer) on the
// first 100 test images, compared with `sne run --count 100 --json` (docs/neuromorphic.md,
// "Measured"). Skips with a message without the NIR venv (with snntorch) or the data set.
import Foundation
import Testing
@testable import SNECLI
import SNECodegen

@Suite struct NIRSnnTorchTests {
    static let root = repoRoot
    static let trained = root.appendingPathComponent("examples/models/fashion-mnist-gate/fashion_sne.snep").path
    static let script = root.appendingPathComponent("targets/nir/snntorch_run.py").path
    static let data = root.deletingLastPathComponent().appendingPathComponent("shared/data/fashion-mnist").path


    /// The snnTorch Python (`PythonEnv.snntorch`: `$SNE_NIR_PYTHON`, else python3 if it imports
    /// nir, nirtorch, snntorch, torch and h5py); nil with the reason and setup line printed.
    static func python() -> String? {
        switch PythonEnv.snntorch.find() {
        case .success(let p): return p
        case .failure(let e): print("skipping: \(e)"); return nil
        }
    }

    /// The `agreement: a/n` and `snntorch accuracy: c/n` counts printed by snntorch_run.py.
    static func counts(_ out: String, _ key: String) -> Int? {
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix(key + ": ") }) else { return nil }
        return Int(line.dropFirst(key.count + 2).prefix { $0 != "/" })
    }

    @Test("trained ensemble: NIR → snnTorch import runs and agrees with the interpreter (floors 90% / 97%)")
    func trainedEnsembleInSnnTorch() throws {
        guard let py = Self.python() else { return }
        let images = Self.data + "/t10k-images-idx3-ubyte.gz", labels = Self.data + "/t10k-labels-idx1-ubyte.gz"
        guard FileManager.default.fileExists(atPath: images), FileManager.default.fileExists(atPath: labels) else {
            print("skipping: \(Self.data) has no Fashion-MNIST test set"); return
        }
        let dir = NSTemporaryDirectory() + "sne-nir-snn-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 100
        let (c0, o0, e0) = sne(["export", Self.trained, "--nir", dir + "/f.nir"])
        #expect(c0 == 0 && o0.contains("unit thresholds"), "\(e0)")
        // the interpreter's predictions: the program (budget K, its confidence stop), and all K
        // students (--no-stop: what a NIR graph, which cannot stop, computes)
        for (name, extra) in [("stop", [String]()), ("nostop", ["--no-stop"])] {
            let (c, o, e) = sne(["run", Self.trained, "--input", images, "--count", "\(n)", "--json"] + extra)
            #expect(c == 0, "\(e)")
            try Data(o.utf8).write(to: URL(fileURLWithPath: "\(dir)/\(name).jsonl"))
        }
        func snn(_ reset: String, _ expect: String) throws -> String {
            let r = try Shell.run([py, Self.script, dir + "/f.nir", "--idx", images, "--labels", labels,
                                   "--count", "\(n)", "--expect", "\(dir)/\(expect).jsonl", "--reset", reset])
            #expect(r.status == 0, "\(r.stderr.suffix(600))")
            return r.stdout
        }
        // headline: snnTorch's importer as is vs the program (measured 95.97% on all 10,000)
        let plain = try snn("importer", "stop")
        let a = Self.counts(plain, "agreement") ?? -1, acc = Self.counts(plain, "snntorch accuracy") ?? -1
        #expect(a >= 90 * n / 100, "agreement \(a)/\(n) below the 90% floor:\n\(plain)")
        #expect(acc >= 80 * n / 100, "snnTorch accuracy \(acc)/\(n) below 80%:\n\(plain)")
        // sne-aware: the program's subtract reset (node metadata) vs all K students (99.56% on 10,000)
        let aware = try snn("sne", "nostop")
        let b = Self.counts(aware, "agreement") ?? -1
        #expect(b >= 97 * n / 100, "sne-aware agreement \(b)/\(n) below the 97% floor:\n\(aware)")
    }

    @Test("--nir-thresholds: unit is the default, channel is accepted, anything else is a usage error")
    func thresholdsFlag() throws {
        let path = NSTemporaryDirectory() + "sne-nir-flag-\(UUID().uuidString.prefix(8)).nir"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (c1, o1, _) = sne(["export", Self.trained, "--nir", path])
        let (c2, o2, _) = sne(["export", Self.trained, "--nir", path, "--nir-thresholds", "channel"])
        #expect(c1 == 0 && o1.contains("unit thresholds") && c2 == 0 && o2.contains("channel thresholds"))
        let (c3, _, e3) = sne(["export", Self.trained, "--nir", path + ".x", "--nir-thresholds", "layer"])
        #expect(c3 == 2 && e3 == "sne export: --nir-thresholds must be unit or channel, got 'layer'\n", "\(e3)")
        #expect(!FileManager.default.fileExists(atPath: path + ".x"))
    }

    @Test("channel thresholds: the trained ensemble's per-channel θ are refused by snnTorch's importer, unit ones are not")
    func channelModeIsRefusedBySnnTorch() throws {
        guard let py = Self.python() else { return }
        let path = NSTemporaryDirectory() + "sne-nir-ch-\(UUID().uuidString.prefix(8)).nir"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (c, _, e) = sne(["export", Self.trained, "--nir", path, "--nir-thresholds", "channel"])
        #expect(c == 0, "\(e)")
        let r = try Shell.run([py, "-c", """
            import nir, sys
            from snntorch import import_nir as sni
            g = nir.read(sys.argv[1])
            try:
                sni._nir_to_snntorch_module(g.nodes["s0_1"], init_hidden=True)
                print("imported")
            except AssertionError as e:
                print("refused:", e)
            """, path])
        #expect(r.status == 0, "\(r.stderr.suffix(400))")
        #expect(r.stdout.contains("refused:") && r.stdout.contains("same for all neurons"), "\(r.stdout)")
    }
}
