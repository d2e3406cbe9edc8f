// The one error type of the Spike IR module: every failure is one line (spec §9 "Loading").

/// A Spike IR failure. `description` is a single line; loader and validator errors name the field
/// and its byte offset in the program file (spec §9), e.g.
/// `student 2 op 3 (conv2d) kh at byte 1184: 0, must be 1…15`.
public enum SpikeIRError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A malformed file or invalid program: `field` (where, e.g. "header T") at byte `offset`.
    case invalid(field: String, offset: Int, reason: String)
    /// The budget k is outside 1…K (spec §5).
    case budget(k: Int, students: Int)
    /// The input does not have H·W·C bytes.
    case inputSize(expected: Int, got: Int)
    /// Reading or writing a file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(field, offset, reason):
            return "\(field) at byte \(offset): \(reason)"
        case let .budget(k, students):
            return "budget k = \(k) is out of range, must be 1…\(students) (K = \(students), spec §5)"
        case let .inputSize(expected, got):
            return "input has \(got) bytes, the program needs exactly \(expected) (H·W·C uint8)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}
