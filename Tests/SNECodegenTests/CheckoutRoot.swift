// The checkout these tests were built from (for its examples and vectors; the C runtime itself
// comes from SNEPaths, i.e. the copy embedded in the binary unless SNE_ROOT is set).
import Foundation
import SNECodegen

let checkoutRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The clang for the sanitizer builds: `$CLANG`, else `clang` on the PATH (the Swift toolchain's
/// has ASan and UBSan); nil when there is none.
func sanitizerClang() -> String? {
    if let c = ProcessInfo.processInfo.environment["CLANG"], !c.isEmpty { return c }
    return Shell.has("clang") ? "clang" : nil
}
