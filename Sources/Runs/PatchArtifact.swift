// PatchArtifact: a finished patch as every command reads it — texture, mask, target and (for a
// run folder) its run record — loaded from a `generate` run folder, an RGBA PNG, or an RGB PNG
// with a mask PNG or a shape. evaluate, grid and print all load patches here. Not a writer
// (RunFiles writes run folders) and not a renderer.
//
// The mask rule is `Mask(image:width:height:)`: a mask image's alpha when it has one, else its
// luminance, resized to the texture. A run folder's mask.png, a --mask PNG and an RGBA patch's
// own alpha all go through it, so the same patch gives the same mask in every command.
import Attack
import Foundation
import TextSafety
import Imaging
import Meshes
import Networks
import Transforms

public struct PatchArtifact: Sendable {
    /// Short name for tables: the run folder's or file's name.
    public var name: String
    /// The folder or file it was read from, as given.
    public var source: String
    public var width: Int, height: Int
    /// (height, width, 3) in [0, 1].
    public var texture: [Float]
    public var mask: Mask
    /// Target class; nil = untargeted (success is a flip of the clean top-1). A PNG has none
    /// until the caller sets one.
    public var target: Int?
    /// The run record of a run folder; nil for a PNG.
    public var record: RunRecord?
    /// The run's own final held-out validation; cleared by a caller that changes the target.
    public var runValidation: RunValidation?
    /// Set when `source` is a run folder.
    public var runDirectory: String?

    public init(name: String, source: String, width: Int, height: Int, texture: [Float], mask: Mask, target: Int?) {
        self.name = name; self.source = source; self.width = width; self.height = height
        self.texture = texture; self.mask = mask; self.target = target
    }

    /// Models the run attacked, as given to it (empty for a PNG).
    public var models: [String] { record?.models.map(\.spec) ?? [] }
    /// The run's transform distribution (nil for a PNG).
    public var distribution: TransformDistribution? { record?.config.distribution }
    /// The ONNX preprocessing flags the run was generated with (empty when none were given).
    public var modelFlags: ModelFlags { record?.config.modelFlags ?? ModelFlags() }
    /// Height / width.
    public var aspect: Double { Double(height) / Double(width) }
    /// The 3D object a mesh run's texture covers; nil for patches (and for a PNG given alone).
    public var mesh: MeshSpec? { record?.config.mesh }

    /// The run's mesh prepared for this texture; nil for patches.
    public func meshSurface() throws(RunError) -> MeshSurface? {
        guard let spec = mesh else { return nil }
        do { return try MeshSurface(mesh: try spec.load(), textureWidth: width, textureHeight: height) } catch {
            throw .badRecord(path: runDirectory ?? source, reason: "is a mesh run whose mesh (\(untrustedText(spec.description, limit: 200))) cannot be used: \(error)")
        }
    }

    /// The texture as an RGB image.
    public var textureImage: Image {
        // Sizes and values were checked on loading.
        (try? Image(width: width, height: height, channels: 3, pixels: texture)) ?? Image(width: 1, height: 1, channels: 3, fill: 0)
    }

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

    /// Reads a run folder or a PNG. `maskPath`/`shape` are for an RGB PNG (one of them is
    /// needed: its outline is otherwise unknown); a run folder and an RGBA PNG carry their own.
    public static func load(_ path: String, maskPath: String? = nil, shape: String? = nil) throws(RunError) -> PatchArtifact {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .badPatch(path: path, reason: "does not exist; give a generate run folder or a PNG")
        }
        if isDirectory.boolValue {
            if maskPath != nil || shape != nil {
                throw .badPatch(path: path, reason: "is a run folder: it has its own mask.png; a mask or shape is only for an RGB PNG")
            }
            return try loadRun(directory: path)
        }
        return try loadPNG(path, maskPath: maskPath, shape: shape)
    }

    /// A PNG of a patch-texture size (`Image.patchTextureSides`).
    static func readImage(_ path: String, what: String) throws(RunError) -> Image {
        func bad(_ reason: String) -> RunError { what == "mask" ? .badMask(path: path, reason: reason) : .badPatch(path: path, reason: reason) }
        let format: ImageFileFormat
        do { format = try Image.fileFormat(of: path) } catch { throw bad("is not a PNG image (\(error))") }
        guard format == .png else {
            throw bad("is a \(format.rawValue.uppercased()), not a PNG; a patch must be a lossless PNG (RGBA with the mask as alpha, or RGB with a mask PNG or a shape)")
        }
        let img: Image
        do { img = try Image.read(from: path) } catch { throw bad("\(error)") }
        let sides = Image.patchTextureSides
        guard sides.contains(img.width), sides.contains(img.height) else {
            throw bad("is \(img.width)×\(img.height); a patch texture must be \(sides.lowerBound)…\(sides.upperBound) pixels per side (as generate writes it)")
        }
        return img
    }

    /// A mask PNG under the one mask rule, at the texture's size.
    static func readMask(_ path: String, width: Int, height: Int) throws(RunError) -> Mask {
        let img = try readImage(path, what: "mask")
        do { return try Mask(image: img, width: width, height: height) } catch {
            throw .badMask(path: path, reason: "marks no pixel (every value ≤ 0.5); white (or opaque) must mark the patch")
        }
    }

    static func loadPNG(_ path: String, maskPath: String?, shape: String?) throws(RunError) -> PatchArtifact {
        let img = try readImage(path, what: "patch")
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let (w, h) = (img.width, img.height)
        if maskPath != nil && shape != nil { throw .badPatch(path: path, reason: "give either a mask PNG or a shape, not both") }
        let mask: Mask
        if img.hasAlpha {
            if maskPath != nil || shape != nil {
                throw .badPatch(path: path, reason: "is RGBA: its alpha is the mask; drop the mask/shape, or give an RGB PNG")
            }
            do { mask = try Mask(image: img, width: w, height: h) } catch {
                throw .badPatch(path: path, reason: "is RGBA but fully transparent (no alpha > 0.5): its alpha must mark the patch")
            }
        } else if let maskPath {
            mask = try readMask(maskPath, width: w, height: h)
        } else if let shape {
            do { mask = try PatchShape.parse(shape).mask(width: w, height: h) } catch { throw .badPatch(path: path, reason: "shape \(error)") }
        } else {
            throw .badPatch(path: path, reason: "is an RGB PNG without alpha, so its outline is unknown: give a mask PNG (--mask) or a shape (--shape circle|square|rect:WxH), or use the RGBA patch_rgba.png")
        }
        return PatchArtifact(name: name, source: path, width: w, height: h, texture: img.rgb.pixels, mask: mask, target: nil)
    }

    static func loadRun(directory: String) throws(RunError) -> PatchArtifact {
        let files = RunFiles(directory: directory)
        let missing = [files.texturePath, files.maskPath, files.recordPath].filter { !FileManager.default.fileExists(atPath: $0) }
        guard missing.isEmpty else {
            throw .badPatch(path: directory, reason: "is not a finished generate run: missing \(missing.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) (a run writes them at its end)")
        }
        let img = try readImage(files.texturePath, what: "patch")
        let record: RunRecord
        do { record = try RunRecord.read(from: files.recordPath) } catch {
            throw .badRecord(path: files.recordPath, reason: "\(error.reason); regenerate the run, or use its patch.png with a target")
        }
        var patch = PatchArtifact(name: (directory as NSString).lastPathComponent, source: directory, width: img.width, height: img.height,
                                  texture: img.rgb.pixels, mask: try readMask(files.maskPath, width: img.width, height: img.height),
                                  target: record.target?.index)
        patch.record = record
        patch.runValidation = record.finalValidation
        patch.runDirectory = directory
        return patch
    }
}

extension RunError {
    /// The reason part of a `badRecord` (its path is said once by the caller).
    var reason: String {
        if case let .badRecord(_, reason) = self { return reason }
        return description
    }
}
