// `robustpatch grid`: a contact sheet of the patch rendered over two factors (each cell labelled
// with the model's top-1) and, with --heatmap, a success heat map over the same two factors.
// Thin: parses the axes, calls Evaluation's GridMaker and Pictures, writes the PNGs.
import ArgumentParser
import Attack
import Evaluation
import Foundation
import Networks
import Transforms

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

    @Option(help: "A generate run folder, or a patch PNG (RGBA, or RGB with --mask/--shape).")
    var patch: String

    @Option(help: "Mask PNG for an RGB patch PNG.")
    var mask: String?

    @Option(help: "Outline for an RGB patch PNG: circle, square or rect:WxH.")
    var shape: String?

    @Option(help: "Target class (index or name) for a PNG patch, or to override a run's target.")
    var target: String?

    @Option(help: "Rows: FACTOR:MIN..MAX:N, e.g. roll:-45..45:5.")
    var rows: String

    @Option(help: "Columns: FACTOR:MIN..MAX:N, e.g. size:0.2..0.5:5.")
    var cols: String

    @Option(help: "Scene photo of the contact sheet (default: the first image of --scenes).")
    var scene: String?

    @Option(help: "Scene folder for the heat map (a folder with val/ uses val/).")
    var scenes = "Samples/scenes/val"

    @Option(help: "Model: lite0, lite1, lite2 or a file (default: the run's first model, else lite0).")
    var model: String?

    @Option(help: "Transform distribution preset (default: the run's distribution, else digital).")
    var preset: String?

    @Option(help: "Transform distribution JSON file (instead of --preset).")
    var distribution: String?

    @Flag(help: "Also write a success heat map over the two factors to OUT_heatmap.png.")
    var heatmap = false

    @Option(parsing: .unconditional, help: "Random samples per heat-map cell.")
    var heatmapSamples = 16

    @Option(parsing: .unconditional, help: "Seed of the heat map's samples.")
    var seed: UInt64 = 0

    @Option(help: "Output PNG of the contact sheet.")
    var out: String

    func validate() throws {
        guard out.lowercased().hasSuffix(".png") else { throw ValidationError("--out must name a .png file, got \(out)") }
        if preset != nil && distribution != nil { throw ValidationError("give either --preset or --distribution, not both") }
        if let m = model, m.contains(",") {
            throw ValidationError("--model: grid renders for one model, got '\(m)'; run grid once per model (evaluate compares several)")
        }
        guard (1...10_000).contains(heatmapSamples) else {
            throw ValidationError("--heatmap-samples must be 1…10000 samples per cell, got \(heatmapSamples)")
        }
    }

    func run() throws {
        let labels = try ClassLabels.imageNet()
        var p = try EvaluatedPatch.load(patch, maskPath: mask, shape: shape)
        if let t = target { p.target = try labels.index(of: t) }
        let rowAxis = try GridAxis.parse(rows, option: "--rows"), colAxis = try GridAxis.parse(cols, option: "--cols")
        let network = try PatchEvaluator.loadModels([model ?? p.models.first ?? "lite0"])[0]
        let dist: TransformDistribution
        if let file = distribution {
            dist = try DistributionFile.read(file)
        } else if let name = preset { dist = try TransformDistribution.preset(named: name) } else { dist = p.distribution ?? .digital }
        let sceneFolder = Evaluate.heldOutFolder(scenes)
        let sheetScenes = try scene.map { try SceneSet.load(paths: [$0]) } ?? SceneSet.load(directory: sceneFolder)
        let sheetBench = try ModelBench(model: network, scenes: sheetScenes, batch: 16)
        let base = GridMaker.baseSample(distribution: dist, imageSize: network.inputSize, patchAspect: p.aspect)
        let sheet = try GridMaker.contactSheet(patch: p, bench: sheetBench, scene: 0, sceneName: (sheetScenes.paths[0] as NSString).lastPathComponent,
                                               rows: rowAxis, columns: colAxis, base: base)
        try Pictures.contactSheet(sheet, labels: labels).writePNG(to: out)
        var written = [out]
        let hits = sheet.cells.flatMap { $0 }.filter { $0.outcome == .target }.count
        print("grid: \(p.name) on \(network.name), \(rowAxis.factor.rawValue) × \(colAxis.factor.rawValue), \(hits)/\(rowAxis.values.count * colAxis.values.count) cells predict the target")
        if heatmap {
            let heatScenes = try SceneSet.load(directory: sceneFolder)
            let bench = try ModelBench(model: network, scenes: heatScenes, batch: 32)
            let map = try GridMaker.heatMap(patch: p, bench: bench, rows: rowAxis, columns: colAxis, distribution: dist,
                                            samplesPerCell: heatmapSamples, seed: seed)
            let path = String(out.dropLast(4)) + "_heatmap.png"
            let goal = p.target.map { "targeted top-1 \(labels[$0])" } ?? "top-1 changed"
            try Pictures.heatMap(map, title: "success (\(goal)) of \(p.name) on \(network.name)").writePNG(to: path)
            written.append(path)
        }
        print("wrote " + written.joined(separator: "\n      "))
    }
}
