// Tests for SNETensor: SGEMM against a Double reference (all transposes, edges, both paths),
// determinism across thread counts, conv2d forward/backward against direct loops, pooling.
import Testing
@testable import SNETensor

func randomArray(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SeededRNG(seed: seed)
    return (0..<n).map { _ in Float(rng.nextGaussian()) }
}

@Suite struct GEMMTests {
    @Test(arguments: [(1, 1, 1), (5, 7, 3), (6, 16, 256), (13, 33, 300), (70, 45, 17), (150, 160, 520), (3, 2100, 9)])
    func matchesReference(_ dims: (Int, Int, Int)) {
        let (m, n, k) = dims
        for path in [0, 1, 2] {   // portable, AVX2, AVX-512 (capped at what this CPU has)
            for threads in [1, 2] {
                let ctx = ComputeContext(threads: threads, isaCap: path)
                for ta in [false, true] { for tb in [false, true] {
                    let a = randomArray(m * k, seed: 1), b = randomArray(k * n, seed: 2)
                    let lda = ta ? m : k, ldb = tb ? k : n
                    var c = randomArray(m * n, seed: 3), ref = c
                    let alpha: Float = 0.75, beta: Float = ta ? 0.5 : 0
                    referenceGEMM(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                  beta: beta, c: &ref, ldc: n)
                    c.withUnsafeMutableBufferPointer { cp in
                        ctx.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                  beta: beta, c: cp.baseAddress!, ldc: n)
                    }
                    let tol = 1e-4 * Float(k).squareRoot() * 4
                    let worst = zip(c, ref).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst <= tol, "m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb) path=\(ctx.sgemmPath) threads=\(threads) err=\(worst)")
                } }
            }
        }
    }

    /// The AVX2 6x16 and AVX-512 8x32 kernels run the same FMA chain per element: same bits.
    @Test func vectorPathsAgreeBitForBit() {
        let m = 77, n = 301, k = 600
        let a = randomArray(m * k, seed: 6), b = randomArray(k * n, seed: 7)
        var results: [[Float]] = []
        for path in [1, 2] {
            let ctx = ComputeContext(threads: 2, isaCap: path)
            var c = randomArray(m * n, seed: 8)
            c.withUnsafeMutableBufferPointer {
                ctx.sgemm(transB: true, m: m, n: n, k: k, alpha: 0.5, a: a, lda: k, b: b, ldb: k, beta: 0.25, c: $0.baseAddress!, ldc: n)
            }
            results.append(c)
        }
        #expect(results[0] == results[1])
    }

    @Test func bitIdenticalAcrossThreadCounts() {
        let m = 200, n = 300, k = 333
        let a = randomArray(m * k, seed: 4), b = randomArray(k * n, seed: 5)
        var results: [[Float]] = []
        for t in [1, 2, 3] {
            let ctx = ComputeContext(threads: t)
            var c = [Float](repeating: 0, count: m * n)
            c.withUnsafeMutableBufferPointer { ctx.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: $0.baseAddress!, ldc: n) }
            results.append(c)
        }
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
    }

    @Test func matmulShapeErrors() throws {
        let ctx = ComputeContext(threads: 1)
        #expect(throws: TensorError.self) { try ctx.matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [2, 3])) }
        let r = try ctx.matmul(Tensor(repeating: 1, shape: [2, 3]), Tensor(repeating: 2, shape: [3, 4]))
        #expect(r.data == [Float](repeating: 6, count: 8))
    }
}

/// Direct-loop convolution in Double (the semantics).
func directConv(_ x: Tensor, _ w: Tensor, stride: Int, pad: Int) -> [Double] {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (co, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = (h + 2 * pad - kh) / stride + 1, ow = (wd + 2 * pad - kw) / stride + 1
    var y = [Double](repeating: 0, count: n * co * oh * ow)
    for i in 0..<n { for o in 0..<co { for oy in 0..<oh { for ox in 0..<ow {
        var s = 0.0
        for ci in 0..<c { for ky in 0..<kh { for kx in 0..<kw {
            let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
            s += Double(x.data[((i * c + ci) * h + iy) * wd + ix]) * Double(w.data[((o * c + ci) * kh + ky) * kw + kx])
        } } }
        y[((i * co + o) * oh + oy) * ow + ox] = s
    } } } }
    return y
}

@Suite struct ConvTests {
    /// (kernel, stride, pad, input shape, output channels). The 5x37 and 9-channel cases cross the
    /// direct kernels' 16-column vectors, 8-channel tiles and 2-row tiles.
    static let convCases: [(Int, Int, Int, [Int], Int)] = [
        (3, 1, 1, [3, 2, 7, 6], 4), (3, 2, 1, [3, 2, 7, 6], 4), (1, 1, 0, [3, 2, 7, 6], 4), (5, 1, 2, [3, 2, 7, 6], 4),
        (3, 1, 0, [3, 2, 7, 6], 4), (3, 1, 1, [1, 3, 5, 37], 9), (4, 1, 3, [2, 2, 5, 18], 3), (3, 1, 2, [2, 1, 6, 6], 2),
    ]

    @Test(arguments: convCases.indices)
    func forwardAndBackwardMatchDirectLoops(_ index: Int) throws {
        let (k, stride, pad, xShape, cout) = Self.convCases[index]
        // Direct AVX-512, direct AVX2 (each capped at what this CPU runs), im2col + SGEMM.
        for ctx in [ComputeContext(threads: 2), ComputeContext(threads: 2, isaCap: 1), ComputeContext(threads: 2, directConv: false)] {
            try checkConv(k: k, stride: stride, pad: pad, xShape: xShape, cout: cout, ctx: ctx)
        }
    }

    /// The direct kernels (both widths, where the CPU has them) and im2col + SGEMM give the same bits forward
    /// (one FMA chain from 0 over (c, ky, kx) when c*kh*kw <= 256), and the direct weight gradient
    /// does not depend on the thread count.
    @Test func directAndIm2colAgree() throws {
        var rng = SeededRNG(seed: 12)
        let x = Tensor.randomNormal([6, 16, 14, 14], std: 1, using: &rng)
        let w = Tensor.randomNormal([32, 16, 3, 3], std: 0.1, using: &rng)
        let dy = Tensor.randomNormal([6, 32, 14, 14], std: 1, using: &rng)
        let bias = Tensor.randomNormal([32], std: 1, using: &rng)
        let im2col = ComputeContext(threads: 2, directConv: false)
        for path in [2, 1] {   // AVX-512 and AVX2 direct kernels (capped at what this CPU runs)
            let a = ComputeContext(threads: 2, isaCap: path), one = ComputeContext(threads: 1, isaCap: path)
            #expect(try a.conv2dForward(x, weight: w, bias: nil, pad: 1).data == im2col.conv2dForward(x, weight: w, bias: nil, pad: 1).data)
            #expect(try a.conv2dForward(x, weight: w, bias: bias, pad: 1).data == im2col.conv2dForward(x, weight: w, bias: bias, pad: 1).data)
            #expect(try a.conv2dBackwardWeight(x, dy, weightShape: w.shape, pad: 1).0.data
                    == one.conv2dBackwardWeight(x, dy, weightShape: w.shape, pad: 1).0.data)
            #expect(try a.conv2dBackwardData(dy, weight: w, inputShape: x.shape, pad: 1).data
                    == one.conv2dBackwardData(dy, weight: w, inputShape: x.shape, pad: 1).data)
        }
        // 7x7 and 28x28 planes run the AVX-512 forward over flattened padded rows (a vector spans
        // several output rows): still the same bits as im2col, with and without bias.
        for hw in [7, 28, 5] {
            let xs = Tensor.randomNormal([3, 16, hw, hw], std: 1, using: &rng)
            let ws = Tensor.randomNormal([11, 16, 3, 3], std: 0.1, using: &rng)
            let bs = Tensor.randomNormal([11], std: 1, using: &rng)
            for path in [2, 1] {
                let a = ComputeContext(threads: 2, isaCap: path)
                #expect(try a.conv2dForward(xs, weight: ws, bias: nil, pad: 1).data == im2col.conv2dForward(xs, weight: ws, bias: nil, pad: 1).data)
                #expect(try a.conv2dForward(xs, weight: ws, bias: bs, pad: 1).data == im2col.conv2dForward(xs, weight: ws, bias: bs, pad: 1).data)
            }
        }
    }

    func checkConv(k: Int, stride: Int, pad: Int, xShape: [Int], cout: Int, ctx: ComputeContext) throws {
        var rng = SeededRNG(seed: 9)
        let x = Tensor.randomNormal(xShape, std: 1, using: &rng)
        let w = Tensor.randomNormal([cout, xShape[1], k, k], std: 1, using: &rng)
        let y = try ctx.conv2dForward(x, weight: w, bias: nil, stride: stride, pad: pad)
        let ref = directConv(x, w, stride: stride, pad: pad)
        for (a, b) in zip(y.data, ref) { #expect(abs(Double(a) - b) < 1e-4) }
        // Backward via the adjoint identity: <dy, conv(x, w)> is linear in x and in w.
        let dy = Tensor.randomNormal(y.shape, std: 1, using: &rng)
        let dx = try ctx.conv2dBackwardData(dy, weight: w, inputShape: x.shape, stride: stride, pad: pad)
        let (dw, db) = try ctx.conv2dBackwardWeight(x, dy, weightShape: w.shape, stride: stride, pad: pad)
        func loss(_ x: Tensor, _ w: Tensor) -> Double { zip(directConv(x, w, stride: stride, pad: pad), dy.data).reduce(0) { $0 + $1.0 * Double($1.1) } }
        let base = loss(x, w)
        for i in Swift.stride(from: 0, to: x.count, by: 7) {
            var xp = x; xp.data[i] += 1
            #expect(abs((loss(xp, w) - base) - Double(dx.data[i])) < 1e-3)
        }
        for i in 0..<w.count {
            var wp = w; wp.data[i] += 1
            #expect(abs((loss(x, wp) - base) - Double(dw.data[i])) < 1e-3)
        }
        let hw = y.shape[2] * y.shape[3]
        for o in 0..<cout {
            var s = 0.0
            for i in 0..<xShape[0] { for j in 0..<hw { s += Double(dy.data[(i * cout + o) * hw + j]) } }
            #expect(abs(s - Double(db.data[o])) < 1e-3)
        }
    }

    @Test func shapeErrorsThrow() {
        let ctx = ComputeContext(threads: 1)
        #expect(throws: TensorError.self) { try ctx.conv2dForward(Tensor(zeros: [1, 3, 4, 4]), weight: Tensor(zeros: [2, 2, 3, 3]), bias: nil) }
        #expect(throws: TensorError.self) { try ctx.conv2dForward(Tensor(zeros: [3, 4, 4]), weight: Tensor(zeros: [2, 3, 3, 3]), bias: nil) }
        #expect(throws: TensorError.self) { try ctx.conv2dForward(Tensor(zeros: [1, 3, 2, 2]), weight: Tensor(zeros: [2, 3, 5, 5]), bias: nil) }
    }

    @Test func poolingForwardBackward() throws {
        let ctx = ComputeContext(threads: 2)
        let x = try Tensor(shape: [1, 1, 4, 4], data: (0..<16).map { Float(($0 * 7) % 16) })
        let (y, idx) = try ctx.maxPool2dForward(x, k: 2, stride: 2)
        #expect(y.data == [12, 14, 15, 13])
        let dx = ctx.maxPool2dBackward(Tensor(repeating: 1, shape: [1, 1, 2, 2]), argmax: idx, inputShape: x.shape)
        #expect(dx.sum() == 4)
        #expect(dx.data[Int(idx[0])] == 1)
        let a = try ctx.avgPool2dForward(x, k: 2, stride: 2)
        #expect(a.data[0] == 5.5)
        let da = ctx.avgPool2dBackward(Tensor(repeating: 4, shape: [1, 1, 2, 2]), k: 2, stride: 2, inputShape: x.shape)
        #expect(da.data == [Float](repeating: 1, count: 16))
    }

    /// 2x2 max pooling (AVX-512 where the CPU has it) against the plain loop: ties (first maximum
    /// wins), NaN (never replaces), widths with partial 16-window groups and odd sizes.
    @Test(arguments: [(28, 28), (14, 14), (7, 7), (9, 13), (40, 66)])
    func maxPoolMatchesPlainLoop(_ h: Int, _ w: Int) throws {
        let ctx = ComputeContext(threads: 2)
        var rng = SeededRNG(seed: 9)
        let n = 3, c = 2
        let x = try Tensor(shape: [n, c, h, w], data: (0..<(n * c * h * w)).map { _ in
            let r = rng.next() % 7
            return r < 2 ? 0 : r == 2 ? 1 : r == 3 ? .nan : Float(Int(rng.next() % 5) - 2)
        })
        let (y, idx) = try ctx.maxPool2dForward(x, k: 2, stride: 2)
        let oh = h / 2, ow = w / 2
        for p in 0..<(n * c) { for oy in 0..<oh { for ox in 0..<ow {
            var best = 2 * oy * w + 2 * ox, v = x.data[p * h * w + best]
            for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                let q = (2 * oy + dy) * w + 2 * ox + dx
                if x.data[p * h * w + q] > v { v = x.data[p * h * w + q]; best = q }
            }
            let o = p * oh * ow + oy * ow + ox
            #expect(y.data[o].bitPattern == v.bitPattern && idx[o] == Int32(best))
        } } }
    }
}
