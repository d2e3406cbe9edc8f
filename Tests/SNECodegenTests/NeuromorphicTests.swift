// Neuromorphic targets (docs/neuromorphic.md): the HDF5 writer, NIR export (checked with Python's
// h5py / nir.read when the NIR venv exists), the Loihi lowering and export, and the bit-exact
// comparison with Lava (when the Lava venv exists). Python-dependent tests skip with a message.
import Foundation
import Testing
@testable import SNECodegen
@testable import SNEPasses
import SNEBase
@testable import SpikeIR
@testable import SpikeIRFixtures

/// The NIR Python (`PythonEnv.nir`: `$SNE_NIR_PYTHON`, else python3 if it imports nir and
/// h5py); nil, with the reason and the setup line printed, when there is none.
func nirPython() -> String? {
    switch PythonEnv.nir.find() {
    case .success(let p): return p
    case .failure(let e): print("skipping: \(e)"); return nil
    }
}

@Suite("Neuromorphic")
struct NeuromorphicTests {
    @Test("lookup3 known values (Jenkins' hashlittle, initval 0)")
    func lookup3() {
        #expect(HDF5Writer.lookup3([]) == 0xDEAD_BEEF)
        #expect(HDF5Writer.lookup3(Array("Four score and seven years ago".utf8)) == 0x1777_0551)
    }

    static let sample: [(String, HDF5Node)] = [
        ("version", .dataset(.scalar("1.0.0"))),
        ("g", .group([
            ("f", .dataset(.floats([1.5, -2, 0.25, 3e9, -0.0, 7], shape: [2, 3]))),
            ("i", .dataset(.scalar(Int64(-42)))),
            ("v", .dataset(.ints([1, -1, Int(Int32.max)]))),
            ("s", .dataset(HDF5Dataset(shape: [2, 2], .strings(["a", "bc", "déf", ""])))),
            ("empty", .group([])),
        ])),
    ]

    @Test("HDF5 layout: superblock v2, checksums, root object header")
    func hdf5Layout() throws {
        let b = try HDF5Writer.encode(Self.sample)
        #expect(Array(b[0..<8]) == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(b[8] == 2 && b[9] == 8 && b[10] == 8)
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) } }
        #expect(u64(28) == b.count, "end-of-file address")
        #expect(u32(44) == HDF5Writer.lookup3(Array(b[0..<44])), "superblock checksum")
        let root = u64(36)
        #expect(Array(b[root..<(root + 4)]) == Array("OHDR".utf8))
        let size = Int(u32(root + 6))
        #expect(u32(root + 10 + size) == HDF5Writer.lookup3(Array(b[root..<(root + 10 + size)])), "root header checksum")
        #expect(try HDF5Writer.encode(Self.sample) == b, "deterministic")
    }

    @Test("HDF5 writer refuses bad trees with one-line errors")
    func hdf5Errors() {
        #expect(throws: HDF5Error.invalid("/: duplicate member 'a'")) { try HDF5Writer.encode([("a", .group([])), ("a", .group([]))]) }
        #expect(throws: HDF5Error.invalid("/: member name 'x/y' must be 1…255 bytes without '/'")) { try HDF5Writer.encode([("x/y", .group([]))]) }
        #expect(throws: HDF5Error.invalid("/d: 3 values for shape [2, 2]")) { try HDF5Writer.encode([("d", .dataset(.ints([1, 2, 3], shape: [2, 2])))]) }
    }

    @Test("h5py reads what HDF5Writer wrote")
    func hdf5WithH5py() throws {
        guard let py = nirPython() else { return }
        let path = tempDir("h5") + ".h5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AtomicFile.write(try HDF5Writer.encode(Self.sample), to: path)
        let r = try Shell.run([py, "-c", """
            import h5py, json, sys
            f = h5py.File(sys.argv[1], "r")
            g = f["g"]
            print(json.dumps({"version": f["version"][()].decode(), "f": g["f"][()].tolist(), "fdt": str(g["f"].dtype),
                "i": int(g["i"][()]), "v": g["v"][()].tolist(), "s": [[x.decode() for x in r] for r in g["s"][()]],
                "keys": sorted(g.keys()), "empty": len(g["empty"])}))
            """, path])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(j?["version"] as? String == "1.0.0")
        #expect((j?["f"] as? [[Double]]) == [[1.5, -2, 0.25], [3e9, -0.0, 7]])
        #expect(j?["fdt"] as? String == "float32")
        #expect((j?["i"] as? Int) == -42)
        #expect((j?["v"] as? [Int]) == [1, -1, Int(Int32.max)])
        #expect((j?["s"] as? [[String]]) == [["a", "bc"], ["déf", ""]])
        #expect((j?["keys"] as? [String]) == ["empty", "f", "i", "s", "v"])
        #expect((j?["empty"] as? Int) == 0)
    }

    @Test("NIR export: nir.read (type-checked) gives the mapped graph")
    func nirExport() throws {
        guard let py = nirPython() else { return }
        var lim = RandomProgram.Limits.tiny; lim.stemChance = 0   // NIR export refuses a stem (not yet supported)
        var gen = RandomProgram(seed: 7, limits: lim)
        for _ in 0..<8 {
            let p = gen.program()
            let path = tempDir("nir") + ".nir"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let bytes: [UInt8]
            do { bytes = try NIRExport.encode(p) } catch let e as CodegenError {
                #expect(e.description.contains("has no NIR form"), "\(e)"); continue   // conv after a dense: refused by name
            }
            try AtomicFile.write(bytes, to: path)
            // nir 1.0.8's type inference assumes square conv kernels (see NIRExport)
            let square = p.students.allSatisfy { $0.ops.allSatisfy { op in
                switch op { case .inputConv2D(let c), .conv2D(let c): c.kh == c.kw; default: true } } }
            let r = try Shell.run([py, "-c", """
                import nir, json, sys
                g = nir.read(sys.argv[1], type_check=sys.argv[2] == "1")
                print(json.dumps({"types": sorted(type(n).__name__ for n in g.nodes.values()), "edges": len(g.edges),
                                  "outputs": [k for k, n in g.nodes.items() if type(n).__name__ == "Output"]}))
                """, path, square ? "1" : "0"])
            #expect(r.status == 0, "\(Dump.text(p)): \(r.stderr.suffix(400))")
            let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            var expect = ["Input", "Output"]
            for s in p.students {
                var spatial = true   // NIR shape (C, H, W) after the input, a conv or a pool; (N) after Affine/Flatten
                for op in s.ops {
                    defer {
                        switch op.interop {
                        case .inputConv2D, .conv2D, .maxPool, .avgPool: spatial = true
                        case .inputDense, .dense, .flatten: spatial = false
                        case .lif, .readout, .loihi, .stem, .unsupported: break
                        }
                    }
                    switch op.interop {
                    case .inputConv2D:   // a nonzero input zero point adds the 1x1 `x − zp` Conv2d
                        expect += p.inputZeroPoint.contains { $0 != 0 } ? ["Conv2d", "Conv2d"] : ["Conv2d"]
                    case .conv2D: expect.append("Conv2d")
                    case .inputDense, .dense: expect += spatial ? ["Flatten", "Affine"] : ["Affine"]
                    case .lif: expect.append("LIF")
                    case .maxPool: expect += ["SumPool2d", "Threshold"]
                    case .avgPool: expect.append("AvgPool2d")
                    case .flatten: expect.append("Flatten")
                    case .readout: expect += spatial ? ["I", "Flatten", "Affine"] : ["I", "Affine"]
                    case .loihi, .stem, .unsupported: break   // refused by NIR export (Loihi mode; the stem: not yet; no NIR form)
                    }
                }
            }
            #expect((j?["types"] as? [String]) == expect.sorted(), "\(p.name)")
            #expect((j?["outputs"] as? [String]) == ["logits"])
            #expect((j?["edges"] as? Int) == expect.count - 2 + p.students.count)   // a chain per student from input, each head into `logits`
        }
        #expect(throws: CodegenError.self) { try NIRExport.encode(try LoihiLowering.lower(Fixtures.fmnistSized()).0) }
    }

    @Test("NIR export: flatten keeps NIR's CHW order, so the dense rows are permuted (hand-computed)")
    func nirFlattenOrder() throws {
        // input 2x2x2 → conv 1x1 (2 → 2) → lif → flatten (HWC: i = (y·2 + x)·2 + c) → dense 8 → 1 → readout
        let conv = Conv2D(cout: 2, kh: 1, kw: 1, stride: 1, pad: 0, shift: 0, weights: [1, 0, 0, 1], bias: [0, 0])
        let dense = Dense(out: 1, shift: 1, weights: [10, 11, 12, 13, 14, 15, 16, 17], bias: [0])
        let p = Program(name: "flat", input: Shape(h: 2, w: 2, c: 2), timesteps: 1, classes: 2, selection: .fixed, order: [0],
                        students: [Student(ops: [.inputConv2D(conv), .lif(LIF(theta: 5, channels: 2)), .flatten, .dense(dense), .readout],
                                           features: 1, featMult: 1, featShift: 0)],
                        head: Head(bias: [0, 0], weights: [[1, -1]]))
        let root = try NIRExport.graph(p)
        guard case .group(let g)? = root.first(where: { $0.0 == "node" })?.1,
              case .group(let nodes)? = g.first(where: { $0.0 == "nodes" })?.1,
              case .group(let affine)? = nodes.first(where: { $0.0 == "s0_3" })?.1,
              case .dataset(let w)? = affine.first(where: { $0.0 == "weight" })?.1,
              case .float32(let v) = w.values else { Issue.record("no s0_3 Affine weight"); return }
        // NIR position j = (c·2 + y)·2 + x holds sne row i = (y·2 + x)·2 + c, divided by 2^shift
        #expect(v == [10, 12, 14, 16, 11, 13, 15, 17].map { Float($0) / 2 })
    }

    @Test("Loihi lowering of the Fashion-MNIST-sized program; export files")
    func loihiLowering() throws {
        let p = try ProgramFile.read(path: checkoutRoot + "/examples/programs/fmnist4.snep")
        let (q, notes) = try LoihiLowering.lower(p)
        try ProgramValidator.validate(q)
        #expect(q.fileVersionMinor == 1)
        #expect(q.timesteps == p.timesteps + 4, "\(notes.lines)")
        for s in q.students {
            #expect(s.ops.allSatisfy { op in
                switch op { case .inputConv2D, .inputDense, .flatten, .readout, .loihi: true; default: false }
            })
        }
        #expect(try LoihiLowering.lower(q).0 == q, "a Loihi-mode program lowers to itself")
        let files = try LoihiExport(q).files()
        #expect(files["model.json"] != nil && files["sne_lava.py"] != nil && files["run_lava.sh"] != nil)
        #expect(try ProgramFile.decode(files["program.snep"]!) == q)
        let w = files["s0_op4_w.npy"]!
        #expect(Array(w[0..<6]) == [0x93] + Array("NUMPY".utf8))
        #expect(String(decoding: w[10..<Int(10 + Int(w[8]) + Int(w[9]) << 8)], as: UTF8.self).contains("'shape': (16, 3, 3, 32)"))
        #expect((10 + Int(w[8]) + Int(w[9]) << 8) % 64 == 0, "NPY header padded to 64")
        #expect(w.count == 10 + Int(w[8]) + Int(w[9]) << 8 + 16 * 9 * 32)
    }

    @Test("Lava's bit-accurate models agree with the interpreter (skips without Lava)")
    func lavaAgreement() throws {
        if let why = LavaVerify.unavailable() { print("skipping: \(why)"); return }
        var gen = LoihiFixtures(seed: 1234)
        let p = gen.program()
        let dir = tempDir("lava")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try LoihiExport(p).write(to: dir)
        let x = (0..<p.input.size).map { UInt8(($0 * 37 + 11) % 256) }
        let r = try LavaVerify.check(program: p, dir: dir, input: x)
        #expect(r.firstMismatch == nil, "\(r.firstMismatch ?? "")")
        #expect(r.neuronsCompared > 0)
        // a corrupted trace is caught and named
        var trace = try JSONSerialization.jsonObject(with: Data(try LavaVerify.run(dir: dir, input: x))) as! [String: Any]
        var st = trace["students"] as! [[String: Any]]
        var lif = st[0]["lif"] as! [[String: Any]]
        var v = lif[0]["v"] as! [[Int]]
        v[0][0] += 1
        lif[0]["v"] = v; st[0]["lif"] = lif; trace["students"] = st
        let bad = try LavaVerify.compare(program: p, lavaTrace: [UInt8](try JSONSerialization.data(withJSONObject: trace)), input: x)
        #expect(bad.firstMismatch?.contains("step 0 neuron 0") == true, "\(bad.firstMismatch ?? "nil")")
    }

    @Test("Loihi lowering: per-channel thresholds made one by scaling each channel's weights (hand case)")
    func unifyThresholds() {
        // channels 0, 1 (layout in × out, out = 2): θ = [10, 20]; wmax = [100, 127].
        // Θ = ⌊min(10·127/100, 20·127/127)⌋ = ⌊min(12.7, 20)⌋ = 12; f = [1.2, 0.6].
        var w: [Int8] = [100, 127, -50, -3]
        var b: [Int32] = [7, -9]
        var notes = LoihiLowering.Notes()
        let theta = LoihiLowering.unify(weights: &w, bias: &b, channels: 2, thetas: [10, 20], notes: &notes, "here")
        #expect(theta == 12)
        #expect(w == [120, 76, -60, -2])    // 100·1.2, 127·0.6 = 76.2, −50·1.2, −3·0.6 = −1.8
        #expect(b == [8, -5])               // 7·1.2 = 8.4, −9·0.6 = −5.4
        #expect(notes.lines.count == 1)
        var w2: [Int8] = [1, 2], b2: [Int32] = [3, 4]
        #expect(LoihiLowering.unify(weights: &w2, bias: &b2, channels: 2, thetas: [5, 5], notes: &notes, "here") == 5)
        #expect(w2 == [1, 2] && b2 == [3, 4] && notes.lines.count == 1, "equal thresholds: unchanged, no note")
    }

    @Test("Loihi lowering: a readout dense's bias rides on always-spiking bias neurons, at every budget")
    func readoutBiasNeurons() throws {
        // input_dense 4→3 + lif, dense 3→2 + lif, dense 2→2 (bias) + readout; two students.
        func student(_ seed: Int8) -> Student {
            Student(ops: [
                .inputDense(Dense(out: 3, shift: 4, weights: (0..<12).map { Int8(($0 * 7 + Int(seed)) % 50) }, bias: [10, 0, -10])),
                .lif(LIF(thetas: [300, 300, 300], reset: .zero)),
                .dense(Dense(out: 2, shift: 0, weights: [40, -20, 30, 50, 60, 10], bias: [0, 0])),
                .lif(LIF(thetas: [50, 50], reset: .zero)),
                .dense(Dense(out: 2, shift: 1, weights: [20, -30, 10, 40], bias: [300, -90])),
                .readout,
            ], features: 2, featMult: [1 << 30, 1 << 30], featShift: [31, 31])
        }
        let p = Program(name: "rb", input: Shape(h: 1, w: 1, c: 4), timesteps: 4, classes: 2, selection: .fixed, order: [0, 1],
                        students: [student(1), student(3)], head: Head(bias: [5, -5], weights: [[1, 2, 3, 4], [4, 3, 2, 1]]))
        try ProgramValidator.validate(p)
        let (q, notes) = try LoihiLowering.lower(p)
        #expect(q.head.bias == p.head.bias, "nothing folded into the head: \(notes.lines)")
        #expect(notes.lines.contains { $0.contains("always-spiking bias neuron") })
        // T' = 4 + 2 delays (two synaptic ops) = 6; r = 4·[300, −90]/5 = [240, −72] → n = 2 rows (240/127 > 1)
        #expect(q.timesteps == 6)
        guard case .loihi(.lif(let l)) = q.students[0].ops[3], case .loihi(.dense(let rd)) = q.students[0].ops[4] else {
            Issue.record("unexpected lowered ops \(q.students[0].ops.map(\.name))"); return
        }
        #expect(l.biasMant.count == 4 && rd.weights.count == 4 * 2)
        #expect(Array(rd.weights[4...]) == [120, -36, 120, -36])
        // the bias neurons spike at every step, and the features carry T·b at budget 1 too
        let interp = try Interpreter(q)
        let r = try interp([0, 0, 0, 0], budget: 1, trace: true)
        let st = r.trace!.students[0]
        for step in st.steps { if let layer = step.last(where: { $0.spikes.count == 4 }) { #expect(Array(layer.spikes[2...]) == [1, 1]) } }
        // all-zero input: no spikes but the bias ones, heard T' − 1 = 5 times: 5·[240, −72] = T·b = [1200, −360]
        #expect(st.features == [1200, -360])
    }
}
