// Finding the Python that runs Lava or snnTorch/NIR: `$SNE_LAVA_PYTHON` / `$SNE_NIR_PYTHON`,
// else `python3` on PATH if it imports the packages, else a message with the exact setup line.
// No machine's venv path is assumed anywhere.
import Foundation

public struct PythonEnv: Sendable {
    /// The environment variable that names the interpreter (the venv's `bin/python`).
    public let variable: String
    /// The modules that must import.
    public let modules: [String]
    /// What the venv is for, for messages ("Lava").
    public let purpose: String
    /// The exact commands that create a working venv.
    public let setup: String

    /// Lava (needs Python 3.8–3.10; `lava-nc` pins it).
    public static let lava = PythonEnv(
        variable: "SNE_LAVA_PYTHON", modules: ["lava.proc.lif.models"], purpose: "Lava",
        setup: "python3.10 -m venv ~/.venvs/lava && ~/.venvs/lava/bin/pip install lava-nc && export SNE_LAVA_PYTHON=~/.venvs/lava/bin/python")
    /// Writing and reading NIR files (the export checks).
    public static let nir = PythonEnv(
        variable: "SNE_NIR_PYTHON", modules: ["nir", "h5py"], purpose: "NIR",
        setup: "python3 -m venv ~/.venvs/nir && ~/.venvs/nir/bin/pip install nir h5py && export SNE_NIR_PYTHON=~/.venvs/nir/bin/python")
    /// Running a NIR file in snnTorch (`targets/nir/snntorch_run.py`). The CPU torch wheel: plain
    /// `pip install torch` on Linux pulls the CUDA build (on PyPI, torch 2.15.0's wheel is 514 MiB
    /// and its nvidia-* dependencies add more than 1 GiB, cuDNN alone 492 MiB).
    public static let snntorch = PythonEnv(
        variable: "SNE_NIR_PYTHON", modules: ["nir", "nirtorch", "snntorch", "torch", "h5py"], purpose: "snnTorch",
        setup: "python3 -m venv ~/.venvs/nir && ~/.venvs/nir/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu"
            + " && ~/.venvs/nir/bin/pip install nir nirtorch snntorch h5py && export SNE_NIR_PYTHON=~/.venvs/nir/bin/python"
            + "  (the CPU-only torch: plain 'pip install torch' downloads the CUDA build, over 1.5 GiB)")

    /// The interpreter to use, or the one-line reason there is none (with the setup line).
    public func find() -> Result<String, PythonEnvError> {
        let env = ProcessInfo.processInfo.environment
        if let p = env[variable], !p.isEmpty {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                return .failure(PythonEnvError("\(variable)=\(p): no such file (set it to the venv's bin/python; set up with: \(setup))"))
            }
            if isDir.boolValue {
                let hint = FileManager.default.isExecutableFile(atPath: p + "/bin/python") ? "; did you mean \(variable)=\(p)/bin/python?" : ""
                return .failure(PythonEnvError("\(variable)=\(p): is a directory, not a Python interpreter (set it to the venv's bin/python\(hint))"))
            }
            guard FileManager.default.isExecutableFile(atPath: p) else {
                return .failure(PythonEnvError("\(variable)=\(p): not executable (set it to the venv's bin/python)"))
            }
            if let missing = missingModule(p) {
                return .failure(PythonEnvError("\(variable)=\(p): cannot import \(missing) (set up a venv with: \(setup))"))
            }
            return .success(p)
        }
        guard Shell.has("python3") else {
            return .failure(PythonEnvError("\(purpose) needs Python: \(variable) is not set and there is no python3 on PATH (set up a venv with: \(setup))"))
        }
        if let missing = missingModule("python3") {
            return .failure(PythonEnvError("\(purpose): \(variable) is not set and python3 on PATH cannot import \(missing) (set up a venv with: \(setup))"))
        }
        return .success("python3")
    }

    /// The first module `python` cannot import, or nil.
    func missingModule(_ python: String) -> String? {
        for m in modules {
            guard let r = try? Shell.run([python, "-c", "import \(m)"]), r.status == 0 else { return m }
        }
        return nil
    }
}

/// Why no usable Python was found: one line ending with the setup commands.
public struct PythonEnvError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
