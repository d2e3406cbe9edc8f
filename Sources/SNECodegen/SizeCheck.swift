// Checks a MemoryReport against the target toolchain's `size -A` of the emitted <name>.c object.
import Foundation
import SpikeIR

public struct SectionSizes: Sendable, Equatable {
    public var flashTables = 0   // .rodata* / .progmem* (SNE_FLASH arrays)
    public var data = 0          // .data* (the sne_model descriptor)
    public var bss = 0           // .bss* (context + arena)
}

public enum SizeCheck {
    /// Compiles the emitted model file of `p` for `t` (its own CFLAGS + -fdata-sections) and sums `size -A` sections.
    public static func measure(_ p: Program, target t: Target, mode: EmitMode = .specialized) throws -> SectionSizes {
        try t.requireToolchain()
        let dir = NSTemporaryDirectory() + "sne-size-\(t.name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let em = CEmitter(p, mode: mode)
        for (name, text) in try em.files() { try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        let v = try RuntimeMeasure.vars(t)
        let flags = (v["CFLAGS"] ?? "").split(separator: " ").map(String.init) + (v["PORT_INCS"] ?? "").split(separator: " ").map(String.init)
        let obj = dir + "/model.o"
        let r = try Shell.run([v["CC"] ?? t.compiler] + flags + ["-fdata-sections", "-DSNE_USE_TARGET_PORT", "-I" + dir, "-c", dir + "/\(p.name).c", "-o", obj])
        guard r.status == 0 else { throw CodegenError.failure("compiling \(p.name).c for \(t.name) failed: \(r.stderr.split(separator: "\n").first { $0.contains("error") } ?? "")") }
        return parse(try Shell.run([t.sizeTool, "-A", obj]).stdout)
    }

    /// Sums the sections of one object's `size -A` output into flash tables, .data and .bss.
    public static func parse(_ sizeA: String) -> SectionSizes {
        var out = SectionSizes()
        for l in sizeA.split(separator: "\n") {
            let f = l.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 2, let n = Int(f[1]) else { continue }
            let name = f[0]
            if name.hasPrefix(".rodata") || name.hasPrefix(".progmem") || name.hasPrefix(".srodata") { out.flashTables += n }
            else if name.hasPrefix(".data") || name.hasPrefix(".sdata") { out.data += n }
            else if name.hasPrefix(".bss") || name.hasPrefix(".sbss") { out.bss += n }
        }
        return out
    }

    /// Nil when the report equals `size`; else one line naming the differing section.
    public static func compare(_ m: MemoryReport, _ s: SectionSizes) -> String? {
        var d: [String] = []
        if m.tables != s.flashTables { d.append("flash tables report \(m.tables) vs size \(s.flashTables)") }
        if m.descriptor != s.data { d.append("descriptor (.data) report \(m.descriptor) vs size \(s.data)") }
        if m.state != s.bss { d.append("context+arena (.bss) report \(m.state) vs size \(s.bss)") }
        return d.isEmpty ? nil : "\(m.target): " + d.joined(separator: "; ")
    }
}
