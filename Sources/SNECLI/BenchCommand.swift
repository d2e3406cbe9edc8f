// `sne bench`: release-build benchmarks — SGEMM, conv, reference-student training, interpreter.
import Foundation
import SNETensor
import SNETrain
import SNEEnsemble

struct BenchCommand: Command {
    static let name = "bench"
    static let summary = "benchmarks (release build): kernels, training, interpreter"
    static let usage = """
    usage: sne bench [gemm|conv|train|teacher|interp|all] [--threads N] [--runs N]
      gemm      SGEMM GFLOP/s at 512^3 and at the reference student's shapes
      conv      every 3x3 convolution shape of the student and the teacher: forward and backward ms, GFLOP/s
      train     side by side with the peers: reference student (T=4, batch 64, MSE, Adam) vs snnTorch,
                teacher vs PyTorch, SGEMM 512^3 vs torch.mm, conv shapes vs PyTorch, then the ratios.
                Peers run when SNE_PEERS_PYTHON names a python with torch and snntorch (from the
                repository root: bench/torch_peer_bench.py, ../shared/peers/snntorch_student_bench.py)
      teacher   built-in teacher (width 32, 1x28x28, batch 128, CE, AdamW) training images/s
      interp    spike-program interpreter throughput
      all       gemm, conv, student and teacher without peers (default)
      --threads N   worker threads (default: all cores)
      --runs N      timed runs per figure; the median is printed (default 7)
      --profile     (train) also print per-layer forward/backward times
      --portable    portable C SGEMM and im2col convolutions even where vector kernels exist
      --avx2        cap the kernels at AVX2+FMA (what an x86 CPU without AVX-512 runs)
      --no-direct   convolutions as im2col + SGEMM (no direct conv kernels)
      --no-spike    conv and linear layers on spike inputs run the dense kernels too
      --cpu-time    rates per second of this process's CPU time instead of wall time (A/B of
                    kernels on a busy shared machine, with --threads 1); the PyTorch peer does the
                    same, the snnTorch script always times wall clock
    """
    let what: String
    let threads: Int
    let runs: Int
    let profile: Bool
    let portable: Bool
    let avx2Only: Bool
    let directConv: Bool
    let spikeConv: Bool
    let cpuTime: Bool
    var interpArgs: Arguments?

    init(_ args: Arguments) throws {
        var a = args
        what = a.optionalPositional() ?? "all"
        guard ["gemm", "conv", "train", "teacher", "interp", "all"].contains(what) else {
            throw CLIError.usage("sne bench: unknown benchmark '\(what)' (gemm, conv, train, teacher, interp, all)")
        }
        if what == "interp" { interpArgs = a; threads = 1; runs = 1; profile = false; portable = false; avx2Only = false; directConv = true; spikeConv = true; cpuTime = false; return }
        profile = a.flag("profile")
        portable = a.flag("portable")
        avx2Only = a.flag("avx2")
        directConv = !a.flag("no-direct")
        spikeConv = !a.flag("no-spike")
        cpuTime = a.flag("cpu-time")
        threads = try a.int("threads", in: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
        runs = try a.int("runs", in: 1...1000) ?? 7
        try a.finish()
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        if var ia = interpArgs { try benchInterpreter(&ia, out: &out); return }
        #if DEBUG
        err.write("sne bench: warning: debug build; use `swift build -c release` for meaningful figures\n")
        #endif
        let ctx = ComputeContext(threads: threads, portable: portable, directConv: directConv, isaCap: avx2Only ? 1 : nil, spikeConv: spikeConv)
        out.write("sne bench: \(Self.cpuName()), \(ProcessInfo.processInfo.activeProcessorCount) cores; \(threads) thread(s), SGEMM path \(ctx.sgemmPath), direct conv \(ctx.directConvName), spike conv \(spikeConv ? ctx.sgemmPath : "off"), median of \(runs) runs\n")
        if what == "train" { try sideBySide(ctx, out: &out); return }
        if what == "gemm" || what == "all" { _ = benchGEMM(ctx, out: &out) }
        if what == "conv" || what == "all" { try benchConv(ctx, out: &out) }
        if what == "all" { _ = try benchTrain(ctx, out: &out) }
        if what == "teacher" || what == "all" { _ = try benchTeacher(ctx, out: &out) }
    }

    /// The CPU's model name (Linux `/proc/cpuinfo`), or "unknown CPU".
    static func cpuName() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown CPU" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    /// `sne bench train`: the reference student, the teacher, SGEMM 512³ and every conv shape, each
    /// followed in the same sitting by its peer (snnTorch / PyTorch) when `SNE_PEERS_PYTHON` names a
    /// python with torch and snntorch; then the ratios.
    func sideBySide(_ ctx: ComputeContext, out: inout TextSink) throws {
        let env = ProcessInfo.processInfo.environment
        let python = env["SNE_PEERS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
        let studentScript = env["SNE_PEER_STUDENT_SCRIPT"] ?? "../shared/peers/snntorch_student_bench.py"
        let torchScript = env["SNE_PEER_TORCH_SCRIPT"] ?? "bench/torch_peer_bench.py"
        if python == nil {
            out.write("peers: skipped (set SNE_PEERS_PYTHON to a python with torch and snntorch; install line in bench/torch_peer_bench.py)\n")
        }
        /// Runs a peer script; returns its stdout lines, or nil after printing why it could not run.
        func peer(_ script: String, _ args: [String], out: inout TextSink) -> [String]? {
            guard let python else { return nil }
            guard FileManager.default.fileExists(atPath: script) else {
                out.write("peer: skipped, \(script) not found (run from the repository root or set SNE_PEER_STUDENT_SCRIPT / SNE_PEER_TORCH_SCRIPT)\n")
                return nil
            }
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: python)
            proc.arguments = [script] + args
            let pipe = Pipe()
            proc.standardOutput = pipe
            proc.standardError = FileHandle.nullDevice
            do { try proc.run() } catch {
                out.write("peer: cannot run \(python): \(error.localizedDescription)\n")
                return nil
            }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            proc.waitUntilExit()
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            guard proc.terminationStatus == 0 else {
                out.write("peer: \(script) exited with status \(proc.terminationStatus)\n")
                return nil
            }
            for l in lines { out.write(l + "\n") }
            return lines
        }
        func median(in lines: [String]?) -> Double? {
            guard let l = lines?.first(where: { $0.contains("median ") }),
                  let r = l.range(of: "median ") else { return nil }
            return Double(l[r.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        let peerRuns = "\(max(3, runs))"
        let peerClock = cpuTime ? ["cpu"] : []   // snnTorch's script always times wall clock
        let student = try benchTrain(ctx, out: &out)
        let snn = median(in: peer(studentScript, ["\(threads)"], out: &out))
        let teacher = try benchTeacher(ctx, out: &out)
        let torchTeacher = median(in: peer(torchScript, ["teacher", "\(threads)", peerRuns] + peerClock, out: &out))
        let gemm = benchGEMM(ctx, out: &out)
        let mm = median(in: peer(torchScript, ["mm", "\(threads)", peerRuns] + peerClock, out: &out))
        try benchConv(ctx, out: &out)
        _ = peer(torchScript, ["conv", "\(threads)", peerRuns] + peerClock, out: &out)
        func ratio(_ label: String, _ a: Double, _ b: Double?, _ unit: String, _ peerName: String) {
            guard let b, b > 0 else { return }
            out.write("== \(label): sne \(String(format: "%.0f", a)) vs \(peerName) \(String(format: "%.0f", b)) \(unit) = \(String(format: "%.2f", a / b))x\n")
        }
        ratio("reference student", student, snn, "images/s", "snnTorch")
        ratio("teacher", teacher, torchTeacher, "images/s", "PyTorch")
        ratio("SGEMM 512^3", gemm, mm, "GFLOP/s", "torch.mm")
    }

    /// Seconds of wall time, or with `--cpu-time` of this process's CPU time (all threads).
    func clock() -> Double {
        if cpuTime {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }
        return Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
    }

    /// Median over `runs` of a rate; each run repeats `body` for at least `minSeconds`.
    func median(_ minSeconds: Double = 0.15, _ body: () throws -> Void) rethrows -> Double {
        try body()   // warm-up
        var rates: [Double] = []
        for _ in 0..<runs {
            var n = 0
            let t0 = clock()
            var dt = 0.0
            repeat { try body(); n += 1; dt = clock() - t0 } while dt < minSeconds
            rates.append(Double(n) / dt)
        }
        rates.sort()
        return rates[rates.count / 2]
    }

    /// Prints SGEMM GFLOP/s per shape; returns the 512³ figure.
    func benchGEMM(_ ctx: ComputeContext, out: inout TextSink) -> Double {
        var first = 0.0
        let shapes: [(String, Int, Int, Int, Bool, Bool)] = [
            ("512^3", 512, 512, 512, false, false),
            ("conv2 fwd per image (32x196x144)", 32, 196, 144, false, false),
            ("fc1 fwd (256x128x1568, Bᵀ)", 256, 128, 1568, false, true),
            ("fc1 dW (128x1568x256, Aᵀ)", 128, 1568, 256, true, false),
            ("fc1 dx (256x1568x128)", 256, 1568, 128, false, false),
        ]
        for (label, m, n, k, ta, tb) in shapes {
            var rng = SeededRNG(seed: 1)
            let a = (0..<(m * k)).map { _ in Float(rng.nextGaussian()) }
            let b = (0..<(k * n)).map { _ in Float(rng.nextGaussian()) }
            var c = [Float](repeating: 0, count: m * n)
            let rate = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                median {
                    ctx.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: ta ? m : k,
                              b: pb.baseAddress!, ldb: tb ? k : n, c: pc.baseAddress!, ldc: n)
                }
            } } }
            let gflops = rate * 2 * Double(m * n * k) / 1e9
            if first == 0 { first = gflops }
            out.write("gemm  \(label.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%7.1f", gflops)) GFLOP/s\n")
        }
        return first
    }

    /// The convolution shapes of the two benchmarked networks: (label, batch, cin, cout, h = w).
    static let convShapes: [(String, Int, Int, Int, Int)] = [
        ("student conv1", 256, 1, 16, 28), ("student conv2", 256, 16, 32, 14),
        ("teacher conv1", 128, 1, 32, 28), ("teacher conv2", 128, 32, 32, 28), ("teacher conv3", 128, 32, 64, 14),
        ("teacher conv4", 128, 64, 64, 14), ("teacher conv5", 128, 64, 128, 7),
    ]

    /// Forward, backward-data and backward-weight time of every 3x3 (pad 1) convolution shape of the
    /// reference student (batch T·B = 256) and the teacher (batch 128), in ms and GFLOP/s.
    func benchConv(_ ctx: ComputeContext, out: inout TextSink) throws {
        for (label, n, cin, cout, hw) in Self.convShapes {
            var rng = SeededRNG(seed: 2)
            let x = Tensor.randomNormal([n, cin, hw, hw], std: 1, using: &rng)
            let w = Tensor.randomNormal([cout, cin, 3, 3], std: 0.1, using: &rng)
            let dy = Tensor.randomNormal([n, cout, hw, hw], std: 1, using: &rng)
            let flops = 2.0 * Double(n * cout * hw * hw * cin * 9)
            let fwd = try median { _ = try ctx.conv2dForward(x, weight: w, bias: nil, stride: 1, pad: 1) }
            let bwdData = cin == 1 ? .nan : try median { _ = try ctx.conv2dBackwardData(dy, weight: w, inputShape: x.shape, stride: 1, pad: 1) }
            let bwdW = try median { _ = try ctx.conv2dBackwardWeight(x, dy, weightShape: w.shape, stride: 1, pad: 1) }
            var line = "conv  \(label.padding(toLength: 13, withPad: " ", startingAt: 0)) 3x3 \(cin)->\(cout) \(hw)x\(hw) x\(n)".padding(toLength: 44, withPad: " ", startingAt: 0)
            for (name, r) in [("fwd", fwd), ("bwd data", bwdData), ("bwd weight", bwdW)] {
                line += r.isNaN ? "  \(name) -" : "  \(name) \(String(format: "%6.2f", 1e3 / r)) ms \(String(format: "%5.0f", r * flops / 1e9)) GF/s"
            }
            out.write(line + "\n")
        }
    }

    /// Per-layer forward/backward milliseconds per step (median over `runs` steps). A LIF fused with
    /// the max pool after it carries the pair's time; the pool shows ~0.
    func profileLayers(_ model: Sequential, x: Tensor, ctx: LayerContext, opt: any Optimizer, out: inout TextSink,
                       loss: (Tensor) throws -> LossResult) throws {
        var fwd = [[Double]](repeating: [], count: model.layers.count), bwd = fwd
        var other: [Double] = [], optT: [Double] = []
        func now() -> Double { clock() * 1e3 }
        for _ in 0..<max(runs, 3) {
            let z0 = now()
            model.zeroGrad()
            other.append(now() - z0)
            var h = x
            var i = 0
            while i < model.layers.count {   // as Sequential.forward: fused runs (BN + LIF + pool, LIF + pool) timed on their first layer
                let t0 = now()
                let (out, used) = try model.forwardStep(i, h, ctx)
                h = out
                fwd[i].append(now() - t0)
                for j in 1..<used { fwd[i + j].append(0) }
                i += used
            }
            var g = try loss(h).grad
            for (i, l) in model.layers.enumerated().reversed() { let t0 = now(); g = try l.layer.backward(g, ctx); bwd[i].append(now() - t0) }
            let o0 = now(); opt.step(lr: 1e-3); optT.append(now() - o0)
        }
        func med(_ a: [Double]) -> Double { a.sorted()[a.count / 2] }
        for (i, l) in model.layers.enumerated() {
            out.write("  \(l.name.padding(toLength: 8, withPad: " ", startingAt: 0)) forward \(String(format: "%6.2f", med(fwd[i]))) ms  backward \(String(format: "%6.2f", med(bwd[i]))) ms\n")
        }
        out.write("  zeroGrad \(String(format: "%6.2f", med(other))) ms  optimizer \(String(format: "%6.2f", med(optT))) ms\n")
    }

    func benchTrain(_ ctx: ComputeContext, out: inout TextSink) throws -> Double {
        var rng = SeededRNG(seed: 0)
        let b = 64, t = 4
        let model = Models.referenceStudent(rng: &rng)
        let opt = AdamW(model.trainableParameters, compute: ctx)
        let x = Tensor.randomUniform([b, 1, 28, 28], 0, 1, using: &rng)
        let y = Tensor.randomNormal([b, 32], std: 1, using: &rng)
        let lctx = LayerContext(compute: ctx, training: true, seed: 1, timeSteps: t)
        for _ in 0..<5 { try trainStep(model: model, optimizer: opt, lr: 1e-3, input: x, ctx: lctx) { try Loss.mse($0, y) } }
        _ = try model.forward(x, lctx)
        let saved = model.savedBytes
        model.clearSaved()
        let steps = try median(0.5) { try trainStep(model: model, optimizer: opt, lr: 1e-3, input: x, ctx: lctx) { try Loss.mse($0, y) } }
        out.write("train reference student (T=\(t), B=\(b), MSE, Adam)  \(String(format: "%8.0f", steps * Double(b))) images/s\n")
        out.write("train BPTT activation memory: \(saved / b) bytes/sample (\(saved) per batch of \(b))\n")
        if profile { try profileLayers(model, x: x, ctx: lctx, opt: opt, out: &out) { try Loss.mse($0, y) } }
        return steps * Double(b)
    }

    /// Training images/s of the built-in teacher (width 32, VGG-style, Fashion-MNIST-sized input,
    /// batch 128, cross-entropy, AdamW) on random images: the network of `sne train teacher`
    /// without the data pipeline (bench/torch_peer_bench.py teacher runs the same in PyTorch).
    func benchTeacher(_ ctx: ComputeContext, out: inout TextSink) throws -> Double {
        var rng = SeededRNG(seed: 3)
        let b = 128
        let model = try TeacherSpec(width: 32).build(input: [1, 28, 28], classes: 10, rng: &rng)
        let opt = AdamW(model.trainableParameters, weightDecay: 0.01, compute: ctx)
        let x = Tensor.randomUniform([b, 1, 28, 28], 0, 1, using: &rng)
        let labels = (0..<b).map { _ in Int(rng.next() % 10) }
        let lctx = LayerContext(compute: ctx, training: true, seed: 1)
        for _ in 0..<2 { try trainStep(model: model, optimizer: opt, lr: 1e-3, input: x, ctx: lctx) { try Loss.crossEntropy($0, labels: labels) } }
        let steps = try median(1.0) { try trainStep(model: model, optimizer: opt, lr: 1e-3, input: x, ctx: lctx) { try Loss.crossEntropy($0, labels: labels) } }
        out.write("train teacher (width 32, 1x28x28, B=\(b), CE, AdamW)  \(String(format: "%8.0f", steps * Double(b))) images/s\n")
        if profile { try profileLayers(model, x: x, ctx: lctx, opt: opt, out: &out) { try Loss.crossEntropy($0, labels: labels) } }
        return steps * Double(b)
    }
}
