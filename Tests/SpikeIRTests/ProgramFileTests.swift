// The .snep codec: round trips, and a malformed-file corpus where every case is a clean error
// naming a field and a byte offset (spec §9 "Loading").
import Testing
import SNEBase
@testable import SpikeIR
@testable import SpikeIRFixtures

/// Asserts `bytes` fails to decode with a SpikeIRError naming a field and an offset.
func expectCleanError(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try ProgramFile.decode(bytes)
        Issue.record("\(what): decoded without error", sourceLocation: sourceLocation)
    } catch let e as SpikeIRError {
        guard case .invalid(let field, let offset, let reason) = e else {
            Issue.record("\(what): unexpected error kind \(e)", sourceLocation: sourceLocation); return
        }
        let msg = e.description
        if field.isEmpty || reason.isEmpty || offset < 0 || offset > max(bytes.count, 24) || msg.contains("\n") || !msg.contains("at byte") {
            Issue.record("\(what): unclear message '\(msg)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("\(what): non-SpikeIRError \(error)", sourceLocation: sourceLocation)
    }
}

/// Recomputes the CRC of a (modified) file so that structural checks are reached.
func withCRC(_ b: [UInt8]) -> [UInt8] {
    var b = b
    guard b.count >= 8 else { return b }
    let c = CRC32.checksum(b[0..<(b.count - 4)])
    for i in 0..<4 { b[b.count - 4 + i] = UInt8((c >> (8 * UInt32(i))) & 0xFF) }
    return b
}

@Suite struct ProgramFileTests {
    @Test func crcKnownValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func roundTripManyRandomPrograms() throws {
        var gen = RandomProgram(seed: 7, limits: .tiny)
        for _ in 0..<200 {
            let p = gen.program()
            let bytes = try ProgramFile.encode(p)
            #expect(bytes.count % 4 == 0)
            let q = try ProgramFile.decode(bytes)
            #expect(q == p)
            #expect(try ProgramFile.encode(q) == bytes)
        }
    }

    @Test func truncatedAtEveryOffset() throws {
        var gen = RandomProgram(seed: 11, limits: .tiny)
        for _ in 0..<3 {
            let bytes = try ProgramFile.encode(gen.program())
            for n in 0..<bytes.count {
                expectCleanError(Array(bytes[0..<n]), "truncated to \(n)")
                // also with the size field and CRC patched, so structural checks are reached
                if n >= 24 && n % 4 == 0 {
                    var t = Array(bytes[0..<n])
                    for i in 0..<4 { t[8 + i] = UInt8((UInt32(n) >> (8 * UInt32(i))) & 0xFF) }
                    expectCleanError(withCRC(t), "truncated to \(n), size+crc patched")
                }
            }
        }
    }

    @Test func everyByteFlipped() throws {
        var gen = RandomProgram(seed: 12, limits: .tiny)
        for _ in 0..<3 {
            let p = gen.program()
            let bytes = try ProgramFile.encode(p)
            for i in 0..<bytes.count {
                var f = bytes; f[i] ^= 0xFF
                expectCleanError(f, "byte \(i) flipped")
                // after recomputing the CRC the structural checks are reached; such a file may
                // still be valid (e.g. a flipped weight), but must then decode cleanly.
                let g = withCRC(f)
                do { _ = try ProgramFile.decode(g) } catch let e as SpikeIRError {
                    #expect(e.description.contains("at byte"), "byte \(i): \(e)")
                } catch { Issue.record("byte \(i): \(error)") }
            }
        }
    }

    @Test func wrongVersionAndAbsurdSizes() throws {
        var lim = RandomProgram.Limits.tiny; lim.stemChance = 0      // a 2.0 file
        var gen = RandomProgram(seed: 13, limits: lim)
        let p = gen.program()
        let bytes = try ProgramFile.encode(p)
        let L = FileLayout(p)
        func patch16(_ at: Int, _ v: Int) -> [UInt8] { var b = bytes; b[at] = UInt8(v & 0xFF); b[at + 1] = UInt8(v >> 8); return withCRC(b) }
        func patch32(_ at: Int, _ v: UInt32) -> [UInt8] {
            var b = bytes; for i in 0..<4 { b[at + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }; return withCRC(b)
        }
        expectCleanError(patch16(4, 1), "major 1")
        expectCleanError(patch16(4, 3), "major 3")
        do { _ = try ProgramFile.decode(patch16(4, 1)); Issue.record("a 1.0 file decoded") } catch let e as SpikeIRError {
            #expect(e.description == "version major at byte 4: version 1.0 file: this sne reads 2.x; recompile the model")
        }
        expectCleanError(patch16(6, Int(Program.versionMinor) + 1), "minor above the reader's")   // 2.1 (Loihi), 2.2 (stem) are readable
        expectCleanError(patch32(8, 0x8000_0000), "file size 2^31")
        expectCleanError(patch32(12, 0x8000_0000), "2^31 sections")
        expectCleanError(patch32(20, 0x7FFF_FFF0), "section 0 offset huge")
        expectCleanError(patch32(24, 0xFFFF_FFFC), "section 0 size huge")
        for f in [32, 34, 36, 38, 40, 42] { expectCleanError(patch16(L.header + f, 0xFFFF), "header field \(f) = 65535") }
        expectCleanError(patch16(L.header + 36, 0), "C = 0")
        let op0 = L.ops[0][0]
        expectCleanError(patch32(op0 + 4, 0x8000_0000), "record size 2^31")
        expectCleanError(patch32(op0 + 8, 0x8000_0000), "2^31 channels / outputs")
        expectCleanError(patch16(op0 + 8, 0xFFFF), "65535 channels")
        expectCleanError(patch32(L.students[0], 0xFFFF_FFFF), "65535 ops, 65535 features")
        var big = bytes; big[0..<4] = [0x53, 0x4E, 0x45, 0x51]
        expectCleanError(big, "bad magic")
        expectCleanError([], "empty file")
        expectCleanError([UInt8](repeating: 0, count: 24), "zeros")
    }
}

/// Spike IR 2.0 fields: every out-of-range or miscounted value is a one-line error naming the field.
@Suite struct Version2FieldTests {
    func base() -> Program {
        let conv = Conv2D(cout: 2, kh: 3, kw: 3, stride: 1, pad: 1, shift: 4, weights: [Int8](repeating: 1, count: 2 * 9 * 2), bias: [0, 0])
        let s = Student(ops: [.inputConv2D(conv), .lif(LIF(stateBits: 16, thetas: [1, 32767])), .flatten,
                              .dense(Dense(out: 2, shift: 0, weights: [Int8](repeating: 1, count: 8 * 2), bias: [0, 0])), .readout],
                        features: 2, featMult: [0, Int32.max], featShift: [0, 62])
        return Program(name: "v2", input: Shape(h: 2, w: 2, c: 2), timesteps: 2, classes: 2, selection: .fixed, order: [0],
                       students: [s], head: Head(bias: [0, 0], weights: [[1, 2, 3, 4]]), meta: ["k": "v"], inputZeroPoint: [0, 255])
    }

    func expectInvalid(_ p: Program, _ field: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do { try ProgramValidator.validate(p); Issue.record("accepted: \(field)", sourceLocation: sourceLocation) } catch let e as SpikeIRError {
            #expect(e.description.contains(field) && e.description.contains("at byte") && !e.description.contains("\n"),
                    "\(e)", sourceLocation: sourceLocation)
        } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
    }

    @Test func edgeValuesRoundTrip() throws {
        let p = base()
        #expect(try ProgramFile.decode(ProgramFile.encode(p)) == p)
    }

    @Test func invalidNewFields() throws {
        func lif(_ p: inout Program, _ l: LIF) { p.students[0].ops[1] = .lif(l) }
        var p = base(); lif(&p, LIF(stateBits: 16, thetas: [1])); expectInvalid(p, "theta")                // one per channel
        p = base(); lif(&p, LIF(stateBits: 16, thetas: [0, 5])); expectInvalid(p, "theta[0]")              // below 1
        p = base(); lif(&p, LIF(stateBits: 16, thetas: [5, 32768])); expectInvalid(p, "theta[1]")          // above 2^15−1
        p = base(); p.students[0].featMult = [1]; expectInvalid(p, "feat_mult")
        p = base(); p.students[0].featShift = [0, 63]; expectInvalid(p, "feat_shift[1]")
        p = base(); p.students[0].featMult = [-1, 0]; expectInvalid(p, "feat_mult[0]")
        p = base(); p.inputZeroPoint = [1]; expectInvalid(p, "zero_point")
        p = base(); p.input = Shape(h: 1, w: 1, c: 17); p.inputZeroPoint = [UInt8](repeating: 0, count: 16) + [1]
        expectInvalid(p, "zero_point")
        p = base(); p.meta[bytes: Array("a=b".utf8)] = [0x31]; expectInvalid(p, "meta")
        p = base(); p.meta[bytes: [0x6B, 0x0A]] = [0x31]; expectInvalid(p, "meta")
        p = base(); p.meta[bytes: Array("x".utf8)] = [0x31, 0x0A]; expectInvalid(p, "meta")
        p = base(); p.meta[bytes: Array("x".utf8)] = [0xC0, 0xAF]; expectInvalid(p, "meta")
        p = base(); p.meta[bytes: []] = [0x31]; expectInvalid(p, "meta")
    }

    @Test func patchedFileFields() throws {
        let p = base()
        let b = try ProgramFile.encode(p)
        let L = FileLayout(p)
        func patched(_ at: Int, _ bytes: [UInt8]) -> [UInt8] { var c = b; for (i, v) in bytes.enumerated() { c[at + i] = v }; return withCRC(c) }
        expectCleanError(patched(L.header + 68 + 2, [7]), "zero point entry ≥ C")
        expectCleanError(patched(L.students[0] + 4, [0, 0, 0, 0x80]), "feat_mult[0] negative")
        expectCleanError(patched(L.students[0] + 4 + 8 + 1, [63]), "feat_shift[1] = 63")
        expectCleanError(patched(L.students[0] + 4 + 8 + 2, [1]), "feat_shift padding")
        expectCleanError(patched(L.ops[0][1] + 16, [0, 0, 0, 0]), "theta[0] = 0")
        expectCleanError(patched(L.ops[0][1] + 20, [0, 0x80, 0, 0]), "theta[1] = 32768 with 16-bit state")
        expectCleanError(patched(L.ops[0][1] + 4, [20]), "lif record size 20 (1.0's, one threshold) for C = 2")
    }
}
