// sne-embed ROOT OUT.swift FILE...: writes OUT.swift holding FILE... (paths relative to ROOT) as
// base64 literals with their executable bit, plus a digest of all of them. Run by the
// EmbedRuntime build plugin; the output is compiled into SNECodegen (`EmbeddedFiles`).
import Foundation

let argv = CommandLine.arguments
guard argv.count >= 3 else {
    FileHandle.standardError.write(Data("usage: sne-embed ROOT OUT.swift FILE...\n".utf8)); exit(2)
}
let root = argv[1], outPath = argv[2]
var body = ""
// FNV-1a 64 over every path and content: names the extracted copy, so a binary never reuses
// another build's files.
var hash: UInt64 = 0xcbf2_9ce4_8422_2325
func mix(_ h: inout UInt64, _ bytes: some Sequence<UInt8>) { for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
for rel in argv.dropFirst(3) {
    let full = root + "/" + rel
    guard let data = FileManager.default.contents(atPath: full) else {
        FileHandle.standardError.write(Data("sne-embed: \(full): cannot read\n".utf8)); exit(1)
    }
    let perms = ((try? FileManager.default.attributesOfItem(atPath: full))?[.posixPermissions] as? Int) ?? 0o644
    let exec = perms & 0o111 != 0
    mix(&hash, Array(rel.utf8)); mix(&hash, [0, exec ? 1 : 0]); mix(&hash, data)
    body += "        EmbeddedFile(path: \"\(rel)\", executable: \(exec), base64: \"\(data.base64EncodedString())\"),\n"
}
let text = """
// Generated at build time by sne-embed (Plugins/EmbedRuntime) from runtime-c/ and targets/. Do not edit.
extension EmbeddedFiles {
    static let digest = "\(String(hash, radix: 16))"
    static let files: [EmbeddedFile] = [
\(body)    ]
}

"""
let tmp = outPath + ".tmp"
do {
    try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
    if FileManager.default.fileExists(atPath: outPath) { try FileManager.default.removeItem(atPath: outPath) }
    try FileManager.default.moveItem(atPath: tmp, toPath: outPath)
} catch {
    FileHandle.standardError.write(Data("sne-embed: \(outPath): cannot write (\(error.localizedDescription))\n".utf8)); exit(1)
}
