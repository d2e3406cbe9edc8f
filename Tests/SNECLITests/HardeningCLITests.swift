// What a user sees for bad files and values: one line naming the path once, no Foundation error
// domains, exit 2 for usage and bad input (ExitCode), for run, info and verify alike.
import Foundation
import Testing
@testable import SNECLI
@testable import SNEData

@Suite struct HardeningCLITests {
    /// One line, no Foundation wording, `path` at most once.
    func clean(_ msg: String, path: String? = nil) -> Bool {
        let banned = ["NSCocoaErrorDomain", "You don't have permission", "Error Domain=", "The file “", "couldn’t be"]
        let once = path.map { msg.components(separatedBy: $0).count <= 2 } ?? true
        return msg.hasSuffix("\n") && msg.dropLast().split(separator: "\n").count == 1 && !banned.contains { msg.contains($0) } && once
    }

    @Test func nonRegularAndMissingFilesAreNamed() throws {
        let fifo = tmpPath("cli-fifo")
        unlink(fifo)
        #expect(mkfifo(fifo, 0o644) == 0)
        defer { unlink(fifo) }
        let dir = NSTemporaryDirectory()
        let cases: [(String, String)] = [
            (fifo, "is a FIFO (named pipe), not a regular file"), ("/dev/null", "is a character device, not a regular file"),
            (dir, "is a directory, not a regular file"), ("/nonexistent/x", "no such file"),
        ]
        for (path, phrase) in cases {
            for argv in [["run", path, "--input", exampleImage], ["info", path], ["dump", path],
                         ["run", exampleProgram, "--input", path], ["verify", path, "--target", "host"]] {
                let r = sne(argv)
                #expect(r.0 == ExitCode.usage && r.2.contains("\(path): \(phrase)") && clean(r.2, path: path), "\(argv): \(r.2)")
            }
        }
        // Outputs: --trace to /dev/null or a directory is a usage error saying what the path is.
        for (path, phrase) in [("/dev/null", "is a character device"), (dir, "is a directory")] {
            let r = sne(["run", exampleProgram, "--input", exampleImage, "--trace", path])
            #expect(r.0 == ExitCode.usage && r.2.contains(phrase) && clean(r.2), "\(r.2)")
        }
        for (path, phrase) in [("/dev/null", "is a character device, not a directory"), (exampleImage, "is a regular file, not a directory")] {
            let c = sne(["compile", exampleProgram, "--target", "host", "-o", path])
            #expect(c.0 == ExitCode.usage && c.2.contains(phrase) && clean(c.2), "\(c.2)")
        }
        let r = sne(["run", exampleProgram, "--input", exampleImage, "--trace", "/nonexistent/dir/t.json"])
        #expect(r.0 == ExitCode.failure && r.2.contains("directory /nonexistent/dir does not exist") && clean(r.2), "\(r.2)")
    }

    @Test func budgetIsTheSameUsageErrorInRunAndVerify() {
        for bad in ["abc", "0", "5", "-1", "99999999999999999999999"] {
            let a = sne(["run", exampleProgram, "--input", exampleImage, "--budget", bad])
            let b = sne(["verify", exampleProgram, "--target", "host", "--budget", bad])
            for r in [a, b] {
                #expect(r.0 == ExitCode.usage && r.2.contains("an integer 1…4") && r.2.contains("'\(bad)'") && clean(r.2), "\(bad): \(r.2)")
                #expect(!r.2.contains("9223372036854775807"))
            }
        }
        let r = sne(["run", exampleProgram, "--input", exampleImage, "--index", "x"])
        #expect(r.0 == ExitCode.usage && r.2.contains("--index must be an integer 0…2147483647") && clean(r.2), "\(r.2)")
    }

    @Test func inputFileMessages() throws {
        // A raw image with --index: says it is not IDX and how to give it.
        var r = sne(["run", exampleProgram, "--input", exampleImage, "--index", "3"])
        #expect(r.0 == ExitCode.usage && r.2.contains("does not start with the IDX magic") && r.2.contains("without --index") && clean(r.2, path: exampleImage), "\(r.2)")
        // NPY whose shape is not the program input.
        let npy = tmpPath("shape.npy")
        try NPY.write(.uint8([UInt8](repeating: 1, count: 784), shape: [784]), to: npy)
        defer { unlink(npy) }
        r = sne(["run", exampleProgram, "--input", npy])
        #expect(r.0 == ExitCode.usage && r.2.contains("NPY shape (784,) does not match the program input (28, 28, 1)") && clean(r.2, path: npy), "\(r.2)")
        // The accepted spellings of the same image agree.
        let img = [UInt8](try Data(contentsOf: URL(fileURLWithPath: exampleImage)))
        var outs: Set<String> = []
        for shape in [[28, 28, 1], [28, 28], [1, 28, 28, 1], [1, 28, 28]] {
            try NPY.write(.uint8(img, shape: shape), to: npy)
            let x = sne(["run", exampleProgram, "--input", npy, "--json"])
            #expect(x.0 == ExitCode.ok, "\(shape): \(x.2)")
            outs.insert(x.1)
        }
        #expect(outs.count == 1)
        // IDX: item shape mismatch, index out of range, overflow header.
        let idx = tmpPath("x-images-idx3-ubyte")
        defer { unlink(idx) }
        func idxFile(_ dims: [UInt32], _ data: [UInt8]) throws {
            var b: [UInt8] = [0, 0, 8, UInt8(dims.count)]
            for d in dims { b += [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
            try Data(b + data).write(to: URL(fileURLWithPath: idx))
        }
        try idxFile([2, 27, 29], [UInt8](repeating: 0, count: 2 * 27 * 29))
        r = sne(["run", exampleProgram, "--input", idx])
        #expect(r.0 == ExitCode.usage && r.2.contains("IDX items are 27x29, the program input is 28x28x1") && clean(r.2), "\(r.2)")
        try idxFile([2, 28, 28], img + img)
        r = sne(["run", exampleProgram, "--input", idx, "--index", "2"])
        #expect(r.0 == ExitCode.usage && r.2.contains("--index 2 is out of range") && r.2.contains("2 items (0…1)") && clean(r.2), "\(r.2)")
        #expect(sne(["run", exampleProgram, "--input", idx, "--index", "1"]).0 == ExitCode.ok)
        try idxFile([UInt32.max, UInt32.max, UInt32.max], [1, 2, 3])
        r = sne(["run", exampleProgram, "--input", idx])
        #expect(r.0 == ExitCode.usage && r.2.contains("describe more than") && clean(r.2), "\(r.2)")
        // A large raw file is refused by its size without being read.
        let big = tmpPath("big.u8")
        let fd = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0o644); ftruncate(fd, 2 << 30); close(fd)
        defer { unlink(big) }
        r = sne(["run", exampleProgram, "--input", big])
        #expect(r.0 == ExitCode.usage && r.2.contains("is more than a raw input for 28x28x1") && clean(r.2, path: big), "\(r.2)")
        r = sne(["info", big])
        #expect(r.0 == ExitCode.usage && r.2.contains("not a Spike IR program") && clean(r.2, path: big), "\(r.2)")
    }

    @Test func exitCodesAreDefinedOnce() {
        #expect(CLIError.usage("x").exitCode == ExitCode.usage && CLIError.input("x").exitCode == ExitCode.usage)
        #expect(CLIError.failure("x").exitCode == ExitCode.failure && ExitCode.ok == 0)
        // README states the same numbers.
        let readme = (try? String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
        #expect(readme.contains("Exit codes: 0 ok, 1 failure (the work failed") && readme.contains("2 usage or bad input"))
    }

    @Test func infoPrintsTheEstimateAndHeavyRunsWarn() throws {
        let (c, out, _) = sne(["info", exampleProgram])
        #expect(c == 0 && out.contains("estimate   ~") && out.contains("per inference at k = K"))
        // The warning line: the example needs ~0.03 s, far below the threshold; a 10^4 x heavier
        // program (estimated) crosses it.
        let p = try InputFiles.program(exampleProgram)
        #expect(Progress.seconds(p, budgets: [4], runs: 1) < Progress.threshold)
        var err = TextSink.capture()
        Progress.warnIfLong(p, budgets: [1, 2, 3, 4], runs: 2000, command: "verify", err: &err)
        #expect(err.captured.hasPrefix("sne verify: heavy program (dense bound") && err.captured.split(separator: "\n").count == 1, "\(err.captured)")
    }
}
