// Latency lines from emulator counts (Latency.swift): hand-computed values, clock parsing.
import Testing
@testable import SNECodegen

@Suite("latency from emulator counts")
struct LatencyTests {
    @Test("milliseconds = count / (MHz * 1000), hand-computed")
    func milliseconds() {
        let q = Latency(perInference: 852_539, cycles: false)
        #expect(q.milliseconds(at: 100) == 8.52539)
        #expect(q.milliseconds(at: 84) == 852_539.0 / 84_000.0)
        let a = Latency(perInference: 1_329_860, cycles: true)
        #expect(a.milliseconds(at: 16) == 83.11625)
    }

    @Test("lines say what the count is: a lower bound from instructions, exact from cycles")
    func lines() {
        let q = Latency(perInference: 852_539, cycles: false).line(clocks: [100, 168])
        #expect(q == "latency: ≥ 8.53 ms at 100 MHz, 5.07 ms at 168 MHz (852539 instructions per inference at one cycle each; QEMU counts instructions, not cycles)")
        let a = Latency(perInference: 1_329_860, cycles: true).line(clocks: [16])
        #expect(a == "latency: 83.1 ms at 16 MHz (1329860 cycles per inference, simavr's cycle count)")
    }

    @Test("clock lists: parsed, bad values refused, defaults per target")
    func clocks() {
        #expect(Latency.parseClocks("84") == [84])
        #expect(Latency.parseClocks("64, 168") == [64, 168])
        for bad in ["", "0", "-5", "abc", "84,", "20000"] { #expect(Latency.parseClocks(bad) == nil, "\(bad)") }
        #expect(Latency.defaultClocks("cortex-m4") == [64, 84, 100, 168])
        #expect(Latency.defaultClocks("avr") == [16])
        #expect(Latency.defaultClocks("host").isEmpty)
    }
}
