// `PatchArtwork`: the texture, mask and run facts (target, models, seed, date) that a print sheet
// is made from. Patches are loaded by Runs' `PatchArtifact` (the loader every command shares).
import Foundation
import Imaging
import Runs

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

    /// A loaded patch (Runs' `PatchArtifact`: a run folder, an RGBA PNG, or an RGB PNG with a
    /// mask or shape, under the one mask rule) with its run record's facts for the caption.
    public init(_ artifact: PatchArtifact) {
        var info = PatchInfo(source: artifact.source)
        if let r = artifact.record {
            info.targetLabel = r.target?.label
            info.targetIndex = r.target?.index ?? r.config.target
            info.models = r.config.models
            info.seed = r.config.seed
            info.created = r.created.isEmpty ? nil : r.created
            info.shape = r.config.shape.name
        }
        self.init(texture: artifact.textureImage, mask: artifact.mask.alpha, info: info)
    }
}
