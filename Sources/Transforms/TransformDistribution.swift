// The EOT transformation distribution: Codable ranges for pose, size, placement, lighting,
// printer and camera effects, its validation, and the named presets. Sampling is in
// TransformDistribution+Sampling.swift; rendering is not here.
import Foundation
import TextSafety

/// A closed range [min, max] of a scalar, sampled uniformly. `min == max` is a constant.
public struct ValueRange: Codable, Sendable, Equatable {
    public var min: Double
    public var max: Double
    public init(_ min: Double, _ max: Double) { self.min = min; self.max = max }
    /// A constant (min == max).
    public static func fixed(_ v: Double) -> ValueRange { ValueRange(v, v) }
    /// [-a, a].
    public static func symmetric(_ a: Double) -> ValueRange { ValueRange(-a, a) }

    /// Finite, min <= max, and both inside `lo...hi` (open interval when `open`).
    func validate(_ field: String, _ lo: Double, _ hi: Double, open: Bool = false) throws {
        try Check.finite(min, field + ".min")
        try Check.finite(max, field + ".max")
        guard min <= max else { throw TransformError.minGreaterThanMax(field: field, min: min, max: max) }
        try Check.within(min, lo, hi, field + ".min", open: open)
        try Check.within(max, lo, hi, field + ".max", open: open)
    }
}

/// Where the patch centre goes (normalised scene coords: x / W, y / H).
public enum Placement: Codable, Sendable, Equatable {
    /// Centre anywhere such that the projected patch lies fully inside the image (`fullyInside`;
    /// falls back to the image centre when it cannot fit), or anywhere inside the image (partly
    /// outside allowed).
    case anywhere(fullyInside: Bool)
    /// Centre uniform in a rectangle of normalised coords (may extend outside [0, 1]).
    case region(x: ValueRange, y: ValueRange)
    /// The texture corners (top-left, top-right, bottom-right, bottom-left) go exactly onto these
    /// 4 normalised scene points; pose and size are then ignored (set to 0 / the quad's width).
    case quadrilateral(points: [SIMD2<Double>])
}

/// A distribution of renderings for EOT. All angles in degrees. Any field omitted from a JSON
/// file takes the identity value shown below (no rotation, no lighting/printer/camera effect).
public struct TransformDistribution: Codable, Sendable, Equatable {
    /// Pinhole camera field of view across the *longer* scene side, degrees, in (1, 179).
    public var fieldOfViewDegrees: Double = 50
    /// Turn about the camera's vertical axis, degrees; |yaw| < 89.
    public var yaw: ValueRange = .fixed(0)
    /// Turn about the camera's horizontal axis, degrees; |pitch| < 89.
    public var pitch: ValueRange = .fixed(0)
    /// In-plane rotation, degrees; |roll| <= 360.
    public var roll: ValueRange = .fixed(0)
    /// Apparent patch width as a fraction of the shorter scene side, in (0, 1]. Exactly one of
    /// `size` and `distance` must be set.
    public var size: ValueRange? = .fixed(0.3)
    /// Alternative to `size`: distance from the camera in patch widths, in (0.05, 1000]; sampled
    /// uniformly and converted to a size (size = focal / (distance · shorter side)).
    public var distance: ValueRange? = nil
    public var placement: Placement = .anywhere(fullyInside: true)
    /// Lighting on the patch: lit = (((contrast·(p − 0.5) + 0.5) · brightness + offset) · (1 + cast_c))^gamma.
    public var brightness: ValueRange = .fixed(1)
    public var offset: ValueRange = .fixed(0)
    public var contrast: ValueRange = .fixed(1)
    /// Per-channel colour cast, sampled independently for R, G, B; gain = 1 + cast, cast > -1.
    public var colorCast: ValueRange = .fixed(0)
    public var gamma: ValueRange = .fixed(1)
    /// Printer colour model, per channel (sampled independently): printed = clamp(gain·t + bias, 0, 1).
    public var printerGain: ValueRange = .fixed(1)
    public var printerBias: ValueRange = .fixed(0)
    /// Per-channel (R, G, B) printer ranges, e.g. from a colour calibration; when set they replace
    /// `printerGain` / `printerBias` (same number of draws, so other factors' streams are kept).
    public var printerChannelGain: [ValueRange]? = nil
    public var printerChannelBias: [ValueRange]? = nil
    /// Printer saturation (1 = none, 0 = grey): the ink's colours move toward their luminance
    /// before the gain and bias, as a printer's smaller gamut dulls saturated colours. Drawn only
    /// when it varies, so distributions without it keep their random streams.
    public var printerSaturation: ValueRange = .fixed(1)
    /// Gaussian blur of the whole image, sigma in pixels, in [0, 20].
    public var blurSigma: ValueRange = .fixed(0)
    /// Additive Gaussian sensor noise, sigma in [0, 1] pixel units.
    public var noiseSigma: ValueRange = .fixed(0)
    /// JPEG-like quality in [1, 100] (rounded to an integer per sample); nil = no quantisation.
    public var jpegQuality: ValueRange? = nil
    /// Motion blur length in pixels, in [0, 50], at a uniformly random direction.
    public var motionBlurLength: ValueRange = .fixed(0)
    /// Camera resolution as a fraction of the image size, in [0.05, 1] (1 = no resampling).
    public var resampleScale: ValueRange = .fixed(1)
    /// When set, samples show a 3D object posed by these ranges (rendered by a `Renderer` with a
    /// mesh); the patch pose ranges (yaw, pitch, roll, size or distance, placement) are not used.
    public var object: ObjectPoseDistribution? = nil

    /// The identity distribution (see field defaults).
    public init() {}

    /// The widest the unrotated patch appears, as a fraction of the side of a square frame (the
    /// models' input): `size.max`, or the width at the nearest `distance`.
    public var largestApparentSize: Double {
        if let s = size { return s.max }
        guard let d = distance, d.min > 0 else { return 0.3 }
        return Camera(fieldOfViewDegrees: fieldOfViewDegrees, width: 1, height: 1).focal / d.min
    }

    /// A patch wider than the frame is bigger than the scene: it cannot be placed, and evaluating
    /// it would measure a crop of the texture, not a patch in a scene.
    public func checkPatchFits() throws {
        let widest = largestApparentSize
        guard widest > 1 else { return }
        if let s = size {
            throw TransformError.invalid(field: "size", reason: "max \(s.max) is wider than the image, so the patch would be bigger than the scene; use at most 1 (0.36 ≈ 10 % of the area for a circle)")
        }
        let nearest = widest * (distance?.min ?? 0)   // the distance at which the patch is exactly 1 wide
        throw TransformError.invalid(field: "distance", reason: String(format: "min %g patch widths at a %g° field of view makes the patch %.2f of the image side, bigger than the scene; use a distance of at least %.2f", distance?.min ?? 0, fieldOfViewDegrees, widest, nearest))
    }

    /// Throws a `TransformError` naming the first bad field.
    public func validate() throws {
        try Check.within(fieldOfViewDegrees, 1, 179, "fieldOfViewDegrees", open: true)
        try object?.validate()
        if object == nil { try checkPatchFits() }   // before the ranges, so that a too-big patch gets its own message
        try yaw.validate("yaw", -89, 89, open: true)
        try pitch.validate("pitch", -89, 89, open: true)
        try roll.validate("roll", -360, 360)
        switch (size, distance) {
        case let (s?, nil): try s.validate("size", 0, 1, open: false); try Check.within(s.min, 1e-6, 1, "size.min")
        case let (nil, d?): try d.validate("distance", 0.05, 1000); 
        case (nil, nil): throw TransformError.invalid(field: "size", reason: "neither size nor distance is set; set exactly one")
        case (_?, _?): throw TransformError.invalid(field: "distance", reason: "both size and distance are set; set exactly one")
        }
        switch placement {
        case .anywhere: break
        case let .region(x, y):
            try x.validate("placement.region.x", -10, 10)
            try y.validate("placement.region.y", -10, 10)
        case let .quadrilateral(points):
            try Self.validateQuad(points, field: "placement.quadrilateral")
        }
        try brightness.validate("brightness", 0, 100)
        try offset.validate("offset", -1, 1)
        try contrast.validate("contrast", 0, 100)
        try colorCast.validate("colorCast", -1, 10, open: true)
        try gamma.validate("gamma", 0.05, 20)
        try printerGain.validate("printerGain", 0, 100)
        try printerBias.validate("printerBias", -1, 1)
        for (name, ranges, lo, hi) in [("printerChannelGain", printerChannelGain, 0.0, 100.0), ("printerChannelBias", printerChannelBias, -1, 1)] {
            guard let ranges else { continue }
            guard ranges.count == 3 else { throw TransformError.invalid(field: name, reason: "needs 3 ranges (R, G, B), got \(ranges.count)") }
            for (c, r) in ranges.enumerated() { try r.validate("\(name)[\(c)]", lo, hi) }
        }
        try printerSaturation.validate("printerSaturation", 0, 2)
        try blurSigma.validate("blurSigma", 0, 20)
        try noiseSigma.validate("noiseSigma", 0, 1)
        if let q = jpegQuality { try q.validate("jpegQuality", 1, 100) }
        try motionBlurLength.validate("motionBlurLength", 0, 50)
        try resampleScale.validate("resampleScale", 0.05, 1)
    }

    /// 4 finite points forming a convex quadrilateral with nonzero area, in either winding.
    static func validateQuad(_ points: [SIMD2<Double>], field: String) throws {
        guard points.count == 4 else {
            throw TransformError.invalid(field: field, reason: "needs exactly 4 points (top-left, top-right, bottom-right, bottom-left), got \(points.count)")
        }
        for (i, p) in points.enumerated() {
            try Check.within(p.x, -10, 10, "\(field)[\(i)].x")
            try Check.within(p.y, -10, 10, "\(field)[\(i)].y")
        }
        var sign = 0.0
        for i in 0..<4 {
            let a = points[i], b = points[(i + 1) % 4], c = points[(i + 2) % 4]
            let cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x)
            guard abs(cross) > 1e-9, sign == 0 || (cross > 0) == (sign > 0) else {
                throw TransformError.invalid(field: field, reason: "the 4 points must form a convex, non-degenerate quadrilateral")
            }
            sign = cross
        }
    }

    // MARK: Codable (missing keys -> identity defaults; decoding validates)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case fieldOfViewDegrees, yaw, pitch, roll, size, distance, placement, brightness, offset, contrast,
             colorCast, gamma, printerGain, printerBias, printerChannelGain, printerChannelBias, printerSaturation, blurSigma, noiseSigma,
             jpegQuality, motionBlurLength, resampleScale, object
    }

    /// Any key, to find the ones a distribution does not have (a misspelt "rol" would otherwise
    /// be skipped and its factor silently left at the default).
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Throws a `TransformError` naming every key of the decoder's object that `Keys` lacks, and
    /// the keys there are (the distributions' JSON readers share it).
    static func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type, what: String) throws {
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            .filter { Keys(stringValue: $0) == nil }.sorted()
        guard unknown.isEmpty else {
            // The keys come from the file: at most three are quoted, each escaped and cut (TextSafety).
            let shown = unknown.prefix(3).map { "'\(untrustedText($0, limit: 40))'" }.joined(separator: ", ")
                + (unknown.count > 3 ? " and \(unknown.count - 3) more" : "")
            throw TransformError.decoding(what: what,
                                          reason: "unknown key\(unknown.count > 1 ? "s" : "") \(shown); the keys are \(Keys.allCases.map(\.stringValue).joined(separator: ", "))")
        }
    }

    public init(from decoder: any Decoder) throws {
        try Self.refuseUnknownKeys(decoder, CodingKeys.self, what: "transform distribution")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TransformDistribution()
        fieldOfViewDegrees = try c.decodeIfPresent(Double.self, forKey: .fieldOfViewDegrees) ?? d.fieldOfViewDegrees
        yaw = try c.decodeIfPresent(ValueRange.self, forKey: .yaw) ?? d.yaw
        pitch = try c.decodeIfPresent(ValueRange.self, forKey: .pitch) ?? d.pitch
        roll = try c.decodeIfPresent(ValueRange.self, forKey: .roll) ?? d.roll
        distance = try c.decodeIfPresent(ValueRange.self, forKey: .distance)
        // `size` defaults only when `distance` is absent.
        size = try c.decodeIfPresent(ValueRange.self, forKey: .size) ?? (distance == nil ? d.size : nil)
        placement = try c.decodeIfPresent(Placement.self, forKey: .placement) ?? d.placement
        brightness = try c.decodeIfPresent(ValueRange.self, forKey: .brightness) ?? d.brightness
        offset = try c.decodeIfPresent(ValueRange.self, forKey: .offset) ?? d.offset
        contrast = try c.decodeIfPresent(ValueRange.self, forKey: .contrast) ?? d.contrast
        colorCast = try c.decodeIfPresent(ValueRange.self, forKey: .colorCast) ?? d.colorCast
        gamma = try c.decodeIfPresent(ValueRange.self, forKey: .gamma) ?? d.gamma
        printerGain = try c.decodeIfPresent(ValueRange.self, forKey: .printerGain) ?? d.printerGain
        printerBias = try c.decodeIfPresent(ValueRange.self, forKey: .printerBias) ?? d.printerBias
        printerChannelGain = try c.decodeIfPresent([ValueRange].self, forKey: .printerChannelGain)
        printerChannelBias = try c.decodeIfPresent([ValueRange].self, forKey: .printerChannelBias)
        printerSaturation = try c.decodeIfPresent(ValueRange.self, forKey: .printerSaturation) ?? d.printerSaturation
        blurSigma = try c.decodeIfPresent(ValueRange.self, forKey: .blurSigma) ?? d.blurSigma
        noiseSigma = try c.decodeIfPresent(ValueRange.self, forKey: .noiseSigma) ?? d.noiseSigma
        jpegQuality = try c.decodeIfPresent(ValueRange.self, forKey: .jpegQuality)
        motionBlurLength = try c.decodeIfPresent(ValueRange.self, forKey: .motionBlurLength) ?? d.motionBlurLength
        resampleScale = try c.decodeIfPresent(ValueRange.self, forKey: .resampleScale) ?? d.resampleScale
        object = try c.decodeIfPresent(ObjectPoseDistribution.self, forKey: .object)
        try validate()
    }

    // MARK: Presets

    /// Brown et al. 2017-style digital patch: in-plane rotation ±22.5°, no yaw/pitch, apparent
    /// size 0.32–0.40 of the shorter side (a circle then covers 8–12.6% of a square image, ≈10%
    /// on average), anywhere fully inside, mild brightness ±10%.
    public static let digital: TransformDistribution = {
        var d = TransformDistribution()
        d.roll = .symmetric(22.5)
        d.size = ValueRange(0.32, 0.40)
        d.placement = .anywhere(fullyInside: true)
        d.brightness = ValueRange(0.9, 1.1)
        return d
    }()

    /// A printed patch on a table seen by a phone camera: yaw/pitch ±45°, roll ±30°, distance
    /// 2.5–6 patch widths (≈ 0.43–0.18 of the side at 50° fov), brightness 0.7–1.3, colour cast
    /// ±5%, gamma 0.8–1.25, contrast 0.9–1.1, printer gain 0.9–1.0 / bias 0–0.05 (ink on paper
    /// is a bit darker and never pure black), blur σ 0–1.5 px, noise σ 0–0.02.
    public static let tabletop = printedAndPhotographed(
        tilt: 45, distance: ValueRange(2.5, 6), brightness: ValueRange(0.7, 1.3), contrast: ValueRange(0.9, 1.1),
        colorCast: 0.05, printerGain: ValueRange(0.9, 1.0), printerBias: ValueRange(0, 0.05),
        blurSigma: ValueRange(0, 1.5), noiseSigma: ValueRange(0, 0.02))

    /// Print-and-capture simulation: a printed sticker photographed by a phone. Pose yaw/pitch ±30°,
    /// roll ±30°, distance 2.7–3.4 patch widths (≈ 0.40–0.32 of the side at 50° fov, the same
    /// ≈10%-of-the-image patch as `digital`), lighting (brightness 0.75–1.25,
    /// contrast 0.85–1.1, colour cast ±6%, gamma 0.8–1.25); the printer: per-channel gain 0.82–0.95
    /// and bias 0.03–0.08 (ink never reaches pure black, paper white tops out near 0.95 — the gamut
    /// limits); the camera: defocus blur σ 0.3–1.5 px, motion blur 0–3 px in any direction,
    /// resampling to 50–100% resolution, sensor noise σ 0.005–0.03, JPEG quality 60–95.
    /// `generate --calibration` replaces the printer ranges with measured values.
    public static let photo: TransformDistribution = {
        var d = printedAndPhotographed(
            tilt: 30, distance: ValueRange(2.7, 3.4), brightness: ValueRange(0.75, 1.25), contrast: ValueRange(0.85, 1.1),
            colorCast: 0.06, printerGain: ValueRange(0.82, 0.95), printerBias: ValueRange(0.03, 0.08),
            blurSigma: ValueRange(0.3, 1.5), noiseSigma: ValueRange(0.005, 0.03))
        d.motionBlurLength = ValueRange(0, 3)
        d.resampleScale = ValueRange(0.5, 1)
        d.jpegQuality = ValueRange(60, 95)
        return d
    }()

    /// What `tabletop` and `photo` share: a printed patch posed in 3D (yaw and pitch ±`tilt`,
    /// roll ±30°) at a distance, fully inside the frame, gamma 0.8–1.25, colour cast ±`colorCast`,
    /// and the given lighting, printer and camera ranges.
    private static func printedAndPhotographed(
        tilt: Double, distance: ValueRange, brightness: ValueRange, contrast: ValueRange, colorCast: Double,
        printerGain: ValueRange, printerBias: ValueRange, blurSigma: ValueRange, noiseSigma: ValueRange
    ) -> TransformDistribution {
        var d = TransformDistribution()
        d.yaw = .symmetric(tilt)
        d.pitch = .symmetric(tilt)
        d.roll = .symmetric(30)
        d.size = nil
        d.distance = distance
        d.placement = .anywhere(fullyInside: true)
        d.brightness = brightness
        d.contrast = contrast
        d.colorCast = .symmetric(colorCast)
        d.gamma = ValueRange(0.8, 1.25)
        d.printerGain = printerGain
        d.printerBias = printerBias
        d.blurSigma = blurSigma
        d.noiseSigma = noiseSigma
        return d
    }

    /// A printed sticker seen by a phone camera, for paper by default (`generate`'s default). In
    /// physical terms: the patch covers about 6–16 % of the frame (width 0.25–0.40 of the
    /// shorter side), seen from up to 45° off-axis (yaw and pitch) and rolled up to 35°,
    /// anywhere in the frame; lighting gain 0.65–1.35, offset ±0.1, contrast 0.85–1.15, colour
    /// cast ±10 %, gamma 0.8–1.25; the printer's paper white and ink black (gain 0.78–1.0, bias
    /// 0–0.1) and dulled colours (saturation 0.55–1); the camera's defocus (σ 0–1.5 px) and sensor
    /// noise (σ 0–0.035). Each range is a little wider than what a patch is judged on, as EOT
    /// wants. Without JPEG: with it (quality 50–95, 4:2:0) toaster gained 2.9 points on the print
    /// check and lost 1.8 on the tabletop one, but espresso lost 4.2 and 8.8 and banana 0.3 and 1.8
    /// (paired, 1200 samples each; README). Without motion blur and resampling: with them (0–2 px,
    /// 60–100 %) the same run did worse on both checks.
    public static let physical: TransformDistribution = {
        var d = TransformDistribution()
        d.yaw = .symmetric(45)
        d.pitch = .symmetric(45)
        d.roll = .symmetric(35)
        d.size = ValueRange(0.25, 0.40)
        d.placement = .anywhere(fullyInside: true)
        d.brightness = ValueRange(0.65, 1.35)
        d.offset = .symmetric(0.1)
        d.contrast = ValueRange(0.85, 1.15)
        d.colorCast = .symmetric(0.1)
        d.gamma = ValueRange(0.8, 1.25)
        d.printerGain = ValueRange(0.78, 1.0)
        d.printerBias = ValueRange(0, 0.1)
        d.printerSaturation = ValueRange(0.55, 1)
        d.blurSigma = ValueRange(0, 1.5)
        d.noiseSigma = ValueRange(0, 0.035)
        return d
    }()

    /// A 3D object (a can, a box) standing on a table, photographed (issue 22's acceptance
    /// distribution): `ObjectPoseDistribution`'s default (turned anywhere about its axis, seen
    /// from 0–30° above, its image 30–50 % of the frame's height anywhere in it, light from any
    /// side 15–75° up with 35–65 % ambient), light intensity 0.65–1.35 (`physical`'s brightness),
    /// and `physical`'s camera effects: defocus σ 0–1.5 px and sensor noise σ 0–0.035. No printer
    /// model or colour change: `generate --calibration` adds a measured printer.
    /// `generate --mesh` trains on it and `evaluate` judges such runs on it.
    public static let object: TransformDistribution = {
        var d = TransformDistribution()
        d.brightness = physical.brightness
        d.blurSigma = physical.blurSigma
        d.noiseSigma = physical.noiseSigma
        d.object = ObjectPoseDistribution()
        return d
    }()

    public static let presetNames = ["physical", "digital", "tabletop", "photo", "object", "identity"]

    /// "physical", "digital", "tabletop", "photo", "object" or "identity" (case-insensitive).
    public static func preset(named name: String) throws -> TransformDistribution {
        switch name.lowercased() {
        case "physical": return .physical
        case "object": return .object
        case "digital": return .digital
        case "tabletop": return .tabletop
        case "photo": return .photo
        case "identity": return TransformDistribution()
        default: throw TransformError.unknownPreset(name: name, available: presetNames)
        }
    }

    // MARK: JSON

    /// Reads a distribution from JSON. Non-finite numbers may be written as the strings "nan",
    /// "inf", "-inf" — they are then reported by field name; bare `NaN` tokens (invalid JSON)
    /// are reported with their line.
    public static func fromJSON(_ data: Data) throws -> TransformDistribution {
        try decodeJSON(TransformDistribution.self, data, what: "transform distribution")
    }

    /// Pretty, key-sorted JSON.
    public func jsonData() throws -> Data { try encodeJSON(self) }
}

func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try e.encode(value)
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    do {
        return try d.decode(type, from: data)
    } catch let e as TransformError {
        throw e
    } catch let DecodingError.dataCorrupted(ctx) where ctx.codingPath.isEmpty {
        throw TransformError.decoding(what: what, reason: "not valid JSON" + locateNonFinite(data))
    } catch let DecodingError.typeMismatch(_, ctx) {
        throw TransformError.decoding(what: what, reason: "wrong type at \(path(ctx.codingPath)): \(untrustedText(ctx.debugDescription, limit: 160))")
    } catch let DecodingError.keyNotFound(key, ctx) {
        throw TransformError.decoding(what: what, reason: "missing key \(path(ctx.codingPath + [key]))")
    } catch let DecodingError.valueNotFound(_, ctx) {
        throw TransformError.decoding(what: what, reason: "missing value at \(path(ctx.codingPath))")
    } catch let DecodingError.dataCorrupted(ctx) {
        throw TransformError.decoding(what: what, reason: "bad value at \(path(ctx.codingPath)): \(untrustedText(ctx.debugDescription, limit: 160))")
    }
}

/// A coding path for a message; its keys can come from the file (dictionary keys), so the whole is escaped and cut.
private func path(_ keys: [any CodingKey]) -> String {
    keys.isEmpty ? "top level" : untrustedText(keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: "."))
}

/// For invalid JSON: finds a bare NaN/Infinity token and names its line (which names the field).
private func locateNonFinite(_ data: Data) -> String {
    let text = String(decoding: data, as: UTF8.self)
    for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let unquoted = line.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 0 }.map { $0.element }.joined(separator: " ")
        for token in ["NaN", "nan", "Infinity", "inf"] where unquoted.contains(token) {
            return "; line \(n + 1) has a non-finite number (\(untrustedText(line.trimmingCharacters(in: .whitespaces)))) — every value must be a finite number"
        }
    }
    return ""
}

/// A `JSONDecoder` failure in a few words that name the field ("field "channelGain" is missing"),
/// instead of the DecodingError's full debug dump.
public func describeDecodingError(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    // Field names and the decoder's words can quote the file (dictionary keys, enum values): escaped and cut.
    func field(_ path: [any CodingKey]) -> String {
        var name = path.map { key -> String in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
        if name.hasPrefix(".") { name.removeFirst() }
        return untrustedText(name)
    }
    switch error {
    case let .keyNotFound(key, context):
        return "field \"\(field(context.codingPath + [key]))\" is missing"
    case let .typeMismatch(type, context), let .valueNotFound(type, context):
        return "field \"\(field(context.codingPath))\" is not a valid \(type)"
    case let .dataCorrupted(context) where context.codingPath.isEmpty:
        return "the file is not valid JSON"
    case let .dataCorrupted(context):
        return "field \"\(field(context.codingPath))\": \(untrustedText(context.debugDescription, limit: 160))"
    @unknown default:
        return "\(error)"
    }
}

extension ValueRange {
    /// "0.3" (a constant) or "0.3..0.4"; nil for anything else, a non-finite value or MIN > MAX.
    public init?(parsing text: String) {
        let parts = text.components(separatedBy: "..").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 1 || parts.count == 2, let lo = parts.first ?? nil, let hi = parts.last ?? nil,
              lo.isFinite, hi.isFinite, lo <= hi else { return nil }
        self.init(lo, hi)
    }
}

extension TransformDistribution {
    /// The patch's apparent size given directly (fraction of the shorter scene side), replacing
    /// the distribution's size or distance range.
    public mutating func setSize(_ range: ValueRange) {
        size = range
        distance = nil
    }
}
