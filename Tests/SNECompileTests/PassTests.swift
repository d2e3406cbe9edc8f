// One before/expected test per compiler pass, with hand-computed values.
import XCTest
import SpikeIR
@testable import SNECompile

final class PassTests: XCTestCase {
    func testFoldBatchNorm() throws {
        // conv 1→2, k=1: w = [2, −1], b = [1, 0.5]; BN scale [0.5, 2], shift [1, −1]
        let conv = FloatConv(cout: 2, cin: 1, k: 1, stride: 1, pad: 0, weight: [2, -1], bias: [1, 0.5])
        let s = FloatStudent(ops: [("conv1", .conv(conv)), ("bn1", .batchNorm(FloatAffine(scale: [0.5, 2], shift: [1, -1]))), ("readout", .readout)])
        let f = try FoldBatchNorm.run(s)
        XCTAssertEqual(f.ops.count, 2)
        XCTAssertEqual(f.ops[0].name, "conv1+bn1")
        // w' = [0.5·2, 2·(−1)] = [1, −2];  b' = [0.5·1 + 1, 2·0.5 − 1] = [1.5, 0]
        XCTAssertEqual(f.ops[0].op, .conv(FloatConv(cout: 2, cin: 1, k: 1, stride: 1, pad: 0, weight: [1, -2], bias: [1.5, 0])))
        // a BN without a conv before it is refused
        XCTAssertThrowsError(try FoldBatchNorm.run(FloatStudent(ops: [("bn", .batchNorm(FloatAffine(scale: [1], shift: [0])))])))
    }

    func testQuantizeWeights() throws {
        let w: [Float] = [1, -0.5, 0.25, 0.125]
        // per tensor: step 1/127; −63.5 → −64 and 31.75 → 32, 15.875 → 16 (half away from zero)
        let t = try QuantizeWeights.run(w, out: 2, bits: 8, granularity: .perTensor)
        XCTAssertEqual(t.q, [127, -64, 32, 16])
        XCTAssertEqual(t.scale, [1.0 / 127, 1.0 / 127])
        // per channel: row 1 has step 0.25/127: 0.125 → 63.5 → 64
        let c = try QuantizeWeights.run(w, out: 2, bits: 8, granularity: .perChannel)
        XCTAssertEqual(c.q, [127, -64, 127, 64])
        XCTAssertEqual(c.scale[1], 0.25 / 127, accuracy: 1e-15)
        // int4 range: step 1/7: −3.5 → −4, 1.75 → 2, 0.875 → 1
        XCTAssertEqual(try QuantizeWeights.run(w, out: 2, bits: 4, granularity: .perTensor).q, [7, -4, 2, 1])
        // all-zero rows keep step 1 and zero weights; int16 is refused (IR weights are int8)
        XCTAssertEqual(try QuantizeWeights.run([0, 0], out: 1, bits: 8, granularity: .perChannel), QuantizedWeights(q: [0, 0], scale: [1]))
        XCTAssertThrowsError(try QuantizeWeights.run(w, out: 2, bits: 16, granularity: .perTensor)) { e in
            XCTAssertTrue("\(e)".contains("int8"), "\(e)")
        }
    }

    func testLIFFixedPoint() throws {
        XCTAssertEqual(try LIFFixedPoint.leak(beta: 0.5), .shift(1))
        XCTAssertEqual(try LIFFixedPoint.leak(beta: 0.75), .shift(2))
        XCTAssertEqual(try LIFFixedPoint.leak(beta: 1), .none)
        XCTAssertEqual(try LIFFixedPoint.leak(beta: 0.9), .mulShift(mult: 29491, shift: 15))   // round(0.9·32768) = 29491
        XCTAssertEqual(try LIFFixedPoint.leak(beta: 0), .mulShift(mult: 0, shift: 15))
        XCTAssertThrowsError(try LIFFixedPoint.leak(beta: 1.5))
        XCTAssertEqual(LIFFixedPoint.effectiveBeta(.mulShift(mult: 29491, shift: 15)), 29491.0 / 32768)
        // θ = 1 at 423.3 units per float unit → 423; a tiny product stays ≥ 1
        XCTAssertEqual(try LIFFixedPoint.thetas(1, currentScale: [423.3, 0.2]), [423, 1])
        XCTAssertThrowsError(try LIFFixedPoint.thetas(1, currentScale: [70000], stateBits: 16))
    }

    func testRequantMultiplier() throws {
        let a = try Requant.multiplier(0.5)
        XCTAssertEqual(a.mult, 1 << 30); XCTAssertEqual(a.shift, 31)
        let b = try Requant.multiplier(3)
        XCTAssertEqual(b.mult, 3 << 29); XCTAssertEqual(b.shift, 29)
        let c = try Requant.multiplier(0.015)
        XCTAssertEqual(Double(c.mult) / pow(2, Double(c.shift)), 0.015, accuracy: 1e-11)
        XCTAssertTrue(c.mult >= 1 << 30)
        XCTAssertThrowsError(try Requant.multiplier(0))
        XCTAssertThrowsError(try Requant.multiplier(pow(2, 32)))
    }

    func testLayout() {
        // conv cout=2, cin=1, k=2: float [o][i][y][x] → IR [i][y][x][o]
        let f = [1, 2, 3, 4, 5, 6, 7, 8]
        XCTAssertEqual(HWCLayout.conv(f, cout: 2, cin: 1, k: 2), [1, 5, 2, 6, 3, 7, 4, 8])
        // dense out=1 over a flattened [C=2, H=1, W=2] map: float index c·2 + x → IR (x·2 + c)
        XCTAssertEqual(HWCLayout.dense([10, 11, 20, 21], out: 1, inputs: 4, chw: (2, 1, 2)), [10, 20, 11, 21])
        // plain dense [out][in] → [in][out]
        XCTAssertEqual(HWCLayout.dense([1, 2, 3, 4, 5, 6], out: 2, inputs: 3), [1, 4, 2, 5, 3, 6])
        // image: NCHW floats /255 → HWC bytes
        XCTAssertEqual(HWCLayout.imageHWC([0, 1, 2 / 255.0, 1.0 / 255][...], c: 2, h: 1, w: 2), [0, 2, 255, 1])
    }

    func testRangeAnalysis() throws {
        XCTAssertEqual(RangeAnalysis.curmax(10, shift: 0), 10)
        XCTAssertEqual(RangeAnalysis.curmax(10, shift: 2), 3)       // ceil((10 + 2)/4)
        // readout, T = 4, |acc| ≤ 2^30: shift 1 gives 4·(2^29 + 1) > 2^31 − 1, shift 2 fits
        XCTAssertEqual(try RangeAnalysis.shift(acc: [1 << 30], base: [1], consumer: .readout, T: 4, where: "x"), 2)
        XCTAssertEqual(try RangeAnalysis.shift(acc: [1000], base: [1], consumer: .readout, T: 4, where: "x"), 0)
        // a LIF with β = 0.5 and |cur| ≤ 2^29: membrane ≤ 2(2^29 + 1) + 1 + θ fits at shift 0
        XCTAssertEqual(try RangeAnalysis.shift(acc: [1 << 29], base: [1], consumer: .lif(theta: 1, beta: 0.5, bits: 32), T: 64, where: "x"), 0)
        // β = 1 over T = 64 steps needs 64·(curmax + 1) + θ < 2^31: shift 4 gives 64·(2^25 + 2) > 2^31 − 1, shift 5 fits
        XCTAssertEqual(try RangeAnalysis.shift(acc: [1 << 29], base: [1], consumer: .lif(theta: 1, beta: 1, bits: 32), T: 64, where: "x"), 5)
        // an accumulator beyond int32 is refused with the reason
        XCTAssertThrowsError(try RangeAnalysis.shift(acc: [1 << 31], base: [1], consumer: .readout, T: 1, where: "student 0 conv1")) { e in
            XCTAssertTrue("\(e)".contains("student 0 conv1 channel 0") && "\(e)".contains("§7"), "\(e)")
        }
        XCTAssertTrue(RangeAnalysis.headFits(bias: [5], weights: [[127, -128]], classes: 1))
        XCTAssertFalse(RangeAnalysis.headFits(bias: [Int32.max], weights: [[1]], classes: 1))
    }
}
