// Hand-computed cases, kept as data: Cases/primitives.txt (spec §1) and Cases/programs.json
// (every op, rounding of negatives, 16/32-bit saturation, gate and argmax ties, budget
// rejection, T = 1, confidence stop). Each case carries its expected value and the reason.
import Foundation
import Testing
@testable import SpikeIR

let casesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Cases")

struct CaseError: Error, CustomStringConvertible { let description: String }

/// Builds a Program from the compact JSON schema described in programs.json's "about".
func programFromCase(_ c: [String: Any]) throws -> Program {
    func ints(_ v: Any?) -> [Int] { (v as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }
    func i8(_ v: Any?) -> [Int8] { ints(v).map { Int8($0) } }
    func i32(_ v: Any?) -> [Int32] { ints(v).map { Int32($0) } }
    func int(_ v: Any?) -> Int { (v as? NSNumber)?.intValue ?? 0 }
    let shape = ints(c["shape"])
    var students: [Student] = []
    let input = Shape(h: shape[0], w: shape[1], c: shape[2])
    for s in c["students"] as? [[String: Any]] ?? [] {
        var ops: [Op] = []
        var cur = input
        for o in s["ops"] as? [[Any]] ?? [] {
            let kind = o[0] as? String ?? ""
            switch kind {
            case "input_dense", "dense":
                let d = Dense(out: int(o[1]), shift: int(o[2]), weights: i8(o[3]), bias: i32(o[4]))
                ops.append(kind == "dense" ? .dense(d) : .inputDense(d))
            case "input_conv2d", "conv2d":
                let cv = Conv2D(cout: int(o[1]), kh: int(o[2]), kw: int(o[3]), stride: int(o[4]), pad: int(o[5]),
                                shift: int(o[6]), weights: i8(o[7]), bias: i32(o[8]))
                ops.append(kind == "conv2d" ? .conv2D(cv) : .inputConv2D(cv))
            case "lif":
                var leak = Leak.none
                if let l = o[4] as? [Any], let k = l.first as? String {
                    leak = k == "mulshift" ? .mulShift(mult: int(l[1]), shift: int(l[2])) : .shift(int(l[1]))
                }
                // theta: one number for every channel, or one per channel (spec §3.5)
                let thetas = o[1] is [Any] ? i32(o[1]) : [Int32](repeating: Int32(int(o[1])), count: cur.c)
                ops.append(.lif(LIF(stateBits: int(o[2]), thetas: thetas,
                                    reset: (o[3] as? String) == "zero" ? .zero : .subtract, leak: leak)))
            case "maxpool": ops.append(.maxPool(size: int(o[1])))
            case "avgpool": ops.append(.avgPool(size: int(o[1])))
            case "flatten": ops.append(.flatten)
            case "readout": ops.append(.readout)
            default: throw CaseError(description: "unknown op \(kind)")
            }
            cur = ops[ops.count - 1].outputShape(cur)
        }
        // feat: [mult, shift] for every feature, or [[mult per feature], [shift per feature]] (spec §4)
        let fe = s["feat"] as? [Any] ?? []
        if fe.first is [Any] {
            students.append(Student(ops: ops, features: int(s["features"]), featMult: i32(fe[0]), featShift: ints(fe[1])))
        } else {
            let feat = ints(fe)
            students.append(Student(ops: ops, features: int(s["features"]), featMult: Int32(feat[0]), featShift: feat[1]))
        }
    }
    var gate: Gate? = nil
    if let g = c["gate"] as? [String: Any] {
        gate = Gate(pool: int(g["pool"]), layers: (g["layers"] as? [[Any]] ?? []).map {
            GateLayer(inputs: int($0[0]), outputs: int($0[1]), weights: i8($0[4]), bias: i32($0[5]),
                      mult: Int32(int($0[2])), shift: int($0[3]))
        })
    }
    return Program(name: String(((c["name"] as? String) ?? "case").prefix(31)), input: input,
                   timesteps: int(c["T"]), classes: int(c["classes"]),
                   selection: (c["select"] as? String) == "gate" ? .gate : .fixed, order: ints(c["order"]),
                   stopMargin: c["stop"].map { Int32(int($0)) }, gate: gate, students: students,
                   head: Head(bias: i32(c["head_bias"]), weights: (c["head_w"] as? [Any] ?? []).map { i8($0) }),
                   inputZeroPoint: c["zero_point"].map { ints($0).map { UInt8($0) } })
}

func loadProgramCases() throws -> [[String: Any]] {
    let data = try Data(contentsOf: casesDir.appendingPathComponent("programs.json"))
    let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return root?["cases"] as? [[String: Any]] ?? []
}

@Suite struct HandCasesTests {
    @Test func primitives() throws {
        let text = try String(contentsOf: casesDir.appendingPathComponent("primitives.txt"), encoding: .utf8)
        var n = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: "|", maxSplits: 1)
            let lhs = parts[0].split(separator: "=")
            let words = lhs[0].split(separator: " ").map(String.init)
            let expected = Int64(lhs[1].trimmingCharacters(in: .whitespaces))!
            let a = words.dropFirst().map { Int64($0)! }
            let got: Int64
            switch words[0] {
            case "rshr":
                got = Fixed.rshr(a[0], Int(a[1]))
                if let x = Int32(exactly: a[0]) { #expect(Int64(Fixed.rshr(x, Int(a[1]))) == expected, "\(line) (int32)") }
            case "floor_shr": got = Fixed.floorShr(a[0], Int(a[1]))
            case "satw": got = Fixed.satw(a[0], Int(a[1]))
            case "requant": got = Fixed.requant(Int32(a[0]), Int32(a[1]), Int(a[2]), a[3], a[4])
            case "leak_mulshift": got = Fixed.leakMulShift(a[0], a[1], Int(a[2]))
            case "leak_shift": got = Fixed.leakShift(a[0], Int(a[1]))
            default: Issue.record("unknown primitive in: \(line)"); continue
            }
            #expect(got == expected, "\(line)")
            n += 1
        }
        #expect(n >= 45)
    }

    @Test func programCases() throws {
        let cases = try loadProgramCases()
        #expect(cases.count >= 30)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let p = try programFromCase(c)
            let x = ((c["input"] as? [NSNumber]) ?? []).map { UInt8($0.intValue) }
            let k = (c["budget"] as? NSNumber)?.intValue ?? 1
            // every case program must also survive the file format
            #expect(try ProgramFile.decode(ProgramFile.encode(p)) == p, "\(name): round trip")
            let interp = try Interpreter(p)
            if let err = c["expect_error"] as? String {
                do {
                    _ = try interp(x, budget: k)
                    Issue.record("\(name): expected a \(err) error")
                } catch let e as SpikeIRError {
                    switch (err, e) {
                    case ("budget", .budget), ("input", .inputSize): break
                    default: Issue.record("\(name): wrong error \(e)")
                    }
                    #expect(!e.description.isEmpty && !e.description.contains("\n"))
                }
                continue
            }
            let r = try interp(x, budget: k, trace: true)
            let e = c["expect"] as? [String: Any] ?? [:]
            func ints(_ key: String) -> [Int]? { (e[key] as? [NSNumber])?.map(\.intValue) }
            if let v = ints("logits") { #expect(r.logits.map(Int.init) == v, "\(name) logits") }
            if let v = (e["prediction"] as? NSNumber)?.intValue { #expect(r.prediction == v, "\(name) prediction") }
            if let v = ints("active") { #expect(r.active == v, "\(name) active") }
            if let v = ints("gate_scores") { #expect(r.gateScores.map(Int.init) == v, "\(name) gate scores") }
            let first = r.trace?.students.first
            if let v = ints("f") { #expect(first?.features.map(Int.init) == v, "\(name) features") }
            if let v = ints("v_last") { #expect(first?.steps.last?.first?.membranes.map(Int.init) == v, "\(name) membranes") }
            if let v = ints("total") {
                let t = r.total
                #expect([t.synops, t.macs, t.neuronUpdates] == v, "\(name) counts")
            }
        }
    }
}
