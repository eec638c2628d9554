// Helpers for the op tests: a seeded generator and central-difference gradient checks in Double.
import Networks

struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomValues(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var rng = TestRNG(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Numerical d(Σ r·f(x))/dx by central differences on a Double forward, with step `eps`.
func numericalGradient(x: [Float], r: [Float], eps: Double = 1e-5, _ f: ([Double]) -> [Double]) -> [Double] {
    var xd = x.map(Double.init)
    let rd = r.map(Double.init)
    var g = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        let keep = xd[i]
        xd[i] = keep + eps
        let up = zip(f(xd), rd).reduce(0) { $0 + $1.0 * $1.1 }
        xd[i] = keep - eps
        let down = zip(f(xd), rd).reduce(0) { $0 + $1.0 * $1.1 }
        xd[i] = keep
        g[i] = (up - down) / (2 * eps)
    }
    return g
}

/// Largest |a − b| relative to max(1, |b|): the error measure the gradient checks report.
func maxRelativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var m = 0.0
    for (x, y) in zip(a, b) { m = max(m, abs(Double(x) - y) / max(1, abs(y))) }
    return m
}

func maxAbsError(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
}
