// LaSNN layer-wise distillation (`--layerwise X`): besides regressing its group of teacher features,
// each student matches the teacher's spatial attention maps at its conv blocks' outputs
// (attention transfer, Zagoruyko & Komodakis 2017) — the block whose pooled output is 14x14 to the
// teacher's 14x14 stage, the 7x7 one to the teacher's last stage.
import Foundation
import SNETensor
import SNETrain
import SNEData

/// The teacher's attention maps on the training set at each spatial stage: `a = Q / ‖Q‖₂`,
/// `Q[j] = Σ_c x[c, j]²` over the stage's output channels (`Loss.attentionMap`). One row per image,
/// the stages side by side (`[N, Σ H·W]`, the layout of the cache file).
struct TeacherAttention {
    /// The teacher layers whose outputs are the stages (the last ReLU at each resolution).
    static let layers = ["relu4", "relu5"]
    /// Each stage's height and width, in `layers` order.
    var sizes: [(h: Int, w: Int)]
    /// `[N, width]`, `width = Σ H·W`.
    var maps: [Float]
    var width: Int { sizes.reduce(0) { $0 + $1.h * $1.w } }

    /// The stage of spatial size h x w, if the teacher has one.
    func stage(h: Int, w: Int) -> Int? { sizes.firstIndex { $0.h == h && $0.w == w } }

    /// Rows `idx` of stage s, `[B, H·W]`.
    func maps(_ s: Int, _ idx: ArraySlice<Int>) throws -> Tensor {
        let hw = sizes[s].h * sizes[s].w, off = sizes[..<s].reduce(0) { $0 + $1.h * $1.w }, wd = width
        var out = [Float](repeating: 0, count: idx.count * hw)
        for (r, i) in idx.enumerated() { for j in 0..<hw { out[r * hw + j] = maps[i * wd + off + j] } }
        return try Tensor(shape: [idx.count, hw], data: out)
    }

    /// Runs the teacher over `data` (evaluation mode) and keeps the maps of `layers`, whose sizes
    /// must be `sizes`.
    static func compute(_ teacher: Teacher, on data: LabeledImages, sizes: [(h: Int, w: Int)], compute: ComputeContext,
                        progress: ProgressSink) throws -> TeacherAttention {
        let ctx = LayerContext(compute: compute, training: false)
        let out = TeacherAttention(sizes: sizes, maps: [])
        let wd = out.width
        var maps = [Float](repeating: 0, count: data.count * wd)
        let bs = 200
        for lo in stride(from: 0, to: data.count, by: bs) {
            let n = min(bs, data.count - lo)
            var h = try Tensor(shape: [n] + data.shape.dropFirst(), data: Array(data.pixels[(lo * data.imageSize)..<((lo + n) * data.imageSize)]))
            var i = 0, found = 0, off = 0
            while i < teacher.net.layers.count && found < layers.count {
                let (y, used) = try teacher.net.forwardStep(i, h, ctx)
                h = y; i += used
                guard teacher.net.layers[i - 1].name == layers[found] else { continue }
                let (sh, sw) = sizes[found]
                guard h.rank == 4, h.shape[2] == sh, h.shape[3] == sw else {
                    throw SNEError.failure("teacher \(layers[found]): output \(h.shape), expected \(sh)x\(sw) maps")
                }
                let a = try Loss.attentionMap(h)
                for r in 0..<n { for j in 0..<(sh * sw) { maps[(lo + r) * wd + off + j] = a.data[r * sh * sw + j] } }
                off += sh * sw; found += 1
            }
            progress.bar("teacher attention maps: \(lo + n)/\(data.count)")
        }
        return TeacherAttention(sizes: sizes, maps: maps)
    }
}

extension TrainRun {
    /// The teacher's attention maps on the training set, cached beside the teacher checkpoint
    /// (`teacher.train.attention<N>.npy`) and computed on first use.
    func teacherAttention(_ d: DatasetSplits) throws -> TeacherAttention {
        guard config.teacherFeatures == nil else {
            throw SNEError("--layerwise needs the built-in teacher (its intermediate maps); an external teacher (--teacher-features) gives only its penultimate features")
        }
        guard FileManager.default.fileExists(atPath: teacherPath) else {
            throw SNEError("\(dir): --layerwise needs the teacher's intermediate maps, and \(teacherPath) is missing — run 'sne train teacher --out \(dir)' first")
        }
        let home = URL(fileURLWithPath: teacherPath).resolvingSymlinksInPath().deletingLastPathComponent().path
        let path = home + "/teacher.train.attention\(d.train.count).npy"
        // The stage sizes follow from the teacher's shape: H/2 and H/4.
        let sizes = [(h: d.inputShape[1] / 2, w: d.inputShape[2] / 2), (h: d.inputShape[1] / 4, w: d.inputShape[2] / 4)]
        let width = TeacherAttention(sizes: sizes, maps: []).width
        if let a = try? NPY.read(path), case .float32(let v, let shape) = a, shape == [d.train.count, width] {
            return TeacherAttention(sizes: sizes, maps: v)
        }
        let t0 = Date()
        let att = try TeacherAttention.compute(try Teacher.load(from: teacherPath), on: d.train, sizes: sizes, compute: compute, progress: progress)
        do { try NPY.write(.float32(att.maps, shape: [d.train.count, width]), to: path) } catch let e as DataError { throw SNEError(e.message) }
        progress.line("teacher: cached attention maps (\(sizes.map { "\($0.h)x\($0.w)" }.joined(separator: ", "))) of \(d.train.count) train images in \(path) (\(formatDuration(Date().timeIntervalSince(t0))))")
        return att
    }

    /// One student-stage step with layer-wise distillation: the feature loss `mse·MSE(net(x), y)`
    /// plus `weight · Σ_blocks AT(rate, teacher map)`, `rate` the block's pooled output spikes
    /// averaged over the T steps, for every conv block past the frozen stem whose output size
    /// matches a teacher stage. Returns the total loss.
    func layerwiseStep(student: Sequential, proj: Linear?, optimizer: AdamW, lr: Float, x: Tensor, y: Tensor,
                       attention: TeacherAttention, idx: ArraySlice<Int>, weight: Float, ctx: LayerContext) throws -> Float {
        student.zeroGrad(); proj?.zeroGrad()
        ctx.training = true
        let T = ctx.timeSteps
        var h = x, i = 0
        var taps: [Int: (stage: Int, out: Tensor)] = [:]   // pool layer index → its output
        while i < student.layers.count {
            ctx.training = i >= student.frozenPrefix
            let (o, used) = try student.forwardStep(i, h, ctx)
            h = o; i += used
            let last = i - 1
            if student.layers[last].name.hasPrefix("pool"), last >= student.frozenPrefix, h.rank == 4,
               let s = attention.stage(h: h.shape[2], w: h.shape[3]) {
                taps[last] = (s, h)
            }
        }
        ctx.training = true
        let out = try proj?.forward(h, ctx) ?? h
        let r = try Loss.mse(out, y)
        var loss = r.value * config.loss.mse
        var g = Self.scaled(r.grad, config.loss.mse)
        if let proj { g = try proj.backward(g, ctx) }
        for l in stride(from: student.layers.count - 1, through: student.frozenPrefix, by: -1) {
            if let tap = taps[l] {
                // rate = (1/T) Σ_t s[t]; d/ds[t] = d/drate / T.
                let rate = Readout.mean(tap.out, steps: T), n = rate.count
                let at = try Loss.attentionTransfer(student: rate, teacherMap: try attention.maps(tap.stage, idx))
                loss += at.value * weight
                for t in 0..<T { for j in 0..<n { g.data[t * n + j] += at.grad.data[j] * weight / Float(T) } }
            }
            g = try student.layers[l].layer.backward(g, ctx)
        }
        optimizer.step(lr: lr)
        return loss
    }
}
