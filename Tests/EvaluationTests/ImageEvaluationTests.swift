// Whole-image evaluation and the linearity pictures on the real lite0: a PGD run of the cat
// (PerturbationRun, into a temporary folder) evaluated under the identity distribution (it must
// win everywhere there, and its controls nowhere), the noise control within ε, the record and
// its folder; the sweep's ε = 0 point is the clean photo, the decision map's centre is the clean class.
import Attack
import Evaluation
import Foundation
import Imaging
import Networks
import Runs
import Testing
import Transforms

@Suite("Whole-image evaluation and pictures (lite0, the cat)", .serialized)
struct ImageEvaluationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var cat: String { root.appendingPathComponent("Samples/cat.png").path }

    /// A 160-px copy of the cat (fast) and a PGD run of it toward guacamole at ε 8.
    static func pgdRun(in dir: String) throws -> String {
        let photo = (dir as NSString).appendingPathComponent("cat160.png")
        let image = try Image.read(from: cat).rgb
        try image.resized(width: 160, height: 106).writePNG(to: photo)
        let out = (dir as NSString).appendingPathComponent("pgd")
        let request = PerturbationRun.Request(image: photo, settings: PerturbSettings(method: .pgd, epsilon: 8, target: 924, steps: 20), directory: out)
        let result = try PerturbationRun(request: request, toolVersion: "test").run()
        #expect(result.record.maxAbsoluteChange <= 8)
        #expect(result.written.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        #expect((result.record.adversarial.first?.targetProbability ?? 0) > 0.9)
        return out
    }

    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "image-evaluation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a PGD run under the identity distribution: adversarial 100 %, original and noise controls 0 %; evaluation.json in the run folder")
    func identityDistribution() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Self.pgdRun(in: dir)
        // The same folder twice: refused, nothing overwritten.
        #expect(throws: (any Error).self) {
            try PerturbationRun(request: PerturbationRun.Request(image: Self.cat, settings: PerturbSettings(method: .fgsm, epsilon: 8, target: 924), directory: run), toolVersion: "test").run()
        }
        let subject = try ImageSubject.load(run, target: nil, original: nil, epsilon: nil)
        #expect(subject.target == 924 && subject.epsilon == 8 && subject.original != nil)
        var job = ImageEvaluationJob(subjects: [subject], toolVersion: "test")
        job.distribution = ("identity", ImageTransformDistribution())
        job.samples = 8
        let outcome = try job.run()
        let scores = outcome.record.images[0].models[0].scores
        #expect(scores.map(\.texture) == ["adversarial", "original", "noise ±8"])
        #expect(scores[0].success.rate == 1, "\(scores[0])")
        #expect(scores[1].success.successes == 0 && scores[2].success.successes == 0)
        #expect(outcome.written == [(run as NSString).appendingPathComponent("evaluation.json")])
        #expect(outcome.record.textSummary().contains("adversarial"))
    }

    @Test("the noise control stays within ε of the original, in 8-bit steps")
    func noiseControl() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Self.pgdRun(in: dir)
        var job = ImageEvaluationJob(subjects: [try ImageSubject.load(run, target: nil, original: nil, epsilon: 3)], toolVersion: "test")
        job.samples = 4
        job.distribution = ("standard", .standard)
        let r = try job.run()
        #expect(r.record.images[0].models[0].scores.last?.texture == "noise ±3")
    }

    @Test("a picture without a target or original is refused, naming what to give")
    func pictureNeedsTarget() throws {
        #expect { try ImageSubject.load(Self.cat, target: nil, original: nil, epsilon: nil) } throws: { "\($0)".contains("--target") }
        #expect { try ImageSubject.load("/nonexistent/x.png", target: 1, original: nil, epsilon: nil) } throws: { "\($0)".contains("no such file") }
    }

    @Test("sweep: ε = 0 is the clean photo as classify frames it; decision map: the centre is the clean class")
    func pictures() throws {
        let model = try ModelZoo.load("lite0")
        var image = try Image.read(from: Self.cat).rgb.resized(width: 120, height: 80)
        image.pixels = image.pixels.map { ($0 * 255).rounded() / 255 }    // 8-bit, as the probe takes it
        let probe = try LinearityProbe(image: image, model: model, labels: try ClassLabels.imageNet(), target: 924)
        let sweep = LogitSweep.run(probe, direction: .gradientSign, epsilonMax: 8, points: 5)
        #expect(sweep.epsilons == [-8, -4, 0, 4, 8])
        let clean = model.makeRunner().forward(Tensor(shape: [1, 224, 224, 3], values: image.centerSquare(size: 224).pixels)).array
        let k = sweep.classes.firstIndex(of: probe.cleanClass)!
        #expect(abs(sweep.logits[2][k] - Double(clean[probe.cleanClass])) < 1e-3)
        #expect(sweep.top1[2] == probe.cleanClass && sweep.classes.contains(924))
        #expect(sweep.csv.split(separator: "\n").count == 6)
        let map = DecisionMap.run(probe, epsilonMax: 8, resolution: 5)
        #expect(map.classes[2][2] == probe.cleanClass)
        #expect(map.csv.split(separator: "\n").count == 26)
        let picture = map.image(modelName: "lite0", target: 924)
        #expect(picture.width > 400 && picture.height > 300)
        // The random direction really is ±1 everywhere, the gradient sign ±1 or 0.
        #expect(probe.random.allSatisfy { $0 == 1 || $0 == -1 })
        #expect(probe.gradientSign.allSatisfy { $0 == 1 || $0 == -1 || $0 == 0 })
    }
}
