// Loading a patch to evaluate: a `generate` run folder (patch.png + mask.png + run.json) or a PNG
// (RGBA: alpha is the mask; RGB: a mask PNG or a shape must be given). Also the control patches
// (noise, grey, shuffled) of the same shape. Not a renderer.
import Attack
import Foundation
import Imaging
import Transforms

/// The generation run's own held-out validation (run.json `final_validation`).
public struct RunValidation: Codable, Sendable, Equatable {
    public var success: Double
    public var samples: Int
    public var meanTargetProbability: Double
    public var metric: String
}

/// A patch texture with its mask and, for a run folder, what it was made for.
public struct EvaluatedPatch: Sendable {
    /// Short name for tables: the run folder's or file's name.
    public var name: String
    /// The folder or file it was read from.
    public var source: String
    public var width: Int, height: Int
    /// (height, width, 3) in [0, 1].
    public var texture: [Float]
    public var mask: Mask
    /// Target class; nil = untargeted (success is a flip of the clean top-1).
    public var target: Int?
    /// Models the run attacked (empty for a PNG).
    public var models: [String] = []
    /// The run's transform distribution (nil for a PNG).
    public var distribution: TransformDistribution? = nil
    public var runValidation: RunValidation? = nil
    /// Set when `source` is a run folder.
    public var runDirectory: String? = nil

    public init(name: String, source: String, width: Int, height: Int, texture: [Float], mask: Mask, target: Int?) {
        self.name = name; self.source = source; self.width = width; self.height = height
        self.texture = texture; self.mask = mask; self.target = target
    }

    /// Height / width.
    public var aspect: Double { Double(height) / Double(width) }

    /// The texture with the mask as alpha (RGBA), e.g. for pictures.
    public var rgbaImage: Image {
        var px = [Float](repeating: 0, count: width * height * 4)
        for i in 0..<(width * height) {
            for c in 0..<3 { px[i * 4 + c] = texture[i * 3 + c] }
            px[i * 4 + 3] = mask.alpha[i]
        }
        return (try? Image(width: width, height: height, channels: 4, pixels: px)) ?? Image(width: 1, height: 1, channels: 4, fill: 0)
    }

    // MARK: Loading

    /// Reads a run folder or a PNG. `maskPath`/`shape` are for an RGB PNG (one of them is needed).
    /// A PNG has no target: set `target` afterwards (nil evaluates it untargeted).
    public static func load(_ path: String, maskPath: String? = nil, shape: String? = nil) throws -> EvaluatedPatch {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvaluationError.badPatch("patch \(path) does not exist; give a generate run folder or a PNG")
        }
        if isDirectory.boolValue {
            if maskPath != nil || shape != nil {
                throw EvaluationError.badPatch("patch \(path) is a run folder: it has its own mask.png; --mask and --shape are only for an RGB PNG")
            }
            return try loadRun(directory: path)
        }
        return try loadPNG(path, maskPath: maskPath, shape: shape)
    }

    static func readImage(_ path: String, what: String) throws -> Image {
        let format: ImageFileFormat
        do { format = try Image.fileFormat(of: path) } catch {
            throw EvaluationError.badPatch("\(what) \(path) is not a PNG image (\(error))")
        }
        guard format == .png else {
            throw EvaluationError.badPatch("\(what) \(path) is a \(format.rawValue.uppercased()), not a PNG; a patch must be a lossless PNG (RGBA with the mask as alpha, or RGB with --mask/--shape)")
        }
        let img: Image
        do { img = try Image.read(from: path) } catch { throw EvaluationError.badPatch("\(what) \(path): \(error)") }
        guard Image.patchTextureSides.contains(img.width), Image.patchTextureSides.contains(img.height) else {
            throw EvaluationError.badPatch("\(what) \(path) is \(img.width)×\(img.height); a patch texture must be \(Image.patchTextureSides.lowerBound)…\(Image.patchTextureSides.upperBound) pixels per side")
        }
        return img
    }

    static func loadPNG(_ path: String, maskPath: String?, shape: String?) throws -> EvaluatedPatch {
        let img = try readImage(path, what: "patch")
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let (w, h) = (img.width, img.height)
        let mask: Mask
        if maskPath != nil && shape != nil { throw EvaluationError.badPatch("give either --mask or --shape, not both") }
        if img.hasAlpha {
            if maskPath != nil || shape != nil {
                throw EvaluationError.badPatch("patch \(path) is RGBA: its alpha is the mask; drop --mask/--shape, or give an RGB PNG")
            }
            let alpha = (0..<(w * h)).map { img.pixels[$0 * 4 + 3] }
            guard alpha.contains(where: { $0 > 0.5 }) else {
                throw EvaluationError.badPatch("patch \(path) is RGBA but fully transparent (no alpha > 0.5): its alpha must mark the patch")
            }
            mask = try Mask(alpha: alpha, width: w, height: h)
        } else if let maskPath {
            mask = try readMask(maskPath, width: w, height: h)
        } else if let shape {
            let s: PatchShape
            do { s = try PatchShape.parse(shape) } catch { throw EvaluationError.badPatch("\(error)") }
            do { mask = try s.mask(width: w, height: h) } catch { throw EvaluationError.badPatch("--shape \(shape): \(error)") }
        } else {
            throw EvaluationError.badPatch("patch \(path) is an RGB PNG without alpha, so its outline is unknown: give --mask MASK.png or --shape circle|square|rect:WxH, or use the RGBA patch_rgba.png")
        }
        return EvaluatedPatch(name: name, source: path, width: w, height: h, texture: img.rgb.pixels, mask: mask, target: nil)
    }

    /// A mask PNG: alpha when it has one, else luminance; resized to the texture when needed.
    static func readMask(_ path: String, width: Int, height: Int) throws -> Mask {
        var img = try readImage(path, what: "mask")
        if img.width != width || img.height != height { img = img.resized(width: width, height: height) }
        let alpha = (0..<(width * height)).map { i -> Float in
            let p = img.pixels, c = img.channels
            let v = c == 4 ? p[i * 4 + 3] : 0.2126 * p[i * 3] + 0.7152 * p[i * 3 + 1] + 0.0722 * p[i * 3 + 2]
            return min(max(v, 0), 1)
        }
        do { return try Mask(alpha: alpha, width: width, height: height) } catch {
            throw EvaluationError.badPatch("mask \(path) marks no pixel (every value ≤ 0.5); white (or opaque) must mark the patch")
        }
    }

    static func loadRun(directory: String) throws -> EvaluatedPatch {
        let files = RunFiles(directory: directory)
        let missing = [files.texturePath, files.maskPath, files.recordPath].filter { !FileManager.default.fileExists(atPath: $0) }
        guard missing.isEmpty else {
            throw EvaluationError.badPatch("\(directory) is not a finished generate run: missing \(missing.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) (a run writes them at its end)")
        }
        let img = try readImage(files.texturePath, what: "patch")
        var patch = EvaluatedPatch(name: (directory as NSString).lastPathComponent, source: directory, width: img.width, height: img.height,
                                   texture: img.rgb.pixels, mask: try readMask(files.maskPath, width: img.width, height: img.height), target: nil)
        patch.runDirectory = directory
        guard let data = FileManager.default.contents(atPath: files.recordPath),
              let record = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EvaluationError.badPatch("\(files.recordPath) is not a JSON object; is this a generate run folder?")
        }
        // "target" is null for an untargeted run, else {"index": 0…999, "label": …}; anything else is a damaged record,
        // not a licence to evaluate untargeted.
        switch record["target"] {
        case is NSNull:
            patch.target = nil
        case let t as [String: Any]:
            guard let index = t["index"] as? Int, (0..<1000).contains(index) else {
                throw EvaluationError.badPatch("\(files.recordPath): target.index must be an ImageNet class index 0–999, got \(t["index"].map { "\($0)" } ?? "nothing"); regenerate the run, or evaluate its patch.png with --target")
            }
            patch.target = index
        default:
            throw EvaluationError.badPatch("\(files.recordPath): \"target\" is missing or not {\"index\": …} (null means untargeted); regenerate the run, or evaluate its patch.png with --target")
        }
        if let models = record["models"] as? [[String: Any]] { patch.models = models.compactMap { $0["spec"] as? String } }
        if let config = record["config"] as? [String: Any], let d = config["distribution"],
           let dData = try? JSONSerialization.data(withJSONObject: d) {
            do { patch.distribution = try TransformDistribution.fromJSON(dData) } catch {
                throw EvaluationError.badPatch("\(files.recordPath): its config.distribution is invalid (\(error))")
            }
        }
        if let v = record["final_validation"] as? [String: Any], let s = v["success"] as? Double, let n = v["samples"] as? Int {
            patch.runValidation = RunValidation(success: s, samples: n, meanTargetProbability: v["mean_target_probability"] as? Double ?? .nan,
                                                metric: v["metric"] as? String ?? "")
        }
        return patch
    }
}

/// A control patch: same size and mask as the patch, without its adversarial pattern, so that
/// the patch's effect is separated from plain occlusion.
public enum ControlKind: String, CaseIterable, Codable, Sendable {
    /// Uniform random RGB in [0, 1] per texel.
    case noise
    /// Flat 0.5 grey.
    case grey
    /// The patch's own texels (inside the mask) in a random order: same colours, no structure.
    case shuffled

    /// The control texture (height, width, 3) for `patch`, deterministic for `seed`.
    public func texture(for patch: EvaluatedPatch, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed ^ 0xC0_47_20_15)
        let n = patch.width * patch.height
        switch self {
        case .grey: return [Float](repeating: 0.5, count: n * 3)
        case .noise: return (0..<(n * 3)).map { _ in Float(Double(rng.next() >> 11) * 0x1p-53) }
        case .shuffled:
            var out = patch.texture
            let inside = (0..<n).filter { patch.mask.alpha[$0] > 0 }
            var order = inside
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for (k, dst) in inside.enumerated() { for c in 0..<3 { out[dst * 3 + c] = patch.texture[order[k] * 3 + c] } }
            return out
        }
    }
}
