// Shared by the SNECLITests suites: the checkout's root and the CLI run in-process.
import Foundation
@testable import SNECLI

/// The checkout (three levels above this file).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `sne argv` in-process: exit code, standard output, standard error.
func sne(_ argv: [String]) -> (Int32, String, String) {
    var out = TextSink.capture(), err = TextSink.capture()
    let code = SNECLI.main(argv, out: &out, err: &err)
    return (code, out.captured, err.captured)
}
