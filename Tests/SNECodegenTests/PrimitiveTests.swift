// The C integer primitives (runtime-c/src/sne_fixed.h) against the hand-computed cases shared with
// the Swift side (Tests/SpikeIRTests/Cases/primitives.txt), via `make -C runtime-c/tests test`.
import Foundation
import Testing
@testable import SNECodegen

@Suite("C primitives")
struct PrimitiveTests {
    @Test("runtime-c/tests: make test (plain and ASan+UBSan)")
    func makeTest() throws {
        let dir = tempDir("prim")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The checkout's tests (they read Tests/SpikeIRTests/Cases beside them), not the embedded runtime.
        let tests = checkoutRoot + "/runtime-c/tests"
        let r = try Shell.run(["make", "-s", "-C", tests, "test", "BUILD=\(dir)/plain"])
        #expect(r.status == 0 && r.stdout.contains(", 0 failures"), "\(r.stdout)\(r.stderr)")
        if let clang = sanitizerClang() {
            let s = try Shell.run(["make", "-s", "-C", tests, "test", "BUILD=\(dir)/san", "CC=\(clang)", "SAN=1"])
            #expect(s.status == 0 && s.stdout.contains(", 0 failures"), "\(s.stdout)")
        }
    }
}
