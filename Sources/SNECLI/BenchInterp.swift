// `sne bench interp`: reference-interpreter throughput (owned by the Spike IR work).
import Foundation

/// Runs the interpreter benchmark; `BenchCommand` dispatches `sne bench interp` here.
func benchInterpreter(_ args: inout Arguments, out: inout TextSink) throws {
    throw CLIError.failure("bench interp: not implemented yet")
}
