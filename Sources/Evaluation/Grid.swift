// Grids over two factors: a contact sheet (each cell the rendered model input with its top-1
// label, framed by outcome) and a heat map of success (each cell K random samples with the two
// factors pinned). Computing them is here; drawing them is in Pictures.swift.
import Statistics
import Attack
import Runs
import Foundation
import Networks
import ONNX
import Transforms

/// One axis of a grid: a factor and the values it takes, parsed from "FACTOR:MIN..MAX:N".
public struct GridAxis: Sendable, Equatable {
    public var factor: Factor
    public var values: [Double]

    public init(factor: Factor, values: [Double]) { self.factor = factor; self.values = values }

    /// "roll:-45..45:5" → roll at -45, -22.5, 0, 22.5, 45. N = 1 gives MIN.
    public static func parse(_ text: String, option: String = "axis") throws -> GridAxis {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let usage = "\(option) \(text): write FACTOR:MIN..MAX:N, e.g. roll:-45..45:5 (factors: \(Factor.names.joined(separator: ", ")))"
        guard parts.count == 3 else { throw EvaluationError.badOption(usage) }
        let factor = try Factor.parse(parts[0])
        let range = parts[1].components(separatedBy: "..")
        guard range.count == 2, let lo = Double(range[0]), let hi = Double(range[1]), lo.isFinite, hi.isFinite,
              let n = Int(parts[2]) else { throw EvaluationError.badOption(usage) }
        guard lo <= hi else { throw EvaluationError.badOption("\(option) \(text): MIN \(range[0]) is above MAX \(range[1]); write the smaller value first") }
        guard (1...16).contains(n) else { throw EvaluationError.badOption("\(option) \(text): N must be 1…16, got \(n)") }
        guard factor != .size || hi <= 1 else {
            throw EvaluationError.badOption("\(option) \(text): a patch wider than the image (size > 1) is bigger than the scene; use at most 1")
        }
        guard factor.allowed.contains(lo), factor.allowed.contains(hi) else {
            throw EvaluationError.badOption("\(option) \(text): \(factor.rawValue) must stay within \(factor.allowed.lowerBound)…\(factor.allowed.upperBound)")
        }
        let values = n == 1 ? [lo] : (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }
        return GridAxis(factor: factor, values: values)
    }
}

/// How a grid cell's top-1 relates to the target and the clean scene.
public enum CellOutcome: String, Codable, Sendable {
    /// top-1 is the target.
    case target
    /// top-1 is some other class than the clean scene's.
    case other
    /// top-1 is the clean scene's.
    case unchanged

    init(_ o: SampleOutcome, target: Int?) {
        if let t = target, o.top1 == t { self = .target } else if o.flipped { self = .other } else { self = .unchanged }
    }
}

public struct GridCell: Sendable {
    /// The model input (S, S, 3).
    public var pixels: [Float]
    public var top1: Int
    public var probability: Float
    public var outcome: CellOutcome
}

public struct ContactSheet: Sendable {
    public var rows: GridAxis
    public var columns: GridAxis
    /// (rows, columns).
    public var cells: [[GridCell]]
    public var imageSize: Int
    public var cleanTop1: Int
    public var sceneName: String
    public var modelName: String
    public var patchName: String
    public var target: Int?
}

public enum GridMaker {
    /// The sample every cell starts from: each factor at its range's midpoint, the patch (or
    /// object) centred, no colour cast or printer change, no JPEG. Deterministic.
    public static func baseSample(distribution: TransformDistribution, imageSize: Int, patchAspect: Double) -> TransformSample {
        var d = distribution
        for f in Factor.allCases { let r = f.range(in: d); f.pin((r.min + r.max) / 2, in: &d) }
        d.placement = .region(x: .fixed(0.5), y: .fixed(0.5))
        d.offset = .fixed((d.offset.min + d.offset.max) / 2)
        d.colorCast = .fixed(0)
        d.printerGain = .fixed(1); d.printerBias = .fixed(0)
        d.jpegQuality = nil
        // Objects: centred, lit from the camera's front right, 45° up.
        d.object?.x = .fixed(0.5); d.object?.y = .fixed(0.5)
        d.object?.lightAzimuth = .fixed(45); d.object?.lightElevation = .fixed(45)
        var rng = SplitMix64(seed: 0)
        return d.sample(imageWidth: imageSize, imageHeight: imageSize, patchAspect: patchAspect, using: &rng)
    }

    static func check(_ rows: GridAxis, _ columns: GridAxis) throws {
        guard rows.factor != columns.factor else {
            throw EvaluationError.badOption("--rows and --cols both sweep \(rows.factor.rawValue); give two different factors")
        }
    }

    /// Renders the patch into `scene` (an index into the bench's scenes) at every grid point.
    public static func contactSheet(patch: PatchArtifact, bench: ModelBench, scene: Int, sceneName: String,
                                    rows: GridAxis, columns: GridAxis, base: TransformSample) throws -> ContactSheet {
        try check(rows, columns)
        guard bench.scenes.indices.contains(scene) else { throw EvaluationError.badOption("scene \(scene) is not loaded") }
        var samples: [EvaluationSample] = []
        for r in rows.values {
            for c in columns.values {
                var t = base
                rows.factor.set(r, in: &t)
                columns.factor.set(c, in: &t)
                do { try t.validate() } catch { throw EvaluationError.badOption("grid point \(rows.factor.rawValue)=\(r), \(columns.factor.rawValue)=\(c): \(error)") }
                samples.append(EvaluationSample(scene: scene, transform: t))
            }
        }
        var images: [[Float]]? = []
        let outcomes = try bench.score(texture: patch.texture, mask: patch.mask, mesh: try patch.meshSurface(), samples: samples[...], target: patch.target, keep: &images)
        let kept = images ?? []
        let nc = columns.values.count
        let cells = rows.values.indices.map { r in
            columns.values.indices.map { c -> GridCell in
                let o = outcomes[r * nc + c]
                return GridCell(pixels: kept[r * nc + c], top1: o.top1, probability: o.top1Probability, outcome: CellOutcome(o, target: patch.target))
            }
        }
        return ContactSheet(rows: rows, columns: columns, cells: cells, imageSize: bench.inputSize, cleanTop1: bench.cleanTop1[scene],
                            sceneName: sceneName, modelName: bench.model.name, patchName: patch.name, target: patch.target)
    }

    /// Success (targeted top-1, or flip when untargeted) over `samplesPerCell` random samples of
    /// `distribution` per cell, with the two factors pinned at the cell's values; scenes go
    /// round-robin over the bench's scenes. Deterministic for a seed.
    public static func heatMap(patch: PatchArtifact, bench: ModelBench, rows: GridAxis, columns: GridAxis,
                               distribution: TransformDistribution, samplesPerCell: Int, seed: UInt64) throws -> HeatMap {
        try check(rows, columns)
        guard (1...10_000).contains(samplesPerCell) else {
            throw EvaluationError.badOption("--heatmap-samples must be 1…10000, got \(samplesPerCell)")
        }
        var rng = SplitMix64(seed: seed ^ SeedSalt.heatMap)
        var samples: [EvaluationSample] = []
        var k = 0
        for r in rows.values {
            for c in columns.values {
                var d = distribution
                rows.factor.pinSampleValue(r, in: &d)
                columns.factor.pinSampleValue(c, in: &d)
                for _ in 0..<samplesPerCell {
                    let t = d.sample(imageWidth: bench.inputSize, imageHeight: bench.inputSize, patchAspect: patch.aspect, using: &rng)
                    samples.append(EvaluationSample(scene: k % bench.scenes.count, transform: t))
                    k += 1
                }
            }
        }
        let outcomes = try bench.score(texture: patch.texture, mask: patch.mask, mesh: try patch.meshSurface(), samples: samples[...], target: patch.target)
        var cells: [[Proportion]] = []
        var i = 0
        for _ in rows.values {
            var row: [Proportion] = []
            for _ in columns.values {
                var p = Proportion(successes: 0, trials: 0)
                for _ in 0..<samplesPerCell {
                    let o = outcomes[i]; i += 1
                    p.add(patch.target.map { o.top1 == $0 } ?? o.flipped)
                }
                row.append(p)
            }
            cells.append(row)
        }
        return HeatMap(rowFactor: rows.factor.rawValue, columnFactor: columns.factor.rawValue, rowValues: rows.values,
                       columnValues: columns.values, cells: cells,
                       note: "\(samplesPerCell) random samples per cell (other factors drawn from the distribution), seed \(seed)")
    }
}

/// One `grid` call: a contact sheet of a patch over two factors on one scene, and optionally a
/// success heat map over the same factors on the held-out scenes; writes the PNGs.
public struct GridJob {
    public var patch: PatchArtifact
    public var rows: GridAxis, columns: GridAxis
    /// nil: the run's first model, else lite0.
    public var modelSpec: String?
    /// Preprocessing flags of an ONNX model (override its sidecar).
    public var modelFlags = ModelFlags()
    /// nil: the run's distribution, else `physical`.
    public var distribution: TransformDistribution?
    /// The contact sheet's scene photo; nil: the first scene of `sceneFolder`.
    public var scene: String?
    public var sceneFolder: String
    /// Random samples per heat-map cell; nil: no heat map.
    public var heatMapSamples: Int?
    public var seed: UInt64 = 0
    /// The contact sheet PNG; the heat map goes beside it as NAME_heatmap.png.
    public var out: String

    public init(patch: PatchArtifact, rows: GridAxis, columns: GridAxis, sceneFolder: String, out: String) {
        self.patch = patch; self.rows = rows; self.columns = columns; self.sceneFolder = sceneFolder; self.out = out
    }

    public struct Outcome { public var modelName: String; public var targetCells: Int; public var cells: Int; public var written: [String] }

    public func run() throws -> Outcome {
        let spec = modelSpec ?? patch.models.first ?? "lite0"
        let labels = try ModelLoader.labels(spec, flags: modelFlags)
        let network = try PatchEvaluator.loadModels([spec], flags: modelFlags)[0]
        let dist = distribution ?? patch.distribution ?? .physical
        for axis in [rows, columns] where axis.factor.objectKeys != nil && dist.object == nil {
            throw EvaluationError.badOption("\(axis.factor.rawValue) turns a 3D object, and \(patch.name) is a flat patch (its distribution poses no object); use roll, yaw, pitch, size or a lighting factor")
        }
        let sheetScenes = try scene.map { try SceneSet.load(paths: [$0]) } ?? SceneSet.load(directory: sceneFolder)
        let sheetBench = try ModelBench(model: network, scenes: sheetScenes, batch: 16)
        let base = GridMaker.baseSample(distribution: dist, imageSize: network.inputSize, patchAspect: patch.aspect)
        let sheet = try GridMaker.contactSheet(patch: patch, bench: sheetBench, scene: 0, sceneName: (sheetScenes.paths[0] as NSString).lastPathComponent,
                                               rows: rows, columns: columns, base: base)
        try Pictures.contactSheet(sheet, labels: labels).writePNG(to: out)
        var written = [out]
        if let samplesPerCell = heatMapSamples {
            let bench = try ModelBench(model: network, scenes: try SceneSet.load(directory: sceneFolder), batch: 32)
            let map = try GridMaker.heatMap(patch: patch, bench: bench, rows: rows, columns: columns, distribution: dist,
                                            samplesPerCell: samplesPerCell, seed: seed)
            let path = String(out.dropLast(4)) + "_heatmap.png"
            let goal = patch.target.map { "targeted top-1 \(labels[$0])" } ?? "top-1 changed"
            try Pictures.heatMap(map, title: "success (\(goal)) of \(patch.name) on \(network.name)").writePNG(to: path)
            written.append(path)
        }
        return Outcome(modelName: network.name, targetCells: sheet.cells.flatMap { $0 }.filter { $0.outcome == .target }.count,
                       cells: rows.values.count * columns.values.count, written: written)
    }
}
