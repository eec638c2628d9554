// GenerationRun: one `generate` call, as a library type. The CLI maps flags to a GenerateConfig,
// subscribes to the events below and prints them; everything else happens here.
//
// The flow of one run:
//   1. settings: a new run takes the given GenerateConfig (validated) into an empty folder; a
//      resumed run takes the config and optimiser state saved in the folder's checkpoint.json;
//   2. inputs: the models (ModelZoo) and the scene folder's training and held-out scenes;
//   3. PatchTrainer (Attack) is built: texture, mask, the fixed held-out validation set;
//   4. the loop: one EOT step; every `validateEvery` steps a check on the first
//      `periodicValidationSamples` of the validation set (early stop at `earlyStopRate`); a
//      checkpoint every `checkpointEvery` steps; `shouldStop` (Ctrl-C) saves a checkpoint and the
//      current patch and ends the run as `.interrupted` (resume ends where an uninterrupted run does);
//   5. the end: a final check on the whole validation set (and, with texture averaging, of the last
//      optimised texture on the same samples), then patch.png, patch_rgba.png, mask.png, curve.csv, curve.png,
//      preview.png and run.json (RunRecord) are written, each atomically.
import Attack
import Checkpoints
import Foundation
import Imaging
import Networks
import ONNX
import Statistics
import Tensors
import Transforms

public final class GenerationRun {
    /// What the run starts from.
    public enum Start: Sendable {
        /// A new run with these settings, into a folder that holds no run.
        case new(GenerateConfig)
        /// Continue the checkpoint in the folder. `scenes`: a scene folder given again (it must be the run's own).
        /// `fromBackup`: continue checkpoint.prev.json, the one before a damaged checkpoint.json (kept as checkpoint.damaged.json).
        case resume(scenes: String?, fromBackup: Bool = false)
    }

    /// What the run tells its observer, in order.
    public enum Event: Sendable {
        /// A resumed run continues at `step` of `steps`.
        case resumed(checkpoint: String, step: Int, steps: Int)
        case started(Summary)
        /// After every step; `validation` is set on the steps that validated.
        case step(Progress)
        /// The lower end of a periodic check's 95 % interval reached `GenerateConfig.earlyStopRate`.
        case earlyStop(rate: Double)
    }

    public struct Summary: Sendable {
        public var config: GenerateConfig
        public var textureWidth: Int, textureHeight: Int
        public var modelNames: [String]
        public var trainingScenes: Int, validationScenes: Int
    }

    public struct Progress: Sendable {
        public var step: Int, steps: Int
        public var metrics: StepMetrics
        /// Mean wall time per step in this process.
        public var secondsPerStep: Double
        public var secondsLeft: Double
        public var validation: ValidationPoint?
        public var isLast: Bool
    }

    public enum Outcome: Sendable {
        case finished(Result)
        /// Stopped by `shouldStop` at `step`; the checkpoint and the current patch are saved.
        case interrupted(step: Int, checkpoint: String)
    }

    public struct Result: Sendable {
        public var record: RunRecord
        /// The final check on the whole validation set.
        public var final: ValidationPoint
        /// With averaging: the last optimised texture on the same samples.
        public var lastIterate: ValidationPoint?
        public var validationScenes: Int
        /// Every file written, in a fixed order.
        public var written: [String]
    }

    public let files: RunFiles
    public let start: Start
    let toolVersion: String

    /// - Parameter directory: the run folder (created when needed).
    public init(directory: String, start: Start, toolVersion: String) {
        self.files = RunFiles(directory: directory)
        self.start = start
        self.toolVersion = toolVersion
    }

    /// Runs to the end (or to `shouldStop`), reporting `events`. Throws on bad settings or inputs
    /// before anything is written, and on write failures.
    public func run(events: (Event) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Outcome {
        var config: GenerateConfig
        var resumeState: TrainingState? = nil
        var fromBackup = false
        switch start {
        case let .new(c):
            try c.validate()
            try files.checkFreeForNewRun()
            config = c
        case let .resume(scenes, backup):
            fromBackup = backup
            let checkpoint = try files.loadCheckpoint(fromBackup: backup)
            config = checkpoint.config
            resumeState = checkpoint.state
            if let given = scenes, let saved = config.scenes, FilePath.resolved(given) != FilePath.resolved(saved) {
                throw RunError.checkpoint("resuming continues the run in \(files.directory) on its own scenes, \(saved); "
                                          + "drop the other scenes (\(given)), or start a new run in another folder")
            }
            // Runs saved before the scene folder was recorded take the given scenes (or the default) as before.
            config.scenes = config.scenes ?? scenes ?? SceneLibrary.bundledFolder
            events(.resumed(checkpoint: backup ? files.backupCheckpointPath : files.checkpointPath, step: checkpoint.state.step, steps: config.steps))
        }
        let models = try config.models.map { try ModelLoader.load($0, flags: config.modelFlags ?? ModelFlags()) }
        let (train, validation) = try SceneSet.trainValidation(directory: config.scenes ?? SceneLibrary.bundledFolder)
        let trainer = try PatchTrainer(config: config, models: models, train: train, validation: validation, resume: resumeState)
        try files.createDirectory()
        do { try files.checkWritable() } catch let RunError.write(path, reason) where resumeState != nil {
            throw RunError.write(path: path, reason: reason + " (or copy the run folder to one and --resume it there)")
        }
        if fromBackup { try files.setDamagedCheckpointAside() }
        events(.started(Summary(config: config, textureWidth: trainer.textureWidth, textureHeight: trainer.textureHeight,
                                modelNames: models.map(\.name), trainingScenes: train.count, validationScenes: validation.count)))

        let clock = Date()
        var stepsThisRun = 0
        var earlyStopped = false
        /// The step of the checkpoint on disk, and whether it is the backup (`--from-backup`, before the first save).
        var saved: (step: Int, isBackup: Bool)? = resumeState.map { ($0.step, fromBackup) }
        func save() throws {
            trainer.addElapsed(Date().timeIntervalSince(clock) - trainer.stateElapsedMark)
            trainer.markElapsed(Date().timeIntervalSince(clock))
            try files.saveCheckpoint(TrainingCheckpoint(config: config, state: trainer.state))
            saved = (trainer.state.step, false)
        }
        /// The run's wall time so far, earlier sessions of a resumed run included.
        func elapsed() -> Double { trainer.state.elapsedSeconds + Date().timeIntervalSince(clock) - trainer.stateElapsedMark }
        do {
            let plotTitle = try ProgressPlot.title(config: config, modelNames: models.map(\.name))
            while !trainer.isFinished {
                let metrics = try trainer.step()
                stepsThisRun += 1
                let step = trainer.state.step
                var validation: ValidationPoint? = nil
                if config.validateEvery > 0 && step % config.validateEvery == 0 {
                    var v = try trainer.validate(limit: config.periodicValidationSamples)
                    v.seconds = elapsed()
                    trainer.recordValidation(v)
                    validation = v
                    try files.writeProgressPlot(title: plotTitle, config: config, validations: trainer.state.validations, final: nil)
                    // Only a rate the check's own interval puts above the bar stops the run.
                    earlyStopped = v.proportion.wilson().low >= config.earlyStopRate
                }
                if step % config.checkpointEvery == 0 || earlyStopped { try save() }
                let perStep = Date().timeIntervalSince(clock) / Double(stepsThisRun)
                events(.step(Progress(step: step, steps: config.steps, metrics: metrics, secondsPerStep: perStep,
                                      secondsLeft: perStep * Double(config.steps - step), validation: validation,
                                      isLast: trainer.isFinished || earlyStopped)))
                if earlyStopped { events(.earlyStop(rate: config.earlyStopRate)); break }
                if shouldStop() {
                    try save()
                    try files.writeImages(texture: trainer.renderedTexture, mask: trainer.mask, width: trainer.textureWidth, height: trainer.textureHeight)
                    return .interrupted(step: step, checkpoint: files.checkpointPath)
                }
            }
            try save()
            var final = try trainer.validate()
            final.seconds = elapsed()
            let lastIterate = config.averageDecay == nil ? nil : try trainer.validate(texture: trainer.trainingTexture)
            try files.writeImages(texture: trainer.renderedTexture, mask: trainer.mask, width: trainer.textureWidth, height: trainer.textureHeight)
            try files.writeCurve(trainer.state.curve, validations: trainer.state.validations)
            try files.writeProgressPlot(title: plotTitle, config: config, validations: trainer.state.validations, final: final)
            try files.writePreview(try trainer.validationPreview())
            let record = try RunRecord(finishedRun: trainer, config: config, final: final, lastIterate: lastIterate, earlyStopped: earlyStopped,
                                       train: train, validation: validation, toolVersion: toolVersion)
            try files.writeRecord(record)
            return .finished(Result(record: record, final: final, lastIterate: lastIterate, validationScenes: validation.count,
                                    written: [files.texturePath, files.cutoutPath, files.maskPath, files.previewPath, files.recordPath,
                                              files.curvePath, files.progressPlotPath, files.checkpointPath]))
        } catch let RunError.write(path, reason) {
            // A full disk or a folder turned read-only: every file is written whole or not at all,
            // so the checkpoint on disk is the last one saved; say which and how to go on.
            let next: String
            if let saved {
                next = "The checkpoint of step \(saved.step) in \(files.directory) is intact (\(saved.isBackup ? "checkpoint.prev.json" : "checkpoint.json")): "
                    + "once the folder can be written again, continue with `robustpatch generate --resume\(saved.isBackup ? " --from-backup" : "") --out \(files.directory)`"
            } else {
                next = "No checkpoint was saved yet (the first comes at step \(config.checkpointEvery)): once the folder can be written again, start the run again"
            }
            throw RunError.write(path: path, reason: reason + ".\n" + next)
        }
    }
}

extension RunRecord {
    /// The record of a finished run: its settings, the models' files and SHA-256, scenes and metrics.
    init(finishedRun trainer: PatchTrainer, config: GenerateConfig, final: ValidationPoint, lastIterate: ValidationPoint?, earlyStopped: Bool,
         train: SceneSet, validation: SceneSet, toolVersion: String) throws {
        let labels = try ModelLoader.labels(config.models[0], flags: config.modelFlags ?? ModelFlags())
        let models = try config.models.map { spec -> Model in
            let ref = try ModelZoo.resolve(spec)
            return Model(spec: spec, name: ref.name, path: ref.path, sha256: try ModelZoo.sha256(of: ref))
        }
        let metric = config.target == nil ? "untargeted flip of the clean top-1" : "targeted top-1"
        self.init(version: toolVersion, created: ISO8601DateFormatter().string(from: Date()), models: models,
                  target: config.target.map { Target(index: $0, label: labels[$0]) }, config: config,
                  stepsDone: trainer.state.step, earlyStopped: earlyStopped, elapsedSeconds: trainer.state.elapsedSeconds,
                  threads: Parallel.threadCount, texture: TextureSize(width: trainer.textureWidth, height: trainer.textureHeight),
                  scenes: Scenes(train: train.paths, validation: validation.paths),
                  finalValidation: RunValidation(success: final.success, samples: final.samples,
                                                 meanTargetProbability: final.meanTargetProbability, metric: metric),
                  validations: trainer.state.validations.map { StepValidation(step: $0.step, success: $0.success, samples: $0.samples, seconds: $0.seconds) },
                  finalValidationLastIterate: lastIterate.map {
                      RunValidation(success: $0.success, samples: $0.samples, meanTargetProbability: $0.meanTargetProbability, metric: nil)
                  })
        if let spec = config.mesh, let surface = trainer.meshSurface {
            var sha: String? = nil
            if case let .file(path) = spec { sha = try sha256Hex(ofFileAt: path) }
            mesh = MeshInfo(description: spec.description, sha256: sha, triangles: surface.triangleCount,
                            texturedAreaMM2: surface.texturedArea)
        }
    }
}

extension ValidationPoint {
    /// The check's successes out of its samples, for its Wilson interval.
    public var proportion: Proportion { Proportion(successes: Int((success * Double(samples)).rounded()), trials: samples) }
}
