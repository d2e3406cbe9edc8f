// Board profiles: the flash and RAM of common microcontrollers (from their datasheets), so the
// memory check says whether a program fits a real chip rather than the emulator board's 4 MiB
// (`--board` in `info`, `check` and `compile`).
import Foundation
import SNECodegen
import SpikeIR

struct Board: Sendable {
    /// The `--board` name.
    let name: String
    /// The part, as its datasheet names it.
    let part: String
    /// The sne target whose code it runs.
    let target: String
    /// On-chip flash and RAM, bytes.
    let flash: Int, ram: Int
    /// Where the two numbers come from.
    let source: String

    static let all: [Board] = [
        Board(name: "stm32f411", part: "STM32F411xE (Cortex-M4F)", target: "cortex-m4", flash: 512 * 1024, ram: 128 * 1024,
              source: "ST DS10314: 512 KB flash, 128 KB SRAM"),
        Board(name: "stm32f401re", part: "STM32F401xE (Cortex-M4F)", target: "cortex-m4", flash: 512 * 1024, ram: 96 * 1024,
              source: "ST DS10086: 512 KB flash, 96 KB SRAM"),
        Board(name: "stm32f401cc", part: "STM32F401xC (Cortex-M4F)", target: "cortex-m4", flash: 256 * 1024, ram: 64 * 1024,
              source: "ST DS9716: 256 KB flash, 64 KB SRAM"),
        Board(name: "nrf52840", part: "nRF52840 (Cortex-M4F)", target: "cortex-m4", flash: 1024 * 1024, ram: 256 * 1024,
              source: "Nordic nRF52840 Product Specification: 1 MB flash, 256 KB RAM"),
        Board(name: "atmega2560", part: "ATmega2560 (AVR)", target: "avr", flash: 256 * 1024, ram: 8 * 1024,
              source: "Microchip ATmega640/1280/2560 datasheet: 256 KB flash, 8 KB SRAM"),
    ]

    static var names: String { all.map(\.name).joined(separator: ", ") }

    /// The board named `name`, or a usage error listing them.
    static func named(_ name: String) throws -> Board {
        guard let b = all.first(where: { $0.name == name }) else {
            let near = Arguments.closest(name, in: Set(all.map(\.name))).map { "; did you mean \($0)?" } ?? ""
            throw CLIError.usage("unknown board '\(CLIText.escaped(name))'\(near) (boards: \(names))")
        }
        return b
    }

    /// What `program` needs on this board: the emitted C's flash and RAM for the board's target
    /// (runtime code and stack measured with the target's compiler when it is installed).
    struct Fit {
        let board: Board, flash: Int, ram: Int, measured: Bool
        /// A limit of the target's toolchain the program breaks whatever the chip (e.g. avr-gcc's
        /// largest object), or nil.
        let toolchainLimit: String?
        var fits: Bool { flash <= board.flash && ram <= board.ram && toolchainLimit == nil }
        /// Why it does not fit, in one phrase ("RAM 146040 B > 65536 B"), or nil.
        var why: String? {
            let r = [flash > board.flash ? "flash \(flash) B > \(board.flash) B" : nil, ram > board.ram ? "RAM \(ram) B > \(board.ram) B" : nil,
                     toolchainLimit].compactMap { $0 }
            return r.isEmpty ? nil : r.joined(separator: "; ")
        }
        var line: String {
            let what = fits ? "fits" : "does NOT fit (" + (why ?? "") + ")"
            return "board \(board.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(board.part): flash \(flash) / \(board.flash) B, RAM \(ram) / \(board.ram) B: \(what)"
                + (measured ? "" : " (runtime code and stack not included: \(board.target) compiler not installed)")
        }
    }

    func fit(_ p: Program, mode: EmitMode = .specialized) throws -> Fit {
        let t = try Target.named(target)
        let rm = t.toolchainPresent ? try? RuntimeMeasure.runtime(t, mode: mode) : nil
        let m = MemoryReport(p, target: t, mode: mode, runtimeCode: rm?.code, stack: rm?.stack)
        let limit = m.largestTable > m.maxObject ? "largest table \(m.largestTable) B > \(m.maxObject) B, \(t.compiler)'s limit for one object" : nil
        return Fit(board: self, flash: m.flash, ram: m.ram, measured: rm != nil, toolchainLimit: limit)
    }
}
