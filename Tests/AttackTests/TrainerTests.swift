// The EOT trainer on the real lite0 and the bundled scenes: determinism (same seed and thread
// count → the same texture bit for bit), interrupt + resume = uninterrupted, and bad input.
import Attack
import Runs
import Foundation
import Imaging
import Networks
import Testing
import Transforms

enum Repo {
    /// The repository root, from this file's path (Tests/AttackTests/…).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var scenes: String { root.appendingPathComponent("Samples/scenes").path }
}

func smallConfig(seed: UInt64 = 7) -> GenerateConfig {
    var c = GenerateConfig()
    c.steps = 6; c.batch = 3; c.seed = seed; c.textureSide = 24; c.validationSamples = 6; c.periodicValidationSamples = 6
    c.npsWeight = 0.01
    return c
}

func makeTrainer(_ c: GenerateConfig, resume: TrainingState? = nil) throws -> PatchTrainer {
    let (train, val) = try SceneSet.trainValidation(directory: Repo.scenes)
    return try PatchTrainer(config: c, models: [try ModelZoo.load("lite0")], train: train, validation: val, resume: resume)
}

@Suite("EOT trainer", .serialized)
struct TrainerTests {
    @Test("same seed and thread count → the same texture, bit for bit; another seed differs")
    func determinism() throws {
        let a = try makeTrainer(smallConfig()), b = try makeTrainer(smallConfig()), c = try makeTrainer(smallConfig(seed: 8))
        for _ in 0..<3 { try a.step(); try b.step(); try c.step() }
        #expect(a.state.texture == b.state.texture)
        #expect(a.state.curve == b.state.curve)
        #expect(a.state.texture != c.state.texture)
        #expect(try a.validate() == (try b.validate()))
    }

    @Test("interrupt after 3 steps + resume from the saved checkpoint ends where an uninterrupted run ends")
    func resume() throws {
        let full = try makeTrainer(smallConfig())
        while !full.isFinished { try full.step() }
        let first = try makeTrainer(smallConfig())
        for _ in 0..<3 { try first.step() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rp-resume-\(UUID().uuidString)").path
        let files = RunFiles(directory: dir)
        try files.createDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try files.saveCheckpoint(TrainingCheckpoint(config: first.config, state: first.state))
        let loaded = try files.loadCheckpoint()
        #expect(loaded.state == first.state)
        let second = try makeTrainer(loaded.config, resume: loaded.state)
        while !second.isFinished { try second.step() }
        #expect(second.state.texture == full.state.texture)
        #expect(second.state.curve == full.state.curve)
        #expect(second.state.adam == full.state.adam)
    }

    @Test("one step lowers the loss on its own batch direction and keeps the texture in [0, 1]")
    func stepBehaviour() throws {
        var c = smallConfig(); c.steps = 20; c.learningRate = 0.1
        let t = try makeTrainer(c)
        var losses: [Double] = []
        for _ in 0..<20 { losses.append(try t.step().classLoss) }
        #expect(t.state.texture.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Noisy per batch; compare the means of the first and last five steps.
        let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(5).reduce(0, +) / 5
        #expect(late < early, "class loss \(early) → \(late)")
    }

    @Test("the 8-bit rendered texture is what patch.png stores")
    func eightBit() throws {
        let t = try makeTrainer(smallConfig())
        try t.step()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rp-8bit-\(UUID().uuidString)").path
        let files = RunFiles(directory: dir)
        try files.createDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try files.writeImages(texture: t.renderedTexture, mask: t.mask, width: t.textureWidth, height: t.textureHeight)
        let png = try Image.read(from: files.texturePath)
        #expect(png.pixels == t.renderedTexture)
    }

    @Test("averaging: the patch is the warmed-up moving average of the optimized textures; training is unchanged; resume is exact")
    func averaging() throws {
        var c = smallConfig(); c.averageDecay = 0.9
        let plain = try makeTrainer(smallConfig()), avg = try makeTrainer(c)
        // Reference: the average by hand from the raw textures after each step.
        var expected = plain.state.texture
        for step in 0..<c.steps {
            try plain.step(); try avg.step()
            let d = Float(min(0.9, Double(1 + step) / Double(10 + step)))
            for i in expected.indices { expected[i] = d * expected[i] + (1 - d) * plain.state.texture[i] }
        }
        // The optimizer's trajectory does not depend on averaging (it renders the raw texture).
        #expect(avg.state.texture == plain.state.texture)
        #expect(avg.state.curve == plain.state.curve)
        let got = try #require(avg.state.averageTexture)
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(got != avg.state.texture)
        #expect(avg.renderedTexture == got.map { ($0 * 255).rounded() / 255 })
        #expect(plain.renderedTexture == plain.trainingTexture)
        // Interrupt after 2 steps, save, resume: same average at the end.
        let first = try makeTrainer(c)
        for _ in 0..<2 { try first.step() }
        let data = try JSONEncoder().encode(TrainingCheckpoint(config: first.config, state: first.state))
        let loaded = try JSONDecoder().decode(TrainingCheckpoint.self, from: data)
        let second = try makeTrainer(loaded.config, resume: loaded.state)
        while !second.isFinished { try second.step() }
        #expect(second.state.averageTexture == avg.state.averageTexture)
        // A run record written before averaging existed reads as "off"; a bad decay is refused.
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(smallConfig())) as! [String: Any]
        json.removeValue(forKey: "averageDecay")
        let old = try JSONDecoder().decode(GenerateConfig.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.averageDecay == nil)
        var bad = smallConfig(); bad.averageDecay = 1
        do { try bad.validate(); Issue.record("decay 1 accepted") } catch { #expect("\(error)".contains("averageDecay must be a decay")) }
        // Resuming an averaging run from a state without an average is refused, not silently restarted.
        var stripped = loaded.state; stripped.averageTexture = nil
        do { _ = try makeTrainer(c, resume: stripped); Issue.record("missing average accepted") } catch { #expect("\(error)".contains("--average")) }
    }

    @Test("pyramid: the texture is the clamped sum of the levels Adam steps; resume is exact")
    func pyramidTraining() throws {
        var c = smallConfig(); c.pyramidLevels = 3
        let full = try makeTrainer(c)
        let pyramid = try TexturePyramid(width: full.textureWidth, height: full.textureHeight, levels: 3)
        #expect(full.state.adam.m.count == pyramid.parameterCount)
        #expect(pyramid.texture(from: full.state.pyramid!) == full.state.texture, "starts as level 0 = the initial texture")
        while !full.isFinished { try full.step() }
        let sum = pyramid.texture(from: full.state.pyramid!)
        #expect(zip(sum, full.state.texture).allSatisfy { abs($0 - $1) < 1e-5 }, "level 0 absorbs the clamp")
        #expect(full.state.texture.allSatisfy { $0 >= 0 && $0 <= 1 })
        let coarse = full.state.pyramid![(full.textureWidth * full.textureHeight * 3)...]
        #expect(coarse.contains { $0 != 0 }, "the coarse levels moved")
        let plain = try makeTrainer(smallConfig())
        while !plain.isFinished { try plain.step() }
        #expect(plain.state.texture != full.state.texture)

        let first = try makeTrainer(c)
        for _ in 0..<3 { try first.step() }
        let second = try makeTrainer(c, resume: first.state)
        while !second.isFinished { try second.step() }
        #expect(second.state.texture == full.state.texture && second.state.pyramid == full.state.pyramid)
        // A checkpoint without levels cannot resume a pyramid run.
        do { _ = try makeTrainer(c, resume: plain.state); Issue.record("pyramid-less state accepted") } catch { #expect("\(error)".contains("3 pyramid level(s)")) }
        var bad = smallConfig(); bad.pyramidLevels = 9
        #expect { try bad.validate() } throws: { "\($0)".contains("pyramidLevels must be 1…8") }
        bad.pyramidLevels = 6   // a 24-texel texture has room for 5 (2×2 at 1/16)
        #expect { try makeTrainer(bad) } throws: { "\($0)".contains("at most 5 levels") }
    }

    @Test("bad input: clear errors")
    func badInput() throws {
        var big = smallConfig(); big.distribution.size = ValueRange(0.5, 1.5)
        #expect(throws: (any Error).self) { try makeTrainer(big) }
        do { _ = try makeTrainer(big) } catch { #expect("\(error)".contains("bigger than the scene")) }
        var nan = smallConfig(); nan.learningRate = .nan
        #expect(throws: AttackError.self) { try nan.validate() }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("rp-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        do { _ = try SceneSet.trainValidation(directory: empty); Issue.record("empty folder accepted") } catch {
            #expect("\(error)".contains(empty) && "\(error)".contains("no .png"))
        }
        // A mask PNG with no opaque pixel.
        let maskPath = (empty as NSString).appendingPathComponent("clear.png")
        try Image(width: 8, height: 8, channels: 4, fill: 0).writePNG(to: maskPath)
        do { _ = try PatchShape.maskFile(path: maskPath).mask(width: 8, height: 8); Issue.record("empty mask accepted") } catch {
            #expect("\(error)".contains("no opaque pixel"))
        }
        #expect(throws: AttackError.self) { try PatchShape.parse("rect:0x2") }
        #expect(throws: LabelError.self) { try ClassLabels.imageNet().index(of: "toastr oven") }
        // Two classes are both named "crane" (134 the bird, 517 the machine): ask, don't pick one.
        #expect(throws: LabelError.unknownName("crane", suggestions: ["crane (134)", "crane (517)"], ambiguous: true)) {
            try ClassLabels.imageNet().index(of: "crane")
        }
        #expect(try ClassLabels.imageNet().index(of: "517") == 517)
    }
}
