// Loading patches (run folders, RGBA/RGB PNGs, wrong kinds) and evaluating the real toaster
// patch of Fixtures/toaster_run against its controls on lite0. Needs the weights
// (Scripts/fetch-models.sh); ~10 s in release.
import Runs
import Attack
import Foundation
import Imaging
import Networks
import Testing
import Transforms
import Evaluation

enum Fixture {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures").path
    static let run = (directory as NSString).appendingPathComponent("toaster_run")
    static let scenes = "Samples/scenes/val"

    /// evaluation-tests-PID in the temporary folder, removed when the test process exits.
    static let folder: String = {
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "evaluation-tests-\(getpid())") }
        let dir = NSTemporaryDirectory() + "evaluation-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func temporary(_ name: String) -> String {
        (folder as NSString).appendingPathComponent(name)
    }

    static func sceneSet() throws -> SceneSet {
        // Tests run from the package root (swift test); fall back to the source tree.
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = FileManager.default.fileExists(atPath: scenes) ? scenes : here.appendingPathComponent(scenes).path
        return try SceneSet.load(directory: dir)
    }
}

@Suite("Loading patches")
struct PatchLoadingTests {
    @Test func runFolder() throws {
        let p = try PatchArtifact.load(Fixture.run)
        #expect(p.width == 64 && p.height == 64)
        #expect(p.target == 859)
        #expect(p.models == ["lite0"])
        #expect(p.distribution == .digital)
        #expect(p.runValidation?.samples == 128)
        #expect(p.mask.alpha[0] == 0 && p.mask.alpha[32 * 64 + 32] == 1)      // a circle
    }

    @Test func rgbaAndRGBPNGs() throws {
        let run = try PatchArtifact.load(Fixture.run)
        let rgba = Fixture.temporary("patch_rgba.png")
        try run.rgbaImage.writePNG(to: rgba)
        let a = try PatchArtifact.load(rgba)
        #expect(a.mask.alpha == run.mask.alpha.map { ($0 * 255).rounded() / 255 })
        let rgb = (Fixture.run as NSString).appendingPathComponent("patch.png")
        #expect(throws: RunError.self) { try PatchArtifact.load(rgb) }                 // no mask
        let b = try PatchArtifact.load(rgb, shape: "circle")
        #expect(b.texture == run.texture)
        let c = try PatchArtifact.load(rgb, maskPath: (Fixture.run as NSString).appendingPathComponent("mask.png"))
        #expect(c.mask.alpha == run.mask.alpha)
    }

    @Test func wrongKindsOfInputAreClearErrors() throws {
        // A JPEG.
        let jpeg = Fixture.temporary("x.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A, 0x46, 0x49, 0x46, 0, 1]).write(to: URL(fileURLWithPath: jpeg))
        #expect { try PatchArtifact.load(jpeg, shape: "circle") } throws: { "\($0)".contains("not a PNG") }
        // A fully transparent RGBA PNG.
        let clear = Fixture.temporary("clear.png")
        try Image(width: 16, height: 16, channels: 4, fill: 0).writePNG(to: clear)
        #expect { try PatchArtifact.load(clear) } throws: { "\($0)".contains("fully transparent") }
        // Too small.
        let tiny = Fixture.temporary("tiny.png")
        try Image(width: 4, height: 4, channels: 4, fill: 1).writePNG(to: tiny)
        #expect { try PatchArtifact.load(tiny) } throws: { "\($0)".contains("8…2048") }
        // Not a file at all, or a folder that is not a run.
        #expect { try PatchArtifact.load("/nonexistent/patch.png") } throws: { "\($0)".contains("does not exist") }
        #expect { try PatchArtifact.load(NSTemporaryDirectory()) } throws: { "\($0)".contains("not a finished generate run") }
        // A text file called .png.
        let text = Fixture.temporary("text.png")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        #expect { try PatchArtifact.load(text, shape: "circle") } throws: { $0 is RunError }
    }

    @Test func aModelThatFailsToLoadIsNamed() {
        #expect { try PatchEvaluator.loadModels(["lite9"]) } throws: { "\($0)".contains("lite9") }
        #expect { try PatchEvaluator.loadModels(["/nonexistent/model.pth"]) } throws: { "\($0)".contains("model.pth") }
    }

    @Test func controlsKeepTheShapeAndTheColours() throws {
        let p = try PatchArtifact.load(Fixture.run)
        let shuffled = try ControlKind.shuffled.texture(for: p, seed: 1)
        #expect(shuffled != p.texture)
        let inside = (0..<(64 * 64)).filter { p.mask.alpha[$0] > 0 }
        let colours = { (t: [Float]) in inside.map { [t[$0 * 3], t[$0 * 3 + 1], t[$0 * 3 + 2]] }.sorted { $0.lexicographicallyPrecedes($1) } }
        #expect(colours(shuffled) == colours(p.texture))
        #expect(try ControlKind.grey.texture(for: p, seed: 1).allSatisfy { $0 == 0.5 })
        #expect(try ControlKind.noise.texture(for: p, seed: 1) == ControlKind.noise.texture(for: p, seed: 1))
    }
}

@Suite("Evaluating the real patch", .serialized)
struct RealPatchTests {
    @Test func patchWorksControlsDoNotAndRunsAreDeterministic() throws {
        let patch = try PatchArtifact.load(Fixture.run)
        let scenes = try Fixture.sceneSet()
        let names = scenes.paths.map { ($0 as NSString).lastPathComponent }
        let model = try PatchEvaluator.loadModels(["lite0"])[0]
        let samples = try SampleSet.latinHypercube(distribution: .digital, count: 64, scenes: names, imageSize: 224, patchAspect: 1, seed: 0)
        let bench = try ModelBench(model: model, scenes: scenes, batch: 32)
        let labels = try ClassLabels.imageNet()
        let record = try PatchEvaluator.evaluate(patches: [patch], benches: [bench], samples: samples, settings: EvaluationSettings(),
                                                 labels: labels, distribution: .digital, version: "test")
        let m = try #require(record.patches.first?.models.first)
        #expect(m.patch.top1.rate > 0.8, "the toaster patch should work: \(m.patch.top1.formatted)")
        #expect(m.controls.map(\.texture) == ["noise", "grey", "shuffled"])
        for c in m.controls { #expect(c.top1.rate <= 0.05, "control \(c.texture): \(c.top1.formatted)") }
        #expect(record.patches[0].agreesWithRun == true)
        #expect(record.forwardPasses == 64 * 4)
        // Same seed → the same numbers.
        let again = try PatchEvaluator.evaluate(patches: [patch], benches: [bench], samples: samples, settings: EvaluationSettings(),
                                                labels: labels, distribution: .digital, version: "test")
        #expect(again.patches[0].models[0].outcomes == m.outcomes)
        #expect(again.patches[0].models[0].controls == m.controls)
        let text = record.textSummary()
        #expect(text.contains("toaster") && text.contains("shuffled") && text.contains("agrees"))
    }

    @Test func zeroSamplesFromAFileIsAnError() throws {
        let path = Fixture.temporary("empty-samples.json")
        try SampleSet(method: "file", seed: 0, scenes: [], stratified: [], samples: []).write(to: path)
        #expect { try SampleSet.read(from: path, sceneCount: 4) } throws: { "\($0)".contains("zero samples") }
    }
}
