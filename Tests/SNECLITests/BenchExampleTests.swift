// `sne bench` and `sne example`: flag validation and the missing-dataset error (no timed work here).
import Testing
import Foundation
@testable import SNECLI

@Suite struct BenchExampleTests {
    @Test func benchRejectsUnknownBenchmarkAndBadFlags() {
        #expect(sne(["bench", "nope"]).0 == 2)
        #expect(sne(["bench", "gemm", "--threads", "0"]).0 == 2)
        #expect(sne(["bench", "train", "--bogus"]).0 == 2)
        let (code, out, _) = sne(["bench", "--help"])
        #expect(code == 0 && out.contains("sne bench [gemm|conv|train|teacher|interp|all]"))
    }

    @Test func exampleValidatesItsArguments() {
        #expect(sne(["example"]).0 == 2)
        #expect(sne(["example", "mnist-rnn"]).0 == 2)
        #expect(sne(["example", "mnist-cnn", "--epochs", "0"]).0 == 2)
        #expect(sne(["example", "mnist-lif", "--dataset", "cifar"]).0 == 2)
    }

    @Test func missingDatasetIsOneClearError() {
        let (code, _, err) = sne(["example", "mnist-cnn", "--data", "/nonexistent/sne-data"])
        #expect(code == ExitCode.usage)   // bad input: exit 2
        #expect(err == "sne example: mnist dataset not found; tried: /nonexistent/sne-data/mnist, /nonexistent/sne-data (give --data DIR or set SNE_DATA)\n")
    }
}
