// `robustpatch generate`: optimise a printable patch with EOT. Thin: builds a GenerateConfig,
// runs PatchTrainer, prints progress, writes the run folder.
import ArgumentParser
import Attack
import Calibration
import Foundation
import Imaging
import Networks
import Transforms

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an adversarial patch with Expectation over Transformation.",
        discussion: """
        Writes into --out: patch.png (texture), patch_rgba.png (texture + mask alpha), mask.png, \
        run.json (settings, model SHA-256, metrics), curve.csv, checkpoint.json and preview.png. \
        Ctrl-C saves a checkpoint; --resume continues it and ends where an uninterrupted run ends.
        """)

    @Option(help: "Target class: an ImageNet index (0–999) or name, e.g. toaster.")
    var target: String?

    @Flag(help: "Untargeted: push each scene's clean prediction down instead of toward a target.")
    var untargeted = false

    @Option(help: "Model(s): lite0, lite1, lite2 or a file; a comma-separated list is an ensemble (losses averaged).")
    var model = Defaults.model

    @Option(help: "Patch outline: circle, square, rect:WxH, or a mask PNG.")
    var shape = Defaults.shape

    @Option(help: "Transform distribution preset: \(TransformDistribution.presetNames.joined(separator: ", ")).")
    var preset: String?

    @Option(help: "Transform distribution JSON file (instead of --preset).")
    var distribution: String?

    @Option(help: "Patch size as a fraction of the image side: a number (0.36 ≈ 10% of the area for a circle) or MIN..MAX. Overrides the distribution's size.")
    var size: String?

    @Option(help: "Scene folder (with train/ and val/ subfolders, or any PNG/JPEG folder: every 4th image is held out). (default: Samples/scenes; --resume uses the run's)")
    var scenes: String?

    @Option(parsing: .unconditional, help: "Optimisation steps.")
    var steps = Defaults.steps

    @Option(parsing: .unconditional, help: "EOT samples per step.")
    var batch = Defaults.batch

    @Option(parsing: .unconditional, help: "Random seed (texture init, transform samples, validation set).")
    var seed: UInt64 = Defaults.seed

    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Adam learning rate (cosine-decayed to 10%).")
    var learningRate = Defaults.learningRate

    @Option(help: "Loss: ce (cross-entropy), ce-floor (−log(ε + p_target): samples the patch cannot yet move weigh little), focal (−(1 − p)^γ log p_target: samples already won weigh little) or margin.")
    var loss = Defaults.loss

    @Option(parsing: .unconditional, help: "ε of --loss ce-floor. (default: 0.05)")
    var floor: Double?

    @Option(parsing: .unconditional, help: "γ of --loss focal. (default: 2)")
    var gamma: Double?

    @Option(name: .customLong("tv"), parsing: .unconditional, help: "Total-variation weight.")
    var tvWeight = Defaults.tvWeight

    @Option(name: .customLong("nps"), parsing: .unconditional, help: "Non-printability weight (default 0 = off; 0.05 with --calibration).")
    var npsWeightOption: Double?
    var npsWeight: Double { npsWeightOption ?? 0 }
    var npsGiven: Bool { npsWeightOption != nil }

    @Option(help: "Printable palette file for --nps (default: the bundled generic palette).")
    var palette: String?

    @Option(help: "A calibration file from `robustpatch calibrate`: its measured printer→camera colour model replaces the distribution's printer model (±3% gain, ±0.01 bias) and its measured colours become the printable palette (NPS weight 0.05 unless --nps is given).")
    var calibration: String?

    @Option(help: "Start from this texture PNG (e.g. another run's patch.png) instead of noise.")
    var initTexture: String?

    @Option(parsing: .unconditional, help: "Polyak averaging: the patch is an exponential moving average of the optimised texture with this decay (e.g. 0.99); off by default.")
    var average: Double?

    @Option(parsing: .unconditional, help: "Optimise the texture as a sum of N levels at full, ½, ¼, … resolution (multi-scale; 4 is usual); 1 = off (default).")
    var pyramid: Int?

    @Option(parsing: .unconditional, help: "Longer side of the optimised texture, pixels.")
    var texture = Defaults.texture

    @Option(parsing: .unconditional, help: "Held-out validation samples (scenes × transforms) for the final check; the periodic checks use the first 128.")
    var validationSamples = Defaults.validationSamples

    @Option(parsing: .unconditional, help: "Validate every N steps (0 = only at the end).")
    var validateEvery = Defaults.validateEvery

    @Option(parsing: .unconditional, help: "Stop early when held-out validation success reaches this rate.")
    var earlyStop = Defaults.earlyStop

    @Flag(help: "Continue the checkpoint in --out with its saved settings and scenes (other run options are refused).")
    var resume = false

    @Option(help: "Output folder.")
    var out: String

    func validate() throws {
        if untargeted && target != nil { throw ValidationError("give either --target or --untargeted, not both") }
        if !untargeted && target == nil && !resume { throw ValidationError("give --target CLASS (e.g. toaster) or --untargeted") }
        if preset != nil && distribution != nil { throw ValidationError("give either --preset or --distribution, not both") }
        guard earlyStop.isFinite, earlyStop > 0 else { throw ValidationError("--early-stop must be a rate in (0, 1], or > 1 to never stop early") }
        if resume {
            let given = settingsGivenWithResume()
            guard given.isEmpty else {
                throw ValidationError("--resume continues the run in \(out) with the settings saved in its checkpoint.json; "
                                      + "drop \(given.joined(separator: ", ")), or start a new run in another --out folder")
            }
        }
    }

    /// Run settings given on the command line or changed from their defaults: with --resume they
    /// would be silently ignored (the checkpoint's settings win), so they are refused instead.
    /// --scenes is checked against the checkpoint's in `run()`.
    func settingsGivenWithResume(arguments: [String] = CommandLine.arguments) -> [String] {
        typealias d = Defaults
        var given: [String] = []
        func check(_ name: String, _ differs: Bool) {
            // Also an option typed with its default value (--steps 1000): it would be ignored all the same.
            let typed = arguments.dropFirst().contains { $0 == name || $0.hasPrefix(name + "=") }
            if differs || typed { given.append(name) }
        }
        check("--target", target != nil); check("--untargeted", untargeted); check("--model", model != d.model)
        check("--shape", shape != d.shape); check("--preset", preset != nil); check("--distribution", distribution != nil)
        check("--size", size != nil); check("--steps", steps != d.steps); check("--batch", batch != d.batch)
        check("--seed", seed != d.seed); check("--lr", learningRate != d.learningRate); check("--loss", loss != d.loss)
        check("--floor", floor != nil); check("--gamma", gamma != nil); check("--tv", tvWeight != d.tvWeight)
        check("--nps", npsWeightOption != nil); check("--palette", palette != nil); check("--calibration", calibration != nil)
        check("--init-texture", initTexture != nil); check("--average", average != nil); check("--pyramid", pyramid != nil)
        check("--texture", texture != d.texture); check("--validation-samples", validationSamples != d.validationSamples)
        check("--validate-every", validateEvery != d.validateEvery); check("--early-stop", earlyStop != d.earlyStop)
        return given
    }

    /// The options' defaults, named once so that --resume can tell which settings were changed.
    enum Defaults {
        static let model = "lite0", shape = "circle", loss = "ce", scenes = "Samples/scenes"
        static let steps = 1000, batch = 16, texture = 64, validationSamples = 512, validateEvery = 50
        static let seed: UInt64 = 0
        static let learningRate = 0.1, tvWeight = 0.02, earlyStop = 0.97
    }

    func makeConfig() throws -> GenerateConfig {
        var c = GenerateConfig()
        c.models = model.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        if untargeted { c.target = nil } else if let t = target { c.target = try ClassLabels.imageNet().index(of: t) }
        c.loss = loss
        if let floor {
            guard loss == "ce-floor" else { throw ValidationError("--floor is the ε of --loss ce-floor; give --loss ce-floor too") }
            c.probabilityFloor = floor
        }
        if let gamma {
            guard loss == "focal" else { throw ValidationError("--gamma is the γ of --loss focal; give --loss focal too") }
            c.focalGamma = gamma
        }
        c.shape = try PatchShape.parse(shape)
        if let file = distribution {
            c.distribution = try DistributionFile.read(file)
            c.presetName = nil
        } else {
            let name = preset ?? "digital"
            c.distribution = try TransformDistribution.preset(named: name)
            c.presetName = name
        }
        if let size {
            let parts = size.components(separatedBy: "..").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard (parts.count == 1 || parts.count == 2), let lo = parts.first ?? nil, let hi = parts.last ?? nil,
                  lo.isFinite, hi.isFinite, lo > 0, hi >= lo else {
                throw ValidationError("--size must be a positive number or MIN..MAX, got \(size)")
            }
            guard hi <= 1 else {
                throw ValidationError("--size \(size): a patch wider than the image (size > 1) is bigger than the scene; use at most 1")
            }
            c.distribution.size = ValueRange(lo, hi)
            c.distribution.distance = nil
        }
        c.steps = steps; c.batch = batch; c.seed = seed; c.learningRate = learningRate
        c.tvWeight = tvWeight; c.npsWeight = npsWeight
        c.palettePath = palette.map(FilePath.resolved)  // read again on --resume, perhaps from another folder
        c.textureSide = texture; c.validationSamples = validationSamples; c.validateEvery = validateEvery
        c.earlyStopRate = earlyStop
        c.initTexturePath = initTexture
        c.scenes = FilePath.resolved(scenes ?? Defaults.scenes)
        c.averageDecay = average
        c.pyramidLevels = pyramid
        if let path = calibration {
            let cal: ColorCalibration
            cal = try ColorCalibration.read(from: path)  // its errors name the file and field; no usage text
            let (gain, bias) = cal.printerGainBias() ?? (cal.channelGain, cal.channelBias)
            c.distribution.printerChannelGain = gain.map { ValueRange(max(0, $0 * 0.97), $0 * 1.03) }
            c.distribution.printerChannelBias = bias.map { ValueRange(max(-1, $0 - 0.01), min(1, $0 + 0.01)) }
            c.paletteRGB = cal.palette.map { [$0.x, $0.y, $0.z] }
            if !npsGiven { c.npsWeight = 0.05 }
            c.calibrationPath = path
        }
        try c.validate()
        return c
    }

    func run() throws {
        let files = RunFiles(directory: out)
        var config: GenerateConfig
        var resumeState: TrainingState? = nil
        if resume {
            let checkpoint = try files.loadCheckpoint()
            config = checkpoint.config
            resumeState = checkpoint.state
            if let given = scenes, let saved = config.scenes, FilePath.resolved(given) != FilePath.resolved(saved) {
                throw CommandError("--resume continues the run in \(out) on its own scenes, \(saved); drop --scenes \(given), or start a new run in another --out folder")
            }
            // Runs saved before the scene folder was recorded take --scenes (or the default) as before.
            config.scenes = config.scenes ?? scenes ?? Defaults.scenes
            print("resuming \(files.checkpointPath) at step \(checkpoint.state.step)/\(config.steps)")
        } else {
            config = try makeConfig()
            try files.checkFreeForNewRun()
        }
        let labels = try ClassLabels.imageNet()
        let models = try config.models.map { try ModelZoo.load($0) }
        let (train, validation) = try SceneSet.trainValidation(directory: config.scenes ?? Defaults.scenes)
        let trainer = try PatchTrainer(config: config, models: models, train: train, validation: validation, resume: resumeState)
        try files.createDirectory()
        let goal = config.target.map { "target \($0) \(labels[$0])" } ?? "untargeted"
        print("generate: \(goal), \(config.shape) patch \(trainer.textureWidth)×\(trainer.textureHeight), models \(models.map(\.name).joined(separator: "+")), "
              + "\(config.presetName ?? "custom") distribution, \(train.count) training / \(validation.count) held-out scenes, batch \(config.batch), seed \(config.seed)")

        Interrupt.install()
        let start = Date()
        var lastPrint = Date.distantPast
        var stepsThisRun = 0
        var earlyStopped = false
        func save() throws {
            trainer.addElapsed(Date().timeIntervalSince(start) - trainer.stateElapsedMark)
            trainer.markElapsed(Date().timeIntervalSince(start))
            try files.saveCheckpoint(TrainingCheckpoint(config: config, state: trainer.state))
        }
        while !trainer.isFinished {
            let m = try trainer.step()
            stepsThisRun += 1
            let step = trainer.state.step
            var validationNote = ""
            if config.validateEvery > 0 && step % config.validateEvery == 0 {
                let v = try trainer.validate(limit: config.periodicValidationSamples)
                trainer.recordValidation(v)
                validationNote = String(format: "  held-out %.0f%% of %d", v.success * 100, v.samples)
                if v.success >= config.earlyStopRate {
                    earlyStopped = true
                }
            }
            if step % config.checkpointEvery == 0 || earlyStopped { try save() }
            let now = Date()
            if now.timeIntervalSince(lastPrint) >= 2 || !validationNote.isEmpty || trainer.isFinished || earlyStopped {
                let perStep = now.timeIntervalSince(start) / Double(stepsThisRun)
                let eta = perStep * Double(config.steps - step)
                print(String(format: "step %5d/%d  loss %7.4f  batch success %3.0f%%  %.2f s/step  ETA %@%@", step, config.steps, m.loss,
                             m.batchSuccess * 100, perStep, formatDuration(eta), validationNote))
                fflush(nil)
                lastPrint = now
            }
            if earlyStopped { print("held-out success reached \(Int(config.earlyStopRate * 100))%: stopping early"); break }
            if Interrupt.requested {
                try save()
                try files.writeImages(texture: trainer.renderedTexture, mask: trainer.mask, width: trainer.textureWidth, height: trainer.textureHeight)
                print("interrupted at step \(step): checkpoint saved to \(files.checkpointPath); continue with --resume")
                throw ExitCode(130)
            }
        }
        try save()
        let final = try trainer.validate()
        // With averaging, the last optimized texture is measured too, on the same samples.
        let lastIterate = config.averageDecay == nil ? nil : try trainer.validate(texture: trainer.trainingTexture)
        try files.writeImages(texture: trainer.renderedTexture, mask: trainer.mask, width: trainer.textureWidth, height: trainer.textureHeight)
        try files.writeCurve(trainer.state.curve, validations: trainer.state.validations)
        try writePreview(trainer: trainer, files: files)
        let record = try runRecord(config: config, trainer: trainer, models: models, final: final, lastIterate: lastIterate,
                                   earlyStopped: earlyStopped, labels: labels, train: train, validation: validation)
        try files.writeRecord(record)
        let what = config.target == nil ? "untargeted flips of the clean top-1" : "targeted top-1"
        let probability = config.target == nil ? "mean clean-class probability" : "mean target probability"
        print(String(format: "held-out validation: %.1f%% %@ (%d samples, %d scenes), %@ %.3f",
                     final.success * 100, what, final.samples, validation.count, probability, final.meanTargetProbability))
        if let l = lastIterate {
            print(String(format: "  (patch = texture averaged with decay %g; the last optimized texture: %.1f%% on the same samples)",
                         config.averageDecay ?? 0, l.success * 100))
        }
        print("wrote \(files.texturePath)\n      \(files.cutoutPath)\n      \(files.maskPath)\n      \(files.previewPath)\n      \(files.recordPath)\n      \(files.curvePath)\n      \(files.checkpointPath)")
    }

    func writePreview(trainer: PatchTrainer, files: RunFiles) throws {
        let s = trainer.config.models.isEmpty ? 224 : try ModelZoo.load(trainer.config.models[0]).inputSize
        let count = min(8, trainer.validationSet.count)
        var pixels = [Float](repeating: 1, count: s * (s * count + 4 * (count - 1)) * 3)
        let width = s * count + 4 * (count - 1)
        for i in 0..<count {
            let img = try trainer.renderValidationSample(i)
            for y in 0..<s { for x in 0..<s { for c in 0..<3 { pixels[(y * width + i * (s + 4) + x) * 3 + c] = img[(y * s + x) * 3 + c] } } }
        }
        try Image(width: width, height: s, channels: 3, pixels: pixels).writePNG(to: files.previewPath)
    }

    func runRecord(config: GenerateConfig, trainer: PatchTrainer, models: [EfficientNetLite], final: ValidationPoint, lastIterate: ValidationPoint?, earlyStopped: Bool,
                   labels: ClassLabels, train: SceneSet, validation: SceneSet) throws -> [String: Any] {
        let enc = JSONEncoder()
        let configObject = try JSONSerialization.jsonObject(with: try enc.encode(config))
        var modelInfo: [[String: Any]] = []
        for spec in config.models {
            let ref = try ModelZoo.resolve(spec)
            modelInfo.append(["spec": spec, "name": ref.name, "path": ref.path, "sha256": try ModelZoo.sha256(of: ref)])
        }
        return [
            "tool": "robustpatch", "version": ToolInfo.version, "command": "generate",
            "created": ISO8601DateFormatter().string(from: Date()),
            "models": modelInfo,
            "target": config.target.map { ["index": $0, "label": labels[$0]] as [String: Any] } ?? NSNull(),
            "config": configObject,
            "steps_done": trainer.state.step, "early_stopped": earlyStopped,
            "elapsed_seconds": trainer.state.elapsedSeconds,
            "threads": Parallel.threadCount,
            "texture": ["width": trainer.textureWidth, "height": trainer.textureHeight],
            "scenes": ["train": train.paths, "validation": validation.paths],
            "final_validation": ["success": final.success, "samples": final.samples, "mean_target_probability": final.meanTargetProbability,
                                 "metric": config.target == nil ? "untargeted flip of the clean top-1" : "targeted top-1"],
            "validations": trainer.state.validations.map { ["step": $0.step, "success": $0.success] },
            "final_validation_last_iterate": lastIterate.map { ["success": $0.success, "samples": $0.samples, "mean_target_probability": $0.meanTargetProbability] as [String: Any] } ?? NSNull(),
        ]
    }
}

func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : t >= 60 ? String(format: "%dm%02ds", t / 60, t % 60) : "\(t)s"
}
