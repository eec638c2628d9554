// A tiny seeded random number generator (SplitMix64, Steele et al. 2014) and the uniform/normal
// draws the module uses; not a cryptographic generator.

/// Seeded, deterministic 64-bit generator. Same seed -> same stream on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Codable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Uniform in [0, 1) with 53 random bits; written out (not `Double.random(in:)`) so that the
/// sampled values do not depend on the standard library's implementation.
@inline(__always)
func uniformUnit(_ rng: inout some RandomNumberGenerator) -> Double {
    Double(rng.next() >> 11) * 0x1p-53
}

/// Uniform in [lo, hi]; exactly `lo` when lo == hi.
@inline(__always)
func uniform(_ lo: Double, _ hi: Double, _ rng: inout some RandomNumberGenerator) -> Double {
    let u = uniformUnit(&rng)
    return lo == hi ? lo : lo + (hi - lo) * u
}

/// Salts that derive independent random streams from one user seed (`seed ^ salt`), one per
/// use, so that e.g. the validation set does not replay the training samples. The values are
/// arbitrary but fixed: changing one changes every seeded result that uses it.
public enum SeedSalt {
    /// generate's fixed held-out validation set.
    public static let validationSet: UInt64 = 0x5EED_0F_7A11_DA7E
    /// evaluate's Latin-hypercube samples.
    public static let evaluationSamples: UInt64 = 0xE7A1_5A3B_1E5E_ED01
    /// evaluate's control textures (noise, shuffled).
    public static let controlTextures: UInt64 = 0xC0_47_20_15
    /// grid's heat-map samples.
    public static let heatMap: UInt64 = 0x4EA7_3A95
}
