// PerturbationRun: one `perturb` call as a library type — load the photo and models, run
// FGSM / PGD / EOT (Attack's ImagePerturber), then write the run folder: adversarial.png (the
// full-size photo, 8-bit, within the bound exactly), perturbation.png (δ amplified, mid-grey = 0),
// panel.png (original | perturbation | adversarial, each with the model's top-5), curve.csv and
// run.json (PerturbationRecord). Each file is written atomically.
import Attack
import Checkpoints
import Foundation
import Imaging
import Networks
import ONNX
import Tensors
import Transforms

/// What the model says about one image, as `classify` frames it.
public struct Top5: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var index: Int
        public var label: String
        public var probability: Double
    }
    public var model: String
    public var entries: [Entry]
    /// The target's probability (nil when untargeted).
    public var targetProbability: Double?
}

/// run.json of a perturbation run.
public struct PerturbationRecord: Codable, Sendable, Equatable {
    public static let currentFormatVersion = 1
    public var formatVersion = PerturbationRecord.currentFormatVersion
    public var tool = "robustpatch"
    public var version: String
    public var command = "perturb"
    public var created: String
    /// The photo as given, its SHA-256 and size.
    public var image: String
    public var imageSHA256: String
    public var width: Int, height: Int
    public var models: [RunRecord.Model]
    public var modelFlags: ModelFlags?
    public var settings: PerturbSettings
    /// Steps taken (fewer than `settings.steps` when the run was interrupted).
    public var stepsDone: Int
    public var interrupted: Bool
    /// The resolution δ was optimised at: the photo's own, or (EOT on a large photo) a working
    /// copy from which δ was upsampled.
    public var workWidth: Int, workHeight: Int
    public var target: RunRecord.Target?
    /// The clean photo's top-1 on the first model (what an untargeted attack pushes away from).
    public var cleanClass: RunRecord.Target
    /// The bound as written: the largest |adversarial − original| over all channels of all pixels
    /// (in 8-bit units) and the L2 norm of the difference in [0, 1] units.
    public var maxAbsoluteChange: Int
    public var l2Norm: Double
    /// Each model's top-5 on the original and on adversarial.png (read back as `classify` does).
    public var clean: [Top5]
    public var adversarial: [Top5]
    public var elapsedSeconds: Double
    public var threads: Int
    /// The distribution `evaluate` uses for this run by default (the standard one).
    public var evaluationDistribution: ImageTransformDistribution

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", tool, version, command, created, image, imageSHA256 = "image_sha256", width, height, models
        case modelFlags = "model_flags", settings, stepsDone = "steps_done", interrupted, workWidth = "work_width", workHeight = "work_height", target, cleanClass = "clean_class", maxAbsoluteChange = "max_absolute_change"
        case l2Norm = "l2_norm", clean, adversarial, elapsedSeconds = "elapsed_seconds", threads
        case evaluationDistribution = "evaluation_distribution"
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }

    /// Reads a perturbation run's run.json (a folder or the file).
    public static func read(from path: String) throws -> PerturbationRecord {
        var isDir: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue ? (path as NSString).appendingPathComponent("run.json") : path
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RunError.write(path: file, reason: "cannot read it (no such file, or not readable); give a folder written by perturb")
        }
        do { return try JSONDecoder().decode(PerturbationRecord.self, from: data) } catch {
            throw RunError.checkpoint("\(file) is not a perturb run record (\(error))")
        }
    }
}

public final class PerturbationRun {
    public struct Request: Sendable {
        public var image: String
        public var models: [String] = ["lite0"]
        public var modelFlags = ModelFlags()
        public var settings: PerturbSettings
        public var directory: String
        public init(image: String, settings: PerturbSettings, directory: String) {
            self.image = image; self.settings = settings; self.directory = directory
        }
    }

    public enum Event: Sendable {
        case started(width: Int, height: Int, workWidth: Int, workHeight: Int, models: [String], cleanLabel: String, steps: Int)
        case step(PerturbStepMetrics, steps: Int, secondsLeft: Double)
    }

    public struct Result: Sendable {
        public var record: PerturbationRecord
        public var written: [String]
    }

    public let request: Request
    public let toolVersion: String

    public init(request: Request, toolVersion: String) {
        self.request = request; self.toolVersion = toolVersion
    }

    public var adversarialPath: String { path("adversarial.png") }
    public var perturbationPath: String { path("perturbation.png") }
    public var panelPath: String { path("panel.png") }
    public var recordPath: String { path("run.json") }
    public var curvePath: String { path("curve.csv") }
    func path(_ name: String) -> String { (request.directory as NSString).appendingPathComponent(name) }

    /// Runs to the end; `shouldStop` ends it early and writes the perturbation reached so far.
    public func run(events: (Event) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Result {
        let started = Date()
        try request.settings.validate()
        if FileManager.default.fileExists(atPath: recordPath) {
            throw RunError.folderInUse("\(request.directory) already holds a run (run.json) that this one would overwrite; give another --out folder")
        }
        let image = try Image.read(from: request.image)
        let models = try request.models.map { try ModelLoader.load($0, flags: request.modelFlags) }
        let labels = try ModelLoader.labels(request.models[0], flags: request.modelFlags)
        let perturber = try ImagePerturber(image: image, models: models, settings: request.settings)
        let s = request.settings
        events(.started(width: perturber.width, height: perturber.height, workWidth: perturber.workWidth, workHeight: perturber.workHeight, models: models.map(\.name),
                        cleanLabel: labels[perturber.cleanClass], steps: s.steps))
        do { try AtomicFile.createFolder(request.directory) } catch { throw RunError.write(path: request.directory, reason: error.reason) }
        let clock = Date()
        while !perturber.isFinished {
            let m = try perturber.step()
            let perStep = Date().timeIntervalSince(clock) / Double(perturber.stepsDone)
            events(.step(m, steps: s.steps, secondsLeft: perStep * Double(s.steps - perturber.stepsDone)))
            if shouldStop() { break }
        }

        // The files.
        let original = try Image(width: perturber.width, height: perturber.height, channels: 3, pixels: perturber.original)
        let adversarial = try Image(width: perturber.width, height: perturber.height, channels: 3, pixels: perturber.quantizedAdversarial)
        try write(adversarial, to: adversarialPath)
        // Read back: what was written is what is measured.
        let written = try Image.read(from: adversarialPath).rgb
        var maxChange = 0, l2 = 0.0
        for (a, o) in zip(written.pixels, original.pixels) {
            let d = Int((a * 255).rounded()) - Int((o * 255).rounded())
            maxChange = max(maxChange, abs(d)); l2 += Double(d * d) / (255 * 255)
        }
        let cleanTop = try models.map { try Self.top5($0, original, labels: labels, target: s.target) }
        let advTop = try models.map { try Self.top5($0, written, labels: labels, target: s.target) }
        let (perturbationPicture, gain) = PerturbationPictures.perturbation(original: original, adversarial: written)
        try write(perturbationPicture, to: perturbationPath)
        let panel = PerturbationPictures.panel(original: original, perturbation: perturbationPicture, adversarial: written, gain: gain,
                                               clean: cleanTop[0], attacked: advTop[0], settings: s,
                                               targetLabel: s.target.map { labels[$0] }, maxChange: maxChange, l2: l2.squareRoot())
        try write(panel, to: panelPath)
        var csv = "step,loss,probability,success\n"
        for m in perturber.curve { csv += String(format: "%d,%.6f,%.6f,%.4f\n", m.step, m.loss, m.probability, m.success) }
        try RunFiles.writeAtomically(Data(csv.utf8), to: curvePath)
        let refs = try request.models.map { spec -> RunRecord.Model in
            let ref = try ModelZoo.resolve(spec)
            return RunRecord.Model(spec: spec, name: ref.name, path: ref.path, sha256: try ModelZoo.sha256(of: ref))
        }
        let record = PerturbationRecord(
            version: toolVersion, created: ISO8601DateFormatter().string(from: Date()), image: request.image,
            imageSHA256: try sha256Hex(ofFileAt: request.image), width: perturber.width, height: perturber.height, models: refs,
            modelFlags: request.modelFlags.isEmpty ? nil : request.modelFlags, settings: s, stepsDone: perturber.stepsDone,
            interrupted: !perturber.isFinished, workWidth: perturber.workWidth, workHeight: perturber.workHeight,
            target: s.target.map { RunRecord.Target(index: $0, label: labels[$0]) },
            cleanClass: RunRecord.Target(index: perturber.cleanClass, label: labels[perturber.cleanClass]),
            maxAbsoluteChange: maxChange, l2Norm: l2.squareRoot(), clean: cleanTop, adversarial: advTop,
            elapsedSeconds: Date().timeIntervalSince(started), threads: Parallel.threadCount, evaluationDistribution: .standard)
        try RunFiles.writeAtomically(try record.jsonData(), to: recordPath)
        return Result(record: record, written: [adversarialPath, perturbationPath, panelPath, curvePath, recordPath])
    }

    func write(_ image: Image, to path: String) throws {
        // writePNG is atomic (AtomicFile): a reader never sees half a file.
        do { try image.writePNG(to: path) } catch { throw RunError(writing: path, error) }
    }

    /// The model's top-5 on `image` framed as `classify` frames it.
    public static func top5(_ model: any ImageModel, _ image: Image, labels: ClassLabels, target: Int?) throws -> Top5 {
        let size = model.inputSize
        let input = image.centerSquare(size: size, cropFraction: model.cropFraction)
        let logits = model.makeRunner().forward(Tensor(shape: [1, size, size, 3], values: input.pixels))
        let p = Softmax.forward(logits).array
        let order = p.indices.sorted { p[$0] > p[$1] }
        let names = (try? model.classLabels()) ?? labels
        return Top5(model: model.name, entries: order.prefix(5).map { Top5.Entry(index: $0, label: names[$0], probability: Double(p[$0])) },
                    targetProbability: target.map { Double(p[$0]) })
    }
}
