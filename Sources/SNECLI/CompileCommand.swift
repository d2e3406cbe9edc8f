// `sne compile`: emit C99 for a target from a program.
import Foundation
import SNECodegen
import SpikeIR

struct CompileCommand: Command {
    static let name = "compile"
    static let summary = "emit C99 for a target from a program"
    static let usage = """
        usage: sne compile PROGRAM --target T -o DIR [--mode specialized|blob]
          writes DIR/<name>.h, <name>.c, the sne runtime files, Makefile and CMakeLists.txt
          (built in a temporary directory, then renamed; an existing DIR is replaced only if
          sne wrote it). Prints the exact memory report; refuses a program too large for T.
          --target   host, cortex-m4, cortex-m3, riscv32, avr, or loihi (a Loihi-mode program as
                     .npy arrays + model.json + a Lava runner script; docs/neuromorphic.md)
          --mode     specialized (const tables + descriptor, default) or blob (.snep image
                     validated by sne_blob_load at init; swap it to update the model)
        """
    let program: String, target: String, out: String, mode: EmitMode
    init(_ args: Arguments) throws {
        var a = args
        guard let t = try a.option("target") else { throw CLIError.usage("sne compile: --target is required (host, cortex-m4, cortex-m3, riscv32, avr)") }
        target = t
        var o = try a.option("output")
        let m = try a.option("mode") ?? "specialized"
        guard let md = EmitMode(rawValue: m) else { throw CLIError.usage("sne compile: --mode must be specialized or blob, got '\(m)'") }
        mode = md
        // `-o DIR` arrives as two positionals (the parser only knows `--` flags).
        var pos: [String] = []
        while let x = a.optionalPositional() {
            if x == "-o" {
                guard let d = a.optionalPositional() else { throw CLIError.usage("sne compile: -o needs a directory") }
                if o != nil { throw CLIError.usage("sne compile: -o given more than once") }
                o = d
            } else { pos.append(x) }
        }
        try a.finish()
        guard let outDir = o else { throw CLIError.usage("sne compile: -o DIR is required") }
        guard pos.count == 1 else {
            throw CLIError.usage(pos.isEmpty ? "sne compile: missing PROGRAM (see 'sne compile --help')" : "sne compile: unexpected argument '\(pos[1])'")
        }
        out = outDir
        program = pos[0]
    }

    func run(out o: inout TextSink, err: inout TextSink) throws {
        if target == "loihi" { return try LoihiCommands.compile(program, out: self.out, &o) }   // LoihiCommands.swift
        let p = try InputFiles.program(program)
        let t = try cliTarget(target)
        let rm = t.toolchainPresent ? try? RuntimeMeasure.runtime(t, mode: mode) : nil
        let mem = MemoryReport(p, target: t, mode: mode, runtimeCode: rm?.code, stack: rm?.stack)
        if let e = mem.fitError { throw CLIError.failure(e) }
        do { try CEmitter(p, mode: mode).write(to: out) } catch let e as CodegenError { throw CLIError.failure(e.description) }
        o.write("wrote \(out)/\(p.name).h, \(p.name).c (+ runtime, Makefile, CMakeLists.txt), mode \(mode.rawValue)\n")
        for l in mem.lines { o.write(l + "\n") }
        if rm == nil { o.write("(runtime code and stack not measured: \(t.compiler) not installed)\n") }
    }
}

/// A target by name, as a CLI error when unknown.
func cliTarget(_ name: String) throws -> Target {
    do { return try Target.named(name) } catch let e as CodegenError { throw CLIError.usage(e.description) }
}
