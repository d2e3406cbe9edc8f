// `sne compile` and `sne check` end to end on a small trained ensemble (SNETestSupport.TinyModel):
// the compile pipeline's refusal, compile → check → emit, --loihi, QAT, and the shipped programs.
import XCTest
import Foundation
import SNEEnsemble
import SNETrain
import SNEPasses
import SpikeIR
import SNETestSupport
@testable import SNECLI

final class CompileCLITests: XCTestCase {
    func tiny() throws -> TinyModel {
        guard let t = TinyModel.shared else { throw XCTSkip("../shared/data/fashion-mnist not found") }
        return t
    }

    func testCLIRefusesASilentLayer() throws {
        let t = try tiny()
        let m = try t.model()
        // drive student 1's second conv block far below threshold: its LIF never fires
        let bn = m.students[1].layers.first { $0.name == "bn2" }!.layer as! BatchNorm2d
        for i in 0..<bn.beta.value.count { bn.beta.value.data[i] = -40 }
        // the CLI refuses it (exit 1, nothing written) unless --allow-inactive
        let modelPath = NSTemporaryDirectory() + "sne-compile-silent-\(getpid()).model"
        let prog = NSTemporaryDirectory() + "sne-compile-silent-\(getpid()).snep"
        try m.save(to: modelPath)
        defer { try? FileManager.default.removeItem(atPath: modelPath); try? FileManager.default.removeItem(atPath: prog) }
        var out = TextSink.capture(), err = TextSink.capture()
        XCTAssertEqual(SNECLI.main(["compile", modelPath, "-o", prog, "--data", t.dir, "--calibration", "64"], out: &out, err: &err), 1)
        XCTAssertTrue(err.captured.contains("is silent"), err.captured)
        XCTAssertEqual(err.captured.split(separator: "\n").count, 1, err.captured)
        XCTAssertFalse(FileManager.default.fileExists(atPath: prog))
        XCTAssertEqual(SNECLI.main(["compile", modelPath, "-o", prog, "--data", t.dir, "--calibration", "64", "--allow-inactive"], out: &out, err: &err), 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: prog))
    }

    func testCLICompileThenCheckThenEmit() throws {
        let t = try tiny()
        let prog = NSTemporaryDirectory() + "sne-compile-cli-\(getpid()).snep"
        let html = NSTemporaryDirectory() + "sne-compile-cli-\(getpid()).html"
        defer { for f in [prog, html] { try? FileManager.default.removeItem(atPath: f) } }
        var out = TextSink.capture(), err = TextSink.capture()
        XCTAssertEqual(SNECLI.main(["compile", t.path, "-o", prog, "--data", t.dir, "--calibration", "64", "--stop-margin", "3"], out: &out, err: &err), 0, err.captured)
        XCTAssertTrue(out.captured.contains("wrote \(prog)"), out.captured)
        let p = try ProgramFile.read(path: prog)
        XCTAssertNotNil(p.stopMargin)
        out = .capture()
        XCTAssertEqual(SNECLI.main(["check", t.path, prog, "--data", t.dir, "--limit", "20", "--json", "--html", html, "--teacher", "91.5:2.5"], out: &out, err: &err), 0, err.captured)
        let j = try JSONSerialization.jsonObject(with: Data(out.captured.utf8)) as! [String: Any]
        XCTAssertEqual((j["budgets"] as! [Any]).count, 2)
        XCTAssertNotNil(j["confidence"])
        XCTAssertEqual((j["memory"] as! [Any]).count, 5)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("teacher"))
        // self-contained: no scripts, no external resources (the only URL is the SVG namespace)
        XCTAssertFalse(page.contains("<script") || page.contains("src=") || page.contains("<link") || page.contains("https://"))
        // --loihi: the Loihi-mode lowering runs at every budget next to the program
        out = .capture()
        XCTAssertEqual(SNECLI.main(["check", t.path, prog, "--data", t.dir, "--limit", "20", "--json", "--loihi"], out: &out, err: &err), 0, err.captured)
        let jl = try JSONSerialization.jsonObject(with: Data(out.captured.utf8)) as! [String: Any]
        let mode = jl["mode"] as! [String: Any]
        let mrows = mode["budgets"] as! [[String: Any]]
        XCTAssertEqual(mrows.count, 2)
        XCTAssertGreaterThan(mode["timesteps"] as! Int, p.timesteps)
        for (r, b) in zip(mrows, jl["budgets"] as! [[String: Any]]) {
            XCTAssertEqual(r["checked_accuracy"] as! Double, b["int_accuracy"] as! Double)
            XCTAssertTrue((0...1).contains(r["agreement"] as! Double) && (0...1).contains(r["accuracy"] as! Double))
        }
        out = .capture()
        XCTAssertEqual(SNECLI.main(["check", t.path, prog, "--data", t.dir, "--limit", "20", "--loihi"], out: &out, err: &err), 0, err.captured)
        XCTAssertTrue(out.captured.contains("Loihi mode (program"), out.captured)
        // MODEL --target loihi --data: quantize and lower in one step; equal to lowering the program
        let ldir = NSTemporaryDirectory() + "sne-compile-loihi-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: ldir) }
        out = .capture()
        XCTAssertEqual(SNECLI.main(["compile", t.path, "--target", "loihi", "--data", t.dir, "--calibration", "64", "--stop-margin", "3", "-o", ldir], out: &out, err: &err), 0, err.captured)
        let lq = try ProgramFile.read(path: ldir + "/program.snep")
        XCTAssertEqual(lq.fileVersionMinor, 1)
        var lowered = try LoihiLowering.lower(p).0
        lowered.name = lq.name; lowered.meta = lq.meta
        XCTAssertEqual(lq, lowered)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ldir + "/model.json"))
        err = .capture()
        XCTAssertEqual(SNECLI.main(["compile", t.path, "--target", "loihi", "-o", ldir + "x"], out: &out, err: &err), 2)
        XCTAssertTrue(err.captured.contains("give --data DIR"), err.captured)
        XCTAssertEqual(SNECLI.main(["compile", prog, "--target", "loihi", "--data", t.dir, "-o", ldir + "x"], out: &out, err: &err), 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ldir + "x"))
        // the program form still emits C, and the two forms refuse each other's input
        XCTAssertEqual(SNECLI.main(["compile", prog, "-o", prog + ".out", "--data", t.dir], out: &out, err: &err), 2)
        XCTAssertEqual(SNECLI.main(["compile", t.path, "--target", "host", "-o", prog + ".dir"], out: &out, err: &err), 2)
        out = .capture()
        XCTAssertEqual(SNECLI.main(["compile", "--help"], out: &out, err: &err), 0)
        XCTAssertTrue(out.captured.contains("sne compile MODEL -o PROGRAM.snep") && out.captured.contains("sne compile PROGRAM.snep --target T"))
    }
    func testCLICompileWithQAT() throws {
        let t = try tiny()
        let prog = NSTemporaryDirectory() + "sne-compile-qat-\(getpid()).snep", m2 = NSTemporaryDirectory() + "sne-compile-qat-\(getpid()).model"
        defer { for f in [prog, m2] { try? FileManager.default.removeItem(atPath: f) } }
        var out = TextSink.capture(), err = TextSink.capture()
        XCTAssertEqual(SNECLI.main(["compile", t.path, "-o", prog, "--data", t.dir, "--calibration", "32", "--qat-epochs", "1",
                                    "--qat-limit", "64", "--qat-out", m2], out: &out, err: &err), 0, err.captured)
        XCTAssertTrue(err.captured.hasPrefix("qat epoch 1/1: loss "), err.captured)
        let m = try SNEModel.load(from: m2)
        XCTAssertEqual(m.info["qat"], "1 epochs, lr 0.0005, 64 images, int8")
        XCTAssertEqual(try ProgramFile.read(path: prog).meta["model.qat"], "1 epochs, lr 0.0005, 64 images, int8")
    }
    /// The shipped programs are exactly what `sne compile` makes of the shipped models (the slice's
    /// first 256 train images are the full set's, so its calibration is the same), and the
    /// Loihi-trained model lowers to a valid Loihi-mode program.
    func testShippedProgramsAreTheCompiledShippedModels() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let slice = root.appendingPathComponent("examples/data/fashion-mnist-slice").path
        for (dir, name) in [("fashion-mnist", "fashion_sne"), ("fashion-mnist-k2", "fashion_sne_k2"), ("fashion-mnist-loihi", "fashion_loihi")] {
            let m = root.appendingPathComponent("examples/models/\(dir)").path
            let tmp = NSTemporaryDirectory() + "sne-shipped-\(getpid())-\(name).snep"
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            var out = TextSink.capture(), err = TextSink.capture()
            XCTAssertEqual(SNECLI.main(["compile", m + "/model.sne", "-o", tmp, "--data", slice, "--stop-margin", "0.5", "--name", name],
                                       out: &out, err: &err), 0, err.captured)
            XCTAssertEqual(FileManager.default.contents(atPath: tmp), FileManager.default.contents(atPath: m + "/\(name).snep"),
                           "examples/models/\(dir)/\(name).snep is not what compiling its model.sne gives")
        }
        let lp = try ProgramFile.read(path: root.appendingPathComponent("examples/models/fashion-mnist-loihi/fashion_loihi.snep").path)
        let (q, _) = try LoihiLowering.lower(lp)
        try ProgramValidator.validate(q)
        XCTAssertEqual(q.timesteps, lp.timesteps + 5)
    }
}
