// The readable text dump of a program (spec §10): one line per section and op.

extension Leak: CustomStringConvertible {
    public var description: String {
        switch self {
        case .none: "none"
        case .mulShift(let m, let s): "mulshift(\(m),\(s))"
        case .shift(let s): "shift(\(s))"
        }
    }
}

public enum Dump {
    /// A per-channel / per-feature array: one value if all entries are equal, else the list
    /// (the first 8 and a count beyond that), e.g. `200`, `[200,180,…(16)]`.
    static func list<T: BinaryInteger>(_ a: [T]) -> String {
        guard let f = a.first else { return "[]" }
        if a.allSatisfy({ $0 == f }) { return "\(f)" }
        let head = a.prefix(8).map { "\($0)" }.joined(separator: ",")
        return a.count > 8 ? "[\(head),…(\(a.count))]" : "[\(head)]"
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    /// The dump text of spec §10 (ends with a newline).
    public static func text(_ p: Program) -> String {
        var out = "program \(p.name)  version \(Program.versionMajor).\(p.fileVersionMinor)  input \(p.input)  T=\(p.timesteps)  K=\(p.students.count)  classes=\(p.classes)  select=\(p.selection)"
        out += "  stop=" + (p.stopMargin.map { "margin(\($0))" } ?? "off")
        if p.selection == .fixed { out += "  order=\(p.order.map(String.init).joined(separator: ","))" }
        if p.inputZeroPoint.contains(where: { $0 != 0 }) { out += "  zero_point=\(p.inputZeroPoint.map(String.init).joined(separator: ","))" }
        out += "\n"
        if let g = p.gate {
            out += "gate  pool=\(g.pool)"
            for (l, layer) in g.layers.enumerated() {
                out += "  dense \(layer.inputs)->\(layer.outputs)"
                if l < g.layers.count - 1 { out += " mult=\(layer.mult) shift=\(layer.shift) relu" }
            }
            out += "\n"
        }
        func opLines(_ ops: [Op], input: Shape) {
            var shape = input
            for (j, op) in ops.enumerated() {
                let o = op.outputShape(shape)
                var line = "  \(j) " + pad(op.name, 13)
                line += op.dumpText(input: shape, output: o, timesteps: p.timesteps)   // Op.swift
                out += line + "\n"
                shape = o
            }
        }
        if let st = p.stem {                                   // spec §10: the shared stem, before the students
            out += "stem  ops=\(st.count)\n"
            opLines(st, input: p.input)
        }
        for (k, s) in p.students.enumerated() {
            out += "student \(k)  features=\(s.features)  feat_mult=\(Dump.list(s.featMult)) feat_shift=\(Dump.list(s.featShift))\n"
            opLines(s.ops, input: p.studentInput(s))
        }
        out += "head  classes=\(p.classes)  F=[\(p.students.map { String($0.features) }.joined(separator: ","))]\n"
        for e in p.meta.entries { out += "meta  \(Meta.printable(e.key, limit: .max))=\(Meta.printable(e.value, limit: .max))\n" }
        return out
    }
}
