// The evaluation samples: (scene, TransformSample) pairs drawn by a seeded Latin hypercube over
// every varying factor (so even a small N covers each factor's range evenly), and their JSON
// file for replay. Rendering and scoring are in Evaluator.swift.
import Foundation
import Imaging
import TextSafety
import Transforms

/// One evaluation draw: which scene (index into the scene list) and which transformation.
public struct EvaluationSample: Codable, Sendable, Equatable {
    public var scene: Int
    public var transform: TransformSample
    public init(scene: Int, transform: TransformSample) { self.scene = scene; self.transform = transform }
}

/// A replayable list of samples with what it was drawn for.
public struct SampleSet: Codable, Sendable, Equatable {
    public var formatVersion = 1
    /// "latin-hypercube" (drawn here) or "file" (as read).
    public var method: String
    public var seed: UInt64
    /// Scene file names, in the order `EvaluationSample.scene` indexes.
    public var scenes: [String]
    /// Factors that were stratified.
    public var stratified: [String]
    public var samples: [EvaluationSample]

    public init(method: String, seed: UInt64, scenes: [String], stratified: [String], samples: [EvaluationSample]) {
        self.method = method; self.seed = seed; self.scenes = scenes; self.stratified = stratified; self.samples = samples
    }

    /// N samples for `distribution`: each factor whose range is not a constant is split into N
    /// equal strata and every stratum is used exactly once, in an independent random order per
    /// factor (Latin hypercube; McKay et al. 1979), jittered inside its stratum; the remaining
    /// fields (placement, colour cast, printer, noise seed) are drawn by `distribution.sample`
    /// with the factors pinned, so placement still keeps the patch inside the image.
    /// Scenes go round-robin. Deterministic for a seed.
    public static func latinHypercube(distribution: TransformDistribution, count: Int, scenes: [String], imageSize: Int,
                                      patchAspect: Double, seed: UInt64) throws -> SampleSet {
        guard count >= 1 else { throw EvaluationError.badOption("--samples must be at least 1, got \(count)") }
        guard count <= 1_000_000 else { throw EvaluationError.badOption("--samples must be at most 1000000, got \(count)") }
        guard !scenes.isEmpty else { throw EvaluationError.badOption("no scenes to evaluate on") }
        do { try distribution.validate() } catch { throw EvaluationError.badOption("transform distribution: \(error)") }
        var rng = SplitMix64(seed: seed ^ SeedSalt.evaluationSamples)
        let varying = Factor.allCases.filter { let r = $0.range(in: distribution); return r.min < r.max }
        var columns: [[Double]] = []     // (factor, sample) values
        for f in varying {
            let r = f.range(in: distribution)
            var order = Array(0..<count)
            for i in stride(from: count - 1, to: 0, by: -1) {      // Fisher–Yates, our own draws
                let j = Int(rng.next() % UInt64(i + 1))
                order.swapAt(i, j)
            }
            columns.append(order.map { stratum in
                let u = (Double(stratum) + Double(rng.next() >> 11) * 0x1p-53) / Double(count)
                return r.min + (r.max - r.min) * u
            })
        }
        var samples: [EvaluationSample] = []
        samples.reserveCapacity(count)
        for i in 0..<count {
            var d = distribution
            for (k, f) in varying.enumerated() { f.pin(columns[k][i], in: &d) }
            let t = d.sample(imageWidth: imageSize, imageHeight: imageSize, patchAspect: patchAspect, using: &rng)
            samples.append(EvaluationSample(scene: i % scenes.count, transform: t))
        }
        return SampleSet(method: "latin-hypercube", seed: seed, scenes: scenes, stratified: varying.map(\.rawValue), samples: samples)
    }

    // MARK: Files

    public func write(to path: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try e.encode(self) } catch { throw EvaluationError.write(path: path, reason: "\(error)") }
        do { try AtomicFile.write(data, to: path) } catch { throw EvaluationError.write(path: path, reason: error.reason) }
    }

    /// Reads a samples file; every sample is validated and its scene index must be in range
    /// for `sceneCount` scenes.
    /// The most samples a file may hold: `--samples`' own bound.
    public static let maxSamples = 1_000_000
    /// The largest samples file read: --save-samples writes about 1 KB per sample, so 1 GiB holds `maxSamples`.
    public static let maxFileBytes = 1 << 30

    public static func read(from path: String, sceneCount: Int) throws -> SampleSet {
        let shownPath = displayPath(path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileBytes else {
            throw EvaluationError.badSamples("\(shownPath) is \(size) bytes; a samples file is at most \(maxFileBytes) (\(maxSamples) samples)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.badSamples("cannot read the samples file \(shownPath)")
        }
        let set: SampleSet
        do { set = try JSONDecoder().decode(SampleSet.self, from: data) } catch {
            throw EvaluationError.badSamples("\(shownPath) is not a samples file written by --save-samples (\(describeDecodingError(error)))")
        }
        guard !set.samples.isEmpty else { throw EvaluationError.badSamples("\(shownPath) holds zero samples") }
        guard set.samples.count <= maxSamples else {
            throw EvaluationError.badSamples("\(shownPath) holds \(set.samples.count) samples; at most \(maxSamples) are evaluated")
        }
        for (i, s) in set.samples.enumerated() {
            guard (0..<sceneCount).contains(s.scene) else {
                let names = set.scenes.prefix(3).map { untrustedText($0, limit: 40) }.joined(separator: ", ")
                    + (set.scenes.count > 3 ? " and \(set.scenes.count - 3) more" : "")
                throw EvaluationError.badSamples("\(shownPath): sample \(i) uses scene \(s.scene), but only \(sceneCount) scenes are loaded; use the same --scenes as when it was saved (\(names))")
            }
        }
        return set
    }
}
