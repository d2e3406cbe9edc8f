// The reference interpreter: event-driven evaluation of a validated program (spec §3–§6, §8).
//
// Spike ops iterate spike lists (never dense MACs); input ops iterate nonzero pixels. Counts
// follow the evaluation orders of spec §3. Int32 arithmetic uses wrapping operators only where
// spec §7's static bounds (checked by `ProgramValidator` in `init`) prove the exact value fits.

/// Runs a program. `init` validates it (spec §7, §9 rules); an instance is immutable and can be
/// shared across threads; each call allocates its own scratch buffers once (none per step).
public struct Interpreter: Sendable {
    public let program: Program
    /// `outShapes[k][j]`: output shape of op j of student k; `inShapes[k][j]` its input shape.
    public let inShapes: [[Shape]]
    public let outShapes: [[Shape]]
    /// Input / output shape of every stem op (empty without a stem).
    public let stemInShapes: [Shape]
    public let stemOutShapes: [Shape]

    public init(_ program: Program) throws {
        try ProgramValidator.validate(program)
        self.program = program
        var ins: [[Shape]] = [], outs: [[Shape]] = []
        for s in program.students {
            let input = program.studentInput(s)     // the stem's output shape for a student starting with `stem`
            let o = ProgramValidator.outputShapes(s, input: input)
            ins.append([input] + o.dropLast())
            outs.append(o)
        }
        inShapes = ins; outShapes = outs
        stemOutShapes = program.stemShapes
        stemInShapes = program.stem == nil ? [] : [program.input] + stemOutShapes.dropLast()
    }

    /// One inference with budget `k` (spec §5: 1 ≤ k ≤ K, anything else throws).
    /// `traceHash: false` skips the FNV hash (the result's `traceHash` is then 0), for benchmarks.
    public func callAsFunction(_ input: [UInt8], budget: Int, trace: Bool = false,
                               traceHash: Bool = true) throws -> InferenceResult {
        let K = program.students.count
        guard budget >= 1 && budget <= K else { throw SpikeIRError.budget(k: budget, students: K) }
        guard input.count == program.input.size else {
            throw SpikeIRError.inputSize(expected: program.input.size, got: input.count)
        }
        var gateCounts = Counts()
        var scores: [Int32] = []
        let runOrder: [Int]
        switch program.selection {
        case .fixed:
            runOrder = Array(program.order.prefix(budget))
        case .gate:
            scores = input.withUnsafeBufferPointer { runGate($0, counts: &gateCounts) }
            // spec §5: score descending, ties by lower index first.
            let sorted = (0..<K).sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            runOrder = Array(sorted.prefix(budget))
        }

        var hasher = FNV1a32()
        var opCounts = program.students.map { [Counts](repeating: Counts(), count: $0.ops.count) }
        var headCounts = Counts()
        var logits = program.head.bias
        var active: [Int] = []
        var traces: [StudentTrace] = []
        var stem: StemRun? = nil                 // the shared stem's output, once it has run (spec §4.1)
        let classes = program.classes
        for k in runOrder {
            if stem == nil && Program.readsStem(program.students[k]) {
                // spec §4.1: the stem runs once, just before the first student in run order that reads it
                stem = input.withUnsafeBufferPointer { runStem($0, hasher: &hasher, hash: traceHash, trace: trace, before: traces.count) }
            }
            let r = input.withUnsafeBufferPointer {
                runStudent(k, $0, stem: stem, counts: &opCounts[k], hasher: &hasher, hash: traceHash, trace: trace)
            }
            active.append(k)
            if let t = r.trace { traces.append(t) }
            // spec §6: logits[c] += Σ_i q_k[i] · w_k[i][c]; exact in int32 by §7.5.
            program.head.weights[k].withUnsafeBufferPointer { w in
                logits.withUnsafeMutableBufferPointer { l in
                    for i in 0..<r.q.count {
                        let q = Int32(r.q[i])
                        if q == 0 { continue }
                        let base = i * classes
                        for c in 0..<classes { l[c] &+= q &* Int32(w[base + c]) }
                    }
                }
            }
            headCounts.macs += r.q.count * classes
            if let m = program.stopMargin, active.count < budget {
                let (t1, t2) = Interpreter.top2(logits)
                if Int64(t1) - Int64(t2) >= Int64(m) { break }
            }
        }
        if traceHash { for l in logits { hasher.int32(l) } }
        var pred = 0
        for c in 1..<logits.count where logits[c] > logits[pred] { pred = c }
        return InferenceResult(logits: logits, prediction: pred, active: active, gateScores: scores,
                               opCounts: opCounts, gateCounts: gateCounts, headCounts: headCounts,
                               traceHash: traceHash ? hasher.value : 0,
                               trace: trace ? Trace(students: traces, stem: stem?.trace) : nil,
                               stemOpCounts: stem?.counts ?? [])
    }

    /// `top1` = the largest logit, `top2` = the largest among the other classes (spec §6).
    static func top2(_ l: [Int32]) -> (Int32, Int32) {
        var best = 0
        for c in 1..<l.count where l[c] > l[best] { best = c }
        var second = Int32.min
        for c in 0..<l.count where c != best { second = max(second, l[c]) }
        return (l[best], second)
    }

    // MARK: gate (spec §5.1)

    func runGate(_ x: UnsafeBufferPointer<UInt8>, counts: inout Counts) -> [Int32] {
        guard let gate = program.gate else { return [] }
        let s = program.input, p = gate.pool
        var a: [Int32]
        if p > 1 {
            let ho = s.h / p, wo = s.w / p, c = s.c, sh = p == 2 ? 2 : 4
            a = [Int32](repeating: 0, count: ho * wo * c)
            for oy in 0..<ho { for ox in 0..<wo { for ch in 0..<c {
                var sum: Int32 = 0
                for dy in 0..<p { for dx in 0..<p {
                    sum += Int32(x[((oy * p + dy) * s.w + ox * p + dx) * c + ch])
                } }
                a[(oy * wo + ox) * c + ch] = Fixed.rshr(sum, sh)
            } } }
            counts.synops += ho * wo * c * p * p
        } else {
            a = x.map { Int32($0) }
        }
        for (l, layer) in gate.layers.enumerated() {
            var acc = layer.bias
            let out = layer.outputs
            layer.weights.withUnsafeBufferPointer { w in
                acc.withUnsafeMutableBufferPointer { acc in
                    for i in 0..<layer.inputs {
                        let ai = a[i], base = i * out
                        for o in 0..<out { acc[o] &+= ai &* Int32(w[base + o]) }
                    }
                }
            }
            counts.macs += layer.inputs * out
            if l < gate.layers.count - 1 {
                a = acc.map { Int32(Fixed.requant($0, layer.mult, layer.shift, 0, 127)) }
                counts.macs += out
            } else {
                return acc
            }
        }
        return []
    }

    // MARK: students (spec §3, §4)

    /// Scratch storage of one op's output (raw pointers: no exclusivity or CoW costs in hot loops).
    final class Buf {
        let size: Int
        let cur: UnsafeMutablePointer<Int32>      // CUR values, LIF membranes, readout accumulators
        let spk: UnsafeMutablePointer<UInt8>      // SPK bytes 0/1
        let list: UnsafeMutablePointer<Int32>     // indices of the spikes
        var n = 0
        init(_ size: Int) {
            self.size = size
            cur = .allocate(capacity: max(size, 1)); cur.initialize(repeating: 0, count: max(size, 1))
            spk = .allocate(capacity: max(size, 1)); spk.initialize(repeating: 0, count: max(size, 1))
            list = .allocate(capacity: max(size, 1))
        }
        deinit { cur.deallocate(); spk.deallocate(); list.deallocate() }
    }

    struct StudentRun { var q: [Int8]; var trace: StudentTrace? }

    /// The shared stem's run (spec §4.1): S[t] for every step (one byte per spike, like `Buf.spk`)
    /// and its spike lists, the stem's per-op counts and its trace.
    struct StemRun {
        var size: Int
        var spikes: [UInt8]          // T × size
        var lists: [[Int32]]         // per step: indices of the spikes of S[t]
        var counts: [Counts]
        var trace: StemTrace?
    }

    /// Output buffers of an op list; flatten aliases its input (same elements, same order, spec §3.8).
    /// LIF membranes and readout accumulators live in their op's buffer (`cur`).
    static func buffers(_ ops: [Op], _ outs: [Shape]) -> [Buf] {
        var bufs: [Buf] = []
        for j in 0..<ops.count {
            if case .flatten = ops[j] { bufs.append(bufs[j - 1]) } else { bufs.append(Buf(outs[j].size)) }
        }
        return bufs
    }

    /// One time step of ops 1..<n of a student or of the stem (spec §4, §4.1): each op reads the
    /// value of the op before it. Hashes and traces every `lif` / `loihi_lif` op (spec §8).
    func step(_ ops: [Op], _ ins: [Shape], _ outs: [Shape], _ bufs: [Buf], _ loihi: LoihiState,
              counts: inout [Counts], hasher: inout FNV1a32, hash: Bool, trace: Bool) -> [LayerStep] {
        var layerSteps: [LayerStep] = []
        for j in 1..<ops.count {
            // the op's work (Op.swift `stepOp`): each op reads the value of the op before it
            let ls = stepOp(ops[j], j, bufs[j - 1], bufs[j], ins[j], outs[j], loihi,
                            counts: &counts[j], hasher: &hasher, hash: hash, trace: trace)
            if let ls { layerSteps.append(ls) }
        }
        return layerSteps
    }

    /// spec §4.1: the stem, all T steps: `currents0 = stem[0](input)` once, then per step ops
    /// 1..<m; S[t] = the last op's spikes. Its trace bytes go to `hasher` now (spec §8).
    func runStem(_ x: UnsafeBufferPointer<UInt8>, hasher: inout FNV1a32, hash: Bool, trace: Bool, before: Int) -> StemRun {
        let ops = program.stem ?? [], n = ops.count
        let ins = stemInShapes, outs = stemOutShapes
        var counts = [Counts](repeating: Counts(), count: n)
        let bufs = Interpreter.buffers(ops, outs)
        let loihi = LoihiState(ops: ops, ins: ins, outs: outs)
        counts[0].macs += inputOp(ops[0], x, ins[0], outs[0], bufs[0]) ?? 0   // op 0 is an input op (spec §4.1)
        let size = outs[n - 1].size, last = bufs[n - 1]
        var spikes: [UInt8] = [], lists: [[Int32]] = [], steps: [[LayerStep]] = []
        spikes.reserveCapacity(program.timesteps * size)
        for _ in 0..<program.timesteps {
            let ls = step(ops, ins, outs, bufs, loihi, counts: &counts, hasher: &hasher, hash: hash, trace: trace)
            if trace { steps.append(ls) }
            spikes.append(contentsOf: UnsafeBufferPointer(start: last.spk, count: size))
            lists.append(Array(UnsafeBufferPointer(start: last.list, count: last.n)))
        }
        return StemRun(size: size, spikes: spikes, lists: lists, counts: counts,
                       trace: trace ? StemTrace(steps: steps, before: before) : nil)
    }

    func runStudent(_ k: Int, _ x: UnsafeBufferPointer<UInt8>, stem: StemRun?, counts: inout [Counts],
                    hasher: inout FNV1a32, hash: Bool, trace: Bool) -> StudentRun {
        let st = program.students[k]
        let ops = st.ops, n = ops.count
        let ins = inShapes[k], outs = outShapes[k]
        let bufs = Interpreter.buffers(ops, outs)
        let loihi = LoihiState(ops: ops, ins: ins, outs: outs)   // u / pending buffers (Loihi.swift)
        // op 0: an input op, once per inference (spec §3.1/§3.2), or `stem`, which costs nothing
        // and gives S[t] at step t (spec §3.13).
        let fromStem = ops[0] == .stem
        if !fromStem { counts[0].macs += inputOp(ops[0], x, ins[0], outs[0], bufs[0]) ?? 0 }
        var steps: [[LayerStep]] = []
        for t in 0..<program.timesteps {
            if fromStem, let s = stem {
                let b = bufs[0]
                s.spikes.withUnsafeBufferPointer { b.spk.update(from: $0.baseAddress! + t * s.size, count: s.size) }
                s.lists[t].withUnsafeBufferPointer { if $0.count > 0 { b.list.update(from: $0.baseAddress!, count: $0.count) } }
                b.n = s.lists[t].count
            }
            let ls = step(ops, ins, outs, bufs, loihi, counts: &counts, hasher: &hasher, hash: hash, trace: trace)
            if trace { steps.append(ls) }
        }
        // Features and their int8 requantization (spec §4).
        let acc = bufs[n - 1]
        let f = Array(UnsafeBufferPointer(start: acc.cur, count: acc.size))
        let q = f.indices.map { Int8(Fixed.requant(f[$0], st.featMult[$0], st.featShift[$0], -128, 127)) }
        counts[n - 1].macs += f.count
        if hash {
            for v in f { hasher.int32(v) }
            for v in q { hasher.byte(UInt8(bitPattern: v)) }
        }
        return StudentRun(q: q, trace: trace ? StudentTrace(student: k, steps: steps, features: f, quantized: q) : nil)
    }

    /// spec §3.1: event-driven over the nonzero values of the padded frame (pixels inside the
    /// image, the zero point `zp[ci]` outside); returns the MACs executed.
    func inputConv(_ c: Conv2D, _ x: UnsafeBufferPointer<UInt8>, _ si: Shape, _ so: Shape, _ zp: [UInt8],
                   _ out: UnsafeMutablePointer<Int32>) -> Int {
        let cout = c.cout, kh = c.kh, kw = c.kw, st = c.stride, pad = c.pad
        let ho = so.h, wo = so.w, cin = si.c, W = si.w
        let anyZP = zp.contains { $0 != 0 }
        for o in 0..<so.h * so.w { for co in 0..<cout { out[o * cout + co] = c.bias[co] } }
        var macs = 0
        c.weights.withUnsafeBufferPointer { w in
            for py in 0..<(si.h + 2 * pad) { for px in 0..<(W + 2 * pad) {
                let iy = py - pad, ix = px - pad
                let inside = iy >= 0 && iy < si.h && ix >= 0 && ix < W
                if !inside && !anyZP { continue }
                for ci in 0..<cin {
                let xv = inside ? Int32(x[(iy * W + ix) * cin + ci]) : Int32(zp[ci])
                if xv == 0 { continue }
                for ky in 0..<kh {
                    let ny = py - ky
                    if ny < 0 || ny % st != 0 { continue }
                    let oy = ny / st
                    if oy >= ho { continue }
                    for kx in 0..<kw {
                        let nx = px - kx
                        if nx < 0 || nx % st != 0 { continue }
                        let ox = nx / st
                        if ox >= wo { continue }
                        let wb = ((ci * kh + ky) * kw + kx) * cout, ob = (oy * wo + ox) * cout
                        for co in 0..<cout { out[ob + co] &+= xv &* Int32(w[wb + co]) }
                        macs += cout
                    }
                }
                }
            } }
        }
        let sh = c.shift
        if sh > 0 { for i in 0..<so.size { out[i] = Fixed.rshr(out[i], sh) } }
        return macs
    }

    /// spec §3.2: each nonzero input costs `out` MACs.
    func inputDense(_ d: Dense, _ x: UnsafeBufferPointer<UInt8>, _ out: UnsafeMutablePointer<Int32>) -> Int {
        let no = d.out
        for o in 0..<no { out[o] = d.bias[o] }
        var macs = 0
        d.weights.withUnsafeBufferPointer { w in
            for i in 0..<x.count {
                let xv = Int32(x[i])
                if xv == 0 { continue }
                let base = i * no
                for o in 0..<no { out[o] &+= xv &* Int32(w[base + o]) }
                macs += no
            }
        }
        if d.shift > 0 { for o in 0..<no { out[o] = Fixed.rshr(out[o], d.shift) } }
        return macs
    }

    /// spec §3.3: per spike, per valid (ky, kx), a row of `cout` weight adds.
    func spikeConv(_ c: Conv2D, _ src: Buf, _ si: Shape, _ so: Shape, _ out: UnsafeMutablePointer<Int32>) -> Int {
        let cout = c.cout, kh = c.kh, kw = c.kw, st = c.stride, pad = c.pad
        let ho = so.h, wo = so.w, cin = si.c, wc = si.w * si.c
        c.bias.withUnsafeBufferPointer { b in
            for o in 0..<ho * wo { (out + o * cout).update(from: b.baseAddress!, count: cout) }
        }
        var syn = 0
        c.weights.withUnsafeBufferPointer { w in
            for s in 0..<src.n {
                let idx = Int(src.list[s])
                let iy = idx / wc, r = idx - iy * wc, ix = r / cin, ci = r - ix * cin
                // valid taps: 0 ≤ (i + pad − k) / stride < out, divisible (spec §3.3)
                let ky0 = max(0, iy + pad - (ho - 1) * st), ky1 = min(kh - 1, iy + pad)
                let kx0 = max(0, ix + pad - (wo - 1) * st), kx1 = min(kw - 1, ix + pad)
                if ky0 > ky1 || kx0 > kx1 { continue }
                for ky in ky0...ky1 {
                    let ny = iy + pad - ky
                    if st > 1 && ny % st != 0 { continue }
                    let oy = ny / st
                    for kx in kx0...kx1 {
                        let nx = ix + pad - kx
                        if st > 1 && nx % st != 0 { continue }
                        let ox = nx / st
                        let wp = w.baseAddress! + ((ci * kh + ky) * kw + kx) * cout
                        let op = out + (oy * wo + ox) * cout
                        for co in 0..<cout { op[co] &+= Int32(wp[co]) }
                        syn += cout
                    }
                }
            }
        }
        let sh = c.shift
        if sh > 0 { for i in 0..<so.size { out[i] = Fixed.rshr(out[i], sh) } }
        return syn
    }

    /// spec §3.4: each spike costs `out` accumulates.
    func spikeDense(_ d: Dense, _ src: Buf, _ out: UnsafeMutablePointer<Int32>) -> Int {
        let no = d.out
        for o in 0..<no { out[o] = d.bias[o] }
        d.weights.withUnsafeBufferPointer { w in
            for s in 0..<src.n {
                let wp = w.baseAddress! + Int(src.list[s]) * no
                for o in 0..<no { out[o] &+= Int32(wp[o]) }
            }
        }
        if d.shift > 0 { for o in 0..<no { out[o] = Fixed.rshr(out[o], d.shift) } }
        return src.n * no
    }

    /// spec §3.5: leak, integrate (the only saturation), fire on the channel's threshold, reset.
    /// Membranes in `dst.cur`; neuron i is channel `i mod C`.
    func lif(_ p: LIF, _ cur: UnsafeMutablePointer<Int32>, _ dst: Buf) {
        let n = dst.size, v = dst.cur, spk = dst.spk, list = dst.list
        let thetas = p.thetas.map(Int64.init), C = thetas.count
        let hi = (Int64(1) << Int64(p.stateBits - 1)) - 1, lo = -hi - 1
        let zero = p.reset == .zero
        var count = 0
        // One loop per leak kind (hoisted out of the neuron loop); identical arithmetic.
        @inline(__always) func body(_ leak: (Int64) -> Int64) {
            thetas.withUnsafeBufferPointer { th in
                var i = 0
                while i < n {
                    for c in 0..<C {
                        let theta = th[c]
                        var x = leak(Int64(v[i])) + Int64(cur[i])        // exact in int64 (spec §3.5, §7)
                        x = x < lo ? lo : (x > hi ? hi : x)               // satw(·, state_bits)
                        if x >= theta {
                            spk[i] = 1; list[count] = Int32(truncatingIfNeeded: i); count += 1
                            x = zero ? 0 : x - theta
                        } else {
                            spk[i] = 0
                        }
                        v[i] = Int32(truncatingIfNeeded: x)
                        i += 1
                    }
                }
            }
        }
        switch p.leak {
        case .none: body { $0 }
        case .mulShift(let mm, let ss):
            let m = Int64(mm)
            if ss == 0 { body { $0 * m } } else { body { Fixed.leakMulShift($0, m, ss) } }
        case .shift(let ss): body { Fixed.leakShift($0, ss) }
        }
        dst.n = count
    }

    /// spec §3.6: OR over p×p windows; trailing rows/columns dropped.
    func maxPool(_ p: Int, _ src: Buf, _ si: Shape, _ so: Shape, _ dst: Buf) {
        for s in 0..<dst.n { dst.spk[Int(dst.list[s])] = 0 }
        var count = 0
        let wc = si.w * si.c, c = si.c
        for s in 0..<src.n {
            let idx = Int(src.list[s])
            let iy = idx / wc, r = idx - iy * wc, ix = r / c, ch = r - ix * c
            let oy = iy / p, ox = ix / p
            if oy >= so.h || ox >= so.w { continue }
            let o = (oy * so.w + ox) * c + ch
            if dst.spk[o] == 0 { dst.spk[o] = 1; dst.list[count] = Int32(o); count += 1 }
        }
        dst.n = count
    }

    /// spec §3.7: `rshr(Σ window, 2·log2 p)`.
    func avgPool(_ p: Int, _ x: UnsafeMutablePointer<Int32>, _ si: Shape, _ so: Shape, _ out: UnsafeMutablePointer<Int32>) {
        let sh = p == 2 ? 2 : 4, c = si.c
        for oy in 0..<so.h { for ox in 0..<so.w { for ch in 0..<c {
            var sum: Int32 = 0
            for dy in 0..<p { for dx in 0..<p { sum &+= x[((oy * p + dy) * si.w + ox * p + dx) * c + ch] } }
            out[(oy * so.w + ox) * c + ch] = Fixed.rshr(sum, sh)
        } } }
    }
}
