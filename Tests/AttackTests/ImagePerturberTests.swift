// Whole-image perturbations on the real lite0 and the bundled cat: PGD reaches its target within
// the bound after 8-bit rounding, FGSM's step is ±ε, L2 stays inside its ball, EOT's gradient
// through the whole-photo renderer against central differences, EOT is deterministic for a
// seed, and impossible settings and photos are refused by name.
import Attack
import Foundation
import Imaging
import Networks
import Testing
import Transforms

private enum CatFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let guacamole = 924

    static func model() throws -> InvertedResidualNetwork {
        do { return try ModelZoo.load("lite0") } catch {
            Issue.record("\(error) — these tests need the lite0 weights: run Scripts/fetch-models.sh lite0")
            throw error
        }
    }

    static func cat(width: Int? = nil) throws -> Image {
        let image = try Image.read(from: root.appendingPathComponent("Samples/cat.png").path).rgb
        guard let w = width else { return image }
        return image.resized(width: w, height: w * image.height / image.width)
    }

    /// The largest |a − b| in 8-bit steps.
    static func maxByteChange(_ a: [Float], _ b: [Float]) -> Int {
        zip(a, b).map { abs(Int(($0 * 255).rounded()) - Int(($1 * 255).rounded())) }.max() ?? 0
    }
}

@Suite("Whole-image perturbations (lite0, the cat)", .serialized)
struct ImagePerturberTests {
    @Test("PGD, L∞ 8/255, target guacamole: ≥ 99 % on the 8-bit adversarial photo as classify frames it; every byte within 8")
    func pgdReachesTarget() throws {
        let model = try CatFixture.model()
        let p = try ImagePerturber(image: try CatFixture.cat(), models: [model], settings: PerturbSettings(method: .pgd, epsilon: 8, target: CatFixture.guacamole))
        while !p.isFinished { try p.step() }
        let adv = p.quantizedAdversarial
        #expect(CatFixture.maxByteChange(adv, p.original) <= 8)
        #expect(CatFixture.maxByteChange(adv, p.original) >= 7, "PGD should use the budget")
        let image = try Image(width: p.width, height: p.height, channels: 3, pixels: adv).centerSquare(size: 224)
        let prob = Softmax.forward(model.makeRunner().forward(Tensor(shape: [1, 224, 224, 3], values: image.pixels))).array
        #expect(prob[CatFixture.guacamole] >= 0.99, "p(guacamole) \(prob[CatFixture.guacamole])")
    }

    @Test("FGSM: one step of exactly ±ε where the gradient is not 0, 0 where it is (outside the centre crop)")
    func fgsmStep() throws {
        let p = try ImagePerturber(image: try CatFixture.cat(width: 160), models: [try CatFixture.model()],
                                   settings: PerturbSettings(method: .fgsm, epsilon: 4, target: CatFixture.guacamole))
        let g = try p.framedLossGradient(p.original).gradient
        try p.step()
        #expect(p.isFinished)
        var interior = 0
        for i in g.indices {
            let o = p.original[i]
            if g[i] == 0 { #expect(p.delta[i] == 0) } else if o > 0.02 && o < 0.98 {
                #expect(abs(abs(p.delta[i]) - 4 / 255) < 1e-6 && (p.delta[i] > 0) == (g[i] < 0))
                interior += 1
            }
        }
        #expect(interior > g.count / 2)
        #expect(g.contains(0), "columns outside the centre crop get no gradient")
    }

    @Test("L2: the written offset's norm stays within ε")
    func l2Bound() throws {
        let p = try ImagePerturber(image: try CatFixture.cat(width: 160), models: [try CatFixture.model()],
                                   settings: PerturbSettings(method: .pgd, norm: .l2, epsilon: 2, target: CatFixture.guacamole, steps: 5))
        while !p.isFinished { try p.step() }
        let norm = zip(p.quantizedAdversarial, p.original).reduce(0.0) { $0 + pow(Double($1.0 - $1.1), 2) }.squareRoot()
        let float = p.delta.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(norm <= 2 + 1e-6 && float <= 2 + 1e-4 && float > 1.5, "written \(norm), δ \(float)")
    }

    @Test("EOT gradient through the whole-photo renderer = central differences of the same chain along random directions")
    func eotGradient() throws {
        var settings = PerturbSettings(method: .eot, epsilon: 8, target: CatFixture.guacamole, steps: 1)
        settings.distribution = .standard
        settings.distribution.jpegQuality = nil      // straight-through: no derivative to check
        let p = try ImagePerturber(image: try CatFixture.cat(width: 120), models: [try CatFixture.model()], settings: settings)
        var rng = SplitMix64(seed: 5)
        let samples = (0..<2).map { _ in settings.distribution.sample(using: &rng) }
        let photo = p.original.map { 0.1 + 0.8 * $0 }     // away from the clamps
        let (_, g) = try p.transformedLossGradient(photo, samples: samples)
        // lite0's ReLU6 kinks make a central difference the mean slope over ±h; as in
        // EOTStepGradientTests, each direction takes the best of a ladder of steps (kink error ∝ h,
        // Float rounding of the loss ∝ 1/h), within 5 %. A wrong link is off at every step.
        for k in 0..<3 {
            let v = (0..<photo.count).map { _ in Float(Double(rng.next() >> 11) * 0x1p-53 * 2 - 1) }
            var best = Double.infinity, seen: [String] = []
            for h in [1e-3, 3e-4, 1e-4, 3e-5] {
                let plus = zip(photo, v).map { $0 + Float(h) * $1 }, minus = zip(photo, v).map { $0 - Float(h) * $1 }
                let fd = (try p.transformedLossGradient(plus, samples: samples).loss - p.transformedLossGradient(minus, samples: samples).loss) / (2 * h)
                var an = 0.0
                for j in g.indices { an += Double(g[j]) * (Double(plus[j]) - Double(minus[j])) / (2 * h) }
                best = min(best, abs(fd - an) / max(abs(fd), abs(an), 1e-12))
                seen.append(String(format: "h %g: %.4g vs %.4g", h, fd, an))
            }
            #expect(best <= 0.05, "direction \(k): \(seen.joined(separator: "; "))")
        }
    }

    @Test("EOT: the same seed gives the same perturbation, bit for bit")
    func eotDeterministic() throws {
        func run() throws -> [Float] {
            var s = PerturbSettings(method: .eot, epsilon: 8, target: CatFixture.guacamole, steps: 2)
            s.batch = 3; s.seed = 11
            let p = try ImagePerturber(image: try CatFixture.cat(width: 100), models: [try CatFixture.model()], settings: s)
            while !p.isFinished { try p.step() }
            return p.delta
        }
        #expect(try run() == run())
    }

    @Test("impossible settings and photos are refused with a message naming them", arguments: [
        ("eps0", "must be 1…255"), ("eps300", "must be 1…255"), ("eps0.5", "rounds to no change"), ("tiny", "at least 16 px"),
        ("strip", "differ more than 8 times"), ("fgsmsteps", "fgsm takes one step"), ("target", "not a class of"), ("l2neg", "L2"),
    ])
    func refused(_ name: String, _ expected: String) throws {
        let model = try CatFixture.model()
        var image = try CatFixture.cat(width: 64)
        var s = PerturbSettings(method: .pgd, epsilon: 8, target: CatFixture.guacamole, steps: 1)
        switch name {
        case "eps0": s.epsilon = 0
        case "eps300": s.epsilon = 300
        case "eps0.5": s.epsilon = 0.5
        case "tiny": image = Image(width: 1, height: 1, channels: 3, fill: 0.5)
        case "strip": image = Image(width: 900, height: 100, channels: 3, fill: 0.5)
        case "fgsmsteps": s = PerturbSettings(method: .fgsm, epsilon: 8, target: 1, steps: 3)
        case "target": s.target = 1000
        case "l2neg": s = PerturbSettings(method: .pgd, norm: .l2, epsilon: -1, target: 1)
        default: break
        }
        #expect { try ImagePerturber(image: image, models: [model], settings: s) } throws: { error in
            let text = "\(error)"
            return text.contains(expected) && text.split(separator: "\n").count <= 3
        }
    }

    @Test("a photo smaller than the model's input is upsampled as classify does, and attacked at its own size")
    func smallPhoto() throws {
        let p = try ImagePerturber(image: try CatFixture.cat(width: 40), models: [try CatFixture.model()],
                                   settings: PerturbSettings(method: .pgd, epsilon: 16, target: CatFixture.guacamole, steps: 10))
        while !p.isFinished { try p.step() }
        #expect(p.delta.count == 40 * 26 * 3)
        #expect(CatFixture.maxByteChange(p.quantizedAdversarial, p.original) <= 16)
        #expect((p.curve.last?.probability ?? 0) > (p.curve.first?.probability ?? 1))
    }
}
