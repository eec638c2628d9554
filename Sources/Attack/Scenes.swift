// Scenes: the photos a patch is pasted into. A SceneSet is a list of files; each is decoded when
// its squares at a model's input size are made (shorter side to size with Image.resized's
// triangle filter, centre crop), and kept as 8-bit RGB: a library of hundreds of photos then
// holds a fourth of the memory Floats would, and nothing at full resolution.
import Foundation
import Imaging
import Networks

public struct SceneSet: Sendable {
    public var paths: [String]

    public var count: Int { paths.count }

    /// Photos up to this many get 8 training views each (`augmentedSquares`); more get 2.
    public static let fewPhotos = 32

    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The held-out scenes of a scene folder: its val/ subfolder when it has one, else itself.
    public static func heldOutFolder(of directory: String) -> String {
        let val = (directory as NSString).appendingPathComponent("val")
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: val, isDirectory: &isDir) && isDir.boolValue ? val : directory
    }

    /// Every PNG/JPEG in `directory` (not recursive), sorted by name for reproducibility.
    public static func load(directory: String) throws -> SceneSet {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw AttackError.noScenes("scene folder \(directory) does not exist; give a folder of PNG/JPEG photos")
        }
        guard isDir.boolValue else {
            throw AttackError.noScenes("\(directory) is a file, not a scene folder; give the folder that holds the PNG/JPEG photos")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        guard !names.isEmpty else { throw AttackError.noScenes("scene folder \(directory) has no .png/.jpg/.jpeg files") }
        return try load(paths: names.map { (directory as NSString).appendingPathComponent($0) })
    }

    /// The files, each checked to be a PNG or JPEG that exists (decoded later, by `squares`).
    public static func load(paths: [String]) throws -> SceneSet {
        guard !paths.isEmpty else { throw AttackError.noScenes("no scene images given") }
        for path in paths { _ = try Image.fileFormat(of: path) }
        return SceneSet(paths: paths)
    }

    /// Training and validation scenes from `directory`: its `train/` and `val/` subfolders when
    /// both exist, else every 4th image (sorted by name, starting with the 4th) is held out.
    public static func trainValidation(directory: String) throws -> (train: SceneSet, validation: SceneSet) {
        let train = (directory as NSString).appendingPathComponent("train"), val = (directory as NSString).appendingPathComponent("val")
        var a: ObjCBool = false, b: ObjCBool = false
        if FileManager.default.fileExists(atPath: train, isDirectory: &a), a.boolValue,
           FileManager.default.fileExists(atPath: val, isDirectory: &b), b.boolValue {
            return (try load(directory: train), try load(directory: val))
        }
        let all = try load(directory: directory)
        guard all.count >= 2 else {
            throw AttackError.noScenes("scene folder \(directory) has \(all.count) image; give at least 2 (training and held-out validation)")
        }
        var t = SceneSet(paths: []), v = SceneSet(paths: [])
        for i in 0..<all.count {
            if i % 4 == 3 || (all.count < 4 && i == all.count - 1) { v.paths.append(all.paths[i]) } else { t.paths.append(all.paths[i]) }
        }
        return (t, v)
    }

    /// (size, size, 3) 8-bit pixels, one array per scene, in order.
    public func squares(size: Int) throws -> [[UInt8]] {
        try decoded { [Self.bytes($0.centerSquare(size: size))] }
    }

    /// Training backgrounds. Up to `fewPhotos` photos: per photo the centre square and, from the
    /// photo resized to 1.2× the size, its two opposite corner squares and its centre, each also
    /// mirrored left–right — 8 views per photo, so a few photos still give varied backgrounds.
    /// More photos: the centre square and its mirror image. Photo order, then view.
    public func augmentedSquares(size: Int) throws -> [[UInt8]] {
        let few = count <= Self.fewPhotos
        return try decoded { image -> [[UInt8]] in
            let rgb = image.rgb
            var views = [rgb.centerSquare(size: size)]
            if few {
                let big = Int((Double(size) * 1.2).rounded())
                let scale = Double(big) / Double(min(rgb.width, rgb.height))
                let w = max(big, Int((Double(rgb.width) * scale).rounded())), h = max(big, Int((Double(rgb.height) * scale).rounded()))
                let r = rgb.resized(width: w, height: h)
                views += [r.cropped(x: 0, y: 0, width: size, height: size), r.cropped(x: w - size, y: h - size, width: size, height: size),
                          r.cropped(x: (w - size) / 2, y: (h - size) / 2, width: size, height: size)]
            }
            return views.flatMap { [Self.bytes($0), Self.bytes($0.mirroredLeftRight())] }
        }
    }

    /// `views` of every photo, decoded in parallel, concatenated in photo order. A photo that
    /// cannot be read is named.
    func decoded(_ views: @Sendable (Image) -> [[UInt8]]) throws -> [[UInt8]] {
        var out = [[[UInt8]]](repeating: [], count: count)
        var failure: (any Error)? = nil
        let lock = NSLock()
        let paths = self.paths
        out.withUnsafeMutableBufferPointer { buffer in
            let slots = UncheckedSendable(buffer)
            Parallel.forEachChunk(paths.count, work: Int.max) { range in
                for i in range {
                    do { slots.value[i] = views(try Image.read(from: paths[i]).rgb) } catch {
                        lock.lock(); failure = failure ?? AttackError.noScenes("scene \(paths[i]) cannot be read (\(error)); replace or remove it"); lock.unlock()
                    }
                }
            }
        }
        if let failure { throw failure }
        return out.flatMap { $0 }
    }

    /// The model's top-1 on each 8-bit scene square (size, size, 3) without a patch, `batch`
    /// scenes per forward pass: what a patch's success is measured against (untargeted flips).
    public static func cleanTop1(_ scenes: [[UInt8]], runner: any ModelRunning, size s: Int, batch: Int) -> [Int] {
        let batch = max(1, min(batch, scenes.count))
        let images = Tensor(zeros: [batch, s, s, 3]), logits = Tensor(zeros: [batch, runner.classCount])
        let k = runner.classCount
        var top1: [Int] = []
        var start = 0
        while start < scenes.count {
            let n = min(batch, scenes.count - start)
            for i in 0..<n {
                let dst = images.unsafePointer + i * s * s * 3
                for (j, v) in scenes[start + i].enumerated() { dst[j] = Float(v) / 255 }
            }
            runner.forward(images.unsafePointer, n: n, height: s, width: s, logits: logits.unsafePointer)
            for i in 0..<n {
                let row = logits.unsafePointer + i * k
                var best = 0
                for j in 1..<k where row[j] > row[best] { best = j }
                top1.append(best)
            }
            start += n
        }
        return top1
    }

    /// 8-bit samples of an image in [0, 1] (round(255 · v), as a PNG stores it).
    static func bytes(_ image: Image) -> [UInt8] {
        image.pixels.map { UInt8(min(max($0, 0), 1) * 255 + 0.5) }
    }
}
