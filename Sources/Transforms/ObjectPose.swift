// The pose of a 3D object in one sample (issue 22: textured meshes) and the distribution it is
// drawn from: how the object is turned, where the camera looks from, how big and where it
// appears in the frame, and where the light comes from. The mesh renderer (Renderer+Mesh.swift)
// turns a pose into a camera; the lighting, printer and camera effects of the surrounding
// `TransformSample` apply as for patches.
//
// Frames: the object's own frame is the mesh's (millimetres, y up, centred on its bounding box);
// the camera's is the module's (x right, y down, z forward along the optical axis).
import Foundation

public struct ObjectPose: Codable, Sendable, Equatable {
    /// Degrees the object is turned about its vertical (y) axis before it is seen: 0 shows its +z
    /// side (the cylinder's seam at u = 0, the box's front); positive turns that side toward the
    /// camera's right.
    public var azimuth: Double
    /// Degrees the camera is above the object's horizontal plane, looking down at it (0: from the
    /// side; 90: from straight above).
    public var elevation: Double
    /// Degrees the camera is turned about its optical axis (positive: the object turns clockwise in the image).
    public var roll: Double
    /// The height of the object's image (its outline in perspective), as a fraction of the
    /// shorter image side.
    public var height: Double
    /// Where the outline sits in the frame, each in [0, 1]: 0 touches the left (top) edge, 1 the
    /// right (bottom) edge, 0.5 is centred. An outline wider than the frame is centred.
    public var x: Double
    public var y: Double
    /// Direction the light comes from, fixed in the room while the object turns: degrees about
    /// the vertical axis (0: from the camera's side, 90: from the camera's right, 180: from behind
    /// the object) and above the horizontal plane.
    public var lightAzimuth: Double
    public var lightElevation: Double
    /// Shading: a surface point of normal n reflects ambient + (1 − ambient) · max(0, n · l) of
    /// its colour (1 where it faces the light, `ambient` in its shadow).
    public var ambient: Double

    public init(azimuth: Double = 0, elevation: Double = 0, roll: Double = 0, height: Double = 0.4, x: Double = 0.5, y: Double = 0.5,
                lightAzimuth: Double = 0, lightElevation: Double = 45, ambient: Double = 1) {
        self.azimuth = azimuth; self.elevation = elevation; self.roll = roll; self.height = height
        self.x = x; self.y = y; self.lightAzimuth = lightAzimuth; self.lightElevation = lightElevation; self.ambient = ambient
    }

    /// Throws a `TransformError` naming the first value the renderer cannot use ("object.height").
    public func validate() throws {
        try Check.within(azimuth, -720, 720, "object.azimuth")
        try Check.within(elevation, -90, 90, "object.elevation")
        try Check.within(roll, -360, 360, "object.roll")
        try Check.within(height, 0.01, 1, "object.height")
        try Check.within(x, 0, 1, "object.x")
        try Check.within(y, 0, 1, "object.y")
        try Check.within(lightAzimuth, -720, 720, "object.lightAzimuth")
        try Check.within(lightElevation, -90, 90, "object.lightElevation")
        try Check.within(ambient, 0, 1, "object.ambient")
    }

    /// The unit vector toward the light in the object's frame (the room's direction turned back
    /// by the object's azimuth).
    public var lightDirection: SIMD3<Double> {
        let a = (lightAzimuth - azimuth) * .pi / 180, e = lightElevation * .pi / 180
        return SIMD3(cos(e) * sin(a), sin(e), cos(e) * cos(a))
    }
}

/// Ranges of an `ObjectPose`. The default is the standing object of issue 22's acceptance: turned
/// anywhere about its axis, seen from 0–30° above, its outline 30–50 % of the frame's height
/// anywhere in the frame, lit from any side 15–75° above the horizon with 35–65 % ambient light.
public struct ObjectPoseDistribution: Codable, Sendable, Equatable {
    public var azimuth = ValueRange(0, 360)
    public var elevation = ValueRange(0, 30)
    public var roll: ValueRange = .fixed(0)
    public var height = ValueRange(0.3, 0.5)
    public var x = ValueRange(0, 1)
    public var y = ValueRange(0, 1)
    public var lightAzimuth = ValueRange(0, 360)
    public var lightElevation = ValueRange(15, 75)
    public var ambient = ValueRange(0.35, 0.65)

    public init() {}

    /// Throws a `TransformError` naming the first bad range.
    public func validate() throws {
        try azimuth.validate("object.azimuth", -720, 720)
        try elevation.validate("object.elevation", -90, 90)
        try roll.validate("object.roll", -360, 360)
        try height.validate("object.height", 0.01, 1)
        try x.validate("object.x", 0, 1)
        try y.validate("object.y", 0, 1)
        try lightAzimuth.validate("object.lightAzimuth", -720, 720)
        try lightElevation.validate("object.lightElevation", -90, 90)
        try ambient.validate("object.ambient", 0, 1)
    }

    /// Draws one pose; every field consumes one draw, in declaration order.
    public func sample(using rng: inout some RandomNumberGenerator) -> ObjectPose {
        ObjectPose(azimuth: uniform(azimuth.min, azimuth.max, &rng), elevation: uniform(elevation.min, elevation.max, &rng),
                   roll: uniform(roll.min, roll.max, &rng), height: uniform(height.min, height.max, &rng),
                   x: uniform(x.min, x.max, &rng), y: uniform(y.min, y.max, &rng),
                   lightAzimuth: uniform(lightAzimuth.min, lightAzimuth.max, &rng),
                   lightElevation: uniform(lightElevation.min, lightElevation.max, &rng),
                   ambient: uniform(ambient.min, ambient.max, &rng))
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case azimuth, elevation, roll, height, x, y, lightAzimuth, lightElevation, ambient
    }

    /// Missing keys take the defaults; unknown keys are refused by name (a misspelt key would
    /// otherwise leave its factor silently at the default).
    public init(from decoder: any Decoder) throws {
        try TransformDistribution.refuseUnknownKeys(decoder, CodingKeys.self, what: "object pose distribution")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ObjectPoseDistribution()
        azimuth = try c.decodeIfPresent(ValueRange.self, forKey: .azimuth) ?? d.azimuth
        elevation = try c.decodeIfPresent(ValueRange.self, forKey: .elevation) ?? d.elevation
        roll = try c.decodeIfPresent(ValueRange.self, forKey: .roll) ?? d.roll
        height = try c.decodeIfPresent(ValueRange.self, forKey: .height) ?? d.height
        x = try c.decodeIfPresent(ValueRange.self, forKey: .x) ?? d.x
        y = try c.decodeIfPresent(ValueRange.self, forKey: .y) ?? d.y
        lightAzimuth = try c.decodeIfPresent(ValueRange.self, forKey: .lightAzimuth) ?? d.lightAzimuth
        lightElevation = try c.decodeIfPresent(ValueRange.self, forKey: .lightElevation) ?? d.lightElevation
        ambient = try c.decodeIfPresent(ValueRange.self, forKey: .ambient) ?? d.ambient
        try validate()
    }
}
