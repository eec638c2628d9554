// Wilson intervals against published values, the Latin-hypercube sampler's coverage and
// determinism, samples-file replay, factor names and bins. No model needed.
import Statistics
import Foundation
import Testing
import Transforms
import Evaluation

@Suite("Wilson intervals")
struct WilsonTests {
    /// Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I
    /// (method 3, Wilson score): 81/263 → 0.2553–0.3662; the others from the closed form
    /// (Python, math only): 5/10 → 0.236593–0.763407, 0/10 → 0–0.277533, 10/10 → 0.722467–1.
    @Test(arguments: [
        (81, 263, 0.2552885198782742, 0.36620957698280004),
        (5, 10, 0.236593090512564, 0.7634069094874361),
        (0, 10, 0.0, 0.2775327998628892),
        (10, 10, 0.7224672001371107, 1.0),
        (975, 1000, 0.9633547107321566, 0.9830098687065659),
    ])
    func knownValues(k: Int, n: Int, low: Double, high: Double) {
        let w = Proportion(successes: k, trials: n).wilson()
        #expect(abs(w.low - low) < 1e-9)
        #expect(abs(w.high - high) < 1e-9)
    }

    @Test func noTrialsIsTheWholeRange() {
        let w = Proportion(successes: 0, trials: 0).wilson()
        #expect(w.low == 0 && w.high == 1)
    }

    @Test func jsonCarriesTheInterval() throws {
        let data = try JSONEncoder().encode(Proportion(successes: 5, trials: 10))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Double])
        #expect(obj["rate"] == 0.5)
        #expect(abs((obj["wilson95_low"] ?? 0) - 0.236593090512564) < 1e-12)
        #expect(try JSONDecoder().decode(Proportion.self, from: data) == Proportion(successes: 5, trials: 10))
    }
}

@Suite("Latin-hypercube samples")
struct SamplerTests {
    let scenes = ["a.png", "b.png", "c.png"]

    @Test func everyStratumOfEveryVaryingFactorIsUsedOnce() throws {
        let n = 40
        let set = try SampleSet.latinHypercube(distribution: .tabletop, count: n, scenes: scenes, imageSize: 224, patchAspect: 1, seed: 7)
        #expect(set.samples.count == n)
        #expect(Set(set.stratified) == ["roll", "yaw", "pitch", "size", "brightness", "gamma", "contrast", "blur", "noise"])
        for name in set.stratified where name != "size" {      // tabletop draws a distance for size
            let f = try Factor.parse(name), r = f.range(in: .tabletop)
            let strata = set.samples.map { Int(((f.value(of: $0.transform) - r.min) / (r.max - r.min) * Double(n)).rounded(.down)) }
            #expect(Set(strata) == Set(0..<n), "\(name) does not cover its \(n) strata once each")
        }
        // Distance strata map to distinct, monotone sizes: still one sample per stratum.
        #expect(Set(set.samples.map(\.transform.size)).count == n)
        for (i, s) in set.samples.enumerated() {
            #expect(s.scene == i % scenes.count)
            try s.transform.validate()
        }
    }

    @Test func sameSeedSameSamplesAndReplayRoundTrips() throws {
        let a = try SampleSet.latinHypercube(distribution: .digital, count: 25, scenes: scenes, imageSize: 224, patchAspect: 1, seed: 3)
        let b = try SampleSet.latinHypercube(distribution: .digital, count: 25, scenes: scenes, imageSize: 224, patchAspect: 1, seed: 3)
        let c = try SampleSet.latinHypercube(distribution: .digital, count: 25, scenes: scenes, imageSize: 224, patchAspect: 1, seed: 4)
        #expect(a == b)
        #expect(a.samples != c.samples)
        let path = NSTemporaryDirectory() + "evaluation-samples-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try a.write(to: path)
        #expect(try SampleSet.read(from: path, sceneCount: 3) == a)
        #expect(throws: EvaluationError.self) { try SampleSet.read(from: path, sceneCount: 2) }
    }

    @Test func zeroSamplesIsAnError() {
        #expect(throws: EvaluationError.badOption("--samples must be at least 1, got 0")) {
            try SampleSet.latinHypercube(distribution: .digital, count: 0, scenes: scenes, imageSize: 224, patchAspect: 1, seed: 0)
        }
    }

    @Test func placementKeepsThePatchInside() throws {
        let set = try SampleSet.latinHypercube(distribution: .digital, count: 30, scenes: scenes, imageSize: 224, patchAspect: 1, seed: 1)
        for s in set.samples {
            for p in s.transform.projectedCorners(sceneWidth: 224, sceneHeight: 224) {
                #expect(p.x >= -1e-6 && p.x <= 224 + 1e-6 && p.y >= -1e-6 && p.y <= 224 + 1e-6)
            }
        }
    }
}

@Suite("Factors and bins")
struct FactorTests {
    @Test func unknownFactorListsTheValidOnes() throws {
        do {
            _ = try Factor.parse("wobble")
            Issue.record("no error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("wobble"))
            for name in ["roll", "yaw", "pitch", "size", "brightness", "blur", "noise", "gamma", "contrast"] { #expect(text.contains(name)) }
        }
        #expect(try Factor.parse("Rotation") == .roll)
    }

    @Test func equalWidthBinsCountSuccesses() {
        // roll = 0, 1, …, 9; success when roll < 5.
        let samples = (0..<10).map { EvaluationSample(scene: 0, transform: TransformSample(roll: Double($0))) }
        let bins = Binning.factorBins(samples: samples, success: (0..<10).map { $0 < 5 }, bins: 2)
        #expect(bins.count == 2)
        #expect(bins.allSatisfy { $0.factor == "roll" })
        #expect(bins[0].success == Proportion(successes: 5, trials: 5))
        #expect(bins[1].success == Proportion(successes: 0, trials: 5))
        #expect(Binning.worst(bins, binsPerFactor: 2).first?.low == 4.5)
        let map = HeatMap.fromSamples(samples, success: (0..<10).map { $0 < 5 }, rows: .roll, columns: .size, bins: 2)
        #expect(map.cells.count == 2 && map.cells[0].count == 1)
        #expect(map.cells[0][0].rate == 1 && map.cells[1][0].rate == 0)
    }
}
