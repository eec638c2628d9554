// Typed errors of the Transforms module; each names the offending input and says what to do.
// Not used for programmer errors inside the module's own kernels.

import TextSafety

public enum TransformError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A value is NaN or infinite.
    case notFinite(field: String)
    /// A range has min > max.
    case minGreaterThanMax(field: String, min: Double, max: Double)
    /// A value lies outside what the model can render.
    case outOfRange(field: String, value: Double, allowed: String)
    /// Something about a field is wrong that is not a single number.
    case invalid(field: String, reason: String)
    /// `TransformDistribution.preset(named:)` got an unknown name.
    case unknownPreset(name: String, available: [String])
    /// A buffer has the wrong number of elements for its stated shape.
    case shapeMismatch(name: String, expected: Int, got: Int, shape: String)
    /// A homography cannot be inverted.
    case singularHomography(name: String)
    /// A mask has no opaque pixel, so the patch would be invisible.
    case emptyMask(reason: String)
    /// A distribution or sample file could not be decoded.
    case decoding(what: String, reason: String)

    public var description: String {
        switch self {
        case let .notFinite(field):
            return "\(field) is NaN or infinite; give a finite number."
        case let .minGreaterThanMax(field, lo, hi):
            return "\(field): min (\(lo)) is greater than max (\(hi)); swap them or make them equal."
        case let .outOfRange(field, value, allowed):
            return "\(field) = \(value) is out of range; allowed: \(allowed)."
        case let .invalid(field, reason):
            return "\(field): \(reason)"
        case let .unknownPreset(name, available):
            return "unknown transform preset '\(untrustedText(name))'; available: \(available.joined(separator: ", "))."
        case let .shapeMismatch(name, expected, got, shape):
            return "\(name) has \(got) elements but its shape \(shape) needs \(expected); check the width/height you passed."
        case let .singularHomography(name):
            return "\(name) is singular (the patch collapses to a line or point); use a non-degenerate pose or quadrilateral."
        case let .emptyMask(reason):
            return "mask has no opaque pixel (\(reason)); the patch would be invisible — use a mask with some alpha > 0.5."
        case let .decoding(what, reason):
            return "could not read \(what): \(reason)"
        }
    }
}

/// Validation helpers shared by the distribution and the sample.
enum Check {
    static func finite(_ v: Double, _ field: String) throws {
        guard v.isFinite else { throw TransformError.notFinite(field: field) }
    }
    static func within(_ v: Double, _ lo: Double, _ hi: Double, _ field: String, open: Bool = false) throws {
        try finite(v, field)
        let ok = open ? (v > lo && v < hi) : (v >= lo && v <= hi)
        guard ok else {
            let a = open ? "(\(lo), \(hi)) exclusive" : "[\(lo), \(hi)]"
            throw TransformError.outOfRange(field: field, value: v, allowed: a)
        }
    }
}
