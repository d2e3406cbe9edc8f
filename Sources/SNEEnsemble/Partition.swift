// Partitions of the teacher's D feature dimensions into K groups, one per student:
// contiguous, random, informed (dims clustered by correlation into K balanced groups), and spread
// (the informed clusters dealt out across the students: correlated dims in different students).
import Foundation
import SNEData

public enum Partition {
    /// `kind` ∈ {contiguous, random, informed, spread}; `features` is `[N, D]` row-major (informed
    /// and spread only).
    /// Groups differ in size by at most one; every dim is in exactly one group, sorted within it.
    public static func make(_ kind: String, dims d: Int, groups k: Int, features: [Float] = [], samples n: Int = 0, seed: UInt64) throws -> [[Int]] {
        guard k >= 1, d >= k else { throw SNEError("partition: cannot split \(d) teacher features into \(k) groups") }
        let sizes = (0..<k).map { d / k + ($0 < d % k ? 1 : 0) }
        switch kind {
        case "contiguous":
            var out: [[Int]] = [], start = 0
            for s in sizes { out.append(Array(start..<(start + s))); start += s }
            return out
        case "random":
            var rng = DataRNG(seed: seed &+ 0xBA11)   // its own stream, independent of training
            var perm = Array(0..<d)
            for i in stride(from: d - 1, to: 0, by: -1) { perm.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var out: [[Int]] = [], start = 0
            for s in sizes { out.append(perm[start..<(start + s)].sorted()); start += s }
            return out
        case "informed", "spread":
            guard n >= 2, features.count == n * d else { throw SNEError("\(kind) partition: needs the teacher features of ≥ 2 samples") }
            let c = absCorrelation(features, n: n, d: d)
            return kind == "informed" ? informed(correlation: c, sizes: sizes) : spread(correlation: c, sizes: sizes)
        default:
            throw SNEError("partition '\(kind)': must be contiguous, random, informed or spread")
        }
    }

    /// `|corr(i, j)|` of the D columns of `[N, D]` (a constant column has correlation 0 with all others).
    public static func absCorrelation(_ x: [Float], n: Int, d: Int) -> [Double] {
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { mean[j] += Double(x[r * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var cov = [Double](repeating: 0, count: d * d)
        var row = [Double](repeating: 0, count: d)
        for r in 0..<n {
            for j in 0..<d { row[j] = Double(x[r * d + j]) - mean[j] }
            for i in 0..<d where row[i] != 0 { let a = row[i]; for j in i..<d { cov[i * d + j] += a * row[j] } }
        }
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in i..<d {
            let den = (cov[i * d + i] * cov[j * d + j]).squareRoot()
            let v = den > 0 ? abs(cov[i * d + j]) / den : (i == j ? 1 : 0)
            c[i * d + j] = v; c[j * d + i] = v
        } }
        return c
    }

    /// Balanced correlation clustering: K seeds chosen far apart (each next seed the dim least
    /// correlated with the seeds so far), then dims joined one at a time, always the (dim, group)
    /// pair with the highest mean |corr| to the group's members among groups with room.
    public static func informed(correlation c: [Double], sizes: [Int]) -> [[Int]] {
        clusters(correlation: c, sizes: sizes).map { $0.sorted() }
    }

    /// The opposite of `informed`: the informed clusters, each in the order its dims joined
    /// (most central first), are laid end to end and dealt round-robin to the K groups (the next
    /// group with room), so every student gets a share of every correlated cluster and the dims
    /// of one student are as unlike each other as the clustering can make them.
    public static func spread(correlation c: [Double], sizes: [Int]) -> [[Int]] {
        let k = sizes.count
        var out = [[Int]](repeating: [], count: k)
        var g = 0
        for i in clusters(correlation: c, sizes: sizes).flatMap({ $0 }) {
            while out[g].count >= sizes[g] { g = (g + 1) % k }
            out[g].append(i)
            g = (g + 1) % k
        }
        return out.map { $0.sorted() }
    }

    /// `informed`'s clusters with each cluster's dims in the order they joined.
    static func clusters(correlation c: [Double], sizes: [Int]) -> [[Int]] {
        let k = sizes.count, d = Int(Double(c.count).squareRoot())
        // First seed: the dim most correlated with all others (the centre of the largest cluster).
        var first = 0, bestSum = -1.0
        for i in 0..<d { let s = (0..<d).reduce(0.0) { $0 + c[i * d + $1] }; if s > bestSum { bestSum = s; first = i } }
        var groups: [[Int]] = [[first]]
        var used = Set([first])
        while groups.count < k {
            var pick = -1, best = Double.infinity
            for i in 0..<d where !used.contains(i) {
                let m = groups.map { c[i * d + $0[0]] }.max()!
                if m < best { best = m; pick = i }
            }
            groups.append([pick]); used.insert(pick)
        }
        var sum = [[Double]](repeating: [Double](repeating: 0, count: d), count: k)   // Σ|corr| of dim to group g
        for g in 0..<k { for i in 0..<d { sum[g][i] = c[i * d + groups[g][0]] } }
        while used.count < d {
            var bi = -1, bg = -1, best = -1.0
            for g in 0..<k where groups[g].count < sizes[g] {
                let inv = 1 / Double(groups[g].count)
                for i in 0..<d where !used.contains(i) {
                    let v = sum[g][i] * inv
                    if v > best { best = v; bi = i; bg = g }
                }
            }
            groups[bg].append(bi); used.insert(bi)
            for i in 0..<d { sum[bg][i] += c[i * d + bi] }
        }
        return groups
    }

    /// Mean |corr| between dims in the same group and in different groups (the "disentanglement"
    /// of a partition: high within, low across).
    public static func coherence(_ groups: [[Int]], correlation c: [Double]) -> (within: Double, across: Double) {
        let d = Int(Double(c.count).squareRoot())
        var g = [Int](repeating: 0, count: d)
        for (k, grp) in groups.enumerated() { for i in grp { g[i] = k } }
        var w = 0.0, wn = 0, a = 0.0, an = 0
        for i in 0..<d { for j in (i + 1)..<max(d, i + 1) {
            if g[i] == g[j] { w += c[i * d + j]; wn += 1 } else { a += c[i * d + j]; an += 1 }
        } }
        return (wn > 0 ? w / Double(wn) : 0, an > 0 ? a / Double(an) : 0)
    }
}
