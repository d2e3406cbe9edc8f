// Linear layer on binary spike rows (sne_linear_spike.c): forward by lookups in a table of the
// 16 subset sums of every 4 weight columns, weight gradient by subset sums of dy over every 4 rows.
// Used by Linear when its input is all 0/1 (a LIF layer's spikes).
import CSNEKernels

/// A batch of binary rows `(rows, features)` packed as 64-bit words (`sne_spike_pack_rows`): what
/// the spike kernels read, and all a linear layer keeps for its weight gradient.
public struct SpikeRows: Sendable {
    public let rows: Int, features: Int
    public let bits: [UInt64]
    public var bytes: Int { bits.count * 8 }
}

/// A 64-byte aligned float buffer (the kernels load table rows with aligned vector loads).
final class AlignedFloats {
    let p: UnsafeMutablePointer<Float>
    init(_ count: Int) {
        p = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(1, count))
    }
    deinit { p.deallocate() }
}

extension ComputeContext {
    /// `x (rows, features)` packed, or nil when the spike kernels are off or some value is neither 0 nor 1.
    public func packSpikeRows(_ x: Tensor) -> SpikeRows? {
        guard usesSpikeConv, x.rank == 2, x.count > 0 else { return nil }
        let (n, f) = (x.shape[0], x.shape[1])
        let words = Int(sne_spike_rows_words(Int32(f)))
        var bits = [UInt64](repeating: 0, count: n * words)
        var binary = [UInt8](repeating: 1, count: threads)
        let level = isaLevel
        x.data.withUnsafeBufferPointer { xb in bits.withUnsafeMutableBufferPointer { bb in binary.withUnsafeMutableBufferPointer { ob in
            let xp = SharedPointer(xb.baseAddress!), bp = SharedPointer(bb.baseAddress!), op = SharedPointer(ob.baseAddress!)
            parallelFor(n, minChunk: 16) { range, worker in
                if sne_spike_pack_rows(level, xp.p, Int32(range.lowerBound), Int32(range.upperBound), Int32(f), bp.p) == 0 { op.p[worker] = 0 }
            }
        } } }
        guard !binary.contains(0) else { return nil }
        return SpikeRows(rows: n, features: f, bits: bits)
    }

    /// `y = s Wᵀ + bias` for `weight (out, features)`: rows split across the workers, each building the
    /// subset-sum tables chunk by chunk from the transposed weight (each row's sum in one fixed order).
    public func spikeLinearForward(_ s: SpikeRows, weight: Tensor, bias: Tensor?) throws -> Tensor {
        guard weight.rank == 2, weight.shape[1] == s.features else {
            throw TensorError("linear: weight has shape \(weight.shape), expected [out, \(s.features)]")
        }
        let out = weight.shape[0], inF = s.features
        if let bias, bias.count != out { throw TensorError("linear: bias has \(bias.count) elements, expected \(out)") }
        let wT = AlignedFloats(inF * out)   // the transposed weight (in, out): rows of the subset-sum tables
        weight.data.withUnsafeBufferPointer { wb in
            let wp = SharedPointer(wb.baseAddress!), tp = SharedPointer(wT.p)
            parallelFor(inF, minChunk: 64) { r, _ in
                for i in r { for o in 0..<out { tp.p[i * out + o] = wp.p[o * inF + i] } }
            }
        }
        reserveScratch(Int(sne_spike_linear_workspace_floats(Int32(out))))
        var y = Tensor(uninitialized: [s.rows, out]) { _ in }   // every element written by the kernel
        let biasData = bias?.data ?? []
        let level = isaLevel
        s.bits.withUnsafeBufferPointer { sb in y.data.withUnsafeMutableBufferPointer { yb in biasData.withUnsafeBufferPointer { bb in
            let sp = SharedPointer(sb.baseAddress!), yp = SharedPointer(yb.baseAddress!), tp = SharedPointer(wT.p)
            let bp = bias == nil ? nil : bb.baseAddress.map { SharedPointer($0) }
            parallelFor(s.rows, minChunk: 8) { r, worker in
                sne_spike_linear_fwd(level, sp.p, Int32(r.lowerBound), Int32(r.upperBound), Int32(inF), Int32(out), tp.p, bp?.p,
                                     yp.p, self.scratch(worker))
            }
        } } }
        return y
    }

    /// `grad (out, features) += dyᵀ s` for `dy (rows, out)`: `dWᵀ` by subset sums of dy (inputs split
    /// across the workers; any split gives the same bits), then added transposed.
    public func spikeLinearWeightGradient(_ s: SpikeRows, _ dy: Tensor, into grad: inout Tensor) throws {
        let out = grad.shape[0], inF = s.features
        guard dy.shape == [s.rows, out], grad.shape == [out, inF] else {
            throw TensorError("linear backward: gradient shape \(dy.shape), expected \([s.rows, out])")
        }
        let dwT = AlignedFloats(inF * out)
        reserveScratch(Int(sne_spike_linear_workspace_floats(Int32(out))))
        let level = isaLevel
        s.bits.withUnsafeBufferPointer { sb in dy.data.withUnsafeBufferPointer { db in grad.data.withUnsafeMutableBufferPointer { gb in
            let sp = SharedPointer(sb.baseAddress!), dp = SharedPointer(db.baseAddress!), tp = SharedPointer(dwT.p), gp = SharedPointer(gb.baseAddress!)
            parallelFor(inF, minChunk: 64) { r, worker in
                sne_spike_linear_wgrad(level, sp.p, Int32(s.rows), Int32(inF), Int32(out), dp.p, Int32(r.lowerBound), Int32(r.upperBound),
                                       tp.p, self.scratch(worker))
            }
            parallelFor(out, minChunk: 16) { r, _ in
                sne_add_transposed(tp.p, Int32(inF), Int32(out), gp.p, Int32(r.lowerBound), Int32(r.upperBound))
            }
        } } }
    }
}
