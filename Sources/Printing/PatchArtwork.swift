// `PatchArtwork`: the texture, mask and run facts (target, models, seed, date) that a print sheet
// is made from, loaded from a `generate` run folder or a bare PNG. Not a run-folder writer
// (Attack's `RunFiles` writes those); run.json is read leniently, any field may be missing.
import Foundation
import Imaging

/// What the caption says about where a patch came from. Every field is optional: a bare PNG has none.
public struct PatchInfo: Sendable, Equatable, Codable {
    public var targetLabel: String?
    public var targetIndex: Int?
    public var models: [String]
    public var seed: UInt64?
    /// When the run was made (the run record's "created" timestamp), as written there.
    public var created: String?
    public var shape: String?
    /// The --patch argument, as given.
    public var source: String

    public init(targetLabel: String? = nil, targetIndex: Int? = nil, models: [String] = [], seed: UInt64? = nil,
                created: String? = nil, shape: String? = nil, source: String) {
        self.targetLabel = targetLabel
        self.targetIndex = targetIndex
        self.models = models
        self.seed = seed
        self.created = created
        self.shape = shape
        self.source = source
    }
}

/// A texture (RGB) with its mask (same size, 1 = patch, 0 = paper) and provenance.
public struct PatchArtwork: Sendable {
    public var texture: Image  // RGB, (H, W, 3)
    /// Coverage in [0, 1], one value per texture pixel, row-major (H, W).
    public var mask: [Float]
    public var info: PatchInfo

    /// - Precondition: `mask.count == texture.width * texture.height`.
    public init(texture: Image, mask: [Float]? = nil, info: PatchInfo) {
        let count = texture.width * texture.height
        precondition(mask == nil || mask?.count == count, "PatchArtwork: mask size must match the texture")
        self.texture = texture.rgb
        self.mask = mask ?? [Float](repeating: 1, count: count)
        self.info = info
    }

    /// Loads `path`:
    /// - a folder (a finished `generate` run): `patch.png` and `mask.png` (both required) and
    ///   `run.json` (optional) for the caption;
    /// - a PNG/JPEG file: an RGBA file's alpha is its mask; a file named `patch.png` with a
    ///   `mask.png` beside it uses that mask; any other RGB file is printed as the whole square;
    ///   a `run.json` beside it is read for the caption.
    ///
    /// Refuses what `evaluate` refuses (Evaluation's `EvaluatedPatch.load`): a texture outside
    /// `Image.patchTextureSides`, a run folder without `mask.png`, and a mask or alpha that marks
    /// no pixel (nothing above 0.5), which would print a blank sheet.
    public static func load(path: String) throws(PrintError) -> PatchArtwork {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .missingPatch(path: path, reason: "no such file or folder")
        }
        let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        let texturePath = isDirectory.boolValue ? join(folder, "patch.png") : path
        let image: Image
        do { image = try Image.read(from: texturePath) } catch {
            if isDirectory.boolValue && !FileManager.default.fileExists(atPath: texturePath) {
                throw .missingPatch(path: path, reason: "the folder has no patch.png (is it a generate run folder?)")
            }
            throw .missingPatch(path: path, reason: error.description)
        }
        let sides = Image.patchTextureSides
        guard sides.contains(image.width), sides.contains(image.height) else {
            throw .badPatch(path: path, reason: "the texture \((texturePath as NSString).lastPathComponent) is \(image.width) × "
                + "\(image.height) pixels; a patch texture must be \(sides.lowerBound)…\(sides.upperBound) pixels per side "
                + "(as `generate` writes it)")
        }
        var mask: [Float]?
        let maskPath = join(folder, "mask.png")
        let usesSiblingMask = isDirectory.boolValue || (path as NSString).lastPathComponent == "patch.png"
        if isDirectory.boolValue && !FileManager.default.fileExists(atPath: maskPath) {
            throw .badPatch(path: path, reason: "the run folder has no mask.png, so the patch's outline is unknown (a `generate` "
                + "run writes it at its end). Give a finished run folder, or an RGBA PNG whose alpha marks the patch "
                + "(a run's patch_rgba.png)")
        }
        if image.hasAlpha && !isDirectory.boolValue {
            let alpha = stride(from: 3, to: image.pixels.count, by: 4).map { image.pixels[$0] }
            guard alpha.contains(where: { $0 > 0.5 }) else {
                throw .badPatch(path: path, reason: "the PNG is RGBA but fully transparent (no alpha above 0.5), so it would "
                    + "print a blank sheet; its alpha must mark the patch (opaque = patch)")
            }
            mask = alpha
        } else if usesSiblingMask && FileManager.default.fileExists(atPath: maskPath) {
            mask = try readMask(maskPath, width: image.width, height: image.height)
        }
        var info = PatchInfo(source: path)
        let recordPath = join(folder, "run.json")
        if FileManager.default.fileExists(atPath: recordPath) {
            info = try readRunRecord(recordPath, source: path)
        }
        return PatchArtwork(texture: image, mask: mask, info: info)
    }

    private static func join(_ folder: String, _ name: String) -> String {
        (folder as NSString).appendingPathComponent(name)
    }

    /// A grey (or RGB: the mean of the channels) mask PNG the size of the texture.
    static func readMask(_ path: String, width: Int, height: Int) throws(PrintError) -> [Float] {
        let image: Image
        do { image = try Image.read(from: path) } catch { throw .badMask(path: path, reason: error.description) }
        guard image.width == width, image.height == height else {
            throw .badMask(path: path, reason: "it is \(image.width) × \(image.height) but the texture is \(width) × \(height)")
        }
        let c = image.channels
        let mask = (0..<(width * height)).map { i in
            (image.pixels[i * c] + image.pixels[i * c + 1] + image.pixels[i * c + 2]) / 3
        }
        guard mask.contains(where: { $0 > 0.5 }) else {
            throw .badMask(path: path, reason: "it marks no pixel (every value is 0.5 or darker), so the sheet would be blank")
        }
        return mask
    }

    /// The fields of a generate run record that the caption uses (see Attack's RunFiles).
    private struct RunRecord: Decodable {
        struct Target: Decodable { var index: Int?; var label: String? }
        struct Model: Decodable { var name: String?; var spec: String? }
        struct Config: Decodable { var seed: UInt64?; var models: [String]?; var target: Int? }
        var target: Target?
        var models: [Model]?
        var config: Config?
        var created: String?
    }

    static func readRunRecord(_ path: String, source: String) throws(PrintError) -> PatchInfo {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badRunRecord(path: path, reason: "cannot be read")
        }
        let record: RunRecord
        do { record = try JSONDecoder().decode(RunRecord.self, from: data) } catch {
            throw .badRunRecord(path: path, reason: "is not a generate run record (\(error))")
        }
        let models = record.config?.models ?? record.models?.compactMap { $0.spec ?? $0.name } ?? []
        var shape: String?
        // The shape is an enum encoded as {"circle": {}}; its first key names it.
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let config = object["config"] as? [String: Any],
           let shapeObject = config["shape"] as? [String: Any] {
            shape = shapeObject.keys.sorted().first
        }
        return PatchInfo(targetLabel: record.target?.label, targetIndex: record.target?.index ?? record.config?.target,
                         models: models, seed: record.config?.seed, created: record.created, shape: shape, source: source)
    }
}
