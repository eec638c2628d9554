// Whole-image evaluation (`evaluate --image`): how often an adversarial photo (a perturb run, or
// any PNG/JPEG with a target) is still classified as the target under sampled whole-photo
// transformations (rotation, zoom, translation, perspective, lighting, blur, noise, JPEG), with
// Wilson intervals, the controls (the original photo; the original plus random ±ε noise) on the
// same samples, per-factor bins, and one row per model (transfer).
import Attack
import Foundation
import Imaging
import Networks
import ONNX
import Runs
import Statistics
import Transforms

/// One photo to evaluate and what it is measured against.
public struct ImageSubject: Sendable {
    public var name: String
    public var path: String
    public var image: Image
    /// nil: untargeted (success = top-1 differs from the original's under the same transformation).
    public var target: Int?
    /// The unperturbed photo (controls; untargeted success), when known.
    public var original: Image?
    /// The bound in 8-bit units, for the noise control (nil: no noise control).
    public var epsilon: Double?
    /// The run record when `path` was a perturb run folder.
    public var record: PerturbationRecord?

    /// A perturb run folder (its adversarial.png, original, target and ε), or an image file.
    public static func load(_ path: String, target: Int?, original: String?, epsilon: Double?) throws -> ImageSubject {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw EvaluationError.badPatch("--image \(path): no such file or folder; give a perturb run folder or a PNG/JPEG")
        }
        if isDir.boolValue {
            let record: PerturbationRecord
            do { record = try PerturbationRecord.read(from: path) } catch {
                throw EvaluationError.badPatch("--image \(path): not a perturb run folder (\(error))")
            }
            let adv = (path as NSString).appendingPathComponent("adversarial.png")
            let image = try Image.read(from: adv).rgb
            let origPath = original ?? record.image
            let orig: Image?
            do { orig = try Image.read(from: origPath).rgb } catch {
                throw EvaluationError.badPatch("--image \(path): its original photo \(origPath) cannot be read (\(error)); give it with --original")
            }
            guard orig!.width == image.width && orig!.height == image.height else {
                throw EvaluationError.badPatch("--image \(path): the original \(origPath) is \(orig!.width)×\(orig!.height), the adversarial \(image.width)×\(image.height); give the right --original")
            }
            return ImageSubject(name: (path as NSString).lastPathComponent, path: adv, image: image, target: target ?? record.settings.target,
                                original: orig, epsilon: epsilon ?? (record.settings.norm == .linf ? record.settings.epsilon : nil), record: record)
        }
        let image = try Image.read(from: path).rgb
        var orig: Image? = nil
        if let o = original {
            orig = try Image.read(from: o).rgb
            guard orig!.width == image.width && orig!.height == image.height else {
                throw EvaluationError.badPatch("--original \(o) is \(orig!.width)×\(orig!.height) but --image \(path) is \(image.width)×\(image.height)")
            }
        }
        guard target != nil || orig != nil else {
            throw EvaluationError.badOption("--image \(path) is a picture, not a perturb run: give --target CLASS (or --original PHOTO for an untargeted check)")
        }
        return ImageSubject(name: (path as NSString).lastPathComponent, path: path, image: image, target: target, original: orig, epsilon: epsilon, record: nil)
    }
}

/// One photo (adversarial or control) on one model.
public struct ImageScore: Codable, Sendable, Equatable {
    /// "adversarial", "original" or "noise".
    public var texture: String
    /// Targeted top-1 (or, untargeted, a changed top-1).
    public var success: Proportion
    public var top5: Proportion
    /// Mean probability of the target (untargeted: of the original's class).
    public var meanProbability: Double
}

public struct ImageModelEvaluation: Codable, Sendable {
    public var model: String
    public var scores: [ImageScore]
    /// The adversarial photo's success per factor bin.
    public var bins: [FactorBin]
    public var seconds: Double
}

public struct ImageEvaluation: Codable, Sendable {
    public var image: String
    public var target: Int?
    public var targetLabel: String?
    public var width: Int, height: Int
    public var epsilon: Double?
    public var models: [ImageModelEvaluation]
}

public struct ImageEvaluationRecord: Codable, Sendable {
    public var tool = "robustpatch"
    public var version: String
    public var command = "evaluate --image"
    public var created: String
    public var seed: UInt64
    public var samples: Int
    public var distribution: ImageTransformDistribution
    public var distributionName: String
    public var threads: Int
    public var forwardPasses: Int
    public var elapsedSeconds: Double
    public var images: [ImageEvaluation]

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

/// The factors a whole-image evaluation bins by.
public enum ImageFactor: String, CaseIterable, Sendable {
    case rotation, zoom, shift, perspective, brightness, contrast, blur, noise, jpeg

    func value(_ s: ImageSample) -> Double {
        switch self {
        case .rotation: return s.rotation
        case .zoom: return s.zoom
        case .shift: return max(abs(s.shiftX), abs(s.shiftY))
        case .perspective: return s.corners.map { max(abs($0.x), abs($0.y)) }.max() ?? 0
        case .brightness: return s.brightness
        case .contrast: return s.contrast
        case .blur: return s.blurSigma
        case .noise: return s.noiseSigma
        case .jpeg: return Double(s.jpegQuality ?? 100)
        }
    }
}

public struct ImageEvaluationJob {
    public var subjects: [ImageSubject]
    /// nil: the first subject's run models, else lite0.
    public var modelSpecs: [String]?
    public var modelFlags = ModelFlags()
    /// nil: the standard whole-image distribution.
    public var distribution: (name: String, value: ImageTransformDistribution)?
    public var samples = 1000
    public var seed: UInt64 = 0
    public var controls = true
    public var bins = 5
    public var batch = 32
    /// Folder for evaluation.json; nil: the run folder when one run is evaluated.
    public var outDirectory: String?
    public var toolVersion: String

    public init(subjects: [ImageSubject], toolVersion: String) {
        self.subjects = subjects; self.toolVersion = toolVersion
    }

    public struct Outcome {
        public var record: ImageEvaluationRecord
        public var written: [String]
    }

    public func run(progress: @escaping (String) -> Void = { _ in }) throws -> Outcome {
        guard !subjects.isEmpty else { throw EvaluationError.badOption("give at least one --image") }
        guard (1...1_000_000).contains(samples) else { throw EvaluationError.badOption("--samples must be 1…1000000, got \(samples)") }
        guard (1...50).contains(bins) else { throw EvaluationError.badOption("--bins must be 1…50, got \(bins)") }
        guard (1...256).contains(batch) else { throw EvaluationError.badOption("--batch must be 1…256, got \(batch)") }
        let specs = modelSpecs ?? subjects.first?.record?.models.map(\.spec) ?? ["lite0"]
        let flags = modelSpecs == nil && modelFlags.isEmpty ? (subjects.first?.record?.modelFlags ?? modelFlags) : modelFlags
        let models = try PatchEvaluator.loadModels(specs, flags: flags)
        let labels = try ModelLoader.labels(specs[0], flags: flags)
        let dist = distribution ?? ("standard", .standard)
        do { try dist.value.validate() } catch { throw EvaluationError.badOption("whole-image distribution \(dist.name): \(error)") }
        var rng = SplitMix64(seed: seed ^ SeedSalt.evaluationSamples)
        let draws = (0..<samples).map { _ in dist.value.sample(using: &rng) }
        let started = Date()
        var forwards = 0
        var results: [ImageEvaluation] = []
        for subject in subjects {
            if let t = subject.target {
                for m in models where !(0..<m.classCount).contains(t) {
                    throw EvaluationError.badOption("target class \(t) is not a class of \(m.name) (0…\(m.classCount - 1))")
                }
            }
            var perModel: [ImageModelEvaluation] = []
            for model in models {
                let t0 = Date()
                let scorer = try ImageScorer(model: model, width: subject.image.width, height: subject.image.height, batch: batch)
                var originalTop: [Int]? = nil
                var scores: [ImageScore] = []
                var originalScore: ImageScore? = nil
                if let orig = subject.original {
                    let o = try scorer.score(orig.pixels, samples: draws, target: subject.target)
                    originalTop = o.map(\.top1)
                    forwards += o.count
                    originalScore = Self.summary("original", o, target: subject.target, reference: nil)
                }
                guard subject.target != nil || originalTop != nil else {
                    throw EvaluationError.badOption("\(subject.name): untargeted needs the original photo (--original)")
                }
                let adv = try scorer.score(subject.image.pixels, samples: draws, target: subject.target) { done in
                    if done % (batch * 8) == 0 { progress("  \(subject.name) on \(model.name): \(done)/\(draws.count)") }
                }
                forwards += adv.count
                scores.append(Self.summary("adversarial", adv, target: subject.target, reference: originalTop))
                if controls, let o = originalScore {
                    scores.append(o)
                    if let e = subject.epsilon, let orig = subject.original {
                        let noisy = Self.noiseControl(orig, epsilon: e, seed: seed)
                        let n = try scorer.score(noisy.pixels, samples: draws, target: subject.target)
                        forwards += n.count
                        scores.append(Self.summary(String(format: "noise ±%g", e), n, target: subject.target, reference: originalTop))
                    }
                }
                let won = zip(adv.indices, adv).map { i, o in Self.won(o, target: subject.target, reference: originalTop?[i]) }
                perModel.append(ImageModelEvaluation(model: model.name, scores: scores, bins: Self.bins(draws, won, bins: bins, distribution: dist.value),
                                                     seconds: Date().timeIntervalSince(t0)))
                progress(String(format: "  %@ on %@: %.1f s", subject.name, model.name, Date().timeIntervalSince(t0)))
            }
            results.append(ImageEvaluation(image: subject.path, target: subject.target, targetLabel: subject.target.map { labels[$0] },
                                           width: subject.image.width, height: subject.image.height, epsilon: subject.epsilon, models: perModel))
        }
        let record = ImageEvaluationRecord(version: toolVersion, created: ISO8601DateFormatter().string(from: Date()), seed: seed, samples: samples,
                                           distribution: dist.value, distributionName: dist.name, threads: Parallel.threadCount,
                                           forwardPasses: forwards, elapsedSeconds: Date().timeIntervalSince(started), images: results)
        var written: [String] = []
        let runFolder = subjects.count == 1 && subjects[0].record != nil ? (subjects[0].path as NSString).deletingLastPathComponent : nil
        if let dir = outDirectory ?? runFolder { written.append(try EvaluationJob.writeEvaluationJSON(try record.jsonData(), into: dir)) }
        return Outcome(record: record, written: written)
    }

    /// The original plus ±ε per channel and pixel (a random sign each), in 8-bit steps.
    static func noiseControl(_ original: Image, epsilon: Double, seed: UInt64) -> Image {
        var rng = SplitMix64(seed: seed ^ SeedSalt.controlTextures)
        var out = original
        let e = Float(epsilon.rounded(.down))
        out.pixels = original.pixels.map { v in
            let s: Float = rng.next() & 1 == 0 ? -1 : 1
            return min(max(((v * 255).rounded() + s * e), 0), 255) / 255
        }
        return out
    }

    static func won(_ o: SampleOutcome, target: Int?, reference: Int?) -> Bool {
        if let t = target { return o.top1 == t }
        return reference.map { o.top1 != $0 } ?? false
    }

    static func summary(_ name: String, _ outcomes: [SampleOutcome], target: Int?, reference: [Int]?) -> ImageScore {
        var s = Proportion(successes: 0, trials: 0), t5 = s, p = 0.0
        for (i, o) in outcomes.enumerated() {
            s.add(won(o, target: target, reference: reference?[i]))
            t5.add(o.inTop5)
            p += Double(o.probability)
        }
        return ImageScore(texture: name, success: s, top5: t5, meanProbability: outcomes.isEmpty ? 0 : p / Double(outcomes.count))
    }

    /// Equal-width bins over each factor's range in the distribution (factors that vary only).
    static func bins(_ draws: [ImageSample], _ won: [Bool], bins: Int, distribution d: ImageTransformDistribution) -> [FactorBin] {
        var out: [FactorBin] = []
        for f in ImageFactor.allCases {
            let values = draws.map { f.value($0) }
            guard let lo = values.min(), let hi = values.max(), hi > lo else { continue }
            var props = [Proportion](repeating: Proportion(successes: 0, trials: 0), count: bins)
            for (v, w) in zip(values, won) { props[Binning.index(v, lo, hi, bins)].add(w) }
            for b in 0..<bins {
                out.append(FactorBin(factor: f.rawValue, low: lo + (hi - lo) * Double(b) / Double(bins), high: lo + (hi - lo) * Double(b + 1) / Double(bins), success: props[b]))
            }
        }
        return out
    }
}

/// Renders one photo for whole-image samples into a model's batch and scores each.
final class ImageScorer {
    let model: any ImageModel
    let runner: any ModelRunning
    let renderer: ImageRenderer
    let batch: Int
    let images: Tensor, logits: Tensor

    init(model: any ImageModel, width: Int, height: Int, batch: Int) throws {
        self.model = model
        runner = model.makeRunner()
        HeapTuning.keepFreedMemory()   // every sample's render allocates afresh
        let framing = try ModelInputOperator(width: width, height: height, size: model.inputSize, cropFraction: model.cropFraction)
        renderer = try ImageRenderer(framing: framing.imageFraming)
        self.batch = batch
        images = Tensor(zeros: [batch, model.inputSize, model.inputSize, 3])
        logits = Tensor(zeros: [batch, model.classCount])
    }

    func score(_ photo: [Float], samples: [ImageSample], target: Int?, onBatch: ((Int) -> Void)? = nil) throws -> [SampleOutcome] {
        let s = model.inputSize, k = model.classCount
        var outcomes: [SampleOutcome] = []
        var start = 0
        while start < samples.count {
            let chunk = Array(samples[start..<min(start + batch, samples.count)])
            do { _ = try ImagePerturber.render(photo, with: renderer, samples: chunk, into: images.unsafePointer) } catch {
                throw EvaluationError.badSamples("\(error)")
            }
            runner.forward(images.unsafePointer, n: chunk.count, height: s, width: s, logits: logits.unsafePointer)
            for i in 0..<chunk.count {
                outcomes.append(ModelBench.outcome(UnsafePointer(logits.unsafePointer + i * k), k, target: target, clean: -1))
            }
            start += chunk.count
            onBatch?(start)
        }
        return outcomes
    }
}

extension ImageEvaluationRecord {
    /// The terminal table: per image, one row per model and photo (adversarial, controls), then
    /// the adversarial photo's worst factor bins.
    public func textSummary() -> String {
        var out = ["\(samples) samples of the \(distributionName) whole-image distribution, seed \(seed)"]
        for e in images {
            let goal = e.target.map { "target \($0) \(e.targetLabel ?? "")" } ?? "untargeted (success = top-1 differs from the original's)"
            out.append("")
            out.append("image \(e.image) (\(e.width)×\(e.height), \(goal)\(e.epsilon.map { String(format: ", ε %g/255", $0) } ?? ""))")
            out.append("  " + pad("model", 14) + pad("photo", 14) + pad("success [95% CI]", 24) + pad("top-5", 8) + (e.target != nil ? "p(target)" : "p(clean)"))
            for m in e.models {
                for (k, s) in m.scores.enumerated() {
                    out.append("  " + pad(k == 0 ? m.model : "", 14) + pad(s.texture, 14) + pad(s.success.formatted, 24)
                               + pad(e.target != nil ? percent(s.top5.rate) : "-", 8) + String(format: "%.3f", s.meanProbability))
                }
                let worst = Binning.worst(m.bins, binsPerFactor: max(1, m.bins.isEmpty ? 1 : m.bins.count / Set(m.bins.map(\.factor)).count))
                if !worst.isEmpty {
                    out.append("  " + pad("", 14) + "worst bins: " + worst.map { "\($0.factor) \(String(format: "%.3g–%.3g", $0.low, $0.high)) \(percent($0.success.rate)) (n=\($0.success.trials))" }.joined(separator: "; "))
                }
            }
        }
        out.append("")
        out.append(String(format: "%d forward passes in %.1f s (%.0f images/s, %d threads)", forwardPasses, elapsedSeconds,
                          Double(forwardPasses) / max(elapsedSeconds, 1e-9), threads))
        return out.joined(separator: "\n")
    }
}
