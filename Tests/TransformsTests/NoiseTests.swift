// Sensor noise: the normal quantile function against known values, and the noise itself as a
// seeded standard normal (moments, the 1σ/2σ/3σ masses, independence of neighbours, seeds).
import Foundation
import Testing
import Transforms

@Suite struct NoiseTests {
    @Test func probitMatchesKnownQuantiles() {
        // Φ⁻¹(p) to 1e-12 (values from scipy.stats.norm.ppf).
        for (p, z) in [(0.5, 0.0), (0.975, 1.959963984540054), (0.8413447460685429, 1.0), (1e-6, -4.753424308822899),
                       (0.02, -2.053748910631823), (0.999, 3.090232306167813)] {
            #expect(abs(Noise.probit(p) - z) < 1e-9, "Φ⁻¹(\(p)) = \(Noise.probit(p)), expected \(z)")
        }
    }

    @Test func noiseIsASeededStandardNormal() {
        let n = 224 * 224 * 3
        var x = [Float](repeating: 0, count: n)
        Noise.add(&x, sigma: 1, seed: 42)
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        let sd = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) - mean * mean).squareRoot()
        #expect(abs(mean) < 0.01 && abs(sd - 1) < 0.01, "mean \(mean), sd \(sd)")
        // Masses within 1, 2, 3 σ: 0.6827, 0.9545, 0.9973 (± ~4 standard errors at n = 150 528).
        for (k, mass) in [(1.0, 0.682689), (2.0, 0.954500), (3.0, 0.997300)] {
            let f = Double(x.filter { abs(Double($0)) < k }.count) / Double(n)
            #expect(abs(f - mass) < 0.005, "within \(k)σ: \(f), expected \(mass)")
        }
        // Neighbours (the four values of one 64-bit draw, and across draws) are uncorrelated.
        var lag1 = 0.0
        for i in 1..<n { lag1 += Double(x[i]) * Double(x[i - 1]) }
        #expect(abs(lag1 / Double(n)) < 0.01, "lag-1 correlation \(lag1 / Double(n))")
        // Seeded: the same seed gives the same noise, another seed other noise; σ scales it.
        var y = [Float](repeating: 0, count: n), z = y, w = y
        Noise.add(&y, sigma: 1, seed: 42); Noise.add(&z, sigma: 1, seed: 43); Noise.add(&w, sigma: 0.5, seed: 42)
        #expect(y == x && z != x)
        #expect(zip(w, x).allSatisfy { $0 == 0.5 * $1 })
        // Odd lengths: the tail takes the first values of one more draw.
        var tail = [Float](repeating: 0, count: 7)
        Noise.add(&tail, sigma: 1, seed: 42)
        #expect(Array(tail.prefix(4)) == Array(x.prefix(4)) && tail.allSatisfy { $0 != 0 })
    }
}
