// The compiler on a small trained ensemble (Fashion-MNIST): the program validates, agrees with the
// float model, `sne check` counts equal the interpreter's, a silent layer is refused, QAT runs.
// The CLI forms are tested end to end in SNECLITests/CompileCLITests.swift.
import XCTest
import Foundation
import SNEEnsemble
import SNEData
import SNETensor
import SNETrain
import SpikeIR
@testable import SNECompile
import SNETestSupport

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
        XCTAssertNoThrow(try ProgramValidator.validate(p))
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
        XCTAssertNoThrow(try ProgramValidator.validate(p))
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


    /// QuantLIF reproduces the interpreter's LIF (spec §3.5) on integer-valued currents.
    func testQuantLIFMatchesInterpreterArithmetic() {
        let lif = SNETrain.LIF(beta: 0.5, theta: 1, reset: .subtract, order: .spec)
        let q = QuantLIF(lif, scales: [10], thetas: [10], leak: .shift(1), bits: 32)
        // one neuron, T = 4, currents 0.7, 0.7, −0.3, 0.9 → integer 7, 7, −3, 9
        let y = q.forward(try! Tensor(shape: [4, 1], data: [0.7, 0.7, -0.3, 0.9]), T: 4)
        // v: 7 (no spike, m=7); leak 7 − rshr(7,1)=7−4=3, +7 = 10 ≥ 10 spike, m=0; 0 − 3 = −3; −3 − rshr(−3,1) = −3+1 = −2, +9 = 7
        XCTAssertEqual(y.data, [0, 1, 0, 0])
    }

}
