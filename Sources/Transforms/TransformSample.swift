// One sampled transformation: plain values (pose, size, placement, lighting, printer, camera,
// noise seed) and their validation. Sampling from a distribution is below; geometry is in
// TransformSample+Geometry.swift; rendering is in Renderer.swift.
import Foundation

public struct TransformSample: Codable, Sendable, Equatable {
    /// Degrees (see the module's conventions).
    public var yaw: Double
    public var pitch: Double
    public var roll: Double
    public var fieldOfViewDegrees: Double
    /// Apparent patch width (before rotation) as a fraction of the shorter scene side.
    public var size: Double
    /// Patch centre, normalised scene coords (x / W, y / H).
    public var centerX: Double
    public var centerY: Double
    /// When set: 4 normalised scene points (TL, TR, BR, BL) the texture corners map onto;
    /// pose, size and centre are then ignored.
    public var quadrilateral: [SIMD2<Double>]?
    /// Lighting: lit = clamp(((contrast·(p − 0.5) + 0.5) · brightness + offset) · colorGain_c, 0, 1)^gamma.
    public var brightness: Double
    public var offset: Double
    public var contrast: Double
    /// Per-channel (R, G, B) colour-cast gain (1 + cast).
    public var colorGain: [Double]
    public var gamma: Double
    /// Printer model per channel: printed = clamp(printerGain_c · t + printerBias_c, 0, 1).
    public var printerGain: [Double]
    public var printerBias: [Double]
    /// Printer saturation applied before gain and bias: t' = m + s · (t − m), m = Rec. 601 luma of t (1 = none).
    public var printerSaturation: Double = 1
    /// Camera effects on the whole image.
    public var blurSigma: Double
    public var noiseSigma: Double
    public var noiseSeed: UInt64
    /// JPEG-like quality 1...100, nil = none.
    public var jpegQuality: Int?
    /// Motion blur along a segment of this many pixels (0 = none) at `motionBlurAngle` degrees.
    public var motionBlurLength: Double = 0
    public var motionBlurAngle: Double = 0
    /// Camera resolution relative to the image: the image is resampled down to this fraction of
    /// its size and back up (1 = none).
    public var resampleScale: Double = 1
    /// When set, the sample shows a 3D object (a `Renderer` with a mesh) in this pose, and the
    /// patch pose (yaw, pitch, roll, size, centre, quadrilateral) is not used.
    public var object: ObjectPose? = nil

    /// A sample; the defaults are the identity (fronto-parallel patch of width 0.3 at the
    /// centre, no lighting/printer/camera effect).
    public init(yaw: Double = 0, pitch: Double = 0, roll: Double = 0, fieldOfViewDegrees: Double = 50,
                size: Double = 0.3, centerX: Double = 0.5, centerY: Double = 0.5,
                quadrilateral: [SIMD2<Double>]? = nil,
                brightness: Double = 1, offset: Double = 0, contrast: Double = 1,
                colorGain: [Double] = [1, 1, 1], gamma: Double = 1,
                printerGain: [Double] = [1, 1, 1], printerBias: [Double] = [0, 0, 0],
                blurSigma: Double = 0, noiseSigma: Double = 0, noiseSeed: UInt64 = 0, jpegQuality: Int? = nil) {
        self.yaw = yaw; self.pitch = pitch; self.roll = roll; self.fieldOfViewDegrees = fieldOfViewDegrees
        self.size = size; self.centerX = centerX; self.centerY = centerY; self.quadrilateral = quadrilateral
        self.brightness = brightness; self.offset = offset; self.contrast = contrast
        self.colorGain = colorGain; self.gamma = gamma
        self.printerGain = printerGain; self.printerBias = printerBias
        self.blurSigma = blurSigma; self.noiseSigma = noiseSigma; self.noiseSeed = noiseSeed; self.jpegQuality = jpegQuality
    }

    /// Throws a `TransformError` naming the first value the renderer cannot use.
    public func validate() throws {
        try Check.within(yaw, -89, 89, "yaw", open: true)
        try Check.within(pitch, -89, 89, "pitch", open: true)
        try Check.within(roll, -360, 360, "roll")
        try Check.within(fieldOfViewDegrees, 1, 179, "fieldOfViewDegrees", open: true)
        try Check.within(size, 1e-6, 40, "size")
        try Check.within(centerX, -10, 10, "centerX")
        try Check.within(centerY, -10, 10, "centerY")
        if let q = quadrilateral { try TransformDistribution.validateQuad(q, field: "quadrilateral") }
        try Check.within(brightness, 0, 100, "brightness")
        try Check.within(offset, -1, 1, "offset")
        try Check.within(contrast, 0, 100, "contrast")
        try Check.within(gamma, 0.05, 20, "gamma")
        for (name, v, lo, hi) in [("colorGain", colorGain, 0.0, 11.0), ("printerGain", printerGain, 0, 100), ("printerBias", printerBias, -1, 1)] {
            guard v.count == 3 else { throw TransformError.invalid(field: name, reason: "has \(v.count) values; give 3, one per channel (R, G, B)") }
            for c in 0..<3 { try Check.within(v[c], lo, hi, "\(name)[\(c)]") }
        }
        try Check.within(printerSaturation, 0, 2, "printerSaturation")
        try Check.within(blurSigma, 0, 20, "blurSigma")
        try Check.within(noiseSigma, 0, 1, "noiseSigma")
        if let q = jpegQuality { try Check.within(Double(q), 1, 100, "jpegQuality") }
        try Check.within(motionBlurLength, 0, 50, "motionBlurLength")
        try Check.within(motionBlurAngle, -360, 360, "motionBlurAngle")
        try Check.within(resampleScale, 0.05, 1, "resampleScale")
        try object?.validate()
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            yaw: try c.decode(Double.self, forKey: .yaw), pitch: try c.decode(Double.self, forKey: .pitch),
            roll: try c.decode(Double.self, forKey: .roll), fieldOfViewDegrees: try c.decode(Double.self, forKey: .fieldOfViewDegrees),
            size: try c.decode(Double.self, forKey: .size), centerX: try c.decode(Double.self, forKey: .centerX),
            centerY: try c.decode(Double.self, forKey: .centerY),
            quadrilateral: try c.decodeIfPresent([SIMD2<Double>].self, forKey: .quadrilateral),
            brightness: try c.decode(Double.self, forKey: .brightness), offset: try c.decode(Double.self, forKey: .offset),
            contrast: try c.decode(Double.self, forKey: .contrast), colorGain: try c.decode([Double].self, forKey: .colorGain),
            gamma: try c.decode(Double.self, forKey: .gamma), printerGain: try c.decode([Double].self, forKey: .printerGain),
            printerBias: try c.decode([Double].self, forKey: .printerBias), blurSigma: try c.decode(Double.self, forKey: .blurSigma),
            noiseSigma: try c.decode(Double.self, forKey: .noiseSigma), noiseSeed: try c.decode(UInt64.self, forKey: .noiseSeed),
            jpegQuality: try c.decodeIfPresent(Int.self, forKey: .jpegQuality))
        motionBlurLength = try c.decodeIfPresent(Double.self, forKey: .motionBlurLength) ?? 0
        motionBlurAngle = try c.decodeIfPresent(Double.self, forKey: .motionBlurAngle) ?? 0
        resampleScale = try c.decodeIfPresent(Double.self, forKey: .resampleScale) ?? 1
        printerSaturation = try c.decodeIfPresent(Double.self, forKey: .printerSaturation) ?? 1
        object = try c.decodeIfPresent(ObjectPose.self, forKey: .object)
        try validate()
    }

    public static func fromJSON(_ data: Data) throws -> TransformSample {
        try decodeJSON(TransformSample.self, data, what: "transform sample")
    }

    public func jsonData() throws -> Data { try encodeJSON(self) }
}

extension TransformDistribution {
    /// Draws one sample. Deterministic given the generator's state; the draws happen in a fixed
    /// order (yaw, pitch, roll, size/distance, lighting, printer, camera, noise seed, placement),
    /// and every field consumes its draws even when its range is a constant, so editing one
    /// range does not shift the others' streams. `patchAspect` = texture height / width.
    /// The distribution is assumed valid (call `validate()` on hand-built values).
    public func sample(imageWidth: Int, imageHeight: Int, patchAspect: Double = 1,
                       using rng: inout some RandomNumberGenerator) -> TransformSample {
        var s = TransformSample()
        s.fieldOfViewDegrees = fieldOfViewDegrees
        s.yaw = uniform(yaw.min, yaw.max, &rng)
        s.pitch = uniform(pitch.min, pitch.max, &rng)
        s.roll = uniform(roll.min, roll.max, &rng)
        let w = Swift.max(imageWidth, 1), h = Swift.max(imageHeight, 1)
        if let d = distance {
            let dist = uniform(d.min, d.max, &rng)
            s.size = Camera(fieldOfViewDegrees: fieldOfViewDegrees, width: w, height: h).focal / (dist * Double(Swift.min(w, h)))
        } else {
            let r = size ?? .fixed(0.3)
            s.size = uniform(r.min, r.max, &rng)
        }
        s.brightness = uniform(brightness.min, brightness.max, &rng)
        s.offset = uniform(offset.min, offset.max, &rng)
        s.contrast = uniform(contrast.min, contrast.max, &rng)
        s.colorGain = (0..<3).map { _ in 1 + uniform(colorCast.min, colorCast.max, &rng) }
        s.gamma = uniform(gamma.min, gamma.max, &rng)
        s.printerGain = (0..<3).map { c in
            let r = printerChannelGain?[c] ?? printerGain
            return uniform(r.min, r.max, &rng)
        }
        s.printerBias = (0..<3).map { c in
            let r = printerChannelBias?[c] ?? printerBias
            return uniform(r.min, r.max, &rng)
        }
        s.blurSigma = uniform(blurSigma.min, blurSigma.max, &rng)
        s.noiseSigma = uniform(noiseSigma.min, noiseSigma.max, &rng)
        s.noiseSeed = rng.next()
        let q = jpegQuality ?? .fixed(100)
        let quality = uniform(q.min, q.max, &rng)
        s.jpegQuality = jpegQuality == nil ? nil : Int(quality.rounded())
        let u = uniformUnit(&rng), v = uniformUnit(&rng)
        switch placement {
        case let .region(x, y):
            s.centerX = x.min + (x.max - x.min) * u
            s.centerY = y.min + (y.max - y.min) * v
        case let .quadrilateral(points):
            s.quadrilateral = points
            s.yaw = 0; s.pitch = 0; s.roll = 0
            s.size = simd_length(points[1] - points[0]) * Double(w) / Double(Swift.min(w, h))
            let c = (points[0] + points[1] + points[2] + points[3]) / 4
            s.centerX = c.x; s.centerY = c.y
        case let .anywhere(fullyInside):
            if fullyInside {
                // Extent of the projected patch around a centre at pixel (0, 0).
                var t = s; t.centerX = 0; t.centerY = 0
                let pts = t.projectedCorners(patchAspect: patchAspect, sceneWidth: w, sceneHeight: h)
                let xs = pts.map(\.x), ys = pts.map(\.y)
                let lox = -(xs.min() ?? 0), hix = Double(w) - (xs.max() ?? 0)
                let loy = -(ys.min() ?? 0), hiy = Double(h) - (ys.max() ?? 0)
                let finite = pts.allSatisfy { $0.x.isFinite && $0.y.isFinite }
                s.centerX = (finite && lox <= hix ? lox + (hix - lox) * u : Double(w) / 2) / Double(w)
                s.centerY = (finite && loy <= hiy ? loy + (hiy - loy) * v : Double(h) / 2) / Double(h)
            } else {
                s.centerX = u; s.centerY = v
            }
        }
        // Drawn last, so that adding these factors left the earlier fields' streams unchanged.
        s.motionBlurLength = uniform(motionBlurLength.min, motionBlurLength.max, &rng)
        s.motionBlurAngle = uniform(0, 180, &rng)
        s.resampleScale = uniform(resampleScale.min, resampleScale.max, &rng)
        if printerSaturation != .fixed(1) { s.printerSaturation = uniform(printerSaturation.min, printerSaturation.max, &rng) }
        if let object { s.object = object.sample(using: &rng) }
        return s
    }
}

@inline(__always) func simd_length(_ v: SIMD2<Double>) -> Double { (v.x * v.x + v.y * v.y).squareRoot() }
