// The spike convolution kernels (sne_conv_spike.c): forward and weight gradient of binary inputs
// against a Double reference and the dense kernels, hand-computed cases, all-zero / all-one
// inputs, odd sizes, padding edges, every ISA path giving the same bits, thread-count independence.
import Testing
@testable import SNETensor

/// Binary spikes with the given density (deterministic).
func randomSpikes(_ shape: [Int], density: Double, seed: UInt64) -> Tensor {
    var rng = SeededRNG(seed: seed)
    let n = shape.reduce(1, *)
    return try! Tensor(shape: shape, data: (0..<n).map { _ in Double(rng.next() % 1_000_000) / 1_000_000 < density ? 1 : 0 })
}

/// Double weight gradient of `Σ dy · conv(x, w)` (the adjoint), `(cout, c, kh, kw)`.
func referenceConvWeightGrad(_ x: Tensor, _ dy: Tensor, kh: Int, kw: Int, cout: Int, pad: Int) -> [Double] {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = (dy.shape[2], dy.shape[3])
    var g = [Double](repeating: 0, count: cout * c * kh * kw)
    for i in 0..<n { for o in 0..<cout { for oy in 0..<oh { for ox in 0..<ow {
        let d = Double(dy.data[((i * cout + o) * oh + oy) * ow + ox])
        for ci in 0..<c { for ky in 0..<kh { for kx in 0..<kw {
            let iy = oy - pad + ky, ix = ox - pad + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
            g[((o * c + ci) * kh + ky) * kw + kx] += d * Double(x.data[((i * c + ci) * h + iy) * w + ix])
        } } }
    } } } }
    return g
}

@Suite struct SpikeConvTests {
    /// Contexts for the three spike paths (AVX-512, AVX2, portable C), each capped at what this CPU runs.
    static func contexts(threads: Int = 2) -> [ComputeContext] {
        [ComputeContext(threads: threads, isaCap: 2), ComputeContext(threads: threads, isaCap: 1), ComputeContext(threads: threads, portable: true)]
    }

    /// (input shape, cout, kernel, pad): odd sizes, every vector width of Cout (5: scalar only; 8:
    /// AVX2; 16, 32, 48: AVX-512 blocks of 32 and 16), kernels 1..4 wide, padding 0..2, a plane
    /// as wide as the kernels take (28 + 2 pad = 32 columns).
    static let cases: [([Int], Int, Int, Int)] = [
        ([2, 3, 5, 13], 5, 3, 1), ([3, 2, 7, 6], 8, 3, 1), ([2, 16, 14, 14], 32, 3, 1), ([1, 4, 9, 11], 48, 3, 2),
        ([2, 5, 6, 7], 16, 2, 0), ([2, 3, 6, 9], 16, 4, 1), ([1, 2, 5, 28], 16, 3, 2), ([3, 1, 4, 4], 16, 1, 0),
        ([1, 4, 7, 7], 24, 3, 1),
    ]

    @Test(arguments: cases.indices)
    func forwardAndWeightGradientMatchReference(_ index: Int) throws {
        let (shape, cout, k, pad) = Self.cases[index]
        var rng = SeededRNG(seed: UInt64(40 + index))
        let x = randomSpikes(shape, density: 0.4, seed: UInt64(index))
        let w = Tensor.randomNormal([cout, shape[1], k, k], std: 0.5, using: &rng)
        let bias = Tensor.randomNormal([cout], std: 1, using: &rng)
        let ref = directConv(x, w, stride: 1, pad: pad)
        let (oh, ow) = (shape[2] + 2 * pad - k + 1, shape[3] + 2 * pad - k + 1)
        let dy = Tensor.randomNormal([shape[0], cout, oh, ow], std: 1, using: &rng)
        let gref = referenceConvWeightGrad(x, dy, kh: k, kw: k, cout: cout, pad: pad)
        var bits: [[Float]] = []
        for ctx in Self.contexts() {
            let s = try #require(ctx.packSpikes(x, kh: k, kw: k, pad: pad))
            let y = try ctx.spikeConv2dForward(s, weight: w, bias: nil)
            #expect(y.shape == [shape[0], cout, oh, ow])
            for (a, b) in zip(y.data, ref) { #expect(abs(Double(a) - b) < 1e-4) }
            let yb = try ctx.spikeConv2dForward(s, weight: w, bias: bias)
            let hw = y.shape[2] * y.shape[3]
            for i in 0..<y.count { #expect(yb.data[i] == y.data[i] + bias.data[(i / hw) % cout]) }   // bias: one add after the sum
            // Dense kernel of the same context: equal within rounding.
            let dense = try ctx.conv2dForward(x, weight: w, bias: bias, pad: pad)
            for (a, b) in zip(yb.data, dense.data) { #expect(abs(a - b) < 1e-4) }
            // Weight gradient against the Double adjoint; bias gradient as the dense path's.
            let (dw, db) = try ctx.spikeConv2dBackwardWeight(s, dy, weightShape: w.shape)
            for (a, b) in zip(dw.data, gref) { #expect(abs(Double(a) - b) < 1e-3) }
            let (dwDense, dbDense) = try ctx.conv2dBackwardWeight(x, dy, weightShape: w.shape, pad: pad)
            #expect(db.data == dbDense.data)
            for (a, b) in zip(dw.data, dwDense.data) { #expect(abs(a - b) < 1e-3) }
            bits.append(y.data + yb.data + dw.data)
        }
        // Additions only, in one order: AVX-512, AVX2 and portable C give the same bits.
        #expect(bits[0] == bits[1])
        #expect(bits[0] == bits[2])
    }

    /// A hand-computed case: one 3x3 input channel, weights 1..9 (times 1 and 2 for two output
    /// channels), pad 1: each output is the sum of the weights under the spikes.
    @Test func handComputed() throws {
        let x = try Tensor(shape: [1, 1, 3, 3], data: [1, 0, 0,
                                                       0, 1, 0,
                                                       0, 0, 1])
        let w = try Tensor(shape: [2, 1, 3, 3], data: (1...9).map { Float($0) } + (1...9).map { Float(2 * $0) })
        for ctx in Self.contexts() {
            let s = try #require(ctx.packSpikes(x, kh: 3, kw: 3, pad: 1))
            let y = try ctx.spikeConv2dForward(s, weight: w, bias: nil)
            // y[oy][ox] = Σ w[ky][kx] = 3ky + kx + 1 over the spikes (i, i) with ky = i - oy + 1, kx = i - ox + 1.
            let expected: [Float] = [5 + 9, 4 + 8, 7,
                                     2 + 6, 1 + 5 + 9, 4 + 8,
                                     3, 2 + 6, 1 + 5]
            #expect(Array(y.data[0..<9]) == expected)
            #expect(Array(y.data[9..<18]) == expected.map { 2 * $0 })
            // dy = 1 at the centre only: dw[ky][kx] = x[ky][kx] (the window around the centre).
            var dy = Tensor(zeros: [1, 2, 3, 3]); dy.data[4] = 1; dy.data[13] = 3
            let (dw, db) = try ctx.spikeConv2dBackwardWeight(s, dy, weightShape: w.shape)
            #expect(Array(dw.data[0..<9]) == x.data)
            #expect(Array(dw.data[9..<18]) == x.data.map { 3 * $0 })
            #expect(db.data == [1, 3])
        }
    }

    /// All-zero spikes give exactly the bias and a zero weight gradient; all-one spikes give the
    /// sum of the weights inside the image at every position (padding edges see fewer).
    @Test func allZeroAndAllOneInputs() throws {
        var rng = SeededRNG(seed: 5)
        let w = Tensor.randomNormal([32, 16, 3, 3], std: 0.3, using: &rng)
        let bias = Tensor.randomNormal([32], std: 1, using: &rng)
        let dy = Tensor.randomNormal([2, 32, 14, 14], std: 1, using: &rng)
        for ctx in Self.contexts() {
            let zero = try #require(ctx.packSpikes(Tensor(zeros: [2, 16, 14, 14]), kh: 3, kw: 3, pad: 1))
            let y0 = try ctx.spikeConv2dForward(zero, weight: w, bias: bias)
            for i in 0..<y0.count { #expect(y0.data[i] == bias.data[(i / 196) % 32]) }
            let (dw0, _) = try ctx.spikeConv2dBackwardWeight(zero, dy, weightShape: w.shape)
            #expect(dw0.data.allSatisfy { $0 == 0 })
            let onesX = Tensor(repeating: 1, shape: [2, 16, 14, 14])
            let ones = try #require(ctx.packSpikes(onesX, kh: 3, kw: 3, pad: 1))
            let y1 = try ctx.spikeConv2dForward(ones, weight: w, bias: nil)
            let ref = directConv(onesX, w, stride: 1, pad: 1)
            for (a, b) in zip(y1.data, ref) { #expect(abs(Double(a) - b) < 1e-4) }
            let (dw1, _) = try ctx.spikeConv2dBackwardWeight(ones, dy, weightShape: w.shape)
            for (a, b) in zip(dw1.data, referenceConvWeightGrad(onesX, dy, kh: 3, kw: 3, cout: 32, pad: 1)) { #expect(abs(Double(a) - b) < 1e-3) }
        }
    }

    /// Non-binary inputs, unsupported geometry and a context with the spike kernels off are refused.
    @Test func packRefusesWhatItCannotRun() throws {
        let ctx = ComputeContext(threads: 2)
        var x = randomSpikes([3, 4, 6, 6], density: 0.5, seed: 1)
        #expect(ctx.packSpikes(x, kh: 3, kw: 3, pad: 1) != nil)
        x.data[3 * 4 * 36 - 1] = 0.5                                          // one non-spike value, in the last image
        #expect(ctx.packSpikes(x, kh: 3, kw: 3, pad: 1) == nil)
        x.data[3 * 4 * 36 - 1] = .nan
        #expect(ctx.packSpikes(x, kh: 3, kw: 3, pad: 1) == nil)
        let wide = Tensor(zeros: [1, 1, 4, 31])
        #expect(ctx.packSpikes(wide, kh: 3, kw: 3, pad: 1) == nil)            // 33 padded columns
        #expect(ctx.packSpikes(Tensor(zeros: [1, 1, 4, 8]), kh: 5, kw: 5, pad: 2) == nil)   // kw > 4
        #expect(ComputeContext(threads: 1, spikeConv: false).packSpikes(Tensor(zeros: [1, 1, 4, 4]), kh: 3, kw: 3, pad: 1) == nil)
    }

    /// The weight gradient is summed in the dense paths' fixed image groups: the same bits for 1, 2
    /// and 3 threads.
    @Test func weightGradientIndependentOfThreads() throws {
        var rng = SeededRNG(seed: 8)
        let x = randomSpikes([20, 16, 14, 14], density: 0.5, seed: 3)
        let w = Tensor.randomNormal([32, 16, 3, 3], std: 0.3, using: &rng)
        let dy = Tensor.randomNormal([20, 32, 14, 14], std: 1, using: &rng)
        var results: [[Float]] = []
        for t in [1, 2, 3] {
            let ctx = ComputeContext(threads: t)
            let s = try #require(ctx.packSpikes(x, kh: 3, kw: 3, pad: 1))
            let (dw, db) = try ctx.spikeConv2dBackwardWeight(s, dy, weightShape: w.shape)
            results.append(try ctx.spikeConv2dForward(s, weight: w, bias: nil).data + dw.data + db.data)
        }
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
    }
}
