// Memory lines for `sne info`: flash and RAM needs of the emitted C (owned by the codegen work).
import Foundation
import SpikeIR

/// Lines describing the exact flash/RAM the emitted C needs for `program` (spec'd by SNECodegen).
func memoryLines(for program: Program) -> [String] {
    []
}
