// Seeded generator of random VALID programs and inputs, for differential testing (issue 2 §6).
// Own PRNG, no global state: the same seed gives the same programs on every platform.
import SNEBase
import SpikeIR

extension SplitMix64 {   // SNEBase's generator, with the draws the generators use
    /// Uniform integer in `r`.
    public mutating func int(_ r: ClosedRange<Int>) -> Int {
        r.lowerBound + Int(next() % UInt64(r.upperBound - r.lowerBound + 1))
    }
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    public mutating func pick<T>(_ a: [T]) -> T { a[int(0...(a.count - 1))] }
}

/// Random valid programs covering every op, both selection modes, stop on/off, 16/32-bit states,
/// all leak kinds, both resets, strides/pads, T = 1, K = 1…4, per-channel thresholds, per-feature
/// requantization, input zero points and byte-string META (non-ASCII, NFC/NFD key pairs, `\r`) —
/// within size limits.
public struct RandomProgram: Sendable {
    public struct Limits: Sendable {
        /// Largest activation tensor (elements) of any op.
        public var maxNeurons: Int
        /// Total int8 weight bytes (gate + students + head).
        public var maxWeightBytes: Int
        public var maxStudents: Int
        public var maxTimesteps: Int
        /// Input height/width upper bound, and channels.
        public var maxSide: Int
        public var maxChannels: Int
        /// Student ops between the input op and the readout (upper bound).
        public var maxHiddenOps: Int
        /// Probability that a program gets a shared stem (spec §4.1) read by some of its students.
        /// Drawn from a generator of its own, after the rest of the program: the same seed gives the
        /// same program without a stem whatever this is (0 keeps the 2.0 vectors as they were).
        public var stemChance: Double
        public init(maxNeurons: Int = 512, maxWeightBytes: Int = 16384, maxStudents: Int = 4,
                    maxTimesteps: Int = 6, maxSide: Int = 10, maxChannels: Int = 3, maxHiddenOps: Int = 6,
                    stemChance: Double = 0.25) {
            self.maxNeurons = maxNeurons; self.maxWeightBytes = maxWeightBytes; self.maxStudents = maxStudents
            self.maxTimesteps = maxTimesteps; self.maxSide = maxSide; self.maxChannels = maxChannels
            self.maxHiddenOps = maxHiddenOps; self.stemChance = stemChance
        }
        /// Tiny programs for fast tests and small MCUs.
        public static let tiny = Limits(maxNeurons: 256, maxWeightBytes: 4096, maxStudents: 4,
                                        maxTimesteps: 4, maxSide: 8, maxChannels: 2, maxHiddenOps: 5)
    }

    public var rng: SplitMix64
    /// The stem's own generator (see `Limits.stemChance`).
    public var stemRng: SplitMix64
    public var limits: Limits
    public init(seed: UInt64, limits: Limits = Limits()) {
        rng = SplitMix64(seed: seed ^ 0x5EED_5EED_0000_0000); self.limits = limits
        stemRng = SplitMix64(seed: seed ^ 0x57E4_57E4_0000_0000)
    }

    /// The next random valid program (validated; retries internally until one passes).
    ///
    /// - Precondition: `limits` admit some valid program (every preset does); limits that admit
    ///   none (e.g. `maxNeurons` below the input size) stop with a message after 100,000 tries
    ///   instead of looping forever. Limits are chosen by code, never read from user files.
    public mutating func program() -> Program {
        for _ in 0..<100_000 {
            if let p = attempt(), (try? ProgramValidator.validate(p)) != nil { return withStem(p) }
        }
        preconditionFailure("RandomProgram: no valid program under \(limits) after 100,000 tries")
    }

    /// A random input for `p`: uniform, sparse, all-zero or all-255 images.
    public mutating func input(for p: Program) -> [UInt8] {
        let n = p.input.size
        switch rng.int(0...9) {
        case 0: return [UInt8](repeating: 0, count: n)
        case 1: return [UInt8](repeating: 255, count: n)
        case 2...4: return (0..<n).map { _ in rng.chance(0.6) ? 0 : UInt8(rng.int(1...255)) }
        default: return (0..<n).map { _ in UInt8(rng.int(0...255)) }
        }
    }

    mutating func weights(_ n: Int, _ wmax: Int) -> [Int8] {
        (0..<n).map { _ in Int8(rng.int(-wmax...wmax)) }
    }

    /// Shift putting `scale` (a typical |acc|) at about 2^target.
    func shiftFor(_ scale: Double, target: Int) -> Int {
        var s = 0
        while s < 31 && scale / Double(1 << s) > Double(1 << target) { s += 1 }
        return s
    }

    var weightBytes = 0

    mutating func attempt() -> Program? {
        weightBytes = 0
        let L = limits
        let h = rng.int(1...L.maxSide), w = rng.chance(0.8) ? h : rng.int(1...L.maxSide)
        let c = rng.int(1...L.maxChannels)
        let input = Shape(h: h, w: w, c: c)
        if input.size > L.maxNeurons { return nil }
        let T = rng.chance(0.2) ? 1 : rng.int(1...L.maxTimesteps)
        let K = rng.int(1...L.maxStudents)
        let classes = rng.int(2...10)
        var students: [Student] = []
        for _ in 0..<K {
            guard let s = student(input, T: T) else { return nil }
            students.append(s)
        }
        var gate: Gate? = nil
        let selection: Selection = rng.chance(0.5) ? .gate : .fixed
        if selection == .gate {
            guard let g = makeGate(input, K: K) else { return nil }
            gate = g
        }
        let order = Array(0..<K).shuffled(using: &rng)
        let hw = rng.pick([1, 4, 16, 64, 127])
        let head = Head(bias: (0..<classes).map { _ in Int32(rng.int(-2000...2000)) },
                        weights: students.map { weights($0.features * classes, hw) })
        weightBytes += students.reduce(0) { $0 + $1.features } * classes
        if weightBytes > L.maxWeightBytes { return nil }
        let stop: Int32? = rng.chance(0.35) ? Int32(rng.pick([0, 1, 50, 500, 5000, 100000])) : nil
        var meta: Meta = [:]
        if rng.chance(0.3) { meta = ["generator": "RandomProgram", "note": "random test program"] }
        if rng.chance(0.2) {
            // byte-string META (spec §9): NFC "é" and NFD "e◌́" are different keys; \r is part of a value
            for (k, v) in [("caf\u{E9}", "nfc"), ("cafe\u{301}", "nfd"), ("win", "a\r"), ("eq", "x=y=z"),
                           ("empty", ""), ("\u{1F600}", "\u{4E2D}\u{6587}")] where rng.chance(0.6) { meta[k] = v }
        }
        var zp = [UInt8](repeating: 0, count: c)
        if c <= 16 && rng.chance(0.4) { zp = (0..<c).map { _ in UInt8(rng.pick([0, 1, 128, 255, rng.int(0...255)])) } }
        return Program(name: "rand_\(rng.int(0...99999))", input: input, timesteps: T, classes: classes,
                       selection: selection, order: order, stopMargin: stop, gate: gate,
                       students: students, head: head, meta: meta, inputZeroPoint: zp)
    }

    mutating func makeGate(_ s: Shape, K: Int) -> Gate? {
        let pools = [1, 2, 4].filter { s.h / $0 >= 1 && s.w / $0 >= 1 }
        let pool = rng.pick(pools)
        var inN = (s.h / pool) * (s.w / pool) * s.c
        let nl = rng.int(1...3)
        var layers: [GateLayer] = []
        for l in 0..<nl {
            let last = l == nl - 1
            let out = last ? K : rng.int(1...12)
            let wmax = rng.chance(0.1) ? 0 : rng.pick([1, 8, 64, 127])   // wmax 0: all scores tie
            let w = weights(inN * out, wmax)
            weightBytes += w.count
            let scale = Double(max(wmax, 1)) * 64 * Double(inN).squareRoot()
            let bias = (0..<out).map { _ in Int32(rng.int(-Int(scale)...Int(scale))) }
            var mult: Int32 = 0, shift = 0
            if !last {
                mult = Int32(rng.int(1...65535))
                shift = min(62, shiftFor(scale * Double(mult), target: 6))
            }
            layers.append(GateLayer(inputs: inN, outputs: out, weights: w, bias: bias, mult: mult, shift: shift))
            inN = out
        }
        return Gate(pool: pool, layers: layers)
    }

    mutating func lifOp(typical: Double, channels: Int) -> LIF {
        let bits = rng.chance(0.3) ? 16 : 32
        let maxTheta = (1 << (bits - 1)) - 1
        var theta = Int(typical * [0.3, 0.7, 1.0, 1.5, 3.0][rng.int(0...4)])
        if rng.chance(0.1) { theta = rng.int(1...maxTheta) }
        theta = min(max(theta, 1), maxTheta)
        // per-channel thresholds: shared, spread around theta, or edge values 1 and the maximum
        let perChannel = rng.int(0...2)
        let thetas: [Int32] = (0..<channels).map { _ in
            switch perChannel {
            case 0: return Int32(theta)
            case 1: return Int32(min(max(Int(Double(theta) * [0.5, 0.8, 1.0, 1.25, 2.0][rng.int(0...4)]), 1), maxTheta))
            default: return Int32(rng.chance(0.2) ? rng.pick([1, maxTheta]) : theta)
            }
        }
        let leak: Leak
        switch rng.int(0...2) {
        case 0: leak = .none
        case 1: let s = rng.int(0...15); leak = .mulShift(mult: rng.int(0...(1 << s)), shift: s)
        default: leak = .shift(rng.int(1...31))
        }
        return LIF(stateBits: bits, thetas: thetas, reset: rng.chance(0.5) ? .subtract : .zero, leak: leak)
    }

    mutating func conv(_ s: Shape, input: Bool) -> (Conv2D, Double)? {
        let kh = rng.int(1...min(5, s.h + 4)), kw = rng.chance(0.7) ? kh : rng.int(1...min(5, s.w + 4))
        let pad = rng.int(0...(min(kh, kw) - 1))
        let stride = rng.chance(0.7) ? 1 : rng.int(2...3)
        let cout = rng.int(1...6)
        var c = Conv2D(cout: cout, kh: kh, kw: kw, stride: stride, pad: pad, shift: 0, weights: [], bias: [])
        let o = c.outputShape(s)
        if o.h < 1 || o.w < 1 || o.size > limits.maxNeurons { return nil }
        let fan = s.c * kh * kw
        let wmax = rng.pick([1, 3, 20, 127])
        c.weights = weights(fan * cout, wmax)
        weightBytes += c.weights.count
        let scale = Double(wmax) * (input ? 128 : 1) * Double(fan).squareRoot() + 1
        let saturate = rng.chance(0.1)
        c.shift = saturate ? 0 : shiftFor(scale, target: rng.int(2...8))
        let bm = Int(scale / 4)
        c.bias = (0..<cout).map { _ in Int32(rng.int(-bm...bm)) }
        return (c, scale / Double(1 << c.shift))
    }

    mutating func dense(_ n: Int, input: Bool) -> (Dense, Double)? {
        let out = rng.int(1...24)
        if out > limits.maxNeurons { return nil }
        let wmax = rng.pick([1, 5, 30, 127])
        let w = weights(n * out, wmax)
        weightBytes += w.count
        if weightBytes > limits.maxWeightBytes { return nil }
        let scale = Double(wmax) * (input ? 128 : 1) * Double(n).squareRoot() + 1
        let shift = rng.chance(0.1) ? 0 : shiftFor(scale, target: rng.int(2...8))
        let bm = Int(scale / 4)
        return (Dense(out: out, shift: shift, weights: w, bias: (0..<out).map { _ in Int32(rng.int(-bm...bm)) }),
                scale / Double(1 << shift))
    }

    /// `p` with a shared stem read by some of its students, with probability `limits.stemChance`
    /// (drawn from `stemRng` only, so `rng` and the programs after this one do not change); `p`
    /// itself when the draw says no or no valid stem program turns up in a few tries.
    mutating func withStem(_ p: Program) -> Program {
        guard limits.stemChance > 0, stemRng.chance(limits.stemChance) else { return p }
        swap(&rng, &stemRng)                          // the helpers below draw from `rng`
        defer { swap(&rng, &stemRng) }
        for _ in 0..<20 {
            weightBytes = 0
            guard let (stem, out) = stemOps(p.input, T: p.timesteps) else { continue }
            var q = p
            q.stem = stem
            var readers = p.students.indices.filter { _ in rng.chance(0.6) }
            if readers.isEmpty { readers = [rng.int(0...(p.students.count - 1))] }
            var ok = true
            for k in readers {
                guard let s = student(out, T: p.timesteps, fromStem: true) else { ok = false; break }
                q.students[k] = s
                q.head.weights[k] = weights(s.features * p.classes, rng.pick([1, 4, 16, 64, 127]))
            }
            if ok, (try? ProgramValidator.validate(q)) != nil { return q }
        }
        return p
    }

    /// A random stem (spec §4.1): an input op, then spiking ops, the last producing SPK. Returns the
    /// ops and their output shape.
    mutating func stemOps(_ input: Shape, T: Int) -> ([Op], Shape)? {
        var ops: [Op] = []
        var shape = input, kind = ValueKind.cur, typical = 1.0
        if rng.chance(0.6), let (c, t) = conv(input, input: true) {
            ops.append(.inputConv2D(c)); shape = c.outputShape(input); typical = t
        } else {
            guard let (d, t) = dense(input.size, input: true) else { return nil }
            ops.append(.inputDense(d)); shape = .vector(d.out); typical = t
        }
        let hidden = rng.int(1...max(1, limits.maxHiddenOps / 2))
        var steps = 0
        while true {
            if weightBytes > limits.maxWeightBytes { return nil }
            if kind == .cur {
                if rng.chance(0.15) && shape.h >= 2 && shape.w >= 2 {
                    ops.append(.avgPool(size: 2)); shape = Op.avgPool(size: 2).outputShape(shape)
                } else {
                    ops.append(.lif(lifOp(typical: typical, channels: shape.c))); kind = .spk
                }
            } else {
                if steps >= hidden { break }
                let r = rng.int(0...9)
                if r < 2, let (d, t) = dense(shape.size, input: false) {
                    ops.append(.dense(d)); shape = .vector(d.out); typical = t; kind = .cur
                } else if r < 5, let (c, t) = conv(shape, input: false) {
                    ops.append(.conv2D(c)); shape = c.outputShape(shape); typical = t; kind = .cur
                } else if r < 8 && shape.h >= 2 && shape.w >= 2 {
                    let p = rng.int(2...min(3, shape.h, shape.w))
                    ops.append(.maxPool(size: p)); shape = Op.maxPool(size: p).outputShape(shape)
                } else {
                    ops.append(.flatten); shape = .vector(shape.size)
                }
            }
            steps += 1
            if steps > limits.maxHiddenOps + 4 || shape.size > limits.maxNeurons { return nil }
        }
        return (ops, shape)
    }

    /// A random student; `fromStem`: it starts with `stem` and `input` is the stem's output shape.
    mutating func student(_ input: Shape, T: Int, fromStem: Bool = false) -> Student? {
        var ops: [Op] = []
        var shape = input, kind = ValueKind.cur, typical = 1.0
        if fromStem {
            ops.append(.stem); kind = .spk
        } else if rng.chance(0.6), let (c, t) = conv(input, input: true) {
            ops.append(.inputConv2D(c)); shape = c.outputShape(input); typical = t
        } else {
            guard let (d, t) = dense(input.size, input: true) else { return nil }
            ops.append(.inputDense(d)); shape = .vector(d.out); typical = t
        }
        let hidden = rng.int(0...limits.maxHiddenOps)
        var steps = 0
        while true {
            if weightBytes > limits.maxWeightBytes { return nil }
            if kind == .cur {
                if steps >= hidden || (steps > 0 && rng.chance(0.15)) { break }
                if rng.chance(0.15) && shape.h >= 2 && shape.w >= 2 {
                    let p = shape.h >= 4 && shape.w >= 4 && rng.chance(0.5) ? 4 : 2
                    ops.append(.avgPool(size: p)); shape = Op.avgPool(size: p).outputShape(shape)
                } else {
                    ops.append(.lif(lifOp(typical: typical, channels: shape.c))); kind = .spk
                }
            } else {
                let r = rng.int(0...9)
                if steps >= hidden || r < 3 {
                    guard let (d, t) = dense(shape.size, input: false) else { return nil }
                    ops.append(.dense(d)); shape = .vector(d.out); typical = t; kind = .cur
                } else if r < 6, let (c, t) = conv(shape, input: false) {
                    ops.append(.conv2D(c)); shape = c.outputShape(shape); typical = t; kind = .cur
                } else if r < 8 && shape.h >= 2 && shape.w >= 2 {
                    let p = rng.int(2...min(3, shape.h, shape.w))
                    ops.append(.maxPool(size: p)); shape = Op.maxPool(size: p).outputShape(shape)
                } else {
                    ops.append(.flatten); shape = .vector(shape.size)
                }
            }
            steps += 1
            if steps > limits.maxHiddenOps + 4 { return nil }
        }
        ops.append(.readout)
        if shape.size > 4096 || shape.size > limits.maxNeurons { return nil }
        // q ≈ f · mult >> shift with f ≈ T · typical: aim at |q| ≈ 2^5, sometimes saturating.
        let mult = Int32(rng.int(1...40000))
        let fs = shiftFor(Double(T) * typical * Double(mult), target: rng.pick([1, 5, 5, 5, 5, 5, 5, 9, 9, 12]))
        let F = shape.size
        if rng.chance(0.5) { return Student(ops: ops, features: F, featMult: mult, featShift: min(fs, 62)) }
        // per-feature requantization, with edge values (mult 0, 2^31−1; shift 0, 62) now and then
        var mults: [Int32] = [], shifts: [Int] = []
        for _ in 0..<F {
            switch rng.int(0...19) {
            case 0: mults.append(0); shifts.append(rng.int(0...62))
            case 1: mults.append(Int32.max); shifts.append(62)
            case 2: mults.append(Int32(rng.int(1...8))); shifts.append(0)
            default:
                let m = Int32(rng.int(1...40000))
                mults.append(m)
                shifts.append(min(max(shiftFor(Double(T) * typical * Double(m), target: rng.pick([1, 5, 5, 9])) + rng.int(-1...1), 0), 62))
            }
        }
        return Student(ops: ops, features: F, featMult: mults, featShift: shifts)
    }
}
