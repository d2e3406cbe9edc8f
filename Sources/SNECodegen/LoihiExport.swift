// `sne compile --target loihi` output and `sne verify --target lava`: a Loihi-mode program written
// as per-op .npy arrays + model.json + the Lava runner (targets/lava/sne_lava.py), and the bit-exact
// comparison of Lava's run with the interpreter (docs/neuromorphic.md).
import Foundation
import SNEBase
import SpikeIR

/// NPY (format 1.0) files of little-endian integer arrays (framing: SNEBase `NPYFormat`, shared with SNEData).
public enum NPYWriter {
    public static func int8(_ a: [Int8], shape: [Int]) -> [UInt8] {
        NPYFormat.encode(descr: "|i1", shape: shape, data: a.map { UInt8(bitPattern: $0) })
    }
    public static func int16(_ a: [Int16], shape: [Int]) -> [UInt8] {
        NPYFormat.encode(descr: "<i2", shape: shape, data: a.flatMap { v -> [UInt8] in let u = UInt16(bitPattern: v); return [UInt8(u & 0xFF), UInt8(u >> 8)] })
    }
    public static func int32(_ a: [Int32], shape: [Int]) -> [UInt8] {
        NPYFormat.encode(descr: "<i4", shape: shape, data: a.flatMap { v -> [UInt8] in let u = UInt32(bitPattern: v); return (0..<4).map { UInt8((u >> (8 * UInt32($0))) & 0xFF) } })
    }
}

/// The files of a `--target loihi` output directory.
public struct LoihiExport: Sendable {
    public let program: Program
    public init(_ program: Program) { self.program = program }

    static func json(_ v: Any) -> String {
        let d = try! JSONSerialization.data(withJSONObject: v, options: [.prettyPrinted, .sortedKeys])  // only plain dictionaries/arrays/numbers
        return String(decoding: d, as: UTF8.self) + "\n"
    }

    /// Every file by name (bytes). `program.snep` is the Loihi-mode program itself.
    public func files() throws -> [String: [UInt8]] {
        let p = program
        if p.stem != nil { throw CodegenError.failure("the shared stem is not supported by the Lava runner yet (program \(p.name) has a stem)") }
        var f: [String: [UInt8]] = [:]
        f["program.snep"] = try ProgramFile.encode(p)
        f["head_bias.npy"] = NPYWriter.int32(p.head.bias, shape: [p.classes])
        var students: [[String: Any]] = []
        for (k, s) in p.students.enumerated() {
            var shape = p.input
            var ops: [[String: Any]] = []
            for (j, op) in s.ops.enumerated() {
                let o = op.outputShape(shape)
                let pre = "s\(k)_op\(j)"
                var d: [String: Any] = ["op": op.name, "in_shape": [shape.h, shape.w, shape.c], "out_shape": [o.h, o.w, o.c]]
                switch op.interop {
                case .inputConv2D(let c):
                    d["kh"] = c.kh; d["kw"] = c.kw; d["stride"] = c.stride; d["pad"] = c.pad; d["shift"] = c.shift
                    f[pre + "_w.npy"] = NPYWriter.int8(c.weights, shape: [shape.c, c.kh, c.kw, c.cout]); d["w"] = pre + "_w.npy"
                    f[pre + "_bias.npy"] = NPYWriter.int32(c.bias, shape: [c.cout]); d["bias"] = pre + "_bias.npy"
                case .inputDense(let dn):
                    d["shift"] = dn.shift
                    f[pre + "_w.npy"] = NPYWriter.int8(dn.weights, shape: [shape.size, dn.out]); d["w"] = pre + "_w.npy"
                    f[pre + "_bias.npy"] = NPYWriter.int32(dn.bias, shape: [dn.out]); d["bias"] = pre + "_bias.npy"
                case .loihi(.lif(let l)):
                    d["source"] = l.source == .bias ? "bias" : "synaptic"
                    d["du"] = l.du; d["dv"] = l.dv; d["vth"] = Int(l.vth); d["bias_exp"] = l.biasExp
                    f[pre + "_bias_mant.npy"] = NPYWriter.int16(l.biasMant, shape: [l.biasMant.count]); d["bias_mant"] = pre + "_bias_mant.npy"
                case .loihi(.dense(let dn)):
                    d["weight_exp"] = dn.weightExp
                    f[pre + "_w.npy"] = NPYWriter.int8(dn.weights, shape: [shape.size, dn.out]); d["w"] = pre + "_w.npy"
                case .loihi(.conv2D(let c)):
                    d["kh"] = c.kh; d["kw"] = c.kw; d["stride"] = c.stride; d["pad"] = c.pad
                    f[pre + "_w.npy"] = NPYWriter.int8(c.weights, shape: [shape.c, c.kh, c.kw, c.cout]); d["w"] = pre + "_w.npy"
                case .flatten, .readout: break
                case .conv2D, .dense, .lif, .maxPool, .avgPool, .stem, .unsupported:
                    throw CodegenError.failure("student \(k) op \(j) (\(op.name)) is not a Loihi-mode op; lower the program first")
                }
                ops.append(d)
                shape = o
            }
            f["s\(k)_head_w.npy"] = NPYWriter.int8(p.head.weights[k], shape: [s.features, p.classes])
            students.append(["ops": ops, "features": s.features, "feat_mult": s.featMult.map(Int.init), "feat_shift": s.featShift,
                             "head_w": "s\(k)_head_w.npy"])
        }
        let model: [String: Any] = ["format": "sne-loihi 1", "name": p.name, "input": [p.input.h, p.input.w, p.input.c],
                                    "input_zero_point": p.inputZeroPoint.map(Int.init),
                                    "T": p.timesteps, "classes": p.classes, "head_bias": "head_bias.npy", "students": students]
        f["model.json"] = Array(LoihiExport.json(model).utf8)
        let runner = SNEPaths.root + "/targets/lava/sne_lava.py"
        guard let r = FileManager.default.contents(atPath: runner) else {
            throw CodegenError.failure("Lava runner missing: \(runner) (set SNE_ROOT to the sne checkout)")
        }
        f["sne_lava.py"] = [UInt8](r)
        f["run_lava.sh"] = Array("""
            #!/bin/sh
            # Runs this Loihi-mode program in Lava (bit-accurate CPU models): ./run_lava.sh INPUT [--json OUT]
            # Python: $SNE_LAVA_PYTHON, else python3 on PATH; it must import lava. Setup once:
            #   \(PythonEnv.lava.setup)
            py="${SNE_LAVA_PYTHON:-python3}"
            if ! "$py" -c "import lava.proc.lif.models" 2>/dev/null; then
              echo "run_lava.sh: $py cannot import lava; set SNE_LAVA_PYTHON to a venv's python (setup: \(PythonEnv.lava.setup))" >&2
              exit 2
            fi
            exec "$py" "$(dirname "$0")/sne_lava.py" "$(dirname "$0")" --input "$@"

            """.utf8)
        f[".sne-output"] = Array("written by sne compile --target loihi\n".utf8)
        return f
    }

    /// Writes the directory atomically (temporary directory + rename); an existing `dir` is
    /// replaced only if sne wrote it.
    public func write(to dir: String) throws {
        try OutputDirectory.write(try files(), to: dir, executables: ["run_lava.sh"])
    }
}

/// Running the Lava runner and comparing its trace with the interpreter's, bit for bit.
public enum LavaVerify {
    /// The Python that runs Lava: `$SNE_LAVA_PYTHON`, else `python3` if it imports lava
    /// (`PythonEnv.lava`); "python3" when neither works (`unavailable()` says why).
    public static var python: String {
        (try? PythonEnv.lava.find().get()) ?? "python3"
    }

    /// nil when Lava can be imported, else the reason it cannot, with the setup line.
    public static func unavailable() -> String? {
        if case .failure(let e) = PythonEnv.lava.find() { return e.description }
        return nil
    }

    /// One input's comparison: nil when bit-exact, else the first difference.
    public struct Result: Sendable {
        public var firstMismatch: String?
        public var neuronsCompared: Int
        public var lavaPrediction: Int
        public var interpPrediction: Int
    }

    /// Runs `dir`'s Lava runner on `input`; returns the trace JSON it writes (see sne_lava.py).
    /// Seconds one Lava run may take before it is killed and retried (`$SNE_LAVA_TIMEOUT`, default 600).
    public static var timeoutSeconds: Int {
        Int(ProcessInfo.processInfo.environment["SNE_LAVA_TIMEOUT"] ?? "") ?? 600
    }

    public static func run(dir: String, input: [UInt8], python: String = LavaVerify.python) throws -> [UInt8] {
        let tmp = NSTemporaryDirectory() + "sne-lava-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let inPath = tmp + "/input.u8", outPath = tmp + "/trace.json"
        try Data(input).write(to: URL(fileURLWithPath: inPath))
        // Lava's multiprocessing runtime occasionally deadlocks on a loaded machine: bound each
        // run (coreutils timeout, exit 124) and try once more.
        var r = try Shell.run(["timeout", "\(timeoutSeconds)", python, dir + "/sne_lava.py", dir, "--input", inPath, "--json", outPath])
        if r.status == 124 {
            r = try Shell.run(["timeout", "\(timeoutSeconds)", python, dir + "/sne_lava.py", dir, "--input", inPath, "--json", outPath])
        }
        if r.status == 124 { throw CodegenError.failure("the Lava runner timed out twice (\(timeoutSeconds) s each)") }
        guard r.status == 0 else {
            let last = r.stderr.split(separator: "\n").last.map(String.init) ?? "exit \(r.status)"
            throw CodegenError.failure("the Lava runner failed: \(last)")
        }
        guard let data = FileManager.default.contents(atPath: outPath) else { throw CodegenError.failure("the Lava runner wrote no trace") }
        return [UInt8](data)
    }

    /// Runs `dir`'s Lava runner on `input` and compares with the interpreter on `program` (the
    /// Loihi-mode program in `dir`): spikes, v and u of every loihi_lif op at every step, features,
    /// quantized features, logits (all students run: budget K).
    public static func check(program p: Program, dir: String, input: [UInt8], python: String = LavaVerify.python) throws -> Result {
        try compare(program: p, lavaTrace: try run(dir: dir, input: input, python: python), input: input)
    }

    /// Compares a Lava trace (sne_lava.py's JSON) with the interpreter's run of `p` on `input`.
    public static func compare(program p: Program, lavaTrace: [UInt8], input: [UInt8]) throws -> Result {
        guard let lava = (try? JSONSerialization.jsonObject(with: Data(lavaTrace))) as? [String: Any],
              let ls = lava["students"] as? [[String: Any]] else {
            throw CodegenError.failure("the Lava trace is not readable JSON")
        }
        // Lava runs every student: so does the interpreter (no confidence stop), and every
        // student's neurons, features and the logits are compared.
        var all = p
        all.stopMargin = nil
        let interp = try Interpreter(all)
        let K = p.students.count
        let res = try interp(input, budget: K, trace: true)
        var compared = 0
        func ints(_ v: Any?) -> [Int] { (v as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }
        let lavaPred = (lava["prediction"] as? NSNumber)?.intValue ?? -1
        func result(_ m: String?) -> Result { Result(firstMismatch: m, neuronsCompared: compared, lavaPrediction: lavaPred, interpPrediction: res.prediction) }
        guard let students = res.trace?.students, students.count == K else { return result("the interpreter's trace does not hold every student") }
        for st in students {
            let k = st.student
            guard k < ls.count, let lifs = ls[k]["lif"] as? [[String: Any]] else { return result("student \(k): missing in the Lava trace") }
            for (t, layers) in st.steps.enumerated() {
                for (li, layer) in layers.enumerated() {
                    guard li < lifs.count, (lifs[li]["op"] as? NSNumber)?.intValue == layer.op else {
                        return result("student \(k) op \(layer.op): missing in the Lava trace")
                    }
                    for (name, mine) in [("spike", layer.spikes.map(Int.init)), ("v", layer.membranes.map(Int.init)), ("u", layer.currents.map(Int.init))] {
                        let key = name == "spike" ? "s" : name
                        let rows = (lifs[li][key] as? [Any]) ?? []
                        let theirs = t < rows.count ? ints(rows[t]) : []
                        if theirs.count != mine.count { return result("student \(k) op \(layer.op) step \(t): \(name) has \(theirs.count) neurons in Lava, \(mine.count) here") }
                        if let i = (0..<mine.count).first(where: { mine[$0] != theirs[$0] }) {
                            return result("student \(k) op \(layer.op) (loihi_lif) step \(t) neuron \(i) (HWC index): \(name) Lava \(theirs[i]), interpreter \(mine[i])")
                        }
                        compared += mine.count
                    }
                }
            }
            let f = ints(ls[k]["features"]), q = ints(ls[k]["q"])
            if f != st.features.map(Int.init) {
                let i = (0..<min(f.count, st.features.count)).first { f[$0] != Int(st.features[$0]) } ?? 0
                return result("student \(k) readout feature \(i): Lava \(i < f.count ? f[i] : 0), interpreter \(i < st.features.count ? Int(st.features[i]) : 0)")
            }
            if q != st.quantized.map(Int.init) { return result("student \(k): quantized features differ") }
        }
        let logits = ints(lava["logits"])
        if logits != res.logits.map(Int.init) {
            return result("logits: Lava \(logits), interpreter \(res.logits)")
        }
        return result(nil)
    }
}
