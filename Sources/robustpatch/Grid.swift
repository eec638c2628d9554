// `robustpatch grid`: flags → Evaluation's GridJob (contact sheet over two factors, heat map).
import ArgumentParser
import Evaluation
import Foundation
import Networks
import ONNX
import Runs

struct Grid: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a patch over a grid of two factors (contact sheet) and a success heat map.",
        discussion: """
        Axes are FACTOR:MIN..MAX:N with FACTOR one of \(Factor.names.joined(separator: ", ")). \
        Contact-sheet cells start from the distribution's midpoint (patch centred, every other factor \
        at the middle of its range) and are framed green (top-1 = target), red (another class) or grey \
        (unchanged from the clean scene). Heat-map cells are the success rate over --heatmap-samples \
        random samples of the distribution with the two factors pinned (scenes round-robin).
        """)

    @Option(help: "A generate run folder, or a patch PNG (RGBA, or RGB with --mask/--shape).") var patch: String
    @OptionGroup var outline: PatchOutlineOptions
    @Option(help: "Target class (index or name) for a PNG patch, or to override a run's target.") var target: String?
    @Option(help: "Rows: FACTOR:MIN..MAX:N, e.g. roll:-45..45:5.") var rows: String
    @Option(help: "Columns: FACTOR:MIN..MAX:N, e.g. size:0.2..0.5:5.") var cols: String
    @Option(help: "Scene photo of the contact sheet (default: the first held-out scene of --scenes).") var scene: String?
    @OptionGroup var sceneOption: SceneOption
    @OptionGroup var models: ModelOption
    @OptionGroup var distributionOptions: DistributionOptions
    @Flag(help: "Also write a success heat map over the two factors to OUT_heatmap.png.") var heatmap = false
    @Option(parsing: .unconditional, help: "Random samples per heat-map cell.") var heatmapSamples = 16
    @Option(parsing: .unconditional, help: "Seed of the heat map's samples.") var seed: UInt64 = 0
    @Option(help: "Output PNG of the contact sheet.") var out: String

    func validate() throws {
        guard out.lowercased().hasSuffix(".png") else { throw ValidationError("--out must name a .png file, got \(out)") }
        if let specs = models.specs, specs.count > 1 {
            throw ValidationError("--model: grid renders for one model, got '\(models.model ?? "")'; run grid once per model (evaluate compares several)")
        }
        guard (1...10_000).contains(heatmapSamples) else {
            throw ValidationError("--heatmap-samples must be 1…10000 samples per cell, got \(heatmapSamples)")
        }
    }

    func run() throws {
        var p = try PatchArtifact.load(patch, maskPath: outline.mask, shape: outline.shape)
        let given = try models.flags()
        let flags = given.isEmpty && models.specs == nil ? p.modelFlags : given
        if let t = target { p.target = try ModelLoader.labels(models.specs?.first ?? p.models.first ?? "lite0", flags: flags).index(of: t) }
        var job = GridJob(patch: p, rows: try GridAxis.parse(rows, option: "--rows"), columns: try GridAxis.parse(cols, option: "--cols"),
                          sceneFolder: sceneOption.heldOutFolder(), out: out)
        job.modelSpec = models.specs?.first
        job.modelFlags = flags
        job.distribution = try distributionOptions.resolved()?.value
        job.scene = scene
        job.heatMapSamples = heatmap ? heatmapSamples : nil
        job.seed = seed
        let o = try job.run()
        print("grid: \(p.name) on \(o.modelName), \(job.rows.factor.rawValue) × \(job.columns.factor.rawValue), \(o.targetCells)/\(o.cells) cells predict the target")
        print("wrote " + o.written.joined(separator: "\n      "))
    }
}
