// The spike convolution kernels (sne_conv_spike.c): forward and weight gradient of binary inputs
// against a Double reference and the dense kernels, hand-computed cases, all-zero / all-one
// inputs, odd sizes, padding edges, every ISA path giving the same bits, thread-count independence.
import Testing
@testable import SNETensor
import CSNEKernels

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

/// The channel-blocked direct kernel (sne_conv_cblock.c, output channels in the AVX-512 lanes) gives
/// the same bits as the row-vector direct kernel (sne_conv_direct.c) it replaces for narrow planes,
/// with and without bias, for odd sizes, several kernel sizes and paddings, and tiles of 1-2 blocks.
@Suite struct ChannelBlockedConvTests {
    @Test func sameBitsAsRowVectorKernel() throws {
        guard sne_isa_level(-1) == 2 else { return }   // AVX-512 only
        var rng = SeededRNG(seed: 21)
        // (c, h, w, cout, k, pad)
        let cases: [(Int, Int, Int, Int, Int, Int)] = [
            (16, 14, 14, 32, 3, 1), (32, 14, 14, 16, 3, 1), (64, 7, 7, 128, 3, 1), (8, 5, 13, 48, 3, 1),
            (9, 28, 28, 16, 3, 1), (12, 6, 9, 16, 1, 0), (8, 9, 11, 32, 5, 2), (10, 16, 30, 16, 3, 2), (8, 3, 3, 16, 3, 0),
        ]
        for (c, h, w, cout, k, pad) in cases {
            let oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1
            #expect(sne_conv_cblock_supported(2, Int32(c), Int32(cout), Int32(ow), Int32(k), Int32(k)) == 1)
            let x = Tensor.randomNormal([c, h, w], std: 1, using: &rng)
            let wt = Tensor.randomNormal([cout, c, k, k], std: 0.2, using: &rng)
            let bias = Tensor.randomNormal([cout], std: 1, using: &rng)
            var packed = [Float](repeating: 0, count: cout * c * k * k + 16)
            var ws1 = [Float](repeating: 0, count: Int(sne_conv_cblock_workspace_floats(Int32(c), Int32(h), Int32(w), Int32(pad), Int32(cout), Int32(oh), Int32(ow))))
            var ws2 = [Float](repeating: 0, count: Int(sne_conv_direct_workspace_floats(Int32(c), Int32(h), Int32(w), Int32(pad))))
            for withBias in [false, true] {
                var y1 = [Float](repeating: 0, count: cout * oh * ow), y2 = y1
                x.data.withUnsafeBufferPointer { xp in wt.data.withUnsafeBufferPointer { wp in bias.data.withUnsafeBufferPointer { bp in
                    packed.withUnsafeMutableBufferPointer { pb in
                        // 64-byte aligned start inside the buffer (the kernel uses aligned weight loads)
                        let raw = UInt(bitPattern: pb.baseAddress!), off = Int(((raw + 63) & ~UInt(63)) - raw) / 4
                        let wb = pb.baseAddress! + off
                        sne_conv_cblock_pack_weights(wp.baseAddress!, Int32(cout), Int32(c), Int32(k), Int32(k), wb)
                        sne_conv_cblock_fwd(2, xp.baseAddress!, Int32(c), Int32(h), Int32(w), wb, withBias ? bp.baseAddress! : nil, Int32(cout),
                                            Int32(k), Int32(k), Int32(pad), &y1, &ws1)
                    }
                    sne_conv_direct_fwd(2, xp.baseAddress!, Int32(c), Int32(h), Int32(w), wp.baseAddress!, withBias ? bp.baseAddress! : nil, Int32(cout),
                                        Int32(k), Int32(k), Int32(pad), &y2, &ws2)
                } } }
                #expect(y1 == y2, "c \(c) \(h)x\(w) cout \(cout) k \(k) pad \(pad) bias \(withBias)")
            }
        }
    }

    /// The channel-blocked weight gradient (teacher layers: >= 32 input channels) against a Double
    /// reference, at 14x14, 7x7 and 28x28, independent of the thread count.
    @Test func weightGradientMatchesReference() throws {
        var rng = SeededRNG(seed: 31)
        for (c, hw, cout, n) in [(32, 14, 64, 10), (64, 7, 128, 9), (32, 28, 32, 3), (33, 5, 16, 4)] {
            let x = Tensor.randomNormal([n, c, hw, hw], std: 1, using: &rng)
            let dy = Tensor.randomNormal([n, cout, hw, hw], std: 1, using: &rng)
            let one = ComputeContext(threads: 1), two = ComputeContext(threads: 2)
            let (dw1, db1) = try one.conv2dBackwardWeight(x, dy, weightShape: [cout, c, 3, 3], pad: 1)
            let (dw2, db2) = try two.conv2dBackwardWeight(x, dy, weightShape: [cout, c, 3, 3], pad: 1)
            #expect(dw1.data == dw2.data && db1.data == db2.data)
            let ref = referenceConvWeightGrad(x, dy, kh: 3, kw: 3, cout: cout, pad: 1)
            var relSum = 0.0
            for (a, b) in zip(dw1.data, ref) {
                #expect(abs(Double(a) - b) < 1e-3 * max(1, abs(b)))
                relSum += abs(Double(a) - b) / max(1e-3, abs(b))
            }
            #expect(relSum / Double(ref.count) < 1e-5, "mean relative error \(relSum / Double(ref.count))")
        }
    }

    /// The transpose helper (16 x 16 AVX-512 blocks plus edges) against plain loops, with bias.
    @Test func transposeMatchesLoops() {
        var rng = SeededRNG(seed: 4)
        for (rows, cols) in [(196, 32), (32, 196), (17, 33), (16, 16), (5, 3), (49, 128)] {
            let src = Tensor.randomNormal([rows, cols], std: 1, using: &rng).data
            let bias = Tensor.randomNormal([cols], std: 1, using: &rng).data
            for path in [Int(sne_isa_level(2)), 0] {
                var dst = [Float](repeating: 0, count: rows * cols)
                sne_transpose(Int32(path), src, Int32(rows), Int32(cols), bias, &dst)
                var ok = true
                for r in 0..<rows { for c in 0..<cols where dst[c * rows + r] != src[r * cols + c] + bias[c] { ok = false } }
                #expect(ok, "\(rows)x\(cols) path \(path)")
            }
        }
    }
}

/// The spike linear kernels (sne_linear_spike.c): forward and weight gradient of binary rows against
/// a Double reference, all-zero / all-one rows, odd sizes (features not a multiple of 4 or 64,
/// outputs not a multiple of 16, rows not a multiple of 4), the same bits on every path and for
/// any thread count.
@Suite struct SpikeLinearTests {
    static let cases: [(Int, Int, Int)] = [(256, 1568, 128), (7, 67, 5), (9, 130, 48), (5, 64, 16), (13, 201, 130)]

    @Test(arguments: cases.indices)
    func forwardAndWeightGradientMatchReference(_ index: Int) throws {
        let (n, f, out) = Self.cases[index]
        var rng = SeededRNG(seed: UInt64(70 + index))
        let x = randomSpikes([n, f], density: 0.45, seed: UInt64(90 + index))
        let w = Tensor.randomNormal([out, f], std: 0.3, using: &rng)
        let bias = Tensor.randomNormal([out], std: 1, using: &rng)
        let dy = Tensor.randomNormal([n, out], std: 1, using: &rng)
        let g0 = Tensor.randomNormal([out, f], std: 1, using: &rng)   // gradient accumulated into
        var results: [[Float]] = []
        for ctx in SpikeConvTests.contexts() + [ComputeContext(threads: 1), ComputeContext(threads: 3)] {
            let s = try #require(ctx.packSpikeRows(x))
            let y = try ctx.spikeLinearForward(s, weight: w, bias: bias)
            for i in 0..<n { for o in 0..<out {
                var r = Double(bias.data[o])
                for j in 0..<f { r += Double(x.data[i * f + j]) * Double(w.data[o * f + j]) }
                #expect(abs(Double(y.data[i * out + o]) - r) < 1e-4)
            } }
            var g = g0
            try ctx.spikeLinearWeightGradient(s, dy, into: &g)
            for o in 0..<out { for j in Swift.stride(from: 0, to: f, by: 3) {
                var r = Double(g0.data[o * f + j])
                for i in 0..<n { r += Double(dy.data[i * out + o]) * Double(x.data[i * f + j]) }
                #expect(abs(Double(g.data[o * f + j]) - r) < 1e-3)
            } }
            results.append(y.data + g.data)
        }
        for r in results.dropFirst() { #expect(r == results[0]) }   // every path and thread count: the same bits
    }

    @Test func allZeroAndAllOneRows() throws {
        var rng = SeededRNG(seed: 3)
        let w = Tensor.randomNormal([32, 100], std: 0.3, using: &rng)
        let bias = Tensor.randomNormal([32], std: 1, using: &rng)
        let dy = Tensor.randomNormal([6, 32], std: 1, using: &rng)
        for ctx in SpikeConvTests.contexts() {
            let zero = try #require(ctx.packSpikeRows(Tensor(zeros: [6, 100])))
            let y0 = try ctx.spikeLinearForward(zero, weight: w, bias: bias)
            for i in 0..<6 { #expect(Array(y0.data[i * 32..<(i + 1) * 32]) == bias.data) }
            var g = Tensor(zeros: [32, 100])
            try ctx.spikeLinearWeightGradient(zero, dy, into: &g)
            #expect(g.data.allSatisfy { $0 == 0 })
            let ones = try #require(ctx.packSpikeRows(Tensor(repeating: 1, shape: [6, 100])))
            let y1 = try ctx.spikeLinearForward(ones, weight: w, bias: nil)
            for o in 0..<32 {
                let r = (0..<100).reduce(0.0) { $0 + Double(w.data[o * 100 + $1]) }
                #expect(abs(Double(y1.data[o]) - r) < 1e-4)
            }
            try ctx.spikeLinearWeightGradient(ones, dy, into: &g)
            for o in 0..<32 {
                let r = (0..<6).reduce(0.0) { $0 + Double(dy.data[$1 * 32 + o]) }
                for j in 0..<100 { #expect(abs(Double(g.data[o * 100 + j]) - r) < 1e-4) }
            }
        }
        var x = Tensor(zeros: [3, 70]); x.data[150] = 2
        #expect(ComputeContext(threads: 2).packSpikeRows(x) == nil)
        #expect(ComputeContext(threads: 1, spikeConv: false).packSpikeRows(Tensor(zeros: [3, 70])) == nil)
    }
}
