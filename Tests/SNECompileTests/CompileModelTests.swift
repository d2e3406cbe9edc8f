// The compiler on a small trained ensemble (Fashion-MNIST): the program verifies, agrees with the
// float model, `sne check` counts equal the interpreter's, a silent layer is refused, QAT runs,
// and the CLI forms work end to end.
import XCTest
import Foundation
import SNEEnsemble
import SNEData
import SNETensor
import SNETrain
import SNEPasses
import SpikeIR
import SNECodegen
@testable import SNECompile
@testable import SNECLI

/// `../shared/data/<sub>` from this file's path, or nil.
func sharedData(_ sub: String) -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.deletingLastPathComponent().appendingPathComponent("shared/data/\(sub)").path
    return FileManager.default.fileExists(atPath: dir) ? dir : nil
}

/// A small ensemble (K = 2, conv [4, 8], hidden 16, F = 16, T = 4, gate) trained for 2 epochs on
/// 512 Fashion-MNIST images, built once per test process.
final class TinyModel: @unchecked Sendable {
    static let shared: TinyModel? = try? TinyModel()
    let dir: String
    let train: LabeledImages, test: LabeledImages
    let path: String
    init() throws {
        guard let d = sharedData("fashion-mnist") else { throw CompileError("no data") }
        dir = d
        train = try IDX.load(directory: d, split: "train", limit: 512)
        test = try IDX.load(directory: d, split: "t10k", limit: 200)
        let spec = EnsembleSpec(input: [1, 28, 28], classes: 10, students: 2,
                                student: StudentSpec(conv: [4, 8], hidden: 16, features: 16, timesteps: 4),
                                gate: GateSpec(pool: 4, hidden: 8))
        let m = try SNEModel(spec: spec, seed: 7)
        var o = FineTuneOptions()
        o.qat = false; o.epochs = 2; o.batch = 32; o.lr = 3e-3
        try FineTune.run(m, data: train, options: o, compute: ComputeContext(threads: 2))
        path = NSTemporaryDirectory() + "sne-compile-test-\(getpid()).model"
        try m.save(to: path)
    }
    /// A fresh copy (tests may modify it).
    func model() throws -> SNEModel { try SNEModel.load(from: path) }
}

final class CompileModelTests: XCTestCase {
    func tiny() throws -> TinyModel {
        guard let t = TinyModel.shared else { throw XCTSkip("../shared/data/fashion-mnist not found") }
        return t
    }

    func testProgramVerifiesAndAgreesWithFloat() throws {
        let t = try tiny()
        let m = try t.model()
        let c = try ModelCompiler.compile(m, calibration: t.train.prefix(128))
        let p = c.program
        XCTAssertNoThrow(try ProgramVerifier.verify(p))
        XCTAssertEqual(p.selection, .gate)
        guard case .inputConv2D = p.students[0].ops[0] else { return XCTFail("op 0 is \(p.students[0].ops[0].name)") }
        // round trip through the file format
        XCTAssertEqual(try ProgramFile.decode(try ProgramFile.encode(p)), p)
        let r = try Check.run(model: m, program: p, data: t.test, activityImages: 50)
        for row in r.rows {
            print(String(format: "tiny model k=%d: float %.1f%% int %.1f%% agreement %.1f%%", row.budget, 100 * row.floatAccuracy, 100 * row.intAccuracy, 100 * row.agreement))
        }
        let full = r.rows.last!
        XCTAssertGreaterThan(full.floatAccuracy, 0.5, "the tiny model did not train")
        XCTAssertGreaterThanOrEqual(full.agreement, 0.9)
        XCTAssertLessThan(abs(full.intAccuracy - full.floatAccuracy), 0.05)
        XCTAssertTrue(r.problems.isEmpty, "\(r.problems)")
        for a in r.activity { XCTAssertEqual(a.intRate, a.floatRate, accuracy: 0.05, "\(a)") }
    }

    /// Per-channel weights (Spike IR 2.0): per-channel thresholds and per-feature requant, verified,
    /// agreeing with float at least as well as the per-tensor program on the same images.
    func testPerChannelWeightsCompileExactly() throws {
        let t = try tiny()
        let m = try t.model()
        var o = CompileOptions(); o.granularity = .perChannel
        let p = try ModelCompiler.compile(m, calibration: t.train.prefix(128), options: o).program
        XCTAssertNoThrow(try ProgramVerifier.verify(p))
        guard case .lif(let l) = p.students[0].ops[1] else { return XCTFail("op 1 is \(p.students[0].ops[1].name)") }
        XCTAssertEqual(l.thetas.count, 4)
        XCTAssertGreaterThan(Set(l.thetas).count, 1, "per-channel scales give per-channel thresholds")
        XCTAssertGreaterThan(Set(p.students[0].featMult).count, 1, "per-feature requant")
        let r = try Check.run(model: m, program: p, data: t.test, activityImages: 20)
        XCTAssertGreaterThanOrEqual(r.rows.last!.agreement, 0.9)
        XCTAssertTrue(r.problems.isEmpty, "\(r.problems)")
    }

    func testCheckCountsEqualInterpreter() throws {
        let t = try tiny()
        let m = try t.model()
        var p = try ModelCompiler.compile(m, calibration: t.train.prefix(64), options: { var o = CompileOptions(); o.stopMargin = 2; return o }()).program
        let data = t.test.prefix(12)
        let r = try Check.run(model: m, program: p, data: data, activityImages: 4)
        let images = (0..<data.count).map { HWCLayout.imageHWC(data.pixels[($0 * 784)..<(($0 + 1) * 784)], c: 1, h: 28, w: 28) }
        let margin = p.stopMargin
        p.stopMargin = nil
        for row in r.rows + [r.confidence!] {
            var q = p
            if row.confidence { q.stopMargin = margin }
            let interp = try Interpreter(q)
            var ops = q.students.map { [Counts](repeating: Counts(), count: $0.ops.count) }, gate = Counts(), head = Counts()
            for x in images {
                let res = try interp(x, budget: row.budget)
                for k in ops.indices { for j in ops[k].indices { ops[k][j] += res.opCounts[k][j] } }
                gate += res.gateCounts; head += res.headCounts
            }
            XCTAssertEqual(row.opCounts, ops, "budget \(row.budget) confidence \(row.confidence)")
            XCTAssertEqual(row.gateCounts, gate); XCTAssertEqual(row.headCounts, head)
            XCTAssertEqual(row.total, ops.joined().reduce(gate + head, +))
            let e = EnergyTable()
            XCTAssertEqual(row.energy, e.microjoules(row.total) / Double(images.count), accuracy: 1e-12)
        }
        XCTAssertGreaterThan(r.rows[1].total.synops, r.rows[0].total.synops)
    }

    func testSilentLayerIsRefused() throws {
        let t = try tiny()
        let m = try t.model()
        // drive student 1's second conv block far below threshold: its LIF never fires
        let bn = m.students[1].layers.first { $0.name == "bn2" }!.layer as! BatchNorm2d
        for i in 0..<bn.beta.value.count { bn.beta.value.data[i] = -40 }
        let c = try ModelCompiler.compile(m, calibration: t.train.prefix(64))
        let images = (0..<64).map { HWCLayout.imageHWC(t.train.pixels[($0 * 784)..<(($0 + 1) * 784)], c: 1, h: 28, w: 28) }
        let act = try ActivityCheck.compare(c.program, lifNames: c.lifNames, float: c.calibration, images: images)
        let problems = ActivityCheck.problems(act)
        XCTAssertFalse(problems.isEmpty)
        XCTAssertTrue(problems[0].hasPrefix("student 1 lif2 (op 4) is silent"), problems[0])
        XCTAssertTrue(problems[0].contains("--allow-inactive"))

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

    func testQATFineTuneRunsAndKeepsTheModelCompilable() throws {
        let t = try tiny()
        let m = try t.model()
        var o = FineTuneOptions()
        o.epochs = 1; o.batch = 32; o.lr = 2e-4
        var lines: [String] = []
        try FineTune.run(m, data: t.train.prefix(128), options: o, compute: ComputeContext(threads: 2)) { lines.append($0) }
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix("qat epoch 1/1: loss "), lines[0])
        XCTAssertFalse(lines[0].contains("nan"))
        XCTAssertNoThrow(try ModelCompiler.compile(m, calibration: t.train.prefix(64)))
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

    /// QuantLIF reproduces the interpreter's LIF (spec §3.5) on integer-valued currents.
    func testQuantLIFMatchesInterpreterArithmetic() {
        let lif = SNETrain.LIF(beta: 0.5, theta: 1, reset: .subtract, order: .spec)
        let q = QuantLIF(lif, scales: [10], thetas: [10], leak: .shift(1), bits: 32)
        // one neuron, T = 4, currents 0.7, 0.7, −0.3, 0.9 → integer 7, 7, −3, 9
        let y = q.forward(try! Tensor(shape: [4, 1], data: [0.7, 0.7, -0.3, 0.9]), T: 4)
        // v: 7 (no spike, m=7); leak 7 − rshr(7,1)=7−4=3, +7 = 10 ≥ 10 spike, m=0; 0 − 3 = −3; −3 − rshr(−3,1) = −3+1 = −2, +9 = 7
        XCTAssertEqual(y.data, [0, 1, 0, 0])
    }

    /// The shipped programs are exactly what `sne compile` makes of the shipped models (the slice's
    /// first 256 train images are the full set's, so its calibration is the same), and the
    /// Loihi-trained model lowers to a valid Loihi-mode program.
    func testShippedProgramsAreTheCompiledShippedModels() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let slice = root.appendingPathComponent("examples/data/fashion-mnist-slice").path
        for (dir, name) in [("fashion-mnist", "fashion_sne"), ("fashion-mnist-loihi", "fashion_loihi")] {
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
        try ProgramVerifier.verify(q)
        XCTAssertEqual(q.timesteps, lp.timesteps + 5)
    }
}
