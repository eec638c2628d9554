// EvaluationJob: one `evaluate` call as a library value — which models, distribution, scenes
// and samples, then PatchEvaluator, then evaluation.json and report.html. The CLI fills it from
// flags and prints what it returns; defaults (the run's models and distribution) are chosen here.
import Attack
import Foundation
import Imaging
import Networks
import ONNX
import Runs
import Transforms

public struct EvaluationJob {
    public var patches: [PatchArtifact]
    /// nil: the first patch's run models, else lite0.
    public var modelSpecs: [String]?
    /// Preprocessing flags of ONNX models (override their sidecars).
    public var modelFlags = ModelFlags()
    /// The model the target's name refers to: the first given, else the first patch's first.
    public var firstModelSpec: String { modelSpecs?.first ?? patches.first?.models.first ?? "lite0" }
    /// The distribution and its name for messages; nil: the first patch's run distribution, else `physical`.
    public var distribution: (name: String, value: TransformDistribution)?
    /// The folder of held-out scenes.
    public var sceneFolder: String
    /// Samples per model when none are given: a Wilson interval of about ±3 points at 80 %.
    public static let defaultSamples = 1000
    /// Samples per model (ignored with `samplesFile`).
    public var samples = EvaluationJob.defaultSamples
    /// Replay the samples of this file instead of drawing new ones.
    public var samplesFile: String?
    /// Also write the samples used here.
    public var saveSamples: String?
    public var seed: UInt64 = 0
    public var settings = EvaluationSettings()
    /// Images per model forward pass.
    public var batch = 32
    /// Folder for evaluation.json and report.html; nil: the run folder when one run is evaluated.
    public var outDirectory: String?
    public var writeReport = true
    public var toolVersion: String

    public init(patches: [PatchArtifact], sceneFolder: String, toolVersion: String) {
        self.patches = patches; self.sceneFolder = sceneFolder; self.toolVersion = toolVersion
    }

    /// Sets every patch's target (a patch whose target changes loses its run's own validation,
    /// measured for another target).
    public mutating func setTarget(_ index: Int) {
        for i in patches.indices where patches[i].target != index {
            patches[i].target = index
            patches[i].runValidation = nil
        }
    }

    public struct Outcome {
        public var record: EvaluationRecord
        /// Every file written.
        public var written: [String]
    }

    /// Called once the inputs are loaded, before the work: patches, models, distribution name, scene folder and count.
    public struct Plan { public var patchNames: [String], modelNames: [String], distributionName: String, sceneFolder: String, sceneCount: Int }

    public func run(planned: (Plan) -> Void = { _ in }, progress: @escaping (String) -> Void = { _ in }) throws -> Outcome {
        let specs = modelSpecs ?? (patches.first?.models.isEmpty == false ? patches[0].models : ["lite0"])
        let labels = try ModelLoader.labels(specs[0], flags: modelFlags)
        let models = try PatchEvaluator.loadModels(specs, flags: modelFlags)
        let dist = distribution ?? patches.first?.distribution.map { ("the run's", $0) } ?? ("physical", TransformDistribution.physical)
        let sceneSet = try SceneSet.load(directory: sceneFolder)
        var settings = self.settings
        if let library = SceneLibrary.installed().library, settings.sceneCategories.isEmpty {
            for path in sceneSet.paths { if let c = library.category(of: path) { settings.sceneCategories[(path as NSString).lastPathComponent] = c } }
        }
        let sampleSet: SampleSet
        if let file = samplesFile {
            sampleSet = try SampleSet.read(from: file, sceneCount: sceneSet.count)
        } else {
            sampleSet = try SampleSet.latinHypercube(distribution: dist.value, count: samples, scenes: sceneSet.paths.map { ($0 as NSString).lastPathComponent },
                                                     imageSize: models[0].inputSize, patchAspect: patches[0].aspect, seed: seed)
        }
        var written: [String] = []
        if let path = saveSamples { try sampleSet.write(to: path); written.append(path) }
        planned(Plan(patchNames: patches.map(\.name), modelNames: models.map(\.name), distributionName: dist.name, sceneFolder: sceneFolder, sceneCount: sceneSet.count))
        let benches = try models.map { try ModelBench(model: $0, scenes: sceneSet, batch: batch) }
        let record = try PatchEvaluator.evaluate(patches: patches, benches: benches, samples: sampleSet, settings: settings, labels: labels,
                                                 distribution: samplesFile == nil ? dist.value : nil, version: toolVersion, progress: progress)
        if let dir = outDirectory ?? (patches.count == 1 ? patches[0].runDirectory : nil) {
            written.append(try Self.writeEvaluationJSON(try record.jsonData(), into: dir))
            if writeReport {
                written += try ReportWriter.write(record: record, patches: patches, samples: sampleSet, benches: benches, labels: labels,
                                                  distribution: dist.value, directory: dir, seed: seed)
            }
        }
        return Outcome(record: record, written: written)
    }
}

extension EvaluationJob {
    /// Writes `data` as evaluation.json into `dir` (created when needed), atomically; returns its path.
    static func writeEvaluationJSON(_ data: Data, into dir: String) throws -> String {
        do { try AtomicFile.createFolder(dir) } catch { throw EvaluationError.write(path: dir, reason: error.reason) }
        let path = (dir as NSString).appendingPathComponent("evaluation.json")
        do { try AtomicFile.write(data, to: path) } catch { throw EvaluationError.write(path: path, reason: error.reason) }
        return path
    }
}

extension EvaluationRecord {
    /// "patch on model: rate" for every patch × model whose targeted success is below `rate`.
    public func results(below rate: Double) -> [String] {
        patches.flatMap { p in
            p.models.filter { $0.patch.success.rate < rate }.map { "\(p.patch) on \($0.model): \(String(format: "%.1f%%", $0.patch.success.rate * 100))" }
        }
    }
}
