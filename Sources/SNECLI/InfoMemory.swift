// Memory lines for `sne info`: flash and RAM needs of the emitted C (owned by the codegen work).
import Foundation
import SNECodegen
import SpikeIR

/// Lines describing the exact flash/RAM the emitted C (specialized mode) needs for `program` on
/// every target (host and each MCU): tables and descriptor in flash; arena, context and descriptor in RAM.
func memoryLines(for program: Program) -> [String] {
    var lines: [String] = []
    for name in Target.names {   // every target, host included
        guard let t = try? Target.named(name) else { continue }
        let m = MemoryReport(program, target: t)
        lines.append("memory \(name): flash tables \(m.tables) B + descriptor \(m.descriptor) B; RAM arena \(m.arena) B + context \(m.state - m.arena) B + descriptor \(m.descriptor) B (+ runtime code and stack: see sne compile)"
                     + (m.fitError.map { "; " + $0 } ?? ""))
    }
    return lines
}
