// Finding and loading the image datasets the trainer knows: MNIST, Fashion-MNIST (IDX), sklearn
// digits (CSV), CIFAR-10 (binary batches) and any NPY pair of uint8 images and integer labels.
import Foundation
import SNEData

/// A train/test pair of image sets (pixels are uint8 / 255, NCHW), with the facts a trainer needs.
public struct DatasetSplits: Sendable {
    public var name: String
    /// Where it was read from.
    public var source: String
    public var train: LabeledImages
    public var test: LabeledImages
    public var classes: Int
    /// `[C, H, W]`.
    public var inputShape: [Int] { Array(train.shape.dropFirst()) }
    /// Whether a left-right mirror is a valid augmentation (not for digits and letters).
    public var allowsFlip: Bool
    /// The zero padding of a random-crop augmentation: 2 pixels, 1 below 16 pixels (the teacher's
    /// and `--augment crop`'s).
    public var cropPadding: Int { inputShape[1] >= 16 ? 2 : 1 }
}

public enum Datasets {
    /// The names `load` takes (plus `npy:DIR`); `fashion-mnist-slice` is the 8,000 + 2,000 image
    /// slice shipped in `examples/data`.
    public static let known = ["mnist", "fashion-mnist", "fashion-mnist-slice", "digits", "cifar10"]

    /// Where data is searched, in this order, as every command's `--help` and
    /// docs/user-guide.md "Data" state it: `--data DIR` alone when given; otherwise `$SNE_DATA`,
    /// `../shared/data` (a data folder beside the checkout or working directory),
    /// `PREFIX/share/sne/data` (what `./install.sh PREFIX` copies; PREFIX is the folder above the
    /// one holding the `sne` binary) and `examples/data` (in a checkout, the shipped slice).
    public static func roots(explicit: String?) -> [String] {
        if let explicit { return [explicit] }
        var r: [String] = []
        if let env = ProcessInfo.processInfo.environment["SNE_DATA"], !env.isEmpty { r.append(env) }
        r.append("../shared/data")
        if let share = installedData { r.append(share) }
        r.append("examples/data")
        return r
    }

    /// The search order in one line, for `--help` texts and error messages.
    public static let searchOrder = "--data DIR, else $SNE_DATA, ../shared/data, PREFIX/share/sne/data (beside PREFIX/bin/sne), examples/data"

    /// `PREFIX/share/sne/data` for the running executable (`PREFIX/bin/sne`, symlinks resolved).
    static var installedData: String? {
        guard let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        return exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/sne/data").path
    }

    /// Loads `name` (one of `known`, or `npy:DIR` holding `x_train.npy`, `y_train.npy`, `x_test.npy`,
    /// `y_test.npy`) from the first root that has it. `limit` keeps the first N training images,
    /// `testLimit` the first N test images.
    public static func load(_ name: String, root: String? = nil, limit: Int? = nil, testLimit: Int? = nil) throws -> DatasetSplits {
        var d: DatasetSplits
        if name.hasPrefix("npy:") {
            d = try loadNPY(String(name.dropFirst(4)))
        } else {
            guard known.contains(name) else {
                throw SNEError("unknown dataset '\(name)' (known: \(known.joined(separator: ", ")), or npy:DIR)")
            }
            var tried: [String] = []
            var found: DatasetSplits? = nil
            for r in roots(explicit: root) {
                for dir in [(r as NSString).appendingPathComponent(name == "digits" ? "sklearn-digits" : name), r] {
                    tried.append(dir)
                    if let s = try loadIfPresent(name, dir: dir, limit: limit) { found = s; break }
                }
                if found != nil { break }
            }
            guard let f = found else {
                throw SNEError("dataset \(name) not found; tried: \(tried.joined(separator: ", ")) (give --data DIR or set SNE_DATA; search order: \(searchOrder))", isInput: true)
            }
            d = f
        }
        if let limit, limit < d.train.count { d.train = d.train.prefix(limit) }
        if let testLimit, testLimit < d.test.count { d.test = d.test.prefix(testLimit) }
        let maxLabel = max(d.train.labels.max() ?? 0, d.test.labels.max() ?? 0)
        if let bad = (d.train.labels + d.test.labels).first(where: { $0 < 0 }) {
            throw SNEError("\(d.source): label \(bad) is negative")
        }
        d.classes = max(d.classes, maxLabel + 1)
        return d
    }

    static func loadIfPresent(_ name: String, dir: String, limit: Int?) throws -> DatasetSplits? {
        let fm = FileManager.default
        do {
            switch name {
            case "mnist", "fashion-mnist", "fashion-mnist-slice":
                guard fm.fileExists(atPath: dir + "/train-images-idx3-ubyte.gz") || fm.fileExists(atPath: dir + "/train-images-idx3-ubyte") else { return nil }
                let train = try IDX.load(directory: dir, split: "train", limit: limit)
                let test = try IDX.load(directory: dir, split: "t10k")
                return DatasetSplits(name: name, source: dir, train: train, test: test, classes: 10, allowsFlip: name != "mnist")
            case "digits":
                let path = dir + "/digits.csv.gz"
                guard fm.fileExists(atPath: path) else { return nil }
                return try loadDigits(path)
            case "cifar10":
                let files = (1...5).map { "\(dir)/data_batch_\($0).bin" }
                guard files.allSatisfy({ fm.fileExists(atPath: $0) }), fm.fileExists(atPath: dir + "/test_batch.bin") else { return nil }
                return DatasetSplits(name: name, source: dir, train: try CIFAR10.load(files: files),
                                     test: try CIFAR10.load(files: [dir + "/test_batch.bin"]), classes: 10, allowsFlip: true)
            default: return nil
            }
        } catch let e as DataError { throw SNEError(e.message) }
    }

    /// sklearn's digits CSV (64 values 0…16 then the label, per line): 8x8 images scaled to 0…255
    /// (`round(v·255/16)`); every fifth image (index ≡ 4 mod 5) is the test set.
    public static func loadDigits(_ path: String) throws -> DatasetSplits {
        let bytes: [UInt8]
        do { bytes = try readMaybeGzip(path) } catch let e as DataError { throw SNEError(e.message) }
        var trainPx: [Float] = [], testPx: [Float] = [], trainY: [Int] = [], testY: [Int] = []
        var lineNo = 0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 65, let label = Int(f[64]), (0...9).contains(label) else {
                throw SNEError("\(path): line \(lineNo + 1) does not have 64 pixel values and a label 0…9")
            }
            var px: [Float] = []
            for v in f[0..<64] {
                guard let x = Double(v), x >= 0, x <= 16 else { throw SNEError("\(path): line \(lineNo + 1) has pixel '\(v)' outside 0…16") }
                px.append(Float((x * 255 / 16).rounded()) / 255)
            }
            if lineNo % 5 == 4 { testPx += px; testY.append(label) } else { trainPx += px; trainY.append(label) }
            lineNo += 1
        }
        guard !trainY.isEmpty, !testY.isEmpty else { throw SNEError("\(path): no images") }
        return DatasetSplits(name: "digits", source: path,
                             train: try LabeledImages(shape: [trainY.count, 1, 8, 8], pixels: trainPx, labels: trainY),
                             test: try LabeledImages(shape: [testY.count, 1, 8, 8], pixels: testPx, labels: testY),
                             classes: 10, allowsFlip: false)
    }

    /// `DIR/x_train.npy` (uint8 `[N, H, W]` or `[N, H, W, C]`), `y_train.npy` (integer `[N]`), and the
    /// same for `test`.
    public static func loadNPY(_ dir: String) throws -> DatasetSplits {
        func images(_ split: String) throws -> LabeledImages {
            let xp = "\(dir)/x_\(split).npy", yp = "\(dir)/y_\(split).npy"
            let x: NPYArray, y: NPYArray
            do { x = try NPY.read(xp); y = try NPY.read(yp) } catch let e as DataError { throw SNEError(e.message) }
            guard case .uint8(let px, let s) = x, s.count == 3 || s.count == 4, s.allSatisfy({ $0 >= 1 }) else {
                throw SNEError("\(xp): expected uint8 images [N, H, W] or [N, H, W, C], got \(x.shape)")
            }
            let labels: [Int]
            switch y {
            case .int32(let v, let ys) where ys == [s[0]]: labels = v.map(Int.init)
            case .uint8(let v, let ys) where ys == [s[0]]: labels = v.map(Int.init)
            default: throw SNEError("\(yp): expected \(s[0]) integer labels (int32 or uint8, shape [\(s[0])]), got \(y.shape)")
            }
            let n = s[0], h = s[1], w = s[2], c = s.count == 4 ? s[3] : 1
            var out = [Float](repeating: 0, count: px.count)
            for i in 0..<n { for yy in 0..<h { for xx in 0..<w { for ch in 0..<c {
                out[((i * c + ch) * h + yy) * w + xx] = Float(px[((i * h + yy) * w + xx) * c + ch]) / 255
            } } } }
            return try LabeledImages(shape: [n, c, h, w], pixels: out, labels: labels)
        }
        let train = try images("train"), test = try images("test")
        guard Array(train.shape.dropFirst()) == Array(test.shape.dropFirst()) else {
            throw SNEError("\(dir): train images \(train.shape) and test images \(test.shape) differ in shape")
        }
        return DatasetSplits(name: "npy:\(dir)", source: dir, train: train, test: test, classes: 2, allowsFlip: false)
    }
}
