// The shared-stem passes over programs (spec §4.1): `share` moves the students' common first ops
// into the program's stem, computed once; `expand` puts the stem back into every student that
// uses it. The two programs compute the same logits, predictions and spikes; they differ in the
// counts (the stem is paid once, or once per student) and in the trace hash (spec §8).
import SpikeIR

public enum StemSharing {
    /// The program with the first `n` ops of every student moved into its stem, each student then
    /// starting with `stem`. Those ops must be the same in every student (a compiler whose students
    /// share frozen first layers lowers them identically), start with an input op and end with an
    /// op whose output is spikes.
    public static func share(_ p: Program, ops n: Int) throws -> Program {
        guard p.stem == nil else { throw LoweringError("the program already has a stem") }
        guard let first = p.students.first, n >= 2, n < first.ops.count else {
            throw LoweringError("a stem of \(n) ops needs students with more than \(n) ops")
        }
        let stem = Array(first.ops.prefix(n))
        guard stem.last?.outputIsSpikes == true else {
            throw LoweringError("op \(n - 1) (\(stem[n - 1].name)) does not output spikes: a stem must end in a spike op (spec §4.1)")
        }
        for (k, s) in p.students.enumerated() where Array(s.ops.prefix(n)) != stem {
            let j = (0..<min(s.ops.count, n)).first { s.ops[$0] != stem[$0] } ?? min(s.ops.count, n)
            throw LoweringError("student \(k) op \(j) differs from student 0's: the students do not share their first \(n) ops")
        }
        var q = p
        q.stem = stem
        for k in q.students.indices { q.students[k].ops = [.stem] + q.students[k].ops.dropFirst(n) }
        return q
    }

    /// The same program without a stem: every student whose op 0 is `stem` gets the stem's ops in
    /// its place. A program without a stem is returned unchanged.
    public static func expand(_ p: Program) -> Program {
        guard let stem = p.stem else { return p }
        var q = p
        q.stem = nil
        for k in q.students.indices where q.students[k].ops.first == .stem {
            q.students[k].ops = stem + q.students[k].ops.dropFirst()
        }
        return q
    }
}
