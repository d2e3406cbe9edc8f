// swift-tools-version:6.0
// sne — spiking neural ensembles: train, compile to an integer spike program, emit C, verify.
//
// Modules follow the data path; dependencies point only backwards along it:
//   SNEBase     byte-level helpers written once: CRC-32, SplitMix64, NPY 1.0 framing, atomic writes
//   SNETensor   float32 tensors and fast CPU kernels (SGEMM, conv)            [training side]
//   SNEData     dataset and array file readers/writers (IDX, CIFAR-10, NPY)
//   SNETrain    layers with exact backward, LIF + BPTT, losses, optimizers, checkpoints
//   SNEEnsemble the spiking neural ensemble: teacher, partitions, students, head, gate, eval
//               (not `SNE`: it would differ from the `sne` executable's folder only in case)
//   SpikeIR     the integer spike program: spec'd ops, file format, validator, reference interpreter
//   SpikeIRFixtures  test support: generated programs and inputs (tests, conformance vectors,
//               `verify --random`); not in the SpikeIR library product
//   SNEPasses   program → program passes over Spike IR (the Loihi-mode lowering, the shared stem)
//   SNECompile  the quantizing compiler (float SNE -> Spike IR program), activity check, `sne check` metrics, QAT
//   SNECodegen  C99 emitter (specialized + blob), memory report, target builds, `verify`
//   SNECLI      the `sne` subcommands; `sne` is a thin executable around it
//   sne-embed   (build tool) embeds runtime-c/ and targets/ into SNECodegen via Plugins/EmbedRuntime
import Foundation
import PackageDescription

/// The fast float path: on an x86-64 machine whose CPU has AVX2 + FMA, the SIMD kernels are
/// compiled for it (Swift SIMD only becomes FMA code with a CPU target). Everything else, and
/// any build with SNE_PORTABLE=1, gets the portable path.
func fastCPUFlags() -> [SwiftSetting] {
    #if arch(x86_64)
    if ProcessInfo.processInfo.environment["SNE_PORTABLE"] == "1" { return [] }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    let set = Set(flags.split(separator: " ").map(String.init))
    if set.contains("avx2") && set.contains("fma") {
        return [.unsafeFlags(["-target-cpu", "haswell"])]
    }
    #endif
    return []
}

let package = Package(
    name: "sne",
    products: [
        .executable(name: "sne", targets: ["sne"]),
        .library(name: "SpikeIR", targets: ["SpikeIR"]),
        .library(name: "SNETrain", targets: ["SNETrain"]),
        .library(name: "SNEEnsemble", targets: ["SNEEnsemble"]),
    ],
    targets: [
        .target(name: "CSNEKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "SNETensor", dependencies: ["CSNEKernels"], swiftSettings: fastCPUFlags()),
        .target(name: "SNEBase"),
        .target(name: "SNEData", dependencies: ["SNEBase"]),
        .target(name: "SNETrain", dependencies: ["SNETensor", "SNEData"], swiftSettings: fastCPUFlags()),
        .target(name: "SNEEnsemble", dependencies: ["SNETensor", "SNEData", "SNETrain"], swiftSettings: fastCPUFlags()),
        .target(name: "SpikeIR", dependencies: ["SNEBase"]),
        .target(name: "SpikeIRFixtures", dependencies: ["SpikeIR", "SNEBase"]),
        .target(name: "SNEPasses", dependencies: ["SpikeIR"]),
        .target(name: "SNECompile", dependencies: ["SNEEnsemble", "SNETrain", "SNETensor", "SNEData", "SpikeIR", "SNEPasses"]),
        // runtime-c/ and targets/ are compiled into SNECodegen by the EmbedRuntime plugin, so an
        // installed `sne` needs no checkout (docs/user-guide.md "Installing").
        .executableTarget(name: "sne-embed", path: "Sources/sne-embed"),
        .plugin(name: "EmbedRuntime", capability: .buildTool(), dependencies: ["sne-embed"]),
        .target(name: "SNECodegen", dependencies: ["SpikeIR", "SNEBase", "SNEPasses"], plugins: ["EmbedRuntime"]),
        .target(name: "SNECLI", dependencies: ["SNEBase", "SNETensor", "SNEData", "SNETrain", "SNEEnsemble", "SpikeIR", "SpikeIRFixtures", "SNEPasses", "SNECompile", "SNECodegen"]),
        .executableTarget(name: "sne", dependencies: ["SNECLI"]),
        .testTarget(name: "SNETensorTests", dependencies: ["SNETensor"]),
        .testTarget(name: "SNEDataTests", dependencies: ["SNEData", "SNEBase"], exclude: ["NPYFiles"]),
        .testTarget(name: "SNETrainTests", dependencies: ["SNETrain"]),
        .testTarget(name: "SNEEnsembleTests", dependencies: ["SNEEnsemble", "SpikeIR"]),
        .testTarget(name: "SpikeIRTests", dependencies: ["SpikeIR", "SpikeIRFixtures", "SNEBase"], exclude: ["Vectors", "Cases"]),
        // SNETestSupport: the small trained ensemble and data lookup shared by the two suites below.
        .target(name: "SNETestSupport", dependencies: ["SNECompile", "SNEEnsemble", "SNEData", "SNETensor"], path: "Tests/SNETestSupport"),
        .testTarget(name: "SNECompileTests", dependencies: ["SNECompile", "SNEEnsemble", "SNETrain", "SNETensor", "SNEData", "SpikeIR", "SNETestSupport"]),
        .testTarget(name: "SNECodegenTests", dependencies: ["SNECodegen", "SNEPasses", "SpikeIR", "SpikeIRFixtures", "SNEBase"]),
        .testTarget(name: "SNECLITests", dependencies: ["SNECLI", "SNEBase", "SNETestSupport", "SNEPasses", "SpikeIR", "SNEEnsemble", "SNETrain"]),
    ]
)
