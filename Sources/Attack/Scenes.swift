// Scenes: the photos a patch is pasted into. Loaded once, cropped to a square and resized to each
// model's input size (shorter side to size with Image.resized's triangle filter, centre crop).
import Foundation
import Imaging

public struct SceneSet: Sendable {
    public var paths: [String]
    /// Full-resolution RGB images, resized on demand per model input size.
    public var images: [Image]

    public var count: Int { images.count }

    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The bundled scene folder (train/ and val/), relative to the repository root: the default
    /// of every command that takes scenes.
    public static let defaultFolder = "Samples/scenes"

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

    public static func load(paths: [String]) throws -> SceneSet {
        guard !paths.isEmpty else { throw AttackError.noScenes("no scene images given") }
        return SceneSet(paths: paths, images: try paths.map { try Image.read(from: $0).rgb })
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
        var t = SceneSet(paths: [], images: []), v = SceneSet(paths: [], images: [])
        for i in 0..<all.count {
            if i % 4 == 3 || (all.count < 4 && i == all.count - 1) { v.paths.append(all.paths[i]); v.images.append(all.images[i]) }
            else { t.paths.append(all.paths[i]); t.images.append(all.images[i]) }
        }
        return (t, v)
    }

    /// (count, size, size, 3) pixels, one flat array per scene.
    public func squares(size: Int) -> [[Float]] { images.map { $0.centerSquare(size: size).pixels } }

    /// Training backgrounds: per scene the centre square and, from the scene resized to 1.2× the
    /// size, its two opposite corner squares and its centre, each also mirrored left–right — 8
    /// views per photo, so a few photos still give varied backgrounds (scene order, then view).
    public func augmentedSquares(size: Int) -> [[Float]] {
        images.flatMap { image -> [[Float]] in
            let rgb = image.rgb
            let big = Int((Double(size) * 1.2).rounded())
            let scale = Double(big) / Double(min(rgb.width, rgb.height))
            let w = max(big, Int((Double(rgb.width) * scale).rounded())), h = max(big, Int((Double(rgb.height) * scale).rounded()))
            let r = rgb.resized(width: w, height: h)
            let views = [rgb.centerSquare(size: size), r.cropped(x: 0, y: 0, width: size, height: size),
                         r.cropped(x: w - size, y: h - size, width: size, height: size),
                         r.cropped(x: (w - size) / 2, y: (h - size) / 2, width: size, height: size)]
            return views.flatMap { [$0.pixels, $0.mirroredLeftRight().pixels] }
        }
    }
}
