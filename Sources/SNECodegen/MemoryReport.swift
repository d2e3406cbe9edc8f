// The exact memory report of an emitted model, per target (flash: tables + descriptor; RAM: arena
// + context [+ the descriptor on AVR, where const data without SNE_FLASH is copied to RAM]).
// Checked against the real toolchain's `size` of the emitted <name>.c in the test suite.
import SpikeIR

public struct MemoryReport: Sendable, Equatable {
    public var target: String
    /// The `SNE_FLASH` const arrays: op/student/gate descriptors, int32 table, int8 table (exact sum of their sizes).
    public var tables: Int
    /// `sne_model` (in .data: RAM, plus its flash copy, on every target).
    public var descriptor: Int
    /// `.bss` of the model file: sne_ctx + arena.
    public var state: Int
    public var arena: Int
    /// Runtime code + constants (measured by compiling runtime-c for the target), nil if unknown.
    public var runtimeCode: Int?
    /// Stack bound (measured with -fstack-usage along the runtime's call chain), nil if unknown.
    public var stack: Int?
    public var flashBudget: Int
    public var ramBudget: Int
    /// Largest single table in bytes (AVR: one object may not exceed 32767 bytes).
    public var largestTable: Int
    public var maxObject: Int

    /// Flash = tables + descriptor (initializer of .data) + runtime code.
    public var flash: Int { tables + descriptor + (runtimeCode ?? 0) }
    /// RAM = state + descriptor (.data) + stack.
    public var ram: Int { state + descriptor + (stack ?? 0) }

    public init(_ p: Program, target t: Target, mode: EmitMode = .specialized, runtimeCode: Int? = nil, stack: Int? = nil) {
        let m = ModelTables(p)
        target = t.name
        let tab = ModelTables.opDescriptorBytes * m.ops.count + ModelTables.studentDescriptorBytes * m.students.count
            + ModelTables.gateLayerDescriptorBytes * m.gate.count + 4 * m.b32.count + m.w8.count
        tables = tab
        largestTable = max(m.w8.count, 4 * m.b32.count, ModelTables.opDescriptorBytes * m.ops.count)
        maxObject = t.name == "avr" ? 32767 : Int.max
        descriptor = 5 * t.flashPointerBytes + 14 * 4 + 16 + 16   // pointers, u32 fields (incl. stem_op0, stem_nops), order[16], zero_point[16]
        if t.pointerBytes == 8 { descriptor = (descriptor + 7) & ~7 }
        arena = max(ArenaPlan.arenaBytes(p), 4)
        let ctx = 6 * t.pointerBytes   // sne_ctx: m, arena, arena_bytes, trace, trace_user, op_counts
        var st = ctx + arena
        if t.pointerBytes == 8 { st = (st + 7) & ~7 }
        state = st
        if mode == .blob {
            // flash: the .snep image; RAM: sne_blob (model + 16 students + 4 gate layers + err_offset + name)
            // and the op descriptor storage, next to the context and arena.
            let image = (try? ProgramFile.encode(p).count) ?? 0
            tables = image
            largestTable = image
            var blob = descriptor + 16 * ModelTables.studentDescriptorBytes + 4 * ModelTables.gateLayerDescriptorBytes + 4 + 32
            if t.pointerBytes == 8 { blob = (blob + 7) & ~7 }
            state += blob + ModelTables.opDescriptorBytes * m.ops.count
            descriptor = 0
        }
        self.runtimeCode = runtimeCode
        self.stack = stack
        flashBudget = t.flashBytes; ramBudget = t.ramBytes
    }

    /// Human-readable lines (for `sne info`, `sne compile`).
    public var lines: [String] {
        var l = ["memory (\(target)): flash \(flash) B = tables \(tables) + descriptor \(descriptor)" + (runtimeCode.map { " + runtime code \($0)" } ?? "")
                 + (flashBudget > 0 ? " (budget \(flashBudget))" : ""),
                 "memory (\(target)): RAM \(ram) B = arena \(arena) + context \(state - arena) + descriptor \(descriptor)"
                 + (stack.map { " + stack \($0)" } ?? "") + (ramBudget > 0 ? " (budget \(ramBudget))" : "")]
        if let e = fitError { l.append(e) }
        return l
    }

    /// Nil when the model fits the board; else one line with the numbers.
    public var fitError: String? {
        var why: [String] = []
        if largestTable > maxObject { why.append("its largest table is \(largestTable) B > \(maxObject) B, avr-gcc's limit for one object (tables are not split into chunks yet)") }
        if flashBudget > 0 && flash > flashBudget { why.append("flash needs \(flash) B > \(flashBudget) B") }
        if ramBudget > 0 && ram > ramBudget { why.append("RAM needs \(ram) B (arena \(arena) + context \(state - arena) + descriptor \(descriptor)\(stack.map { " + stack \($0)" } ?? "")) > \(ramBudget) B") }
        return why.isEmpty ? nil : "program too large for \(target): " + why.joined(separator: "; ")
    }
}
