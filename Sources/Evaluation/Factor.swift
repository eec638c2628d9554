// The named factors of a transformation that evaluation bins by and grids sweep over: how to read
// one from a TransformSample, set it, and pin it in a TransformDistribution. Not the sampler.
import Transforms

public enum Factor: String, CaseIterable, Codable, Sendable {
    /// In-plane rotation, degrees.
    case roll
    /// Tilt about the vertical / horizontal axis, degrees.
    case yaw, pitch
    /// Apparent patch width as a fraction of the shorter image side.
    case size
    /// Lighting gain, gamma and contrast on the patch.
    case brightness, gamma, contrast
    /// Camera blur and sensor noise sigma (blur in pixels, noise in [0, 1] pixel units).
    case blur, noise
    /// 3D objects (`ObjectPose`): turn about the vertical axis and camera elevation, degrees; the
    /// object's image height as a fraction of the shorter side; the ambient share of the light.
    /// Constant 0 for patches.
    case azimuth, elevation, height, ambient

    public static var names: [String] { allCases.map(\.rawValue) }

    /// A factor by name (case-insensitive; `rotation` = roll, `blurSigma` = blur, `noiseSigma` = noise).
    public static func parse(_ name: String) throws -> Factor {
        let key = name.lowercased().trimmingCharacters(in: .whitespaces)
        let aliases = ["rotation": Factor.roll, "blursigma": .blur, "noisesigma": .noise, "scale": .size]
        if let f = Factor(rawValue: key) ?? aliases[key] { return f }
        throw EvaluationError.unknownFactor(name: name, valid: names)
    }

    /// A patch factor's value in a sample; nil for the object factors (`objectKeys`).
    var sampleValue: WritableKeyPath<TransformSample, Double>? {
        switch self {
        case .azimuth, .elevation, .height, .ambient: return nil
        case .roll: return \.roll
        case .yaw: return \.yaw
        case .pitch: return \.pitch
        case .size: return \.size
        case .brightness: return \.brightness
        case .gamma: return \.gamma
        case .contrast: return \.contrast
        case .blur: return \.blurSigma
        case .noise: return \.noiseSigma
        }
    }

    /// An object factor's value in a pose and its range in an object distribution; nil for the
    /// patch factors.
    var objectKeys: (value: WritableKeyPath<ObjectPose, Double>, range: WritableKeyPath<ObjectPoseDistribution, ValueRange>)? {
        switch self {
        case .azimuth: return (\.azimuth, \.azimuth)
        case .elevation: return (\.elevation, \.elevation)
        case .height: return (\.height, \.height)
        case .ambient: return (\.ambient, \.ambient)
        default: return nil
        }
    }

    public func value(of s: TransformSample) -> Double {
        if let k = objectKeys?.value { return s.object?[keyPath: k] ?? 0 }
        return sampleValue.map { s[keyPath: $0] } ?? 0
    }

    /// Sets the factor in the sample (an object factor only where the sample has an object).
    public func set(_ v: Double, in s: inout TransformSample) {
        if let k = objectKeys?.value { s.object?[keyPath: k] = v } else if let k = sampleValue { s[keyPath: k] = v }
    }

    /// The range this factor is drawn from. For `size` in a distance-based distribution this is
    /// the distance range (patch widths), which `pin` also takes.
    public func range(in d: TransformDistribution) -> ValueRange {
        switch self {
        case .roll: return d.roll
        case .yaw: return d.yaw
        case .pitch: return d.pitch
        case .size: return d.size ?? d.distance ?? .fixed(0.3)
        case .brightness: return d.brightness
        case .gamma: return d.gamma
        case .contrast: return d.contrast
        case .blur: return d.blurSigma
        case .noise: return d.noiseSigma
        case .azimuth, .elevation, .height, .ambient: return d.object?[keyPath: objectKeys!.range] ?? .fixed(0)
        }
    }

    /// Fixes the factor at `v` (a value of `range(in:)`'s kind) in the distribution.
    public func pin(_ v: Double, in d: inout TransformDistribution) {
        switch self {
        case .roll: d.roll = .fixed(v)
        case .yaw: d.yaw = .fixed(v)
        case .pitch: d.pitch = .fixed(v)
        case .size: if d.distance != nil && d.size == nil { d.distance = .fixed(v) } else { d.size = .fixed(v) }
        case .brightness: d.brightness = .fixed(v)
        case .gamma: d.gamma = .fixed(v)
        case .contrast: d.contrast = .fixed(v)
        case .blur: d.blurSigma = .fixed(v)
        case .noise: d.noiseSigma = .fixed(v)
        case .azimuth, .elevation, .height, .ambient: d.object?[keyPath: objectKeys!.range] = .fixed(v)
        }
    }

    /// Fixes the factor at a *sample* value `v` (for size: the apparent size, never a distance).
    public func pinSampleValue(_ v: Double, in d: inout TransformDistribution) {
        if self == .size { d.size = .fixed(v); d.distance = nil } else { pin(v, in: &d) }
    }

    /// Values a renderer accepts (a grid axis outside these is an error).
    public var allowed: ClosedRange<Double> {
        switch self {
        case .roll: return -360...360
        case .yaw, .pitch: return -88.9...88.9
        case .size: return 0.01...1
        case .brightness, .contrast: return 0...100
        case .gamma: return 0.05...20
        case .blur: return 0...20
        case .noise: return 0...1
        case .azimuth: return -720...720
        case .elevation: return -90...90
        case .height: return 0.01...1
        case .ambient: return 0...1
        }
    }

    /// How a value is written in tables and on axes.
    public func format(_ v: Double) -> String {
        let text = formatSigned(v)
        return text.hasPrefix("-") && Double(text.filter { "0123456789.-".contains($0) }) == 0 ? String(text.dropFirst()) : text
    }

    func formatSigned(_ v: Double) -> String {
        switch self {
        case .roll, .yaw, .pitch, .azimuth, .elevation: return String(format: "%.0f°", v)
        case .height, .ambient: return String(format: "%.2f", v)
        case .size: return String(format: "%.2f", v)
        case .brightness, .gamma, .contrast: return String(format: "%.2f", v)
        case .blur: return String(format: "%.1fpx", v)
        case .noise: return String(format: "%.3f", v)
        }
    }

    /// ASCII form for bitmap-font axes (no degree sign).
    public func formatASCII(_ v: Double) -> String {
        format(v).replacingOccurrences(of: "°", with: "deg")
    }
}

import Foundation
