// Finding Lava's / snnTorch's Python without any machine's venv path: the environment variable,
// then python3 on PATH if it imports the packages, else one line with the exact setup commands
// (run in real processes: the environment is per process).
import Foundation
import Testing
@testable import SNECLI
import SNECodegen

@Suite(.serialized) struct PythonEnvTests {
    static let program = repoRoot.appendingPathComponent("examples/programs/fmnist4.snep").path

    @Test func verifyLavaSaysWhatIsWrongBeforeAnyWork() throws {
        let i = try InstallTests.Install("pyenv")
        let emptyPath = i.cwd + "/nobin"
        try FileManager.default.createDirectory(atPath: emptyPath, withIntermediateDirectories: true)
        let cases: [([String: String], String)] = [
            (["SNE_LAVA_PYTHON": i.cwd], "SNE_LAVA_PYTHON=\(i.cwd): is a directory, not a Python interpreter"),
            (["SNE_LAVA_PYTHON": i.cwd + "/none"], "SNE_LAVA_PYTHON=\(i.cwd)/none: no such file"),
            (["SNE_LAVA_PYTHON": "/bin/false"], "SNE_LAVA_PYTHON=/bin/false: cannot import lava.proc.lif.models"),
            (["PATH": emptyPath], "SNE_LAVA_PYTHON is not set and there is no python3 on PATH"),
        ]
        for (env, phrase) in cases {
            let r = try i.run(["verify", Self.program, "--target", "lava", "--random", "1"], env: env)
            #expect(r.0 == 1 && r.2.contains(phrase), "\(env): \(r.2)")
            #expect(r.1.isEmpty, "printed before the Lava check: \(r.1.prefix(200))")
            #expect(r.2.split(separator: "\n").count == 1 && r.2.components(separatedBy: "sne verify").count == 2, "\(r.2)")
            if !phrase.contains("is a directory") && !phrase.contains("no such file") {
                #expect(r.2.contains("python3.10 -m venv ~/.venvs/lava && ~/.venvs/lava/bin/pip install lava-nc"), "\(r.2)")
            }
        }
    }

    @Test func lavaFlagsThatWouldBeIgnoredAreRefused() {
        for flag in [["--budget", "2"], ["--mode", "blob"], ["--trace-hash", "off"]] {
            let r = sne(["verify", Self.program, "--target", "lava"] + flag)
            #expect(r.0 == 2 && r.2.contains("\(flag[0]) does not apply to --target lava"), "\(flag): \(r.2)")
        }
        #expect(sne(["verify", "--help"]).1.contains("default 4; 2 with --target lava"))
    }

    @Test func emittedLavaRunnerHasNoMachinePath() throws {
        let dir = NSTemporaryDirectory() + "sne-lava-runner-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        let c = sne(["compile", Self.program, "--target", "loihi", "-o", dir])
        #expect(c.0 == 0, "\(c.2)")
        let sh = try String(contentsOfFile: dir + "/run_lava.sh", encoding: .utf8)
        // no path of this machine: neither the checkout, the home folder nor a pyenv install
        #expect(!sh.contains(repoRoot.path) && !sh.contains(NSHomeDirectory()) && !sh.contains("pyenv")
                && sh.contains("${SNE_LAVA_PYTHON:-python3}"), "\(sh)")
        // Without Lava, the script says so with the setup line and exits 2.
        let r = try Shell.run([dir + "/run_lava.sh", "x.u8"], env: ["SNE_LAVA_PYTHON": "/bin/false"])
        #expect(r.status == 2 && r.stderr.contains("cannot import lava") && r.stderr.contains("pip install lava-nc"), "\(r.stderr)")
    }

    @Test func snntorchSetupNamesNirtorchAndTheCPUWheel() {
        let s = PythonEnv.snntorch.setup
        #expect(s.contains("nirtorch") && s.contains("download.pytorch.org/whl/cpu") && s.contains("GiB"))
        #expect(PythonEnv.snntorch.modules.contains("nirtorch"))
    }
}
