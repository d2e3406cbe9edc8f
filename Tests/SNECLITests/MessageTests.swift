// The messages of issue 19 item 7, each as a user meets it: what is wrong, where, and the fix.
import Foundation
import Testing
@testable import SNECLI
import SNECodegen

@Suite struct MessageTests {
    static let program = ExitCodeWalkTests.program
    static let model = ExitCodeWalkTests.model
    static let slice = repoRoot.appendingPathComponent("examples/data/fashion-mnist-slice").path
    static let tmp: String = {
        let d = NSTemporaryDirectory() + "sne-messages-\(getpid())"
        try? FileManager.default.removeItem(atPath: d)
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    @Test func labelFileAsInputNamesItsShape() {
        let r = sne(["run", Self.program, "--input", Self.slice + "/t10k-labels-idx1-ubyte.gz", "--index", "0"])
        #expect(r.0 == 2 && r.2.contains("IDX items are single bytes (a one-dimensional IDX, such as a label file; give the images file)"), "\(r.2)")
        #expect(!r.2.contains("items are ,"))
    }

    @Test func imageFileAsInputSaysHowToConvert() throws {
        let png = Self.tmp + "/shoe.png"
        FileManager.default.createFile(atPath: png, contents: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: 2000)))
        let r = sne(["run", Self.program, "--input", png])
        #expect(r.0 == 2 && r.2.contains("\(png): is a PNG image") && r.2.contains("np.save('x.npy'") && r.2.contains(".convert('L').resize((28, 28))"), "\(r.2)")
    }

    @Test func modelGivenAsProgramSuggestsCompiling() {
        for argv in [["run", Self.model, "--input", "x.u8"], ["info", Self.model], ["verify", Self.model, "--target", "host"]] {
            let r = sne(argv)
            #expect(r.0 == 2 && r.2.contains("is a model, not a Spike IR program; compile it first: sne compile MODEL -o PROGRAM.snep --data DIR"), "\(argv): \(r.2)")
        }
    }

    @Test func unknownTargetListsLoihiAndLava() {
        let r = sne(["verify", Self.program, "--target", "esp32"])
        #expect(r.0 == 2 && r.2.contains("unknown target 'esp32'") && r.2.contains("loihi") && r.2.contains("lava"), "\(r.2)")
    }

    @Test func exportToMissingFolderSaysWhich() {
        let r = sne(["export", Self.program, "--nir", Self.tmp + "/no/such/dir/x.nir"])
        #expect(r.0 == 1 && r.2.contains("cannot write (directory \(Self.tmp)/no/such/dir does not exist)") && !r.2.contains("Cocoa"), "\(r.2)")
    }

    @Test func compileToDirWithSlashPrintsOneSlash() {
        let r = sne(["compile", Self.program, "--target", "host", "-o", Self.tmp + "/c/"])
        #expect(r.0 == 0 && r.1.contains("wrote \(Self.tmp)/c/fmnist4.h") && !r.1.contains("//"), "\(r.1)")
    }

    @Test func oneInputIsSingular() throws {
        guard Shell.has("cc") else { print("skipping: no cc"); return }
        let r = sne(["verify", Self.program, "--target", "host", "--random", "1", "--budget", "1"])
        #expect(r.0 == 0 && r.1.contains("(1 input x 1 budget)") && r.1.contains("1 input and port"), "\(r.1)")
    }

    /// A missing cross compiler or emulator is said before any build, with the apt line.
    @Test func missingEmulatorIsSaidFirstWithTheInstallLine() throws {
        let bin = Self.tmp + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: bin + "/sh", withDestinationPath: "/bin/sh")
        let i = try InstallTests.Install("noemu")
        let r = try i.run(["verify", Self.program, "--target", "cortex-m4", "--random", "1"], env: ["PATH": bin])
        #expect(r.0 == 1 && r.2.contains("verify on cortex-m4 needs arm-none-eabi-gcc and qemu-system-arm, not on PATH; install with: sudo apt-get install -y gcc-arm-none-eabi"), "\(r.2)")
        #expect(r.1.isEmpty, "\(r.1)")
    }
}
