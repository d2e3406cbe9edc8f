// Conv2d and pooling kernels on NCHW tensors: im2col + SGEMM forward, both backward passes.
import CSNEKernels

/// Shapes of one 2-D convolution: input `(n, c, h, w)`, weight `(cout, c, kh, kw)`, output `(n, cout, oh, ow)`.
public struct ConvGeometry: Equatable, Sendable {
    public let n, c, h, w, cout, kh, kw, stride, pad, oh, ow: Int
    /// Columns of the im2col matrix per image (`c*kh*kw`).
    public var k: Int { c * kh * kw }
    /// Output pixels per image.
    public var hw: Int { oh * ow }
    /// True when im2col is the identity (1x1, stride 1, no padding).
    public var isPointwise: Bool { kh == 1 && kw == 1 && stride == 1 && pad == 0 }

    /// Validates the input and weight shapes; throws one line naming the mismatch.
    public init(input: [Int], weight: [Int], stride: Int, pad: Int) throws {
        guard input.count == 4 else { throw TensorError("conv2d: input must be NCHW (rank 4), got shape \(input)") }
        guard weight.count == 4 else { throw TensorError("conv2d: weight must be (cout, cin, kh, kw), got shape \(weight)") }
        guard weight[1] == input[1] else { throw TensorError("conv2d: input has \(input[1]) channels but weight expects \(weight[1])") }
        guard stride >= 1, pad >= 0 else { throw TensorError("conv2d: stride must be >= 1 and pad >= 0") }
        n = input[0]; c = input[1]; h = input[2]; w = input[3]
        cout = weight[0]; kh = weight[2]; kw = weight[3]
        self.stride = stride; self.pad = pad
        oh = (h + 2 * pad - kh) / stride + 1
        ow = (w + 2 * pad - kw) / stride + 1
        guard h + 2 * pad >= kh, w + 2 * pad >= kw, oh > 0, ow > 0 else {
            throw TensorError("conv2d: kernel \(kh)x\(kw) does not fit input \(h)x\(w) with pad \(pad)")
        }
    }
}

/// The number of weight-gradient partial sums; fixed so results do not depend on the thread count.
let convReductionGroups = 8

/// Largest per-worker scratch (floats) the direct weight gradient may use.
let directWorkspaceFloatsLimit = 64 << 20

extension ComputeContext {
    /// `y = conv2d(x, weight) + bias`, one image per task (im2col then SGEMM `(cout,k) x (k,hw)`).
    /// With `planeStats` (`SNE_BN_PLANE_STATS·n·cout` doubles), each image's output planes also get their batch-norm
    /// statistics (`sne_bn_plane_stats`, plane `image·cout + channel` at `SNE_BN_PLANE_STATS·plane`) right after the
    /// image is written, while it is in cache: what a following `BatchNorm2d` would compute from it.
    public func conv2dForward(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, pad: Int = 0,
                              planeStats: UnsafeMutablePointer<Double>? = nil) throws -> Tensor {
        let g = try ConvGeometry(input: x.shape, weight: weight.shape, stride: stride, pad: pad)
        if let bias, bias.count != g.cout { throw TensorError("conv2d: bias has \(bias.count) elements, expected \(g.cout)") }
        let stats = planeStats.map { SharedPointer($0) }
        if usesDirectConv && g.stride == 1 && !g.isPointwise { return directConvForward(x, weight: weight, bias: bias, g, planeStats: stats) }
        if !g.isPointwise { reserveScratch(g.k * g.hw) }
        var y = Tensor(uninitialized: [g.n, g.cout, g.oh, g.ow]) { _ in }   // every element written by the SGEMM (beta = 0)
        let biasData = bias?.data
        x.data.withUnsafeBufferPointer { xb in
            weight.data.withUnsafeBufferPointer { wb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    let xp = SharedPointer(xb.baseAddress!), wp = SharedPointer(wb.baseAddress!), yp = SharedPointer(yb.baseAddress!)
                    parallelFor(g.n) { range, worker in
                        for i in range {
                            let xi = xp.p + i * g.c * g.h * g.w
                            let yi = yp.p + i * g.cout * g.hw
                            var col = UnsafePointer(xi)
                            if !g.isPointwise {
                                let s = self.scratch(worker)
                                sne_im2col(xi, Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.kh), Int32(g.kw),
                                           Int32(g.stride), Int32(g.pad), Int32(g.oh), Int32(g.ow), s)
                                col = UnsafePointer(s)
                            }
                            self.sgemmSerial(m: g.cout, n: g.hw, k: g.k, a: wp.p, lda: g.k, b: col, ldb: g.hw,
                                             c: yi, ldc: g.hw, worker: worker)
                            if let biasData {
                                for co in 0..<g.cout {
                                    let bv = biasData[co], row = yi + co * g.hw
                                    for j in 0..<g.hw { row[j] += bv }
                                }
                            }
                            if let stats { imagePlaneStats(yi, image: i, cout: g.cout, hw: g.hw, into: stats) }
                        }
                    }
                }
            }
        }
        return y
    }

    /// `dx` for `y = conv2d(x, weight)`: SGEMM `(k,cout) x (cout,hw)` then col2im, per image.
    public func conv2dBackwardData(_ dy: Tensor, weight: Tensor, inputShape: [Int], stride: Int = 1, pad: Int = 0) throws -> Tensor {
        let g = try ConvGeometry(input: inputShape, weight: weight.shape, stride: stride, pad: pad)
        guard dy.shape == [g.n, g.cout, g.oh, g.ow] else {
            throw TensorError("conv2d backward: output gradient has shape \(dy.shape), expected \([g.n, g.cout, g.oh, g.ow])")
        }
        if usesDirectConv && g.stride == 1 && !g.isPointwise && g.kh == g.kw && g.pad < g.kh {
            return directConvBackwardData(dy, weight: weight, g)
        }
        if !g.isPointwise { reserveScratch(g.k * g.hw) }
        var dx = Tensor(zeros: inputShape)
        dy.data.withUnsafeBufferPointer { db in
            weight.data.withUnsafeBufferPointer { wb in
                dx.data.withUnsafeMutableBufferPointer { xb in
                    let dp = SharedPointer(db.baseAddress!), wp = SharedPointer(wb.baseAddress!), xp = SharedPointer(xb.baseAddress!)
                    parallelFor(g.n) { range, worker in
                        for i in range {
                            let dyi = dp.p + i * g.cout * g.hw
                            let dxi = xp.p + i * g.c * g.h * g.w
                            let target = g.isPointwise ? dxi : self.scratch(worker)
                            self.sgemmSerial(transA: true, m: g.k, n: g.hw, k: g.cout, a: wp.p, lda: g.k, b: dyi, ldb: g.hw,
                                             c: target, ldc: g.hw, worker: worker)
                            if !g.isPointwise {
                                sne_col2im(target, Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.kh), Int32(g.kw),
                                           Int32(g.stride), Int32(g.pad), Int32(g.oh), Int32(g.ow), dxi)
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// `(dweight, dbias)` for `y = conv2d(x, weight) + bias`. Images are split into a fixed number of
    /// groups; per group the im2col columns of all its images sit side by side, so one long-K SGEMM
    /// `dWᵀ (k, cout) = colG (k, n·hw) × dYGᵀ` does the group. Groups are then summed in order
    /// (deterministic, independent of the thread count).
    public func conv2dBackwardWeight(_ x: Tensor, _ dy: Tensor, weightShape: [Int], stride: Int = 1, pad: Int = 0) throws -> (Tensor, Tensor) {
        let g = try ConvGeometry(input: x.shape, weight: weightShape, stride: stride, pad: pad)
        guard dy.shape == [g.n, g.cout, g.oh, g.ow] else {
            throw TensorError("conv2d backward: output gradient has shape \(dy.shape), expected \([g.n, g.cout, g.oh, g.ow])")
        }
        // The direct weight gradient holds a group's padded images and dy rows per worker: only when
        // that fits in 256 MiB (the teacher's conv2, batch 128: 3.6 MB).
        let perGroup = (g.n + min(convReductionGroups, g.n) - 1) / max(1, min(convReductionGroups, g.n))
        if usesDirectConv && g.stride == 1 && !g.isPointwise
            && sne_conv_wgrad_group_workspace_floats(Int32(perGroup), Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.cout),
                                                     Int32(g.kh), Int32(g.kw), Int32(g.pad)) <= directWorkspaceFloatsLimit {
            return directConvBackwardWeight(x, dy, g)
        }
        let groups = max(1, min(convReductionGroups, g.n))
        let maxPer = (g.n + groups - 1) / groups
        reserveScratch((g.k + g.cout) * maxPer * g.hw)
        let wsize = g.cout * g.k
        var partial = [Float](repeating: 0, count: groups * (wsize + g.cout))
        x.data.withUnsafeBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { db in
                partial.withUnsafeMutableBufferPointer { pb in
                    let xp = SharedPointer(xb.baseAddress!), dp = SharedPointer(db.baseAddress!), pp = SharedPointer(pb.baseAddress!)
                    parallelFor(groups) { grange, worker in
                        for grp in grange {
                            let lo = g.n * grp / groups, hi = g.n * (grp + 1) / groups
                            let nn = (hi - lo) * g.hw
                            let col = self.scratch(worker), dyg = col + g.k * nn
                            let dwT = pp.p + grp * (wsize + g.cout), dbias = dwT + wsize
                            for i in lo..<hi {
                                let off = (i - lo) * g.hw
                                sne_im2col_ld(xp.p + i * g.c * g.h * g.w, Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.kh), Int32(g.kw),
                                              Int32(g.stride), Int32(g.pad), Int32(g.oh), Int32(g.ow), col + off, Int32(nn))
                                let dyi = dp.p + i * g.cout * g.hw
                                for co in 0..<g.cout { (dyg + co * nn + off).update(from: dyi + co * g.hw, count: g.hw) }
                            }
                            // dWᵀ (k, cout) = col (k, nn) × dygᵀ (nn, cout)
                            self.sgemmSerial(transB: true, m: g.k, n: g.cout, k: nn, a: col, lda: nn, b: dyg, ldb: nn,
                                             c: dwT, ldc: g.cout, worker: worker)
                            for co in 0..<g.cout { dbias[co] = sumFloats(dyg + co * nn, nn) }
                        }
                    }
                }
            }
        }
        var dW = Tensor(zeros: weightShape), dB = Tensor(zeros: [g.cout])
        for grp in 0..<groups {
            let base = grp * (wsize + g.cout)
            for r in 0..<g.k { for co in 0..<g.cout { dW.data[co * g.k + r] += partial[base + r * g.cout + co] } }
            for j in 0..<g.cout { dB.data[j] += partial[base + wsize + j] }
        }
        return (dW, dB)
    }

    // MARK: direct stride-1 kernels (AVX-512 or AVX2, sne_conv_direct.c)

    /// The batch-norm statistics of one image's `cout` output planes `y` (`sne_bn_plane_stats`), written
    /// at plane `image·cout + channel` of `stats` (`SNE_BN_PLANE_STATS` doubles a plane): what
    /// `conv2dForward(planeStats:)` fills, on every conv path, right after the image is written.
    func imagePlaneStats(_ y: UnsafePointer<Float>, image: Int, cout: Int, hw: Int, into stats: SharedPointer<Double>) {
        sne_bn_planes_stats(y, 0, cout, hw, stats.p + Int(SNE_BN_PLANE_STATS) * image * cout)
    }

    /// Forward with the direct kernel, one image per task; the kernel adds the bias after the FMA
    /// chain, as the im2col path does (so both paths give the same bits for `c*kh*kw <= 256`).
    func directConvForward(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry, planeStats: SharedPointer<Double>? = nil) -> Tensor {
        if sne_conv_cblock_supported(directConvPath, Int32(g.c), Int32(g.cout), Int32(g.ow), Int32(g.kh), Int32(g.kw)) != 0 {
            return weight.data.withUnsafeBufferPointer {
                channelBlockedConv(x, weight: $0.baseAddress!, bias: bias?.data, c: g.c, h: g.h, w: g.w, cout: g.cout, g, planeStats: planeStats)
            }
        }
        reserveScratch(Int(sne_conv_direct_workspace_floats(Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.pad))))
        var y = Tensor(uninitialized: [g.n, g.cout, g.oh, g.ow]) { _ in }   // every element written by the kernel
        let biasData = bias?.data ?? []
        x.data.withUnsafeBufferPointer { xb in weight.data.withUnsafeBufferPointer { wb in y.data.withUnsafeMutableBufferPointer { yb in
          biasData.withUnsafeBufferPointer { bb in
            let xp = SharedPointer(xb.baseAddress!), wp = SharedPointer(wb.baseAddress!), yp = SharedPointer(yb.baseAddress!)
            let bp = bias == nil ? nil : bb.baseAddress.map { SharedPointer($0) }   // an empty array may still have a base address
            parallelFor(g.n) { range, worker in
                for i in range {
                    sne_conv_direct_fwd(self.directConvPath, xp.p + i * g.c * g.h * g.w, Int32(g.c), Int32(g.h), Int32(g.w), wp.p, bp?.p, Int32(g.cout),
                                        Int32(g.kh), Int32(g.kw), Int32(g.pad), yp.p + i * g.cout * g.hw, self.scratch(worker))
                    if let planeStats { imagePlaneStats(yp.p + i * g.cout * g.hw, image: i, cout: g.cout, hw: g.hw, into: planeStats) }
                }
            }
          }
        } } }
        return y
    }

    /// The channel-blocked direct kernel (`sne_conv_cblock.c`, output channels in the vector lanes),
    /// one image per task: `x (n, c, h, w)` convolved with `weight (cout, c, kh, kw)`, stride 1,
    /// padding `g.pad`, into `(n, cout, g.oh, g.ow)`; the same bits as the row-vector direct kernel.
    /// `planeStats`: as in `conv2dForward`.
    func channelBlockedConv(_ x: Tensor, weight: UnsafePointer<Float>, bias: [Float]?, c: Int, h: Int, w: Int, cout: Int,
                            _ g: ConvGeometry, planeStats: SharedPointer<Double>? = nil) -> Tensor {
        let packed = AlignedFloats(cout * c * g.kh * g.kw)
        sne_conv_cblock_pack_weights(weight, Int32(cout), Int32(c), Int32(g.kh), Int32(g.kw), packed.p)
        reserveScratch(Int(sne_conv_cblock_workspace_floats(Int32(c), Int32(h), Int32(w), Int32(g.pad), Int32(cout), Int32(g.oh), Int32(g.ow))))
        var y = Tensor(uninitialized: [x.shape[0], cout, g.oh, g.ow]) { _ in }   // every element written by the kernel
        let biasData = bias ?? []
        let path = directConvPath, n = x.shape[0], ohw = g.oh * g.ow
        x.data.withUnsafeBufferPointer { xb in y.data.withUnsafeMutableBufferPointer { yb in biasData.withUnsafeBufferPointer { bb in
            let xp = SharedPointer(xb.baseAddress!), yp = SharedPointer(yb.baseAddress!), wp = SharedPointer(packed.p)
            let bp = bias == nil ? nil : bb.baseAddress.map { SharedPointer($0) }
            parallelFor(n) { range, worker in
                for i in range {
                    sne_conv_cblock_fwd(path, xp.p + i * c * h * w, Int32(c), Int32(h), Int32(w), wp.p, bp?.p, Int32(cout),
                                        Int32(g.kh), Int32(g.kw), Int32(g.pad), yp.p + i * cout * ohw, self.scratch(worker))
                    if let planeStats { imagePlaneStats(yp.p + i * cout * ohw, image: i, cout: cout, hw: ohw, into: planeStats) }
                }
            }
        } } }
        return y
    }

    /// Backward data as the forward conv of `dy` with the 180°-rotated, transposed kernel and
    /// padding `kh-1-pad` (stride 1, square kernel, `pad < kh`): every `dx` element written once.
    func directConvBackwardData(_ dy: Tensor, weight: Tensor, _ g: ConvGeometry) -> Tensor {
        var wflip = [Float](repeating: 0, count: weight.count)
        weight.data.withUnsafeBufferPointer { wb in wflip.withUnsafeMutableBufferPointer { fb in
            sne_conv_flip_weights(wb.baseAddress!, Int32(g.cout), Int32(g.c), Int32(g.kh), Int32(g.kw), fb.baseAddress!)
        } }
        let padT = g.kh - 1 - g.pad
        if sne_conv_cblock_supported(directConvPath, Int32(g.cout), Int32(g.c), Int32(g.w), Int32(g.kh), Int32(g.kw)) != 0 {
            // dy (n, cout, oh, ow) convolved with the flipped kernel (c, cout, kh, kw), padding kh-1-pad.
            let flipped = try! ConvGeometry(input: [g.n, g.cout, g.oh, g.ow], weight: [g.c, g.cout, g.kh, g.kw], stride: 1, pad: padT)
            return wflip.withUnsafeBufferPointer { channelBlockedConv(dy, weight: $0.baseAddress!, bias: nil, c: g.cout, h: g.oh, w: g.ow, cout: g.c, flipped) }
        }
        reserveScratch(Int(sne_conv_direct_workspace_floats(Int32(g.cout), Int32(g.oh), Int32(g.ow), Int32(padT))))
        var dx = Tensor(uninitialized: [g.n, g.c, g.h, g.w]) { _ in }
        dy.data.withUnsafeBufferPointer { db in wflip.withUnsafeBufferPointer { fb in dx.data.withUnsafeMutableBufferPointer { xb in
            let dp = SharedPointer(db.baseAddress!), fp = SharedPointer(fb.baseAddress!), xp = SharedPointer(xb.baseAddress!)
            parallelFor(g.n) { range, worker in
                for i in range {
                    sne_conv_direct_fwd(self.directConvPath, dp.p + i * g.cout * g.hw, Int32(g.cout), Int32(g.oh), Int32(g.ow), fp.p, nil, Int32(g.c),
                                        Int32(g.kh), Int32(g.kw), Int32(padT), xp.p + i * g.c * g.h * g.w, self.scratch(worker))
                }
            }
        } } }
        return dx
    }

    /// Weight and bias gradients with the direct kernel: images split into the same fixed groups as
    /// the im2col path; each group's gradient is accumulated in registers over all its images (16- or
    /// 8-lane partial sums per weight, reduced in a fixed tree, `sne_conv_direct_wgrad_group`), then
    /// the groups are summed in order (independent of the thread count).
    func directConvBackwardWeight(_ x: Tensor, _ dy: Tensor, _ g: ConvGeometry) -> (Tensor, Tensor) {
        let groups = max(1, min(convReductionGroups, g.n))
        let wsize = g.cout * g.k
        let maxPer = (g.n + groups - 1) / groups
        // Teacher-sized layers (>= 32 input channels, output channels a multiple of 16, narrow planes):
        // the channel-blocked kernel (one FMA chain per weight over the group's images and positions).
        let blocked = sne_conv_cblock_wgrad_supported(directConvPath, Int32(g.c), Int32(g.cout), Int32(g.ow), Int32(g.kh), Int32(g.kw)) != 0
        reserveScratch(blocked
            ? Int(sne_conv_cblock_wgrad_workspace_floats(Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.pad), Int32(g.cout), Int32(g.kh), Int32(g.kw)))
            : Int(sne_conv_wgrad_group_workspace_floats(Int32(maxPer), Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.cout),
                                                        Int32(g.kh), Int32(g.kw), Int32(g.pad))))
        var partial = [Float](repeating: 0, count: groups * (wsize + g.cout))
        x.data.withUnsafeBufferPointer { xb in dy.data.withUnsafeBufferPointer { db in partial.withUnsafeMutableBufferPointer { pb in
            let xp = SharedPointer(xb.baseAddress!), dp = SharedPointer(db.baseAddress!), pp = SharedPointer(pb.baseAddress!)
            parallelFor(groups) { grange, worker in
                for grp in grange {
                    let lo = g.n * grp / groups, hi = g.n * (grp + 1) / groups
                    let dw = pp.p + grp * (wsize + g.cout), dbias = dw + wsize
                    if blocked {
                        sne_conv_cblock_wgrad_group(self.directConvPath, xp.p + lo * g.c * g.h * g.w, dp.p + lo * g.cout * g.hw, Int32(hi - lo),
                                                    Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.cout), Int32(g.kh), Int32(g.kw), Int32(g.pad),
                                                    dw, self.scratch(worker))
                    } else {
                        sne_conv_direct_wgrad_group(self.directConvPath, xp.p + lo * g.c * g.h * g.w, dp.p + lo * g.cout * g.hw, Int32(hi - lo),
                                                    Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.cout), Int32(g.kh), Int32(g.kw), Int32(g.pad),
                                                    dw, self.scratch(worker))
                    }
                    for i in lo..<hi {
                        let dyi = dp.p + i * g.cout * g.hw
                        for co in 0..<g.cout { dbias[co] += sumFloats(dyi + co * g.hw, g.hw) }
                    }
                }
            }
        } } }
        return Self.sumGroupPartials(partial, groups: groups, weightShape: [g.cout, g.c, g.kh, g.kw])
    }

    /// The weight and bias gradients from the per-group partials `[dW (cout·k) | db (cout)]` of a
    /// grouped weight-gradient pass, summed in group order (fixed, so any thread count gives the
    /// same bits).
    static func sumGroupPartials(_ partial: [Float], groups: Int, weightShape: [Int]) -> (Tensor, Tensor) {
        let cout = weightShape[0], wsize = weightShape.reduce(1, *)
        var dW = Tensor(zeros: weightShape), dB = Tensor(zeros: [cout])
        for grp in 0..<groups {
            let base = grp * (wsize + cout)
            for j in 0..<wsize { dW.data[j] += partial[base + j] }
            for j in 0..<cout { dB.data[j] += partial[base + wsize + j] }
        }
        return (dW, dB)
    }

    /// Max pooling `k x k` with `stride` over NCHW; returns the output and the argmax (index within its plane).
    /// With `affine` (per-channel `scale`, `shift`, and `relu`), it pools `x·scale + shift` (then
    /// `max(·, 0)`) instead: a training batch norm (+ ReLU) whose output is never written, the same
    /// bits as pooling that output (`sne_maxpool_fwd_affine`).
    public func maxPool2dForward(_ x: Tensor, k: Int, stride: Int,
                                 affine: (scale: [Float], shift: [Float], relu: Bool)? = nil) throws -> (Tensor, [Int32]) {
        guard x.rank == 4 else { throw TensorError("maxpool2d: input must be NCHW (rank 4), got shape \(x.shape)") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        guard k >= 1, stride >= 1, h >= k, w >= k else { throw TensorError("maxpool2d: window \(k) does not fit input \(h)x\(w)") }
        let oh = (h - k) / stride + 1, ow = (w - k) / stride + 1
        var y = Tensor(uninitialized: [n, c, oh, ow]) { _ in }   // fully written by the kernel
        var idx = [Int32](unsafeUninitializedCapacity: y.count) { _, k in k = n * c * oh * ow }
        let planes = n * c
        if let affine, affine.scale.count != c || affine.shift.count != c {
            throw TensorError("maxpool2d: affine for \(affine.scale.count) channels, input has \(c)")
        }
        let scale = affine?.scale ?? [], shift = affine?.shift ?? []
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                idx.withUnsafeMutableBufferPointer { ib in scale.withUnsafeBufferPointer { sb in shift.withUnsafeBufferPointer { tb in
                    let xp = SharedPointer(xb.baseAddress!), yp = SharedPointer(yb.baseAddress!), ip = SharedPointer(ib.baseAddress!)
                    let sp = sb.baseAddress.map { SharedPointer($0) }, tp = tb.baseAddress.map { SharedPointer($0) }
                    let relu: Int32 = affine?.relu == true ? 1 : 0
                    parallelFor(planes, minChunk: 16) { r, _ in
                        if affine != nil, let sp, let tp {
                            var a = sne_pool_affine(scale: sp.p, shift: tp.p, channels: Int32(c), p0: Int32(r.lowerBound), relu: relu)
                            sne_maxpool_fwd_affine(xp.p + r.lowerBound * h * w, Int32(r.count), Int32(h), Int32(w), Int32(k), Int32(stride),
                                                   Int32(oh), Int32(ow), &a, yp.p + r.lowerBound * oh * ow, ip.p + r.lowerBound * oh * ow)
                        } else {
                            sne_maxpool_fwd(xp.p + r.lowerBound * h * w, Int32(r.count), Int32(h), Int32(w), Int32(k), Int32(stride),
                                            Int32(oh), Int32(ow), yp.p + r.lowerBound * oh * ow, ip.p + r.lowerBound * oh * ow)
                        }
                    }
                } } }
            }
        }
        return (y, idx)
    }

    /// Routes `dy` back to the argmax positions recorded by `maxPool2dForward`. With
    /// `nonOverlappingWindow: k` (stride == window), every input element is written exactly once
    /// (no separate zero fill).
    public func maxPool2dBackward(_ dy: Tensor, argmax: [Int32], inputShape: [Int], nonOverlappingWindow k: Int? = nil) -> Tensor {
        let (h, w) = (inputShape[2], inputShape[3])
        let planeIn = h * w, planeOut = dy.shape[2] * dy.shape[3], (oh, ow) = (dy.shape[2], dy.shape[3])
        let planes = inputShape[0] * inputShape[1]
        let direct = k.map { oh * $0 == h && ow * $0 == w } ?? false
        var dx = direct ? Tensor(uninitialized: inputShape) { _ in } : Tensor(zeros: inputShape)
        dy.data.withUnsafeBufferPointer { db in
            dx.data.withUnsafeMutableBufferPointer { xb in
                argmax.withUnsafeBufferPointer { ib in
                    let dp = SharedPointer(db.baseAddress!), xp = SharedPointer(xb.baseAddress!), ip = SharedPointer(ib.baseAddress!)
                    parallelFor(planes, minChunk: 16) { r, _ in
                        for p in r {
                            let d = dp.p + p * planeOut, x = xp.p + p * planeIn, ix = ip.p + p * planeOut
                            if direct, let k {
                                for oy in 0..<oh {
                                    for ky in 0..<k { (x + (oy * k + ky) * w).update(repeating: 0, count: w) }
                                    for ox in 0..<ow { x[Int(ix[oy * ow + ox])] = d[oy * ow + ox] }
                                }
                            } else {
                                for j in 0..<planeOut { x[Int(ix[j])] += d[j] }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// Average pooling `k x k` with `stride` (windows fully inside the input) over NCHW: each output
    /// is `fl(Σ window (ky, kx in row-major order, from 0) · 1/k²)`; planes split across the workers.
    public func avgPool2dForward(_ x: Tensor, k: Int, stride: Int) throws -> Tensor {
        guard x.rank == 4 else { throw TensorError("avgpool2d: input must be NCHW (rank 4), got shape \(x.shape)") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        guard k >= 1, stride >= 1, h >= k, w >= k else { throw TensorError("avgpool2d: window \(k) does not fit input \(h)x\(w)") }
        let oh = (h - k) / stride + 1, ow = (w - k) / stride + 1
        var y = Tensor(zeros: [n, c, oh, ow])
        let inv = 1 / Float(k * k)
        guard x.count > 0 else { return y }
        x.data.withUnsafeBufferPointer { xb in y.data.withUnsafeMutableBufferPointer { yb in
            let X = SharedPointer(xb.baseAddress!), Y = SharedPointer(yb.baseAddress!)
            parallelFor(n * c, minChunk: max(1, 4096 / (h * w))) { r, _ in
                for p in r {
                    let xp = X.p + p * h * w, yp = Y.p + p * oh * ow
                    for oy in 0..<oh { for ox in 0..<ow {
                        var s: Float = 0
                        for ky in 0..<k { for kx in 0..<k { s += xp[(oy * stride + ky) * w + ox * stride + kx] } }
                        yp[oy * ow + ox] = s * inv
                    } }
                }
            }
        } }
        return y
    }

    /// Spreads `dy` evenly over each average-pooling window: `dx += fl(dy · 1/k²)` per window element,
    /// windows in row-major order within a plane; planes split across the workers.
    public func avgPool2dBackward(_ dy: Tensor, k: Int, stride: Int, inputShape: [Int]) -> Tensor {
        var dx = Tensor(zeros: inputShape)
        let (h, w) = (inputShape[2], inputShape[3]), (oh, ow) = (dy.shape[2], dy.shape[3])
        let inv = 1 / Float(k * k)
        let planes = inputShape[0] * inputShape[1]
        guard dx.count > 0, dy.count > 0 else { return dx }
        dy.data.withUnsafeBufferPointer { db in dx.data.withUnsafeMutableBufferPointer { xb in
            let D = SharedPointer(db.baseAddress!), X = SharedPointer(xb.baseAddress!)
            parallelFor(planes, minChunk: max(1, 4096 / (h * w))) { r, _ in
                for p in r {
                    let dp = D.p + p * oh * ow, xp = X.p + p * h * w
                    for oy in 0..<oh { for ox in 0..<ow {
                        let g = dp[oy * ow + ox] * inv
                        for ky in 0..<k { for kx in 0..<k { xp[(oy * stride + ky) * w + ox * stride + kx] += g } }
                    } }
                }
            }
        } }
        return dx
    }
}
