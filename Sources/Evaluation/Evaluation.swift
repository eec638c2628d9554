// `Evaluation`: how well a patch works, honestly measured — success over a transformation
// distribution with Wilson intervals, control patches, factor bins, transfer across models,
// grids and heat maps, and a self-contained HTML report. This file runs a whole evaluation;
// it does not parse options (the CLI does) nor draw pictures (Grid.swift, Report.swift).
import Statistics
import Runs
import Foundation
import Networks
import ONNX
import Transforms

public struct EvaluationSettings: Sendable {
    /// Control textures to evaluate with the patch's mask on the same samples.
    public var controls: [ControlKind] = ControlKind.defaults(forMesh: false)
    /// Controls use the first this many samples (nil = all).
    public var controlSamples: Int? = nil
    /// Bins per factor.
    public var bins = 5
    /// Seed of the control textures (the samples have their own).
    public var seed: UInt64 = 0
    /// Scene file name → category, for a per-category breakdown (the scene library's manifest).
    public var sceneCategories: [String: String] = [:]
    public init() {}
}

public enum PatchEvaluator {
    /// Evaluates every patch on every model with the same samples. `progress` gets short lines.
    public static func evaluate(patches: [PatchArtifact], benches: [ModelBench], samples: SampleSet, settings: EvaluationSettings,
                                labels: ClassLabels, distribution: TransformDistribution?, version: String,
                                progress: ((String) -> Void)? = nil) throws -> EvaluationRecord {
        guard !samples.samples.isEmpty else { throw EvaluationError.badOption("zero samples: give --samples N with N ≥ 1") }
        guard !patches.isEmpty else { throw EvaluationError.badOption("give at least one --patch") }
        guard !benches.isEmpty else { throw EvaluationError.badOption("give at least one --model") }
        guard settings.bins >= 1, settings.bins <= 50 else { throw EvaluationError.badOption("--bins must be 1…50, got \(settings.bins)") }
        for b in benches {
            if let bad = samples.samples.first(where: { $0.scene >= b.scenes.count }) {
                throw EvaluationError.badSamples("a sample uses scene \(bad.scene) but only \(b.scenes.count) scenes are loaded")
            }
        }
        let started = Date()
        let controlCount = min(samples.samples.count, max(0, settings.controlSamples ?? samples.samples.count))
        var forwards = 0
        var results: [PatchEvaluation] = []
        for patch in patches {
            let mesh = try patch.meshSurface()   // once per patch: an OBJ is read and prepared once
            var perModel: [ModelEvaluation] = []
            for bench in benches {
                let t0 = Date()
                let outcomes = try bench.score(texture: patch.texture, mask: patch.mask, mesh: mesh, samples: samples.samples[...], target: patch.target) { done in
                    if done % (bench.batch * 8) == 0 { progress?("  \(patch.name) on \(bench.model.name): \(done)/\(samples.samples.count)") }
                }
                forwards += outcomes.count
                var controls: [TextureSummary] = []
                if controlCount > 0 {
                    for kind in settings.controls {
                        let tex = try kind.texture(for: patch, seed: settings.seed)
                        let o = try bench.score(texture: tex, mask: patch.mask, mesh: mesh, samples: samples.samples.prefix(controlCount), target: patch.target)
                        forwards += o.count
                        controls.append(TextureSummary(texture: kind.rawValue, outcomes: o, target: patch.target))
                    }
                }
                let summary = TextureSummary(texture: "patch", outcomes: outcomes, target: patch.target)
                let success = outcomes.map { o in patch.target.map { o.top1 == $0 } ?? o.flipped }
                let bins = Binning.factorBins(samples: samples.samples, success: success, bins: settings.bins)
                var perScene = [Proportion](repeating: Proportion(successes: 0, trials: 0), count: bench.scenes.count)
                for (i, s) in samples.samples.enumerated() { perScene[s.scene].add(success[i]) }
                let sceneNames = samples.scenes.count == perScene.count ? samples.scenes : (0..<perScene.count).map { "scene \($0)" }
                let seconds = Date().timeIntervalSince(t0)
                perModel.append(ModelEvaluation(
                    model: bench.model.name, inputSize: bench.inputSize, patch: summary, controls: controls, controlSamples: controlCount,
                    bins: bins, worstBins: Binning.worst(bins, binsPerFactor: settings.bins),
                    scenes: zip(sceneNames, perScene).map { SceneSummary(scene: $0, success: $1) },
                    categories: Self.byCategory(zip(sceneNames, perScene).map { ($0, $1) }, settings.sceneCategories),
                    seconds: seconds, outcomes: outcomes))
                progress?(String(format: "  %@ on %@: %.1f s", patch.name, bench.model.name, seconds))
            }
            var result = PatchEvaluation(patch: patch.name, source: patch.source, target: patch.target, targetLabel: patch.target.map { labels[$0] },
                                         textureWidth: patch.width, textureHeight: patch.height, models: perModel)
            if let v = patch.runValidation {
                result.runValidation = v
                let runInterval = Proportion(successes: Int((v.success * Double(v.samples)).rounded()), trials: v.samples).wilson()
                result.runValidationInterval = [runInterval.low, runInterval.high]
                // The run's first model by zoo name (lite0) or by file name (a path spec).
                let names = patch.models.first.map { [$0.lowercased().replacingOccurrences(of: "efficientnet-", with: ""), ($0 as NSString).lastPathComponent] } ?? []
                if let ours = distribution, let runs = patch.distribution, ours != runs {
                    result.runDistributionDiffers = true
                } else if let m = perModel.first(where: { names.contains($0.model) }) {
                    result.agreesWithRun = intervalsOverlap(m.patch.success.wilson(), runInterval)
                }
            }
            results.append(result)
        }
        return EvaluationRecord(version: version, created: ISO8601DateFormatter().string(from: Date()), seed: samples.seed,
                                samples: samples.samples.count, method: samples.method, stratified: samples.stratified,
                                distribution: distribution, scenes: samples.scenes, controls: controlCount > 0 ? settings.controls.map(\.rawValue) : [],
                                threads: Parallel.threadCount, forwardPasses: forwards, elapsedSeconds: Date().timeIntervalSince(started),
                                patches: results)
    }

    /// Per-scene counts summed per category, in name order; scenes without one are left out.
    static func byCategory(_ scenes: [(String, Proportion)], _ categories: [String: String]) -> [SceneSummary] {
        var sums: [String: Proportion] = [:]
        for (name, p) in scenes {
            guard let c = categories[name] else { continue }
            sums[c, default: Proportion(successes: 0, trials: 0)].successes += p.successes
            sums[c, default: Proportion(successes: 0, trials: 0)].trials += p.trials
        }
        return sums.keys.sorted().map { SceneSummary(scene: $0, success: sums[$0]!) }
    }

    /// Loads models by spec (lite0, lite1, lite2, mobilenet_v2, a state dict or an .onnx file
    /// with `flags`); a failure names the spec.
    public static func loadModels(_ specs: [String], flags: ModelFlags = ModelFlags()) throws -> [any ImageModel] {
        guard !specs.isEmpty, !specs.contains(where: \.isEmpty) else { throw EvaluationError.badOption("--model: give a comma-separated list such as lite0,lite1") }
        return try specs.map { spec in
            do { return try ModelLoader.load(spec, flags: flags) } catch { throw EvaluationError.modelFailed(spec: spec, reason: "\(error)") }
        }
    }

    /// The two factors whose bins differ most in success (for a heat map), in Factor order on ties.
    public static func mostTellingFactors(_ bins: [FactorBin]) -> (Factor, Factor)? {
        var spread: [(Factor, Double)] = []
        for f in Factor.allCases {
            let rates = bins.filter { $0.factor == f.rawValue && $0.success.trials > 0 }.map(\.success.rate)
            if let lo = rates.min(), let hi = rates.max() { spread.append((f, hi - lo)) }
        }
        let sorted = spread.enumerated().sorted { ($0.element.1, -$0.offset) > ($1.element.1, -$1.offset) }.map(\.element.0)
        guard sorted.count >= 2 else { return nil }
        return (sorted[0], sorted[1])
    }
}
