// Build-tool plugin: embeds the C runtime (`runtime-c/`) and the target ports (`targets/`) into
// SNECodegen as generated Swift, so an installed or copied `sne` carries the files it emits and
// builds with, and needs no checkout (`SNEPaths`, docs/user-guide.md "Installing").
import Foundation
import PackagePlugin

@main
struct EmbedRuntime: BuildToolPlugin {
    /// The folders embedded, relative to the package root, and the subfolders left out (build
    /// outputs and fuzz corpora: nothing `sne` reads).
    static let folders = ["runtime-c", "targets"]
    static let skipped: Set<String> = ["runtime-c/fuzz", "runtime-c/tests/build", "targets/build"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let out = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedRuntimeData.swift")
        var files: [String] = []
        let fm = FileManager.default
        for folder in Self.folders {
            guard let walker = fm.enumerator(atPath: root.appendingPathComponent(folder).path) else { continue }
            while let rel = walker.nextObject() as? String {
                let path = folder + "/" + rel
                if Self.skipped.contains(path) { walker.skipDescendants(); continue }
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDir), !isDir.boolValue else { continue }
                let name = (rel as NSString).lastPathComponent
                if name.hasPrefix(".") || name.hasSuffix(".o") || name.hasSuffix(".elf") { continue }
                files.append(path)
            }
        }
        files.sort()
        let tool = try context.tool(named: "sne-embed")
        return [.buildCommand(displayName: "Embedding runtime-c and targets (\(files.count) files)",
                              executable: tool.url,
                              arguments: [root.path, out.path] + files,
                              inputFiles: files.map { root.appendingPathComponent($0) },
                              outputFiles: [out])]
    }
}
