// GenerateConfig: every setting of one patch-generation run, as a Codable value. It is written
// into the run record and the checkpoint, so a run can be reproduced or resumed exactly.
import Meshes
import Networks
import Transforms

/// The classification loss of a targeted run (untargeted runs use cross-entropy). Its raw values
/// are what run records, checkpoints and `--loss` spell.
public enum LossKind: String, Codable, Sendable, CaseIterable {
    /// Cross-entropy of the target.
    case crossEntropy = "ce"
    /// −log(ε + p_target), ε = `GenerateConfig.probabilityFloor`: samples the patch cannot move yet weigh little.
    case crossEntropyFloor = "ce-floor"
    /// −(1 − p)^γ log p_target (Lin et al. 2017), γ = `GenerateConfig.focalGamma`: samples already won weigh little.
    case focal
    /// Carlini–Wagner margin max(max_{j≠t} z_j − z_t, −κ), κ = `GenerateConfig.marginKappa`.
    case margin
}

public struct GenerateConfig: Codable, Sendable, Equatable {
    /// Model specs as given (lite0, lite1, lite2, mobilenet_v2 or paths); the loss averages over them.
    public var models: [String] = ["lite0"]
    /// Preprocessing of ONNX models given as flags (`--input-size`, `--mean`, `--std`, `--labels`);
    /// each field overrides the model's sidecar. nil for the bundled models.
    public var modelFlags: ModelFlags? = nil
    /// Target class (targeted attack); nil for untargeted.
    public var target: Int? = 859
    /// The classification loss (all but cross-entropy need a target).
    public var loss = LossKind.crossEntropy
    public var marginKappa = 5.0
    /// ε of "ce-floor"; optional so that records written before it existed still read.
    public var probabilityFloor: Double? = nil
    /// γ of "focal"; optional so that records written before it existed still read.
    public var focalGamma: Double? = nil
    /// Square by default: at the same bounding square a circle has 21 % less area, and success
    /// climbs steeply with area at sticker sizes (issue 18's measurements).
    public var shape: PatchShape = .square
    /// Longer side of the optimized texture in pixels (upscaled smoothly for print).
    public var textureSide = 64
    /// A patch for paper by default: `TransformDistribution.physical`.
    public var presetName: String? = "physical"
    public var distribution: TransformDistribution = .physical
    public var steps = 1000
    public var batch = 16
    public var seed: UInt64 = 0
    public var learningRate = 0.1
    /// Cosine decay of the learning rate to this fraction of it at the last step.
    public var finalLearningRateFraction = 0.1
    public var tvWeight = 0.02
    public var npsWeight = 0.0
    /// Palette file for NPS; nil = the bundled default.
    public var palettePath: String? = nil
    /// Printable palette given inline (RGB in [0, 1]), e.g. measured by `calibrate`; wins over
    /// `palettePath`.
    public var paletteRGB: [[Float]]? = nil
    /// The calibration file this run's printer model and palette came from (for the record).
    public var calibrationPath: String? = nil
    /// Start from this texture (a PNG, e.g. another run's patch.png, resized to the texture size)
    /// instead of uniform noise: fine-tune a digital patch for print, for example.
    public var initTexturePath: String? = nil
    /// The scene folder the run trains and validates on (saved so that --resume uses the same
    /// scenes; nil in runs made before it was saved).
    public var scenes: String? = nil
    /// Train on 8 views per scene photo (crops and mirror images; `SceneSet.augmentedSquares`).
    public var augmentScenes = true
    /// Validate every this many steps on held-out scenes (0 = never).
    public var validateEvery = 50
    /// Size of the fixed validation set (held-out scenes × transform samples); the final
    /// evaluation uses all of it, periodic checks the first `periodicValidationSamples`.
    public var validationSamples = 512
    public var periodicValidationSamples = 128
    /// The optimizer sees the texture quantised to 8 bits (straight-through gradient), so the
    /// PNG that is printed is exactly the patch that was optimized.
    public var quantize8Bit = true
    /// Stop early once validation success reaches this rate (> 1 = never).
    public var earlyStopRate = 0.97
    /// Write a checkpoint every this many steps.
    public var checkpointEvery = 25
    /// Polyak averaging: the patch written and validated is an exponential moving average of
    /// the optimized texture with this decay (warm-up min(d, (1+t)/(10+t))); the optimizer
    /// still steps the raw texture. nil = off (the raw texture is the patch). Optional so that
    /// run records and checkpoints written before it existed still read (as "off").
    public var averageDecay: Double? = nil
    /// The texture is the clamped sum of this many levels at full, ½, ¼, … resolution
    /// (`TexturePyramid`), which Adam steps instead of the texels; nil or 1 = off. Optional so
    /// that records written before it existed still read.
    public var pyramidLevels: Int? = nil
    /// A 3D object whose surface the texture covers (issue 22); nil for a flat patch. The texture
    /// then has the mesh's square-texel aspect (`Mesh.textureAspect`) with `textureSide` on its
    /// longer side, no mask (the surface is its outline), and the distribution must pose objects
    /// (`TransformDistribution.object`).
    public var mesh: MeshSpec? = nil

    /// `textureSide` of mesh runs when none is given: a can's 207 mm label at 1.6 mm a texel.
    public static let defaultMeshTextureSide = 128
    /// Steps of mesh runs when none are given: about 6 minutes on 2 cores. Success climbs with
    /// the samples seen (toaster, seed 1, lite0: 65 % held-out at 600 steps, 71.5 % at 1500).
    public static let defaultMeshSteps = 1200

    /// ε of `LossKind.crossEntropyFloor` when none is given.
    public static let defaultProbabilityFloor = 0.05
    /// γ of `LossKind.focal` when none is given (Lin et al. 2017 use 2).
    public static let defaultFocalGamma = 2.0

    public init() {}

    public func objective() -> ClassificationObjective {
        guard let t = target else { return .untargeted }
        switch loss {
        case .margin: return .targetedMargin(target: t, kappa: marginKappa)
        case .crossEntropyFloor: return .targetedFlooredCrossEntropy(target: t, floor: probabilityFloor ?? Self.defaultProbabilityFloor)
        case .focal: return .targetedFocalCrossEntropy(target: t, gamma: focalGamma ?? Self.defaultFocalGamma)
        case .crossEntropy: return .targetedCrossEntropy(target: t)
        }
    }

    /// Learning rate at `step` (0-based) of `steps`: cosine from lr to lr·final.
    public func learningRate(at step: Int) -> Double {
        let t = Double(step) / Double(max(steps - 1, 1))
        let f = finalLearningRateFraction + (1 - finalLearningRateFraction) * 0.5 * (1 + cos(Double.pi * min(t, 1)))
        return learningRate * f
    }

    /// Decay of the texture average after `step` updates (0-based), with the usual warm-up so
    /// that a short run's average is not dominated by the random initial texture.
    public func averageDecay(at step: Int) -> Double? {
        averageDecay.map { min($0, Double(1 + step) / Double(10 + step)) }
    }

    /// Impossible values, each named in the library's terms (`AttackError.invalidSetting`; the
    /// CLI puts its flag names on them).
    /// The most validation samples a run draws (evaluate's bound on --samples).
    public static let maxValidationSamples = 1_000_000

    public func validate() throws {
        func bad(_ s: GenerateSetting, _ problem: String) -> AttackError { .invalidSetting(s, problem) }
        guard !models.isEmpty else { throw bad(.models, "needs at least one model") }
        // Every model of an ensemble is loaded and run on every step; a record listing thousands is not a run.
        guard models.count <= 32 else { throw bad(.models, "lists \(models.count) models; an ensemble has at most 32") }
        guard steps >= 1, steps <= 1_000_000 else { throw bad(.steps, "must be 1…1000000, got \(steps)") }
        guard batch >= 1, batch <= 512 else { throw bad(.batch, "must be 1…512, got \(batch)") }
        guard textureSide >= 8, textureSide <= 1024 else { throw bad(.textureSide, "must be 8…1024 pixels, got \(textureSide)") }
        for (setting, v) in [(GenerateSetting.tvWeight, tvWeight), (.npsWeight, npsWeight), (.finalLearningRateFraction, finalLearningRateFraction), (.marginKappa, marginKappa)] {
            guard v.isFinite, v >= 0 else { throw bad(setting, "must be a finite number ≥ 0, got \(v)") }
        }
        guard learningRate.isFinite, learningRate > 0 else { throw bad(.learningRate, "must be a finite number > 0, e.g. 0.1, got \(learningRate)") }
        if target == nil && loss != .crossEntropy { throw bad(.loss, "\(loss.rawValue) needs a target; untargeted runs use cross-entropy") }
        if let f = probabilityFloor { guard f.isFinite, f > 0, f < 1 else { throw bad(.probabilityFloor, "must be a probability in (0, 1), e.g. 0.05, got \(f)") } }
        if let g = focalGamma { guard g.isFinite, g >= 0, g <= 10 else { throw bad(.focalGamma, "must be a number in 0…10 (2 is usual), got \(g)") } }
        if let t = target, !(0..<1000).contains(t) { throw bad(.target, "class \(t) is not in 0…999") }
        if let d = averageDecay { guard d.isFinite, d >= 0, d < 1 else { throw bad(.averageDecay, "must be a decay in [0, 1), e.g. 0.99, got \(d)") } }
        if let l = pyramidLevels { guard (1...8).contains(l) else { throw bad(.pyramidLevels, "must be 1…8 levels (1 = off, 4 is usual), got \(l)") } }
        // Sample counts are allocated (one rendered scene each) before any is scored: a run.json or checkpoint asking
        // for 10^9 is refused here, at evaluate's own bound (--samples ≤ 1000000).
        guard (1...Self.maxValidationSamples).contains(validationSamples) else {
            throw bad(.validationSamples, "must be 1…\(Self.maxValidationSamples), got \(validationSamples)")
        }
        guard checkpointEvery >= 1 else { throw bad(.checkpointEvery, "must be ≥ 1, got \(checkpointEvery)") }
        guard (1...Self.maxValidationSamples).contains(periodicValidationSamples) else {
            throw bad(.periodicValidationSamples, "must be 1…\(Self.maxValidationSamples), got \(periodicValidationSamples)")
        }
        if let rgb = paletteRGB {
            guard !rgb.isEmpty, rgb.allSatisfy({ $0.count == 3 && $0.allSatisfy { $0.isFinite && (0...1).contains($0) } }) else {
                throw bad(.paletteRGB, "must hold at least one colour of 3 values in [0, 1]")
            }
            guard rgb.count <= PrintablePalette.maxColors else {
                throw bad(.paletteRGB, "holds \(rgb.count) colours; at most \(PrintablePalette.maxColors) (the non-printability loss visits each on every step)")
            }
        }
        guard validateEvery >= 0 else { throw bad(.validateEvery, "must be a number of steps ≥ 0 (0 = only at the end), got \(validateEvery)") }
        if palettePath != nil && paletteRGB != nil {
            throw bad(.palettePath, "and a calibration (\(GenerateSetting.paletteRGB.mention)) both give the printable palette (the calibration's measured colours); give one of them")
        }
        if palettePath != nil && npsWeight == 0 {
            throw bad(.palettePath, "is the printable palette of the non-printability loss, which is off; give \(GenerateSetting.npsWeight.mention) a weight too (0.05 is usual)")
        }
        try distribution.validate()
        if mesh != nil && distribution.object == nil {
            throw bad(.mesh, "textures a 3D object, so the distribution must pose it: use the preset `object` (the default with a mesh) or a JSON distribution with an \"object\" field")
        }
        if mesh == nil && distribution.object != nil {
            throw bad(.mesh, "is not given, but the distribution poses a 3D object (its \"object\" field): give a mesh (cylinder, box, sphere or an .obj), or use a patch preset such as physical")
        }
    }

    /// The texture size: the shape's for a patch, the mesh's square-texel aspect for a mesh.
    public func textureSize(mesh loaded: Mesh? = nil) throws -> (width: Int, height: Int) {
        guard let spec = mesh else { return try shape.textureSize(side: textureSide) }
        let m: Mesh
        do { m = try loaded ?? spec.load() } catch { throw AttackError.invalidSetting(.mesh, "\(spec): \(error)") }
        guard m.textureAspect.isFinite, m.textureAspect > 0 else {
            throw AttackError.invalidSetting(.mesh, "\(spec): its texture's aspect ratio is not a positive number (degenerate texture coordinates?)")
        }
        let aspect = min(max(m.textureAspect, 0.1), 10)
        return try PatchShape.rectangle(width: aspect, height: 1).textureSize(side: textureSide)
    }
}

/// The settings of `GenerateConfig` that `validate()` can refuse, by their property names.
public enum GenerateSetting: String, Sendable, CaseIterable {
    case models, steps, batch, textureSide, tvWeight, npsWeight, finalLearningRateFraction, marginKappa, learningRate, loss
    case probabilityFloor, focalGamma, target, averageDecay, pyramidLevels, validationSamples, checkpointEvery
    case periodicValidationSamples, paletteRGB, validateEvery, palettePath, shape, mesh

    /// Another setting named inside a problem text: "`npsWeight`". `AttackError`'s description
    /// shows it as the property name; the CLI replaces it with its flag.
    public var mention: String { "`\(rawValue)`" }

    /// `text` with every mention shown by its property name (as the library speaks).
    public static func plain(_ text: String) -> String { rename(text) { $0.rawValue } }

    /// `text` with every mention replaced by `name(setting)`.
    public static func rename(_ text: String, _ name: (GenerateSetting) -> String) -> String {
        allCases.reduce(text) { $0.replacingOccurrences(of: $1.mention, with: name($1)) }
    }
}

import Foundation
