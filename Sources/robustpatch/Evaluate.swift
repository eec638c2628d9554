// `robustpatch evaluate`: how often a patch makes the model see its target over a transformation
// distribution, with intervals, control patches, factor bins and transfer. Thin: loads inputs,
// calls Evaluation's PatchEvaluator, prints a table, writes evaluation.json and report.html.
import ArgumentParser
import Attack
import Evaluation
import Foundation
import Networks
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

    @Option(help: "Mask PNG for an RGB patch PNG (white or opaque = patch).")
    var mask: String?

    @Option(help: "Outline for an RGB patch PNG: circle, square or rect:WxH.")
    var shape: String?

    @Option(help: "Target class (index or name) for a PNG patch, or to override a run's target.")
    var target: String?

    @Option(help: "Model(s), comma-separated: lite0, lite1, lite2 or files; one row each (transfer). Default: the run's models, else lite0.")
    var model: String?

    @Option(help: "Scene folder (a folder with val/ uses val/: the held-out scenes).")
    var scenes = "Samples/scenes/val"

    @Option(name: .customLong("samples"), parsing: .unconditional, help: "Number of samples (scene, transform) per model. (default: 1000)")
    var samplesOption: Int?
    var samples: Int { samplesOption ?? 1000 }

    @Option(parsing: .unconditional, help: "Seed of the samples and the control textures.")
    var seed: UInt64 = 0

    @Option(help: "Transform distribution preset: \(TransformDistribution.presetNames.joined(separator: ", ")). Default: the run's distribution, else digital.")
    var preset: String?

    @Option(help: "Transform distribution JSON file (instead of --preset).")
    var distribution: String?

    @Option(help: "Control patches: a comma-separated subset of noise,grey,shuffled, or none.")
    var controls = "noise,grey,shuffled"

    @Option(parsing: .unconditional, help: "Evaluate the controls on the first N samples only (default: all).")
    var controlSamples: Int?

    @Option(parsing: .unconditional, help: "Bins per factor for the breakdown.")
    var bins = 5

    @Option(parsing: .unconditional, help: "Images per model forward pass.")
    var batch = 32

    @Option(help: "Replay the samples of this file (written by --save-samples) instead of drawing new ones.")
    var samplesFile: String?

    @Option(help: "Write the samples used to this JSON file (for replay with --samples-file).")
    var saveSamples: String?

    @Option(parsing: .unconditional, help: "Exit with status 1 when any patch's success on any model is below this rate (0–1).")
    var require: Double?

    @Flag(help: "Print the JSON record instead of the table.")
    var json = false

    @Option(help: "Folder for evaluation.json and report.html (default: the run folder when one run is evaluated).")
    var out: String?

    @Flag(help: "Write evaluation.json but not report.html.")
    var noReport = false

    func validate() throws {
        guard !patches.isEmpty else { throw ValidationError("give --patch RUN_FOLDER or --patch PATCH.png") }
        if samplesFile != nil && samplesOption != nil {
            throw ValidationError("--samples-file replays the samples of its file; drop --samples (the file sets how many)")
        }
        if samplesFile == nil { guard samples >= 1 else { throw ValidationError("--samples must be at least 1 (zero samples measure nothing), got \(samples)") } }
        if preset != nil && distribution != nil { throw ValidationError("give either --preset or --distribution, not both") }
        if let r = require { guard r.isFinite, (0...1).contains(r) else { throw ValidationError("--require must be a rate in [0, 1], e.g. 0.8, got \(r)") } }
        if let c = controlSamples {
            guard c >= 1 else {
                throw ValidationError("--control-samples must be at least 1, got \(c); to evaluate no controls give --controls none")
            }
        }
        _ = try Self.parseControls(controls)
        guard (1...256).contains(batch) else { throw ValidationError("--batch must be 1…256, got \(batch)") }
    }

    func run() throws {
        let labels = try ClassLabels.imageNet()
        var loaded = try patches.map { try EvaluatedPatch.load($0, maskPath: mask, shape: shape) }
        if let t = target {
            let index = try labels.index(of: t)
            for i in loaded.indices where loaded[i].target != index {
                loaded[i].target = index
                loaded[i].runValidation = nil  // measured for the run's own target: no longer comparable
            }
        }
        let modelSpecs = (model?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
            ?? (loaded.first?.models.isEmpty == false ? loaded[0].models : ["lite0"])
        let models = try PatchEvaluator.loadModels(modelSpecs)
        let dist = try chooseDistribution(loaded)
        let sceneDir = Self.heldOutFolder(scenes)
        let sceneSet = try SceneSet.load(directory: sceneDir)
        let sceneNames = sceneSet.paths.map { ($0 as NSString).lastPathComponent }
        let sampleSet: SampleSet
        if let file = samplesFile {
            sampleSet = try SampleSet.read(from: file, sceneCount: sceneSet.count)
        } else {
            sampleSet = try SampleSet.latinHypercube(distribution: dist.value, count: samples, scenes: sceneNames, imageSize: models[0].inputSize,
                                                     patchAspect: loaded[0].aspect, seed: seed)
        }
        if let path = saveSamples { try sampleSet.write(to: path) }
        var settings = EvaluationSettings()
        settings.controls = try Self.parseControls(controls)
        settings.controlSamples = controlSamples
        settings.bins = bins
        settings.seed = seed
        let log: (String) -> Void = { line in if !json { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
        if !json {
            print("evaluate: \(loaded.map(\.name).joined(separator: ", ")) on \(models.map(\.name).joined(separator: ", ")), \(dist.name) distribution, scenes \(sceneDir) (\(sceneSet.count))")
        }
        let benches = try models.map { try ModelBench(model: $0, scenes: sceneSet, batch: batch) }
        let record = try PatchEvaluator.evaluate(patches: loaded, benches: benches, samples: sampleSet, settings: settings, labels: labels,
                                                 distribution: samplesFile == nil ? dist.value : nil, version: ToolInfo.version, progress: log)
        let outDir = out ?? (loaded.count == 1 ? loaded[0].runDirectory : nil)
        var written: [String] = []
        if let path = saveSamples { written.append(path) }
        if let dir = outDir {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw EvaluationError.write(path: dir, reason: error.localizedDescription)
            }
            let jsonPath = (dir as NSString).appendingPathComponent("evaluation.json")
            do { try record.jsonData().write(to: URL(fileURLWithPath: jsonPath), options: .atomic) } catch {
                throw EvaluationError.write(path: jsonPath, reason: error.localizedDescription)
            }
            written.append(jsonPath)
            if !noReport {
                written += try ReportWriter.write(record: record, patches: loaded, samples: sampleSet, benches: benches, labels: labels,
                                                  distribution: dist.value, directory: dir, seed: seed)
            }
        }
        if json {
            print(String(decoding: try record.jsonData(), as: UTF8.self))
        } else {
            print(record.textSummary())
            if !written.isEmpty { print("wrote " + written.joined(separator: "\n      ")) }
        }
        if let r = require {
            var below: [String] = []
            for p in record.patches { for m in p.models where m.patch.success.rate < r { below.append("\(p.patch) on \(m.model): \(percent1(m.patch.success.rate))") } }
            if !below.isEmpty {
                FileHandle.standardError.write(Data("evaluate: below --require \(percent1(r)): \(below.joined(separator: "; "))\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    func chooseDistribution(_ patches: [EvaluatedPatch]) throws -> (name: String, value: TransformDistribution) {
        if let file = distribution {
            return (file, try DistributionFile.read(file))
        }
        if let p = preset { return (p, try TransformDistribution.preset(named: p)) }
        if let d = patches.first?.distribution { return ("the run's", d) }
        return ("digital", .digital)
    }

    /// A scene folder with train/ and val/ means its held-out val/.
    static func heldOutFolder(_ dir: String) -> String {
        let val = (dir as NSString).appendingPathComponent("val")
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: val, isDirectory: &isDir) && isDir.boolValue ? val : dir
    }

    static func parseControls(_ s: String) throws -> [ControlKind] {
        let names = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if names.isEmpty || names == ["none"] { return [] }
        if names.contains("none") {
            throw ValidationError("--controls \(s): 'none' means no controls and cannot be combined with others; give none alone, or a list of noise, grey, shuffled")
        }
        var kinds: [ControlKind] = []
        for name in names {
            guard let k = ControlKind(rawValue: name) ?? (name == "gray" ? .grey : nil) else {
                throw ValidationError("--controls: unknown control '\(name)'; use a comma-separated list of noise, grey, shuffled, or none")
            }
            guard !kinds.contains(k) else { throw ValidationError("--controls \(s): \(k.rawValue) is listed twice; give each control once") }
            kinds.append(k)
        }
        return kinds
    }
}

func percent1(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
