// A success count out of n trials with its Wilson score 95% interval (Wilson 1927; the interval
// recommended by Brown, Cai & DasGupta 2001 for small n and rates near 0 or 1). Not a test.

public struct Proportion: Codable, Sendable, Equatable {
    public var successes: Int
    public var trials: Int

    public init(successes: Int, trials: Int) {
        self.successes = successes; self.trials = trials
    }

    /// successes / trials; 0 when there are no trials.
    public var rate: Double { trials > 0 ? Double(successes) / Double(trials) : 0 }

    /// The normal quantile of a two-sided 95% interval.
    public static let z95 = 1.959963984540054

    /// Wilson score interval: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
    /// (0, 1) when there are no trials.
    public func wilson(z: Double = Proportion.z95) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = rate, z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        return (max(0, centre - half), min(1, centre + half))
    }

    public mutating func add(_ success: Bool) { trials += 1; if success { successes += 1 } }

    /// "97.7% [95.1–98.9]" (percent with the Wilson interval).
    public var formatted: String {
        let (lo, hi) = wilson()
        return "\(percent(rate)) [\(percent(lo, sign: false))–\(percent(hi, sign: false))]"
    }

    // MARK: Codable: the counts plus the derived rate and interval, so the JSON reads on its own.

    enum CodingKeys: String, CodingKey { case successes, trials, rate, low95 = "wilson95_low", high95 = "wilson95_high" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        successes = try c.decode(Int.self, forKey: .successes)
        trials = try c.decode(Int.self, forKey: .trials)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(successes, forKey: .successes)
        try c.encode(trials, forKey: .trials)
        try c.encode(rate, forKey: .rate)
        let (lo, hi) = wilson()
        try c.encode(lo, forKey: .low95)
        try c.encode(hi, forKey: .high95)
    }
}

/// "97.7%" (one decimal), or "97.7" without the sign.
public func percent(_ x: Double, sign: Bool = true) -> String {
    let v = (x * 1000).rounded() / 10
    let s = v == v.rounded() ? String(format: "%.0f", v) : String(format: "%.1f", v)
    return sign ? s + "%" : s
}

import Foundation
