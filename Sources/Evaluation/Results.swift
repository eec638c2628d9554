// The numbers an evaluation reports: per texture (patch or control) success with Wilson
// intervals, per-factor bins and the worst ones, per-scene rates, heat maps over two factors,
// agreement with the generation run, and the whole JSON record. No rendering or model calls here.
import Statistics
import Runs
import Foundation
import Transforms

/// One texture (the patch or a control) on one model over a list of samples.
public struct TextureSummary: Codable, Sendable, Equatable {
    /// "patch", or a control's name ("noise", "grey", "shuffled").
    public var texture: String
    /// Targeted (top-1/top-5 of the target) or untargeted (success = flip of the clean top-1).
    public var targeted: Bool
    public var top1: Proportion
    public var top5: Proportion
    /// Mean softmax probability of the target (untargeted: of the scene's clean class).
    public var meanProbability: Double
    /// top-1 differs from the clean scene's top-1.
    public var flip: Proportion

    /// The headline success: targeted top-1, or the flip rate when untargeted.
    public var success: Proportion { targeted ? top1 : flip }

    public init(texture: String, outcomes: [SampleOutcome], target: Int?) {
        self.texture = texture
        targeted = target != nil
        var t1 = Proportion(successes: 0, trials: 0), t5 = t1, f = t1
        var p = 0.0
        for o in outcomes {
            t1.add(target.map { o.top1 == $0 } ?? false)
            t5.add(o.inTop5)
            f.add(o.flipped)
            p += Double(o.probability)
        }
        top1 = t1; top5 = t5; flip = f
        meanProbability = outcomes.isEmpty ? 0 : p / Double(outcomes.count)
    }
}

/// Success over the samples whose factor value lies in [low, high) (the last bin includes high).
public struct FactorBin: Codable, Sendable, Equatable {
    public var factor: String
    public var low: Double
    public var high: Double
    public var success: Proportion

    /// "roll -22..-13°".
    public var label: String {
        guard let f = Factor(rawValue: factor) else { return "\(factor) \(low)..\(high)" }
        return "\(factor) \(f.format(low))..\(f.format(high))"
    }
}

public struct SceneSummary: Codable, Sendable, Equatable {
    public var scene: String
    public var success: Proportion
}

public enum Binning {
    /// Equal-width bins over the observed range of each factor that varies among `samples`
    /// (with Latin-hypercube samples they are also equal-count). `success[i]` belongs to sample i.
    public static func factorBins(samples: [EvaluationSample], success: [Bool], bins: Int) -> [FactorBin] {
        var out: [FactorBin] = []
        let n = min(samples.count, success.count)
        guard n > 0, bins >= 1 else { return [] }
        for f in Factor.allCases {
            let values = samples.prefix(n).map { f.value(of: $0.transform) }
            guard let lo = values.min(), let hi = values.max(), hi - lo > 1e-9 * max(1, abs(hi)) else { continue }
            var counts = [Proportion](repeating: Proportion(successes: 0, trials: 0), count: bins)
            for i in 0..<n { counts[index(values[i], lo, hi, bins)].add(success[i]) }
            for b in 0..<bins {
                out.append(FactorBin(factor: f.rawValue, low: lo + (hi - lo) * Double(b) / Double(bins),
                                     high: lo + (hi - lo) * Double(b + 1) / Double(bins), success: counts[b]))
            }
        }
        return out
    }

    @inline(__always) static func index(_ v: Double, _ lo: Double, _ hi: Double, _ bins: Int) -> Int {
        min(bins - 1, max(0, Int(((v - lo) / (hi - lo) * Double(bins)).rounded(.down))))
    }

    /// The `count` bins with the lowest success among those with enough samples (≥ the larger
    /// of 5 and a third of an even share) and below the overall rate, lowest first.
    public static func worst(_ bins: [FactorBin], count: Int = 3, binsPerFactor: Int) -> [FactorBin] {
        let first = bins.first.map { first in bins.filter { $0.factor == first.factor } } ?? []
        let total = first.reduce(0) { $0 + $1.success.trials }
        let overall = Double(first.reduce(0) { $0 + $1.success.successes }) / Double(max(total, 1))
        let minimum = max(5, total / max(1, binsPerFactor * 3))
        return Array(bins.filter { $0.success.trials >= minimum && $0.success.rate < overall }.sorted {
            ($0.success.rate, $0.factor, $0.low) < ($1.success.rate, $1.factor, $1.low)
        }.prefix(count))
    }
}

/// Success over a rows × columns grid of two factors.
public struct HeatMap: Codable, Sendable, Equatable {
    public var rowFactor: String
    public var columnFactor: String
    /// The value each row / column stands for (bin centres, or the grid's exact values).
    public var rowValues: [Double]
    public var columnValues: [Double]
    /// (rows, columns).
    public var cells: [[Proportion]]
    /// How each cell was measured, for the caption.
    public var note: String

    /// Bins the evaluation samples' successes by two factors (equal-width bins over the
    /// observed range of each).
    public static func fromSamples(_ samples: [EvaluationSample], success: [Bool], rows: Factor, columns: Factor, bins: Int) -> HeatMap {
        let rv = samples.map { rows.value(of: $0.transform) }, cv = samples.map { columns.value(of: $0.transform) }
        let (rlo, rhi) = (rv.min() ?? 0, rv.max() ?? 0), (clo, chi) = (cv.min() ?? 0, cv.max() ?? 0)
        let nr = rhi > rlo ? bins : 1, nc = chi > clo ? bins : 1
        var cells = [[Proportion]](repeating: [Proportion](repeating: Proportion(successes: 0, trials: 0), count: nc), count: nr)
        for i in 0..<min(samples.count, success.count) {
            let r = nr == 1 ? 0 : Binning.index(rv[i], rlo, rhi, nr), c = nc == 1 ? 0 : Binning.index(cv[i], clo, chi, nc)
            cells[r][c].add(success[i])
        }
        func centres(_ lo: Double, _ hi: Double, _ n: Int) -> [Double] { (0..<n).map { lo + (hi - lo) * (Double($0) + 0.5) / Double(n) } }
        let perCell = samples.count / max(1, nr * nc)
        return HeatMap(rowFactor: rows.rawValue, columnFactor: columns.rawValue, rowValues: centres(rlo, rhi, nr),
                       columnValues: centres(clo, chi, nc), cells: cells,
                       note: "evaluation samples binned by \(rows.rawValue) and \(columns.rawValue) (about \(perCell) per cell; other factors random)")
    }
}

/// A patch on one model.
public struct ModelEvaluation: Codable, Sendable {
    public var model: String
    public var inputSize: Int
    public var patch: TextureSummary
    public var controls: [TextureSummary]
    /// Samples the controls used (the first `controlSamples` of the list).
    public var controlSamples: Int
    public var bins: [FactorBin]
    public var worstBins: [FactorBin]
    public var scenes: [SceneSummary]
    /// Success per scene category (scene library photos: animals, scenes, buildings, …); empty
    /// when the scenes have no categories.
    public var categories: [SceneSummary] = []
    public var seconds: Double
    /// The patch's outcome for every sample, in sample order.
    public var outcomes: [SampleOutcome]
}

/// One patch on every model.
public struct PatchEvaluation: Codable, Sendable {
    public var patch: String
    public var source: String
    public var target: Int?
    public var targetLabel: String?
    public var textureWidth: Int
    public var textureHeight: Int
    public var models: [ModelEvaluation]
    /// The generation run's own held-out validation and whether its Wilson interval overlaps
    /// this evaluation's (on the run's first model).
    public var runValidation: RunValidation?
    public var runValidationInterval: [Double]?
    public var agreesWithRun: Bool?
    /// True when this evaluation's distribution is not the one the run validated under (e.g. a
    /// digital patch evaluated under `photo`): then the two numbers are not compared.
    public var runDistributionDiffers: Bool?
}

/// Everything `evaluate` measured; written as evaluation.json.
public struct EvaluationRecord: Codable, Sendable {
    public var tool = "robustpatch"
    public var version: String
    public var command = "evaluate"
    public var created: String
    public var seed: UInt64
    public var samples: Int
    public var method: String
    public var stratified: [String]
    public var distribution: TransformDistribution?
    public var scenes: [String]
    public var controls: [String]
    public var threads: Int
    public var forwardPasses: Int
    public var elapsedSeconds: Double
    public var patches: [PatchEvaluation]

    /// Transfer: success (targeted top-1, or flip when untargeted) of every patch on every model.
    public var transfer: [[Proportion]] { patches.map { $0.models.map(\.patch.success) } }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(self)
    }
}

/// Whether two Wilson 95% intervals overlap.
public func intervalsOverlap(_ a: (low: Double, high: Double), _ b: (low: Double, high: Double)) -> Bool {
    a.low <= b.high && b.low <= a.high
}
