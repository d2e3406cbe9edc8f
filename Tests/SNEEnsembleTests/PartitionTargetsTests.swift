// Partitions of the teacher features, the teacher-target readers (.npy, .safetensors) and their errors.
import Testing
import Foundation
import SNEData
@testable import SNEEnsemble

@Suite struct PartitionTests {
    @Test(arguments: ["contiguous", "random", "informed", "spread"])
    func partitionsCoverEveryDimOnceInBalancedGroups(_ kind: String) throws {
        let n = 200, d = 10
        var rng = DataRNG(seed: 3)
        let x = (0..<(n * d)).map { _ in Float(rng.next() % 1000) / 1000 }
        let g = try Partition.make(kind, dims: d, groups: 3, features: x, samples: n, seed: 1)
        #expect(g.count == 3 && g.map(\.count).sorted() == [3, 3, 4])
        #expect(g.flatMap { $0 }.sorted() == Array(0..<d))
    }

    @Test func contiguousIsInOrder() throws {
        #expect(try Partition.make("contiguous", dims: 6, groups: 2, seed: 0) == [[0, 1, 2], [3, 4, 5]])
    }

    /// Three clusters of dims, each a noisy copy of one hidden signal: the informed partition
    /// recovers them exactly; contiguous (the dims are interleaved) does not.
    @Test func informedRecoversCorrelatedClusters() throws {
        let n = 500, d = 9
        var rng = DataRNG(seed: 9)
        func u() -> Float { Float(rng.next() % 10_000) / 10_000 - 0.5 }
        var x = [Float](repeating: 0, count: n * d)
        for r in 0..<n {
            let s = [u(), u(), u()]
            for j in 0..<d { x[r * d + j] = s[j % 3] + 0.1 * u() }   // dim j follows signal j mod 3
        }
        let g = try Partition.make("informed", dims: d, groups: 3, features: x, samples: n, seed: 1)
        #expect(Set(g) == Set([[0, 3, 6], [1, 4, 7], [2, 5, 8]]))
        let c = Partition.absCorrelation(x, n: n, d: d)
        let inf = Partition.coherence(g, correlation: c), con = Partition.coherence(try Partition.make("contiguous", dims: d, groups: 3, seed: 0), correlation: c)
        #expect(inf.within > 0.9 && inf.across < 0.2 && con.within < inf.within)
        // spread deals each cluster across the groups: every group holds one dim of each signal
        let sp = try Partition.make("spread", dims: d, groups: 3, features: x, samples: n, seed: 1)
        for grp in sp { #expect(Set(grp.map { $0 % 3 }) == [0, 1, 2], "\(sp)") }
        #expect(Partition.coherence(sp, correlation: c).within < 0.2)
    }

    @Test func badPartitionsAreErrors() {
        #expect(throws: SNEError.self) { try Partition.make("clever", dims: 4, groups: 2, seed: 0) }
        #expect(throws: SNEError.self) { try Partition.make("contiguous", dims: 2, groups: 3, seed: 0) }
        #expect(throws: SNEError.self) { try Partition.make("informed", dims: 4, groups: 2, features: [1, 2], samples: 1, seed: 0) }
    }
}

@Suite struct TeacherTargetTests {
    func tmp(_ name: String) -> String { FileManager.default.temporaryDirectory.appendingPathComponent("sne-tt-\(getpid())-\(name)").path }

    @Test func npyTargetsLoadAndMismatchesAreNamed() throws {
        let f = tmp("f.npy"), l = tmp("l.npy")
        defer { try? FileManager.default.removeItem(atPath: f); try? FileManager.default.removeItem(atPath: l) }
        try NPY.write(.float32((0..<12).map(Float.init), shape: [3, 4]), to: f)
        try NPY.write(.float32((0..<6).map(Float.init), shape: [3, 2]), to: l)
        let t = try TeacherTargets.load(features: f, logits: l, samples: 3, classes: 2)
        #expect(t.dims == 4 && t.features[5] == 5 && t.logits[3] == 3)
        #expect { try TeacherTargets.load(features: f, logits: l, samples: 4, classes: 2) } throws: {
            ($0 as? SNEError)?.message == "\(f): 3 rows of teacher features (--teacher-features), but the training set has 4 images"
        }
        #expect { try TeacherTargets.load(features: f, logits: l, samples: 3, classes: 10) } throws: {
            ($0 as? SNEError)?.message == "\(l): teacher logits have 2 classes, the dataset has 10"
        }
        try NPY.write(.int32([1, 2, 3], shape: [3]), to: l)
        #expect { try TeacherTargets.load(features: f, logits: l, samples: 3, classes: 2) } throws: {
            ($0 as? SNEError)?.message == "\(l): the array is int32 ('<i4'); teacher outputs must be float32 ('<f4'): save them with .astype(np.float32)"
        }
    }

    @Test func safetensorsRoundTripAndErrors() throws {
        let bytes = SafeTensors.encode([("features", [2, 3], [1, 2, 3, 4, 5, 6]), ("logits", [2, 2], [0.5, -1, 2, 3])])
        let t = try SafeTensors.decode(bytes, source: "x.safetensors")
        #expect(t["features"]?.shape == [2, 3] && t["features"]?.data == [1, 2, 3, 4, 5, 6] && t["logits"]?.data == [0.5, -1, 2, 3])
        #expect(throws: SNEError.self) { try SafeTensors.decode(Array(bytes.prefix(5)), source: "x") }
        var bad = bytes; bad[0] = 0xFF; bad[1] = 0xFF
        #expect(throws: SNEError.self) { try SafeTensors.decode(bad, source: "x") }
        // A tensor whose offsets run past the data.
        let trunc = Array(bytes.dropLast(4))
        #expect(throws: SNEError.self) { try SafeTensors.decode(trunc, source: "x") }
        // float16: 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal 0x0001 = 2^-24.
        #expect(Float(halfBits: 0x3C00) == 1 && Float(halfBits: 0xC000) == -2 && Float(halfBits: 0x0001) == 0x1p-24)
    }
}
