// Board profiles: which real chips a program fits (datasheet flash/RAM), in info, compile and check.
import Foundation
import Testing
@testable import SNECLI
import SNECodegen

@Suite struct BoardTests {
    static let fmnist4 = repoRoot.appendingPathComponent("examples/programs/fmnist4.snep").path
    static let fashion = repoRoot.appendingPathComponent("examples/models/fashion-mnist/fashion_sne.snep").path
    static let digits = repoRoot.appendingPathComponent("examples/models/digits/digits_sne.snep").path

    @Test func datasheetFigures() throws {
        let b = Dictionary(uniqueKeysWithValues: Board.all.map { ($0.name, $0) })
        #expect(b["stm32f411"]?.flash == 524_288 && b["stm32f411"]?.ram == 131_072)
        #expect(b["stm32f401re"]?.flash == 524_288 && b["stm32f401re"]?.ram == 98_304)
        #expect(b["stm32f401cc"]?.flash == 262_144 && b["stm32f401cc"]?.ram == 65_536)   // the 64 KB-RAM part
        #expect(b["nrf52840"]?.flash == 1_048_576 && b["nrf52840"]?.ram == 262_144)
        #expect(b["atmega2560"]?.ram == 8192)
    }

    @Test func infoSaysWhichBoardsFit() {
        // fmnist4: 146 KB of RAM → only the nRF52840 (256 KB) of the Cortex-M4 parts.
        let r = sne(["info", Self.fmnist4])
        #expect(r.0 == 0 && r.1.contains("fits: nrf52840\n"), "\(r.1.suffix(600))")
        #expect(r.1.contains("board stm32f401cc") && r.1.contains("does NOT fit (RAM"), "\(r.1.suffix(600))")
        let d = sne(["info", Self.digits, "--board", "atmega2560"])
        #expect(d.0 == 0 && d.1.contains("board atmega2560") && d.1.contains(": fits") && !d.1.contains("board stm32"), "\(d.1.suffix(300))")
        let bad = sne(["info", Self.digits, "--board", "stm32f410"])
        #expect(bad.0 == 2 && bad.2.contains("unknown board 'stm32f410'; did you mean stm32f411?"), "\(bad.2)")
    }

    @Test func compileRefusesABoardItDoesNotFit() {
        let dir = NSTemporaryDirectory() + "sne-board-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        let r = sne(["compile", Self.fmnist4, "--target", "cortex-m4", "--board", "stm32f401cc", "-o", dir])
        #expect(r.0 == 1 && r.2.contains("program too large for board stm32f401cc") && r.2.contains("> 65536 B"), "\(r.2)")
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing is written")
        let ok = sne(["compile", Self.fashion, "--target", "cortex-m4", "--board", "stm32f401cc", "-o", dir])
        #expect(ok.0 == 0 && ok.1.contains("board stm32f401cc") && ok.1.contains(": fits"), "\(ok.2)")
        let wrong = sne(["compile", Self.fmnist4, "--target", "riscv32", "--board", "nrf52840", "-o", dir + "-x"])
        #expect(wrong.0 == 2 && wrong.2.contains("give --target cortex-m4 with --board nrf52840"), "\(wrong.2)")
    }
}
