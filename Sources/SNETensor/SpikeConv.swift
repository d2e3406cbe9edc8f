// Stride-1 convolution of binary spike planes (sne_conv_spike.c): the forward adds one precomputed
// weight sum per (input channel, kernel row) instead of kw multiply-adds, the weight gradient sums
// dy into per-pattern buckets. Used by Conv2d when its input is all 0/1 (a LIF layer's spikes).
import CSNEKernels

/// A batch of binary planes `(n, c, h, w)` packed as zero-padded row bit masks (`sne_spike_pack`):
/// what the spike kernels read, and all a convolution needs to keep for its weight gradient
/// (1 bit per input instead of 4 bytes).
public struct SpikePlanes: Sendable {
    public let shape: [Int]
    public let pad: Int
    /// `(n, c, h + 2 pad)` row masks; bit `ix + pad` of row `iy + pad` is input `(iy, ix)`.
    public let masks: [UInt32]
    public var paddedRows: Int { shape[2] + 2 * pad }
    public var bytes: Int { masks.count * 4 }
}

extension ComputeContext {
    /// `x` packed for a stride-1 `kh x kw` convolution with padding `pad`, or nil when the spike
    /// kernels are off, the geometry is not supported (kw > 4, w + 2 pad > 32) or some value of `x`
    /// is neither 0 nor 1.
    public func packSpikes(_ x: Tensor, kh: Int, kw: Int, pad: Int) -> SpikePlanes? {
        guard usesSpikeConv, x.rank == 4, x.count > 0 else { return nil }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        guard sne_spike_conv_supported(Int32(h), Int32(w), Int32(kh), Int32(kw), Int32(pad)) != 0 else { return nil }
        let hp = h + 2 * pad, perImage = c * hp
        var masks = [UInt32](repeating: 0, count: n * perImage)
        var binary = [UInt8](repeating: 1, count: threads)
        let level = isaLevel
        x.data.withUnsafeBufferPointer { xb in masks.withUnsafeMutableBufferPointer { mb in binary.withUnsafeMutableBufferPointer { bb in
            let xp = SharedPointer(xb.baseAddress!), mp = SharedPointer(mb.baseAddress!), bp = SharedPointer(bb.baseAddress!)
            parallelFor(n) { range, worker in
                for i in range {
                    if sne_spike_pack(level, xp.p + i * c * h * w, Int32(c), Int32(h), Int32(w), Int32(pad), mp.p + i * perImage) == 0 {
                        bp.p[worker] = 0   // not spikes: stop packing
                        return
                    }
                }
            }
        } } }
        guard !binary.contains(0) else { return nil }
        return SpikePlanes(shape: x.shape, pad: pad, masks: masks)
    }

    /// `y = conv2d(s, weight) + bias`, stride 1, with the padding `s` was packed with: per output,
    /// the weight-sum table rows its spike patterns select, summed in order (`sne_spike_conv_fwd`),
    /// one image per task.
    public func spikeConv2dForward(_ s: SpikePlanes, weight: Tensor, bias: Tensor?) throws -> Tensor {
        let g = try ConvGeometry(input: s.shape, weight: weight.shape, stride: 1, pad: s.pad)
        if let bias, bias.count != g.cout { throw TensorError("conv2d: bias has \(bias.count) elements, expected \(g.cout)") }
        // The kernels load table rows with aligned vector loads: 64-byte alignment.
        let tableFloats = Int(sne_spike_conv_table_floats(Int32(g.cout), Int32(g.c), Int32(g.kh), Int32(g.kw)))
        let raw = UnsafeMutableRawPointer.allocate(byteCount: tableFloats * 4, alignment: 64)
        defer { raw.deallocate() }
        let tablePtr = raw.bindMemory(to: Float.self, capacity: tableFloats)
        weight.data.withUnsafeBufferPointer { wb in
            sne_spike_conv_table(wb.baseAddress!, Int32(g.cout), Int32(g.c), Int32(g.kh), Int32(g.kw), tablePtr)
        }
        reserveScratch(Int(sne_spike_conv_workspace_floats(Int32(g.cout), Int32(g.c), Int32(g.kh), Int32(g.kw), Int32(g.oh), Int32(g.ow))))
        var y = Tensor(uninitialized: [g.n, g.cout, g.oh, g.ow]) { _ in }   // every element written by the kernel
        let biasData = bias?.data ?? []
        let hp = s.paddedRows, level = isaLevel
        s.masks.withUnsafeBufferPointer { mb in y.data.withUnsafeMutableBufferPointer { yb in
          biasData.withUnsafeBufferPointer { bb in
            let mp = SharedPointer(mb.baseAddress!), tp = SharedPointer(tablePtr), yp = SharedPointer(yb.baseAddress!)
            let bp = bias == nil ? nil : bb.baseAddress.map { SharedPointer($0) }
            parallelFor(g.n) { range, worker in
                for i in range {
                    sne_spike_conv_fwd(level, mp.p + i * g.c * hp, Int32(g.c), Int32(hp), Int32(g.oh), Int32(g.ow), tp.p, bp?.p,
                                       Int32(g.cout), Int32(g.kh), Int32(g.kw), yp.p + i * g.cout * g.hw, self.scratch(worker))
                }
            }
          }
        } }
        return y
    }

    /// `(dweight, dbias)` of `spikeConv2dForward`: images split into the fixed groups of the dense
    /// paths; per group the pattern buckets (`sne_spike_conv_wgrad_group`), then the groups summed
    /// in order (independent of the thread count). The bias gradient is the dense paths' (same bits).
    public func spikeConv2dBackwardWeight(_ s: SpikePlanes, _ dy: Tensor, weightShape: [Int]) throws -> (Tensor, Tensor) {
        let g = try ConvGeometry(input: s.shape, weight: weightShape, stride: 1, pad: s.pad)
        guard dy.shape == [g.n, g.cout, g.oh, g.ow] else {
            throw TensorError("conv2d backward: output gradient has shape \(dy.shape), expected \([g.n, g.cout, g.oh, g.ow])")
        }
        let groups = max(1, min(convReductionGroups, g.n))
        let wsize = g.cout * g.k
        reserveScratch(Int(sne_spike_conv_wgrad_workspace_floats(Int32(g.cout), Int32(g.c), Int32(g.kh), Int32(g.kw), Int32(g.oh), Int32(g.ow))))
        var partial = [Float](repeating: 0, count: groups * (wsize + g.cout))
        let hp = s.paddedRows, level = isaLevel
        s.masks.withUnsafeBufferPointer { mb in dy.data.withUnsafeBufferPointer { db in partial.withUnsafeMutableBufferPointer { pb in
            let mp = SharedPointer(mb.baseAddress!), dp = SharedPointer(db.baseAddress!), pp = SharedPointer(pb.baseAddress!)
            parallelFor(groups) { grange, worker in
                for grp in grange {
                    let lo = g.n * grp / groups, hi = g.n * (grp + 1) / groups
                    let dw = pp.p + grp * (wsize + g.cout), dbias = dw + wsize
                    sne_spike_conv_wgrad_group(level, mp.p + lo * g.c * hp, dp.p + lo * g.cout * g.hw, Int32(hi - lo), Int32(g.c), Int32(hp),
                                               Int32(g.oh), Int32(g.ow), Int32(g.cout), Int32(g.kh), Int32(g.kw), dw, self.scratch(worker))
                    for i in lo..<hi {
                        let dyi = dp.p + i * g.cout * g.hw
                        for co in 0..<g.cout { dbias[co] += sumFloats(dyi + co * g.hw, g.hw) }
                    }
                }
            }
        } } }
        return Self.sumGroupPartials(partial, groups: groups, weightShape: weightShape)
    }
}
