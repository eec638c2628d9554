// `robustpatch generate`: flags → GenerateConfig → Runs' GenerationRun, with a progress printer.
import ArgumentParser
import Attack
import Calibration
import Foundation
import Imaging
import Meshes
import Networks
import ONNX
import Runs
import Transforms

private let defaults = GenerateConfig()

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an adversarial patch with Expectation over Transformation.",
        discussion: """
        Writes into --out: patch.png (texture), patch_rgba.png (texture + mask alpha), mask.png, \
        run.json (settings, model SHA-256, metrics), curve.csv, checkpoint.json and preview.png. \
        Ctrl-C or SIGTERM saves a checkpoint (exit status 130 or 143); --resume continues it and \
        ends where an uninterrupted run ends. Each save keeps the one before as checkpoint.prev.json: \
        when checkpoint.json is damaged, --resume --from-backup continues from that one.
        """)

    @Option(help: "Target class: an ImageNet index (0–999) or name, e.g. toaster.") var target: String?
    @Flag(help: "Untargeted: push each scene's clean prediction down instead of toward a target.") var untargeted = false
    @OptionGroup var models: ModelOption
    @Option(help: "Patch outline: circle, square, rect:WxH, or a mask PNG. (default: \(defaults.shape))") var shape: String?
    @Option(help: "Texture a 3D object instead of a flat patch: cylinder (a can label), box (its net), sphere, or a Wavefront .obj (mm, UVs in [0, 1]). Its default distribution is the preset object; print makes the texture a wrap-around label.") var mesh: String?
    @Option(parsing: .unconditional, help: "Size of --mesh in mm: cylinder DxH (default 66x115, a 330 ml can), box WxHxD (default 190x280x60), sphere D (default 67).") var meshSize: String?
    @OptionGroup var distributionOptions: DistributionOptions
    @Option(help: "Patch size as a fraction of the image side: a number (0.36 ≈ 10% of the area for a circle) or MIN..MAX. Overrides the distribution's size.") var size: String?
    @OptionGroup var sceneOption: SceneOption
    @Option(parsing: .unconditional, help: "Optimisation steps. (default: \(defaults.steps))") var steps: Int?
    @Option(parsing: .unconditional, help: "EOT samples per step. (default: \(defaults.batch))") var batch: Int?
    @Option(parsing: .unconditional, help: "Random seed (texture init, transform samples, validation set). (default: \(defaults.seed))") var seed: UInt64?
    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Adam learning rate, cosine-decayed to \(Int(defaults.finalLearningRateFraction * 100))%. (default: \(defaults.learningRate))") var learningRate: Double?
    @Option(help: "Loss: ce (cross-entropy), ce-floor (−log(ε + p_target): samples the patch cannot yet move weigh little), focal (−(1 − p)^γ log p_target: samples already won weigh little) or margin. (default: \(defaults.loss.rawValue))") var loss: LossKind?
    @Option(parsing: .unconditional, help: "ε of --loss ce-floor. (default: \(GenerateConfig.defaultProbabilityFloor))") var floor: Double?
    @Option(parsing: .unconditional, help: "γ of --loss focal. (default: \(GenerateConfig.defaultFocalGamma))") var gamma: Double?
    @Option(name: .customLong("tv"), parsing: .unconditional, help: "Total-variation weight. (default: \(defaults.tvWeight))") var tvWeight: Double?
    @Option(name: .customLong("nps"), parsing: .unconditional, help: "Non-printability weight (default \(defaults.npsWeight) = off; \(GenerateConfig.calibratedNPSWeight) with --calibration).") var npsWeight: Double?
    @Option(help: "Printable palette file for --nps (default: the bundled generic palette).") var palette: String?
    @Option(help: "A calibration file from `robustpatch calibrate`: its measured printer→camera colour model replaces the distribution's printer model and its measured colours become the printable palette (NPS weight \(GenerateConfig.calibratedNPSWeight) unless --nps is given).") var calibration: String?
    @Option(name: [.customLong("init-texture"), .customLong("texture-init")], help: "Start from this texture PNG (e.g. another run's patch.png, or a can's own label for --mesh) instead of noise.") var initTexture: String?
    @Option(parsing: .unconditional, help: "Polyak averaging: the patch is an exponential moving average of the optimised texture with this decay (e.g. 0.99); off by default.") var average: Double?
    @Option(parsing: .unconditional, help: "Optimise the texture as a sum of N levels at full, ½, ¼, … resolution (multi-scale; 4 is usual); 1 = off (default).") var pyramid: Int?
    @Option(parsing: .unconditional, help: "Longer side of the optimised texture, pixels. (default: \(defaults.textureSide))") var texture: Int?
    @Option(parsing: .unconditional, help: "Held-out validation samples (scenes × transforms) for the final check; the periodic checks use the first \(defaults.periodicValidationSamples). (default: \(defaults.validationSamples))") var validationSamples: Int?
    @Option(parsing: .unconditional, help: "Validate every N steps (0 = only at the end). (default: \(defaults.validateEvery))") var validateEvery: Int?
    @Option(parsing: .unconditional, help: "Stop early when held-out validation success reaches this rate (> 1: never). (default: \(defaults.earlyStopRate))") var earlyStop: Double?
    @Flag(help: "Continue the checkpoint in --out with its saved settings and scenes (other run options are refused).") var resume = false
    @Flag(help: "With --resume: continue from checkpoint.prev.json, the checkpoint saved before a damaged checkpoint.json (which is kept as checkpoint.damaged.json).") var fromBackup = false
    @Option(help: "Output folder.") var out: String

    func validate() throws {
        if fromBackup && !resume { throw ValidationError("--from-backup continues a run from its backup checkpoint; give --resume too") }
        if untargeted && target != nil { throw ValidationError("give either --target or --untargeted, not both") }
        if !untargeted && target == nil && !resume { throw ValidationError("give --target CLASS (e.g. toaster) or --untargeted") }
        if let e = earlyStop { guard e.isFinite, e > 0 else { throw ValidationError("--early-stop must be a rate in (0, 1], or > 1 to never stop early") } }
        if resume, case let given = settingsGiven(), !given.isEmpty {
            // With --resume the checkpoint's settings win: a setting given here would be silently ignored.
            throw ValidationError("--resume continues the run in \(out) with the settings saved in its checkpoint.json; "
                                  + "drop \(given.joined(separator: ", ")), or start a new run in another --out folder")
        }
    }

    /// Run settings given on the command line (even typed at their default value).
    func settingsGiven() -> [String] {
        let options: [(String, Bool)] = [
            ("--target", target != nil), ("--untargeted", untargeted), ("--model", models.model != nil), ("--shape", shape != nil),
            ("--mesh", mesh != nil), ("--mesh-size", meshSize != nil),
            ("--preset", distributionOptions.preset != nil), ("--distribution", distributionOptions.distribution != nil), ("--size", size != nil),
            ("--steps", steps != nil), ("--batch", batch != nil), ("--seed", seed != nil), ("--lr", learningRate != nil), ("--loss", loss != nil),
            ("--floor", floor != nil), ("--gamma", gamma != nil), ("--tv", tvWeight != nil), ("--nps", npsWeight != nil),
            ("--palette", palette != nil), ("--calibration", calibration != nil), ("--init-texture", initTexture != nil),
            ("--average", average != nil), ("--pyramid", pyramid != nil), ("--texture", texture != nil),
            ("--validation-samples", validationSamples != nil), ("--validate-every", validateEvery != nil), ("--early-stop", earlyStop != nil),
        ]
        return options.filter(\.1).map(\.0)
    }

    func makeConfig() throws -> GenerateConfig {
        var c = GenerateConfig()
        if let specs = models.specs { c.models = specs }
        let flags = try models.flags()
        c.modelFlags = flags.isEmpty ? nil : flags
        c.target = untargeted ? nil : try target.map { try ModelLoader.labels(c.models[0], flags: flags).index(of: $0) }
        c.loss = loss ?? c.loss
        if floor != nil && c.loss != .crossEntropyFloor { throw ValidationError("--floor is the ε of --loss ce-floor; give --loss ce-floor too") }
        if gamma != nil && c.loss != .focal { throw ValidationError("--gamma is the γ of --loss focal; give --loss focal too") }
        c.probabilityFloor = floor; c.focalGamma = gamma
        if let shape { c.shape = try PatchShape.parse(shape) }
        if meshSize != nil && mesh == nil { throw ValidationError("--mesh-size is the size of --mesh; give --mesh cylinder|box|sphere too") }
        if let mesh {
            if shape != nil { throw ValidationError("--shape is a flat patch's outline; a mesh's surface is its outline: drop --shape") }
            if size != nil { throw ValidationError("--size is a flat patch's size; a mesh's size in the frame is the distribution's object.height (a JSON --distribution): drop --size") }
            c.mesh = try MeshSpec.parse(mesh, size: meshSize)
            c.distribution = .object; c.presetName = "object"
            c.textureSide = GenerateConfig.defaultMeshTextureSide
            c.steps = GenerateConfig.defaultMeshSteps
        }
        if let (name, value) = try distributionOptions.resolved() {
            c.distribution = value
            c.presetName = distributionOptions.preset == nil ? nil : name
        }
        if let size {
            guard let range = ValueRange(parsing: size), range.min > 0 else { throw ValidationError("--size must be a positive number or MIN..MAX, got \(size)") }
            guard range.max <= 1 else { throw ValidationError("--size \(size): a patch wider than the image (size > 1) is bigger than the scene; use at most 1") }
            c.distribution.setSize(range)
        }
        c.steps = steps ?? c.steps; c.batch = batch ?? c.batch; c.seed = seed ?? c.seed; c.learningRate = learningRate ?? c.learningRate
        c.tvWeight = tvWeight ?? c.tvWeight; c.npsWeight = npsWeight ?? c.npsWeight
        c.palettePath = palette.map(FilePath.resolved)  // read again on --resume, perhaps from another folder
        c.textureSide = texture ?? c.textureSide; c.validationSamples = validationSamples ?? c.validationSamples
        c.validateEvery = validateEvery ?? c.validateEvery; c.earlyStopRate = earlyStop ?? c.earlyStopRate
        c.initTexturePath = initTexture
        c.scenes = FilePath.resolved(sceneOption.folder())
        c.averageDecay = average; c.pyramidLevels = pyramid
        if let path = calibration {
            c.apply(calibration: try ColorCalibration.read(from: path), path: path, npsWeightGiven: npsWeight != nil)
        }
        return c  // validated by GenerationRun, before anything is written
    }

    func run() throws {
        let start: GenerationRun.Start = resume ? .resume(scenes: sceneOption.scenes, fromBackup: fromBackup) : .new(try makeConfig())
        let generation = GenerationRun(directory: out, start: start, toolVersion: ToolInfo.version)
        let printer = GenerateProgressPrinter()
        Interrupt.install()
        switch try generation.run(events: printer.handle, shouldStop: { Interrupt.requested }) {
        case let .interrupted(step, checkpoint):
            print("\(Interrupt.signalName) at step \(step): checkpoint saved to \(checkpoint); continue with `robustpatch generate --resume --out \(out)`")
            throw ExitCode(Interrupt.exitStatus)
        case let .finished(result):
            printer.finish(result)
        }
    }
}
