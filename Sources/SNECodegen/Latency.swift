// Inference latency on a device from an emulator's count (docs/c-runtime.md, "Cost on the device").
//
// simavr counts AVR cycles, so its latency is exact at the stated clock. QEMU counts instructions
// (it has no timing model): at one cycle per instruction the latency is a lower bound on a
// Cortex-M or RV32 core (loads, LDM/STM, multiplies and taken branches take more).
import Foundation

public struct Latency: Sendable, Equatable {
    /// Instructions (QEMU) or cycles (simavr) per inference.
    public var perInference: Int
    /// true: `perInference` counts cycles (exact latency); false: instructions (a lower bound).
    public var cycles: Bool
    public init(perInference: Int, cycles: Bool) { self.perInference = perInference; self.cycles = cycles }

    /// Clocks (MHz) the latency is stated at for target `name` when none is given: common parts
    /// (Cortex-M4: 64 MHz nRF52840, 84 MHz STM32F401, 100 MHz STM32F411, 168 MHz STM32F407;
    /// Cortex-M3: 72 MHz STM32F103; RV32: 100 and 320 MHz; ATmega2560: 16 MHz).
    public static func defaultClocks(_ name: String) -> [Double] {
        switch name {
        case "cortex-m4": return [64, 84, 100, 168]
        case "cortex-m3": return [72]
        case "riscv32": return [100, 320]
        case "avr": return [16]
        default: return []
        }
    }

    /// Parses "MHZ[,MHZ...]" (each > 0 and at most 10,000 MHz).
    public static func parseClocks(_ s: String) -> [Double]? {
        let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! > 0 && $0! <= 10_000 }) else { return nil }
        return parts.map { $0! }
    }

    /// Milliseconds per inference at `mhz`.
    public func milliseconds(at mhz: Double) -> Double { Double(perInference) / (mhz * 1000) }

    /// One line: "latency: 1.23 ms at 100 MHz, …" and what the count means.
    public func line(clocks: [Double]) -> String {
        let at = clocks.map { String(format: "%.3g ms at %g MHz", milliseconds(at: $0), $0) }.joined(separator: ", ")
        return cycles
            ? "latency: \(at) (\(perInference) cycles per inference, simavr's cycle count)"
            : "latency: ≥ \(at) (\(perInference) instructions per inference at one cycle each; QEMU counts instructions, not cycles)"
    }
}
