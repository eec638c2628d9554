// Attack losses and optimizer: values and gradients against central differences (Double), and
// Adam against a hand-computed step.
import Attack
import Foundation
import Networks
import Testing

func rand(_ n: Int, seed: UInt64, in range: ClosedRange<Float> = 0...1) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return range.lowerBound + (range.upperBound - range.lowerBound) * Float(s >> 40) / Float(1 << 24)
    }
}

/// Central differences of a scalar function of a Float vector, evaluated in Double.
func numeric(_ x: [Float], eps: Float = 1e-3, _ f: ([Float]) -> Double) -> [Double] {
    var x = x
    return x.indices.map { i in
        let keep = x[i]
        x[i] = keep + eps; let up = f(x)
        x[i] = keep - eps; let down = f(x)
        x[i] = keep
        return (up - down) / Double(2 * eps)
    }
}

@Test("total variation: gradient matches central differences")
func totalVariation() {
    let (w, h) = (5, 4)
    let t = rand(w * h * 3, seed: 1)
    var g = [Float](repeating: 0, count: t.count)
    _ = TotalVariation.loss(texture: t, width: w, height: h, weight: 2, gradient: &g)
    let num = numeric(t) { x in var dummy = [Float](repeating: 0, count: x.count); return 2 * TotalVariation.loss(texture: x, width: w, height: h, weight: 0, gradient: &dummy) }
    let err = zip(g, num).map { abs(Double($0) - $1) }.max()!
    #expect(err < 2e-3, "max error \(err)")
    var flat = [Float](repeating: 0, count: t.count)
    let flatLoss = TotalVariation.loss(texture: [Float](repeating: 0.5, count: t.count), width: w, height: h, weight: 1, gradient: &flat)
    #expect(abs(flatLoss - 3 * TotalVariation.epsilon.squareRoot()) < 1e-9)   // constant texture: only ε remains
}

@Test("non-printability: zero on palette colours, gradient matches central differences")
func nonPrintability() throws {
    let palette = try PrintablePalette.defaultPalette()
    #expect(palette.colors.count == 125)
    let onPalette = (0..<6).flatMap { i in [palette.colors[i * 7].x, palette.colors[i * 7].y, palette.colors[i * 7].z] }
    var g0 = [Float](repeating: 0, count: onPalette.count)
    #expect(NonPrintability.loss(texture: onPalette, mask: [Float](repeating: 1, count: 6), palette: palette, weight: 1, gradient: &g0) < 2e-3)
    let t = rand(8 * 3, seed: 3)
    let mask: [Float] = [1, 1, 0.5, 0, 1, 1, 0.25, 1]
    var g = [Float](repeating: 0, count: t.count)
    _ = NonPrintability.loss(texture: t, mask: mask, palette: palette, weight: 1, gradient: &g)
    let num = numeric(t, eps: 1e-4) { x in var d = [Float](repeating: 0, count: x.count); return NonPrintability.loss(texture: x, mask: mask, palette: palette, weight: 1, gradient: &d) }
    #expect(zip(g, num).map { abs(Double($0) - $1) }.max()! < 5e-3)
}

@Test("palette files: parse 0–255 and 0–1, reject bad lines with the line number")
func paletteParsing() throws {
    let p = try PrintablePalette.parse("# comment\n255 0 0\n0,128,255  # blue-ish\n", source: "p.txt")
    #expect(p.colors.count == 2 && p.colors[0] == SIMD3(1, 0, 0))
    #expect(try PrintablePalette.parse("1 0.5 0\n", source: "q").colors[0] == SIMD3(1, 0.5, 0))
    #expect(throws: AttackError.self) { try PrintablePalette.parse("1 2\n", source: "bad.txt") }
    do { _ = try PrintablePalette.parse("10 20 30\n1 2 nan\n", source: "bad.txt") } catch { #expect("\(error)".contains("bad.txt:2")) }
    #expect(throws: AttackError.self) { try PrintablePalette.parse("# nothing\n", source: "empty.txt") }
}

@Test("classification objectives: gradients match central differences", arguments: [
    ClassificationObjective.targetedCrossEntropy(target: 2), .targetedMargin(target: 1, kappa: 50), .untargeted,
    .targetedFlooredCrossEntropy(target: 3, floor: 0.05), .targetedFlooredCrossEntropy(target: 0, floor: 0.5),
    .targetedFocalCrossEntropy(target: 2, gamma: 2), .targetedFocalCrossEntropy(target: 4, gamma: 0.5)])
func objectives(_ objective: ClassificationObjective) {
    let (n, k) = (3, 5)
    let z = rand(n * k, seed: 9, in: -3...3)
    let clean = [0, 4, 3]
    let r = objective.evaluate(logits: Tensor(shape: [n, k], values: z), cleanClasses: clean)
    let num = numeric(z, eps: 1e-3) { x in objective.evaluate(logits: Tensor(shape: [n, k], values: x), cleanClasses: clean).loss }
    #expect(zip(r.dLogits.array, num).map { abs(Double($0) - $1) }.max()! < 1e-3)
    #expect(abs(r.losses.reduce(0, +) / Double(n) - r.loss) < 1e-9)
}

@Test("floored cross-entropy: cross-entropy's gradient scaled per sample by p/(ε + p)")
func flooredWeights() {
    let (n, k) = (4, 6)
    let z = rand(n * k, seed: 3, in: -4...4)
    let logits = Tensor(shape: [n, k], values: z)
    let ce = ClassificationObjective.targetedCrossEntropy(target: 1).evaluate(logits: logits, cleanClasses: [])
    let fl = ClassificationObjective.targetedFlooredCrossEntropy(target: 1, floor: 0.05).evaluate(logits: logits, cleanClasses: [])
    let p = CrossEntropy.forward(logits: logits, targets: Array(repeating: 1, count: n)).probabilities
    for i in 0..<n {
        let pt = Double(p[flat: i * k + 1]), w = pt / (0.05 + pt)
        #expect(abs(fl.losses[i] + log(0.05 + pt)) < 1e-9)
        for j in 0..<k { #expect(abs(Double(fl.dLogits[flat: i * k + j]) - w * Double(ce.dLogits[flat: i * k + j])) < 1e-6) }
    }
}

@Test("focal cross-entropy: γ = 0 is cross-entropy; won samples weigh less than with cross-entropy, lost ones about the same")
func focalWeights() {
    let (n, k) = (4, 6)
    var z = rand(n * k, seed: 4, in: -2...2)
    z[0 * k + 1] = 9   // sample 0: won (p ≈ 1)
    z[1 * k + 1] = -9  // sample 1: lost (p ≈ 0)
    let logits = Tensor(shape: [n, k], values: z)
    let ce = ClassificationObjective.targetedCrossEntropy(target: 1).evaluate(logits: logits, cleanClasses: [])
    let f0 = ClassificationObjective.targetedFocalCrossEntropy(target: 1, gamma: 0).evaluate(logits: logits, cleanClasses: [])
    #expect(zip(ce.dLogits.array, f0.dLogits.array).map { abs($0 - $1) }.max()! < 1e-6)
    #expect(abs(ce.loss - f0.loss) < 1e-6)
    let f2 = ClassificationObjective.targetedFocalCrossEntropy(target: 1, gamma: 2).evaluate(logits: logits, cleanClasses: [])
    let p = CrossEntropy.forward(logits: logits, targets: Array(repeating: 1, count: n)).probabilities
    for i in 0..<n {
        let pt = Double(p[flat: i * k + 1])
        #expect(abs(f2.losses[i] + (1 - pt) * (1 - pt) * log(pt)) < 1e-6 * max(1, abs(log(pt))))
    }
    // Sample 1 (p ≈ 1e-5): weight (1−p)² − 2p(1−p) log p ≈ 1 + 2e-4, so the gradient is cross-entropy's.
    #expect(abs(Double(f2.dLogits[flat: 1 * k + 1] / ce.dLogits[flat: 1 * k + 1]) - 1) < 1e-3)
    // Sample 0 (p ≈ 1): weight ≈ (1−p)² + 2(1−p)², far below cross-entropy's 1.
    #expect(abs(Double(f2.dLogits[flat: 0 * k + 1])) < 1e-3 * abs(Double(ce.dLogits[flat: 0 * k + 1])))
    // p rounds to exactly 1 in Float: finite, zero gradient for every γ (pow(0, γ − 1) is infinite for γ < 1).
    var won = [Float](repeating: 0, count: k); won[1] = 200
    for g in [0.0, 0.5, 1, 2] {
        let r = ClassificationObjective.targetedFocalCrossEntropy(target: 1, gamma: g).evaluate(logits: Tensor(shape: [1, k], values: won), cleanClasses: [])
        #expect(r.loss.isFinite && r.dLogits.array.allSatisfy { $0.isFinite && abs($0) < 1e-6 })
    }
}

@Test("Adam: first step moves each parameter by lr against the gradient's sign")
func adam() {
    var opt = Adam(parameterCount: 3)
    var theta: [Float] = [0.5, 0.5, 0.5]
    opt.update(&theta, gradient: [2, -0.001, 0], learningRate: 0.1)
    // Bias-corrected first step: m̂/√v̂ = g/|g| (ε aside), so Δ = −lr·sign(g).
    #expect(abs(theta[0] - 0.4) < 1e-5 && abs(theta[1] - 0.6) < 1e-4 && theta[2] == 0.5)
    #expect(opt.step == 1)
}

@Test("learning-rate schedule: cosine from lr to lr·final")
func schedule() {
    var c = GenerateConfig()
    c.steps = 101; c.learningRate = 0.2; c.finalLearningRateFraction = 0.1
    #expect(abs(c.learningRate(at: 0) - 0.2) < 1e-12)
    #expect(abs(c.learningRate(at: 100) - 0.02) < 1e-12)
    #expect(abs(c.learningRate(at: 50) - 0.11) < 1e-12)
}
