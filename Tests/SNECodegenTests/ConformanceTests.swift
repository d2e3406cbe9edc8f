// The Spike IR conformance vectors (Tests/SpikeIRTests/Vectors: program, input, golden outputs for
// every budget) on every target: logits, prediction, active list, trace hash and total counts
// must equal the golden JSON — compared with the file, not with the interpreter.
import Foundation
import Testing
@testable import SNECodegen
import SpikeIR

struct Golden { var program: Program; var input: [UInt8]; var results: [Int: DeviceResult] }

func loadGolden() throws -> [Golden] {
    let dir = checkoutRoot + "/Tests/SpikeIRTests/Vectors"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".expected.json") }.sorted()
    return try names.map { n in
        let j = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + n))) as! [String: Any]
        let p = try ProgramFile.read(path: dir + "/" + (j["program"] as! String))
        let x = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + (j["input"] as! String))))
        var rs: [Int: DeviceResult] = [:]
        for r in j["results"] as! [[String: Any]] {
            let tot = (r["counts"] as! [String: Any])["total"] as! [String: Any]
            func u(_ v: Any?) -> UInt32 { UInt32(truncatingIfNeeded: (v as! NSNumber).int64Value) }
            func u64(_ v: Any?) -> UInt64 { (v as! NSNumber).uint64Value }
            rs[(r["budget"] as! NSNumber).intValue] = DeviceResult(
                status: 0, prediction: (r["prediction"] as! NSNumber).intValue,
                active: (r["active"] as! [NSNumber]).map(\.intValue), hash: u(r["trace_hash"]),
                synops: u64(tot["synops"]), macs: u64(tot["macs"]), nu: u64(tot["neuron_updates"]),
                logits: (r["logits"] as! [NSNumber]).map { Int32(truncatingIfNeeded: $0.int64Value) })
        }
        return Golden(program: p, input: x, results: rs)
    }
}

@Suite("conformance vectors on every target", .serialized)
struct ConformanceTests {
    @Test("golden outputs, every budget", arguments: Target.names)
    func vectors(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        let gs = try loadGolden()
        try #require(!gs.isEmpty)
        var n = 0
        for (vi, g) in gs.enumerated() {
            if MemoryReport(g.program, target: t).fitError != nil { print("v\(vi) does not fit \(name)"); continue }
            let ks = g.results.keys.sorted()
            let dir = tempDir("conf-\(name)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let (got, _, _) = try Verifier.runDevice(g.program, target: t, inputs: [g.input], budgets: ks,
                                                    mode: vi % 2 == 0 ? .specialized : .blob, dir: dir, count: false)
            for k in ks {
                #expect(got["0 \(k)"] == g.results[k], "\(name) vector \(vi) budget \(k): got \(String(describing: got["0 \(k)"])) want \(String(describing: g.results[k]))")
                n += 1
            }
        }
        print("conformance \(name): \(gs.count) vectors, \(n) (vector, budget) results equal the golden files")
    }
}
