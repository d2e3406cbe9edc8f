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
        let r = try Shell.run(["make", "-s", "-C", SNEPaths.runtime + "/tests", "test", "BUILD=\(dir)/plain"])
        #expect(r.status == 0 && r.stdout.contains(", 0 failures"), "\(r.stdout)\(r.stderr)")
        let clang = "/opt/swift/usr/bin/clang"
        if FileManager.default.fileExists(atPath: clang) {
            let s = try Shell.run(["make", "-s", "-C", SNEPaths.runtime + "/tests", "test", "BUILD=\(dir)/san", "CC=\(clang)", "SAN=1"])
            #expect(s.status == 0 && s.stdout.contains(", 0 failures"), "\(s.stdout)")
        }
    }
}
