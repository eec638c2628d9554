// `robustpatch evaluate`: flags → Evaluation's EvaluationJob; prints its table, writes nothing itself.
import ArgumentParser
import Evaluation
import Foundation
import Networks
import ONNX
import Runs
import Transforms

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a patch's success over a transformation distribution (with controls and transfer).",
        discussion: """
        Each model sees the same N samples (scene, transform), drawn as a Latin hypercube over every \
        factor that varies (roll, yaw, pitch, size, brightness, gamma, contrast, blur, noise), so even a \
        small N covers each range evenly; scenes go round-robin. Control patches with the same mask \
        (uniform noise, mid-grey, the patch's own pixels shuffled) use the same samples, so the pattern's \
        effect is separated from occlusion. Intervals are Wilson 95%. A run folder gets evaluation.json \
        and report.html (or give --out).
        """)

    @Option(name: .customLong("patch"), help: "A generate run folder, or a patch PNG (RGBA: alpha is the mask; RGB: give --mask or --shape). Repeat for a patches × models matrix.")
    var patches: [String] = []
    @Option(name: .customLong("image"), help: "A perturb run folder, or an adversarial photo (PNG/JPEG; give --target): success of the whole photo under the whole-image distribution (--preset standard, wide or identity, or --distribution FILE; default standard). Repeat to compare photos on the same samples.")
    var images: [String] = []
    @Option(help: "With --image PHOTO: the unperturbed photo, for the controls (default: a run's own).") var original: String?
    @Option(parsing: .unconditional, help: "With --image: ε in 8-bit units of the noise control (default: a run's own).") var epsilon: Double?
    @OptionGroup var outline: PatchOutlineOptions
    @Option(help: "Target class (index or name) for a PNG patch, or to override a run's target.") var target: String?
    @OptionGroup var models: ModelOption
    @OptionGroup var sceneOption: SceneOption
    @Option(name: .customLong("samples"), parsing: .unconditional, help: "Number of samples (scene, transform) per model. (default: \(EvaluationJob.defaultSamples))") var samples: Int?
    @Option(parsing: .unconditional, help: "Seed of the samples and the control textures.") var seed: UInt64 = 0
    @OptionGroup var distributionOptions: DistributionOptions
    @Option(help: "Control textures: a comma-separated subset of noise,grey,shuffled,base (the run's starting texture), or none. (default: noise,grey,shuffled; for mesh runs base,noise,grey)") var controls: String?
    @Option(parsing: .unconditional, help: "Evaluate the controls on the first N samples only (default: all).") var controlSamples: Int?
    @Option(parsing: .unconditional, help: "Bins per factor for the breakdown.") var bins = 5
    @Option(parsing: .unconditional, help: "Images per model forward pass.") var batch = 32
    @Option(help: "Replay the samples of this file (written by --save-samples) instead of drawing new ones.") var samplesFile: String?
    @Option(help: "Write the samples used to this JSON file (for replay with --samples-file).") var saveSamples: String?
    @Option(parsing: .unconditional, help: "Exit with status 1 when any patch's success on any model is below this rate (0–1).") var require: Double?
    @Flag(help: "Print the JSON record instead of the table.") var json = false
    @Option(help: "Folder for evaluation.json and report.html (default: the run folder when one run is evaluated).") var out: String?
    @Flag(help: "Write evaluation.json but not report.html.") var noReport = false

    func validate() throws {
        guard !patches.isEmpty || !images.isEmpty else { throw ValidationError("give --patch RUN_FOLDER or --patch PATCH.png (a patch), or --image RUN_FOLDER or --image PHOTO.png (a whole-image example)") }
        guard patches.isEmpty || images.isEmpty else { throw ValidationError("give --patch or --image, not both: patches are evaluated in scenes, whole images on their own") }
        if images.isEmpty && (original != nil || epsilon != nil) { throw ValidationError("--original and --epsilon go with --image") }
        if let e = epsilon { guard e.isFinite, e >= 1, e <= 255 else { throw ValidationError("--epsilon is in 8-bit units, 1…255, got \(e)") } }
        if samplesFile != nil && samples != nil {
            throw ValidationError("--samples-file replays the samples of its file; drop --samples (the file sets how many)")
        }
        if let n = samples, n < 1 { throw ValidationError("--samples must be at least 1 (zero samples measure nothing), got \(n)") }
        if let r = require { guard r.isFinite, (0...1).contains(r) else { throw ValidationError("--require must be a rate in [0, 1], e.g. 0.8, got \(r)") } }
        if let c = controlSamples, c < 1 {
            throw ValidationError("--control-samples must be at least 1, got \(c); to evaluate no controls give --controls none")
        }
        if let controls { do { _ = try ControlKind.parseList(controls) } catch { throw ValidationError("--controls \(error)") } }
        guard (1...256).contains(batch) else { throw ValidationError("--batch must be 1…256, got \(batch)") }
    }

    func run() throws {
        if !images.isEmpty { return try runImages() }
        var job = EvaluationJob(patches: try patches.map { try PatchArtifact.load($0, maskPath: outline.mask, shape: outline.shape) },
                                sceneFolder: sceneOption.heldOutFolder(), toolVersion: ToolInfo.version)
        job.modelSpecs = models.specs
        // Flags given here, else those the (first) run was generated with.
        let flags = try models.flags()
        job.modelFlags = flags.isEmpty && models.specs == nil ? (job.patches.first?.modelFlags ?? flags) : flags
        if let t = target { job.setTarget(try ModelLoader.labels(job.firstModelSpec, flags: job.modelFlags).index(of: t)) }
        job.distribution = try distributionOptions.resolved()
        job.samples = samples ?? job.samples
        job.samplesFile = samplesFile; job.saveSamples = saveSamples; job.seed = seed
        job.settings.controls = try controls.map(ControlKind.parseList) ?? ControlKind.defaults(forMesh: job.patches.contains { $0.mesh != nil })
        job.settings.controlSamples = controlSamples; job.settings.bins = bins; job.settings.seed = seed
        job.batch = batch; job.outDirectory = out; job.writeReport = !noReport
        let quiet = json
        let outcome = try job.run(planned: { plan in
            if !quiet {
                print("evaluate: \(plan.patchNames.joined(separator: ", ")) on \(plan.modelNames.joined(separator: ", ")), \(plan.distributionName) distribution, scenes \(plan.sceneFolder) (\(plan.sceneCount))")
            }
        }, progress: { line in if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } })
        if json {
            print(String(decoding: try outcome.record.jsonData(), as: UTF8.self))
        } else {
            print(outcome.record.textSummary())
            if !outcome.written.isEmpty { print("wrote " + outcome.written.joined(separator: "\n      ")) }
        }
        if let r = require, case let below = outcome.record.results(below: r), !below.isEmpty {
            FileHandle.standardError.write(Data("evaluate: below --require \(String(format: "%.1f%%", r * 100)): \(below.joined(separator: "; "))\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `--image`: whole photos under the whole-image distribution.
    func runImages() throws {
        let firstSpec = models.specs?.first
        let flags = try models.flags()
        let subjects = try images.map { path -> ImageSubject in
            // A target name refers to the first model given, else the run's first, else lite0.
            let spec = firstSpec ?? ((try? PerturbationRecord.read(from: path))?.models.first?.spec ?? "lite0")
            let t = try target.map { try ModelLoader.labels(spec, flags: flags).index(of: $0) }
            return try ImageSubject.load(path, target: t, original: original, epsilon: epsilon)
        }
        var job = ImageEvaluationJob(subjects: subjects, toolVersion: ToolInfo.version)
        job.modelSpecs = models.specs; job.modelFlags = flags
        if let file = distributionOptions.distribution {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandError("cannot read the distribution file \(file): check the path (a JSON file of whole-image transform ranges)")
            }
            do { job.distribution = (file, try ImageTransformDistribution.fromJSON(data)) } catch { throw CommandError("\(file): \(error)") }
        } else if let name = distributionOptions.preset {
            do { job.distribution = (name, try ImageTransformDistribution.preset(named: name)) } catch { throw CommandError("--preset: \(error)") }
        }
        job.samples = samples ?? job.samples; job.seed = seed; job.bins = bins; job.batch = batch; job.outDirectory = out
        job.controls = controls?.lowercased() != "none"
        let quiet = json
        let outcome = try job.run(progress: { line in if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } })
        if json {
            print(String(decoding: try outcome.record.jsonData(), as: UTF8.self))
        } else {
            print(outcome.record.textSummary())
            if !outcome.written.isEmpty { print("wrote " + outcome.written.joined(separator: "\n      ")) }
        }
        if let r = require {
            let below = outcome.record.images.flatMap { e in e.models.filter { ($0.scores.first?.success.rate ?? 0) < r }.map { "\(e.image) on \($0.model)" } }
            if !below.isEmpty {
                FileHandle.standardError.write(Data("evaluate: below --require \(String(format: "%.1f%%", r * 100)): \(below.joined(separator: "; "))\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
