// Transformations of a whole photo (no scene, no patch) for whole-image adversarial examples:
// rotation, zoom, translation and a perspective jitter of the photo as the model frames it,
// then lighting and the camera effects (blur, noise, JPEG) — the distribution, its samples, and
// rendering through the patch renderer (the photo is the "texture", its frame the quadrilateral
// it lands on, over a flat background), so the warp, mip-mapping and every effect's backward are
// the same code as for patches.
import Foundation

/// How a model frames a photo (`Image.centerSquare` / `ModelInputOperator`): the photo
/// (width × height) is resized to resizedWidth × resizedHeight and the size × size square at
/// (left, top) is cropped.
public struct ImageFraming: Codable, Sendable, Equatable {
    public var width: Int, height: Int, size: Int
    public var resizedWidth: Int, resizedHeight: Int, left: Int, top: Int
    public init(width: Int, height: Int, size: Int, resizedWidth: Int, resizedHeight: Int, left: Int, top: Int) {
        self.width = width; self.height = height; self.size = size
        self.resizedWidth = resizedWidth; self.resizedHeight = resizedHeight; self.left = left; self.top = top
    }

    /// A photo corner (pixel-edge coordinates) in model-input pixels, untransformed.
    func framed(_ p: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(p.x * Double(resizedWidth) / Double(width) - Double(left), p.y * Double(resizedHeight) / Double(height) - Double(top))
    }
}

/// A distribution of whole-photo transformations. Angles in degrees; `shift` and `perspective`
/// as fractions of the model input's side. Any field omitted from a JSON file is the identity.
public struct ImageTransformDistribution: Codable, Sendable, Equatable {
    /// Rotation about the frame's centre.
    public var rotation: ValueRange = .fixed(0)
    /// Scale about the frame's centre (> 1: closer).
    public var zoom: ValueRange = .fixed(1)
    /// Translation, x and y drawn independently.
    public var shift: ValueRange = .fixed(0)
    /// Each photo corner moves by up to this much in x and y (a mild perspective change).
    public var perspective: ValueRange = .fixed(0)
    /// Lighting on the photo: ((contrast·(p − 0.5) + 0.5) · brightness) · (1 + cast_c).
    public var brightness: ValueRange = .fixed(1)
    public var contrast: ValueRange = .fixed(1)
    public var colorCast: ValueRange = .fixed(0)
    /// Camera effects on the model's input: Gaussian blur σ in pixels, noise σ, JPEG quality.
    public var blurSigma: ValueRange = .fixed(0)
    public var noiseSigma: ValueRange = .fixed(0)
    public var jpegQuality: ValueRange? = nil
    /// Grey level of what the frame shows outside the rotated or shrunk photo.
    public var background: ValueRange = .fixed(0)

    public init() {}

    /// The ranges an independent check of a whole-image example uses (issue 21): rotation ±15°,
    /// zoom 0.9–1.1, translation ±5 %, blur σ ≤ 1 px, JPEG 70–95, lighting ±10 %; the background
    /// any grey. `evaluate`'s default for a perturbation.
    public static let standard: ImageTransformDistribution = {
        var d = ImageTransformDistribution()
        d.rotation = .symmetric(15); d.zoom = ValueRange(0.9, 1.1); d.shift = .symmetric(0.05)
        d.blurSigma = ValueRange(0, 1); d.jpegQuality = ValueRange(70, 95); d.brightness = ValueRange(0.9, 1.1)
        d.background = ValueRange(0, 1)
        return d
    }()

    /// What `perturb --method eot` optimises over by default: `standard` widened on every side
    /// (rotation ±20°, zoom 0.85–1.15, translation ±7 %, blur σ ≤ 1.3 px, JPEG 60–98, lighting
    /// ±15 % with contrast ±10 % and a ±3 % colour cast) plus a perspective jitter of 3 % and
    /// sensor noise σ ≤ 0.01, so that the ranges a check uses sit inside the trained ones.
    public static let wide: ImageTransformDistribution = {
        var d = ImageTransformDistribution()
        d.rotation = .symmetric(20); d.zoom = ValueRange(0.85, 1.15); d.shift = .symmetric(0.07)
        d.perspective = ValueRange(0, 0.03)
        d.brightness = ValueRange(0.85, 1.15); d.contrast = ValueRange(0.9, 1.1); d.colorCast = .symmetric(0.03)
        d.blurSigma = ValueRange(0, 1.3); d.noiseSigma = ValueRange(0, 0.01); d.jpegQuality = ValueRange(60, 98)
        d.background = ValueRange(0, 1)
        return d
    }()

    public static let presetNames = ["standard", "wide", "identity"]

    public static func preset(named name: String) throws -> ImageTransformDistribution {
        switch name.lowercased() {
        case "standard": return .standard
        case "wide": return .wide
        case "identity": return ImageTransformDistribution()
        default: throw TransformError.invalid(field: "preset", reason: "unknown whole-image preset '\(name)'; use one of \(presetNames.joined(separator: ", "))")
        }
    }

    /// Throws a `TransformError` naming the first bad field.
    public func validate() throws {
        try rotation.validate("rotation", -180, 180)
        try zoom.validate("zoom", 0.1, 10)
        try shift.validate("shift", -1, 1)
        try perspective.validate("perspective", 0, 0.2)
        try brightness.validate("brightness", 0, 10)
        try contrast.validate("contrast", 0, 10)
        try colorCast.validate("colorCast", -0.99, 10)
        try blurSigma.validate("blurSigma", 0, 20)
        try noiseSigma.validate("noiseSigma", 0, 1)
        if let q = jpegQuality { try q.validate("jpegQuality", 1, 100) }
        try background.validate("background", 0, 1)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rotation, zoom, shift, perspective, brightness, contrast, colorCast, blurSigma, noiseSigma, jpegQuality, background
    }

    public init(from decoder: any Decoder) throws {
        try TransformDistribution.refuseUnknownKeys(decoder, CodingKeys.self, what: "whole-image transform distribution")
        let c = try decoder.container(keyedBy: CodingKeys.self), d = ImageTransformDistribution()
        rotation = try c.decodeIfPresent(ValueRange.self, forKey: .rotation) ?? d.rotation
        zoom = try c.decodeIfPresent(ValueRange.self, forKey: .zoom) ?? d.zoom
        shift = try c.decodeIfPresent(ValueRange.self, forKey: .shift) ?? d.shift
        perspective = try c.decodeIfPresent(ValueRange.self, forKey: .perspective) ?? d.perspective
        brightness = try c.decodeIfPresent(ValueRange.self, forKey: .brightness) ?? d.brightness
        contrast = try c.decodeIfPresent(ValueRange.self, forKey: .contrast) ?? d.contrast
        colorCast = try c.decodeIfPresent(ValueRange.self, forKey: .colorCast) ?? d.colorCast
        blurSigma = try c.decodeIfPresent(ValueRange.self, forKey: .blurSigma) ?? d.blurSigma
        noiseSigma = try c.decodeIfPresent(ValueRange.self, forKey: .noiseSigma) ?? d.noiseSigma
        jpegQuality = try c.decodeIfPresent(ValueRange.self, forKey: .jpegQuality)
        background = try c.decodeIfPresent(ValueRange.self, forKey: .background) ?? d.background
        try validate()
    }

    public static func fromJSON(_ data: Data) throws -> ImageTransformDistribution {
        try decodeJSON(ImageTransformDistribution.self, data, what: "whole-image transform distribution")
    }

    /// Draws one sample; the draws happen in a fixed order, each field's even when constant.
    public func sample(using rng: inout some RandomNumberGenerator) -> ImageSample {
        var s = ImageSample()
        s.rotation = uniform(rotation.min, rotation.max, &rng)
        s.zoom = uniform(zoom.min, zoom.max, &rng)
        s.shiftX = uniform(shift.min, shift.max, &rng)
        s.shiftY = uniform(shift.min, shift.max, &rng)
        let amount = uniform(perspective.min, perspective.max, &rng)
        s.corners = (0..<4).map { _ in SIMD2(uniform(-amount, amount, &rng), uniform(-amount, amount, &rng)) }
        s.brightness = uniform(brightness.min, brightness.max, &rng)
        s.contrast = uniform(contrast.min, contrast.max, &rng)
        s.colorGain = (0..<3).map { _ in 1 + uniform(colorCast.min, colorCast.max, &rng) }
        s.blurSigma = uniform(blurSigma.min, blurSigma.max, &rng)
        s.noiseSigma = uniform(noiseSigma.min, noiseSigma.max, &rng)
        s.noiseSeed = rng.next()
        let q = uniform(jpegQuality?.min ?? 100, jpegQuality?.max ?? 100, &rng)
        s.jpegQuality = jpegQuality == nil ? nil : Int(q.rounded())
        s.background = uniform(background.min, background.max, &rng)
        return s
    }
}

/// One whole-photo transformation: plain values, rendered deterministically.
public struct ImageSample: Codable, Sendable, Equatable {
    public var rotation = 0.0, zoom = 1.0, shiftX = 0.0, shiftY = 0.0
    /// Perspective offsets of the photo's corners (TL, TR, BR, BL), fractions of the frame side.
    public var corners: [SIMD2<Double>] = Array(repeating: SIMD2(0, 0), count: 4)
    public var brightness = 1.0, contrast = 1.0
    public var colorGain: [Double] = [1, 1, 1]
    public var blurSigma = 0.0, noiseSigma = 0.0
    public var noiseSeed: UInt64 = 0
    public var jpegQuality: Int? = nil
    public var background = 0.0

    public init() {}

    /// The patch renderer's sample: the photo's corners onto their transformed places in the
    /// frame (normalised), the lighting and the camera effects.
    public func transformSample(framing f: ImageFraming) throws -> TransformSample {
        let S = Double(f.size), c = SIMD2(S / 2, S / 2)
        let (cr, sr) = (cos(rotation * .pi / 180), sin(rotation * .pi / 180))
        let photo = [SIMD2(0.0, 0.0), SIMD2(Double(f.width), 0), SIMD2(Double(f.width), Double(f.height)), SIMD2(0, Double(f.height))]
        let quad = photo.enumerated().map { i, p -> SIMD2<Double> in
            let d = f.framed(p) - c
            let r = SIMD2(cr * d.x - sr * d.y, sr * d.x + cr * d.y) * zoom
            return (c + r) / S + SIMD2(shiftX, shiftY) + corners[i]
        }
        var t = TransformSample(quadrilateral: quad, brightness: brightness, contrast: contrast, colorGain: colorGain,
                                blurSigma: blurSigma, noiseSigma: noiseSigma, noiseSeed: noiseSeed, jpegQuality: jpegQuality)
        t.roll = rotation
        try t.validate()
        return t
    }
}

/// Renders one photo (its own resolution) into a model's frame for `ImageSample`s, forward and
/// backward (to the photo). A plain value; thread-safe.
public struct ImageRenderer: Sendable {
    public let framing: ImageFraming
    public let renderer: Renderer
    let mask: [Float]

    public init(framing: ImageFraming) throws {
        self.framing = framing
        renderer = try Renderer(textureWidth: framing.width, textureHeight: framing.height, sceneWidth: framing.size, sceneHeight: framing.size)
        mask = [Float](repeating: 1, count: framing.width * framing.height)
    }

    /// photo (H, W, 3) in [0, 1] → image (size, size, 3) (overwritten); the cache for `backward`.
    public func forward(photo: UnsafeBufferPointer<Float>, sample: ImageSample, image: UnsafeMutableBufferPointer<Float>) throws -> RenderCache {
        let t = try sample.transformSample(framing: framing)
        let n = framing.size * framing.size * 3
        let scene = [Float](repeating: Float(sample.background), count: n)
        return try mask.withUnsafeBufferPointer { m in
            try scene.withUnsafeBufferPointer { s in try renderer.forward(texture: photo, mask: m, scene: s, sample: t, image: image) }
        }
    }

    /// d image (size, size, 3) → ACCUMULATES d photo (H, W, 3).
    public func backward(dImage: UnsafeBufferPointer<Float>, cache: RenderCache, dPhoto: UnsafeMutableBufferPointer<Float>) throws {
        try renderer.backward(dImage: dImage, cache: cache, dTexture: dPhoto)
    }
}
