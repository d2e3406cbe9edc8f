// The checkout these tests were built from (for its examples and vectors; the C runtime itself
// comes from SNEPaths, i.e. the copy embedded in the binary unless SNE_ROOT is set).
import Foundation

let checkoutRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
