// The target registry: the five boards of targets/<t>/target.mk, with what the memory report needs.
import Foundation

public struct Target: Sendable, Equatable {
    public var name: String
    /// The compiler binary and the Debian package that provides it (for the "missing toolchain" line).
    public var compiler: String
    public var package: String
    public var sizeTool: String
    /// Bytes of a data pointer to SNE_FLASH tables (AVR: 3, `__memx`) and of a RAM pointer / size_t.
    public var flashPointerBytes: Int
    public var pointerBytes: Int
    /// True when `const` data without SNE_FLASH is copied to RAM at startup (AVR .data).
    public var constInRAM: Bool
    /// Board budget (0 = unlimited, host), from target.mk.
    public var flashBytes: Int
    public var ramBytes: Int

    public static let names = ["host", "cortex-m4", "cortex-m3", "riscv32", "avr"]

    /// The registry entry for `name`, with FLASH_BYTES/RAM_BYTES read from targets/<name>/target.mk.
    public static func named(_ name: String) throws -> Target {
        var t: Target
        switch name {
        case "host": t = Target(name: name, compiler: "cc", package: "gcc", sizeTool: "size", flashPointerBytes: 8, pointerBytes: 8, constInRAM: false, flashBytes: 0, ramBytes: 0)
        case "cortex-m4", "cortex-m3": t = Target(name: name, compiler: "arm-none-eabi-gcc", package: "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm", sizeTool: "arm-none-eabi-size", flashPointerBytes: 4, pointerBytes: 4, constInRAM: false, flashBytes: 0, ramBytes: 0)
        case "riscv32": t = Target(name: name, compiler: "riscv64-unknown-elf-gcc", package: "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc", sizeTool: "riscv64-unknown-elf-size", flashPointerBytes: 4, pointerBytes: 4, constInRAM: false, flashBytes: 0, ramBytes: 0)
        case "avr": t = Target(name: name, compiler: "avr-gcc", package: "gcc-avr avr-libc simavr", sizeTool: "avr-size", flashPointerBytes: 3, pointerBytes: 2, constInRAM: true, flashBytes: 0, ramBytes: 0)
        default:
            throw CodegenError.usage("unknown target '\(name)'; one of: \(names.joined(separator: ", "))")
        }
        let mk = SNEPaths.targets + "/\(name)/target.mk"
        if let text = try? String(contentsOfFile: mk, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let v = Int(parts[1]) else { continue }
                if parts[0] == "FLASH_BYTES" { t.flashBytes = v }
                if parts[0] == "RAM_BYTES" { t.ramBytes = v }
            }
        }
        return t
    }

    /// Throws a one-line failure naming the apt package when the toolchain is absent.
    public func requireToolchain() throws {
        if !Shell.has(compiler) {
            throw CodegenError.failure("target \(name): \(compiler) not found; install it with: apt-get install \(package)")
        }
    }

    public var toolchainPresent: Bool { Shell.has(compiler) }

    /// The program that runs an ELF of this target (nil: runs natively).
    public var emulator: String? {
        switch name {
        case "cortex-m4", "cortex-m3": return "qemu-system-arm"
        case "riscv32": return "qemu-system-riscv32"
        case "avr": return "simavr"
        default: return nil
        }
    }

    /// The compiler and emulator `verify` needs that are not installed (empty: the target runs).
    public var missingTools: [String] { ([compiler] + (emulator.map { [$0] } ?? [])).filter { !Shell.has($0) } }
}

/// Codegen failures: one line each. `usage` maps to exit 2, `failure` to exit 1.
public enum CodegenError: Error, CustomStringConvertible, Equatable {
    case usage(String)
    case failure(String)
    public var description: String {
        switch self { case .usage(let m), .failure(let m): m }
    }
}
