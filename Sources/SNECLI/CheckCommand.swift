// `sne check`: what quantization cost — float model vs integer program on a test set.
import Foundation
import SNEEnsemble
import SNECodegen
import SNECompile
import SNEPasses
import SNEData
import SNETensor
import SpikeIR

struct CheckCommand: Command {
    static let name = "check"
    static let summary = "float model vs compiled program: accuracy per budget, agreement, spike rates, ops, energy, memory"
    static let usage = """
        usage: sne check MODEL PROGRAM --data DIR [--limit N] [--json] [--html FILE] [flags]
          runs the float model and the program (reference interpreter) on the test split of DIR:
          accuracy at every budget k and in confidence mode, prediction agreement, logit error,
          spike rates per layer (float vs integer), op counts per layer / student / gate (the
          interpreter's), energy, flash and RAM per target.
          --data DIR          folder with t10k-images-idx3-ubyte[.gz]
          --limit N           first N test images (default 1000)
          --held-out N        instead of test images, the N training images after the ones the
                              model was trained on (train with --limit to leave them out): a
                              validation split for choosing e.g. the stop margin (--margin)
          --json              JSON instead of the table
          --html FILE         also write a self-contained HTML report (inline SVG)
          --margin M          confidence-mode stop margin in integer logit units (default: the program's)
          --pj-mac X          pJ per multiply-accumulate (default 4.6)
          --pj-acc X          pJ per accumulate (default 0.9); neuron updates are counted, not priced
          --teacher ACC:UJ    teacher point for the plot (accuracy % and µJ; default: the model's
                              teacher.test_accuracy and teacher.macs from sne train)
          --snn ACC:UJ        plain-SNN point for the plot (none without it or --refs)
          --refs FILE         more points for the plot: the output of `sne eval --json` (each
                              model at all students, e.g. a plain SNN from `sne train plain`), or
                              CSV lines LABEL,ACC %,µJ[,TEST IMAGES]
          --instructions T=N1,…,NK   instructions per inference on target T at k = 1…K (as
                              `sne verify --budget k` counts them): adds accuracy vs instructions
                              and the latency at T's common clocks (`sne info --target T`)
          --activity-images N images for the spike rates (default 200)
          --threads N         worker threads for the float model (default 2)
          --loihi             also run the program's Loihi mode (the lowering of `sne compile
                              --target loihi`) at every budget: accuracy, agreement with the
                              checked program, energy (docs/neuromorphic.md)
          --board B           add board B's memory check (datasheet flash/RAM, runtime code and
                              stack included): \(Board.names)
          --force             go on when DIR is not the data the model was trained on (its test
                              split's first images differ from the model's record); warns instead
        exits 1 when a layer is silent or saturated (the report is still written).
        """
    let model: String, program: String, data: String, limit: Int, json: Bool, html: String?, margin: Int32?
    let heldOut: Int?
    let energy: EnergyTable, refs: [RefPoint], activity: Int, threads: Int, loihi: Bool, force: Bool
    let board: Board?
    let instructions: InstructionCurve?

    init(_ args: Arguments) throws {
        var a = args
        guard let d = try a.option("data") else { throw CLIError.usage("sne check: --data DIR is required") }
        data = d
        limit = try a.int("limit", in: 1...1_000_000) ?? 1000
        heldOut = try a.int("held-out", in: 1...1_000_000)
        json = a.flag("json")
        html = try a.option("html")
        margin = try a.int("margin", in: 0...Int(Int32.max)).map { Int32($0) }
        var e = EnergyTable()
        for (flag, kp) in [("pj-mac", \EnergyTable.mac), ("pj-acc", \EnergyTable.accumulate)] {
            if let v = try a.double(flag) {
                guard v >= 0 else { throw CLIError.usage("sne check: --\(flag) must be ≥ 0, got \(v)") }
                e[keyPath: kp] = v
            }
        }
        energy = e
        var r: [RefPoint] = []
        for (flag, label) in [("teacher", "teacher"), ("snn", "plain SNN")] {
            guard let s = try a.option(flag) else { continue }
            let p = s.split(separator: ":").map { Double($0) }
            guard p.count == 2, let acc = p[0], let uj = p[1], acc >= 0, acc <= 100, uj >= 0 else {
                throw CLIError.usage("sne check: --\(flag) must be ACC:UJ (accuracy % and µJ), got '\(s)'")
            }
            r.append(RefPoint(label: label, accuracy: acc / 100, energy: uj))
        }
        if let f = try a.option("refs") { r += try Self.readRefs(f) }
        refs = r
        if let v = try a.option("instructions") {
            let parts = v.split(separator: "=", maxSplits: 1).map(String.init)
            let ns = parts.count == 2 ? parts[1].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) } : []
            guard parts.count == 2, !parts[0].isEmpty, !ns.isEmpty, ns.allSatisfy({ $0 != nil && $0! > 0 }) else {
                throw CLIError.usage("sne check: --instructions must be TARGET=N1,…,NK (positive counts per budget), got '\(CLIText.escaped(v))'")
            }
            instructions = InstructionCurve(target: parts[0], perBudget: ns.map { $0! }, clocks: Latency.defaultClocks(parts[0]))
        } else { instructions = nil }
        activity = try a.int("activity-images", in: 1...100_000) ?? 200
        threads = try a.int("threads", in: 1...256) ?? 2
        loihi = a.flag("loihi")
        force = a.flag("force")
        board = try a.option("board").map(Board.named)
        model = try a.positional("MODEL")
        program = try a.positional("PROGRAM")
        try a.finish()
    }

    /// Reference points from `sne eval --json` output (every model at its largest budget, gate or
    /// fixed order) or from CSV lines `LABEL,ACC %,µJ[,TEST IMAGES]` (`#` starts a comment).
    static func readRefs(_ path: String) throws -> [RefPoint] {
        let text: String
        do { text = String(decoding: try InputFile(path).readAll(max: 16 << 20, what: "a --refs file"), as: UTF8.self) }
        catch let e as DataError { throw CLIError.input(e.message) }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            struct Doc: Decodable { var models: [EvalReport] }
            guard let doc = try? JSONDecoder().decode(Doc.self, from: Data(text.utf8)) else {
                throw CLIError.input("\(path): not the JSON of sne eval --json (a 'models' list of reports)")
            }
            return doc.models.compactMap { m in
                let rows = m.rows.filter { $0.selection != "confidence" }
                guard let top = rows.filter({ $0.selection == "gate" }).max(by: { $0.budget < $1.budget }) ?? rows.max(by: { $0.budget < $1.budget }) else { return nil }
                let name = m.info["kind"] == "plain" ? "plain SNN" : ((m.model as NSString).deletingLastPathComponent as NSString).lastPathComponent
                return RefPoint(label: name.isEmpty ? m.model : name, accuracy: top.accuracy, energy: top.energyMicrojoules, images: m.samples)
            }
        }
        var out: [RefPoint] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            if l.isEmpty { continue }
            let f = l.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 3 || f.count == 4, !f[0].isEmpty, let acc = Double(f[1]), (0...100).contains(acc), let uj = Double(f[2]), uj >= 0,
                  f.count == 3 || Int(f[3]) != nil else {
                throw CLIError.input("\(path): line \(i + 1) is not LABEL,ACC %,µJ[,TEST IMAGES]: '\(CLIText.escaped(l))'")
            }
            out.append(RefPoint(label: f[0], accuracy: acc / 100, energy: uj, images: f.count == 4 ? Int(f[3]) : nil))
        }
        return out
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        let m = try ModelFiles.load(model)
        let p = try InputFiles.program(program)
        var test = try ModelFiles.images(data, split: "t10k", limit: limit, dataset: m.info["dataset"])
        let first = test.count >= DataFingerprint.images ? test : try ModelFiles.images(data, split: "t10k", limit: DataFingerprint.images, dataset: m.info["dataset"])
        try ModelFiles.checkData(m, path: model, test: first, force: force, err: &err)
        if let n = heldOut {
            guard let used = m.info["train.images"].flatMap({ Int($0) }) else {
                throw CLIError.input("\(CLIText.escaped(model)): the model does not record how many training images it used (trained before held-out splits existed); retrain it to use --held-out")
            }
            let train = try ModelFiles.images(data, split: "train", limit: used + n, dataset: m.info["dataset"])
            guard train.count == used + n else {
                throw CLIError.input("--held-out \(n): the model trained on the first \(used) of \(train.count) training images, so at most \(max(0, train.count - used)) are held out (train with --limit to hold out more)")
            }
            test = train.suffix(n)
            err.write("sne check: held-out split: training images \(used)…\(used + n - 1), not used in training\n")
        } else if let w = SubsetBalance.warning(labels: test.labels, classes: p.classes, what: "the first \(test.count) test images (--limit)") {
            err.write(w + "\n")
        }
        var mode: Check.Mode? = nil
        if loihi {
            do { mode = try Check.loihiMode(of: p) } catch let e as LoweringError { throw CLIError.failure("sne check --loihi: \(e.description)") }
        }
        var r: CheckResult
        do {
            r = try Check.run(model: m, program: p, data: test, margin: margin, energy: energy, activityImages: activity,
                              compute: ComputeContext(threads: threads), mode: mode)
        } catch let e as CompileError { throw CLIError.failure(e.message) } catch let e as SpikeIRError { throw CLIError.failure(e.description) }
        if !refs.isEmpty { r.references = refs.contains { $0.label == "teacher" } ? refs : r.references.filter { $0.label == "teacher" } + refs }
        for name in Target.names {
            guard let t = try? Target.named(name) else { continue }
            let mem = MemoryReport(p, target: t)
            r.memory.append(MemoryRow(target: name, flash: mem.flash, ram: mem.ram, arena: mem.arena, fits: mem.fitError == nil,
                                      note: "tables + descriptor and arena + context; runtime code and stack not included"))
        }
        r.instructions = instructions
        if let ic = instructions, ic.perBudget.count != p.students.count {
            throw CLIError.usage("sne check: --instructions gives \(ic.perBudget.count) counts, the program has K = \(p.students.count) budgets")
        }
        if let b = board {
            let f = try b.fit(p)
            r.memory.append(MemoryRow(target: "board \(b.name)", flash: f.flash, ram: f.ram, arena: MemoryReport(p, target: try Target.named(b.target)).arena,
                                      fits: f.fits, note: "board \(b.part): \(b.flash) B flash, \(b.ram) B RAM (datasheet); runtime code and stack " + (f.measured ? "included" : "not included")))
        }
        if let h = html {
            try InputFiles.writeAtomically(Array(CheckRender.html(r).utf8), path: h, flag: "--html")
        }
        out.write(json ? CheckRender.json(r) : CheckRender.table(r))
        if let h = html, !json { out.write("wrote \(h)\n") }
        if !r.problems.isEmpty { throw CLIError.failure(r.problems[0]) }
    }
}
