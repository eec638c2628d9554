// `robustpatch calibration-chart`: writes the printable colour chart (PNG with DPI) and its
// layout sidecar (JSON). Thin: options → ChartOptions → Calibration library.
import ArgumentParser
import Calibration
import Foundation
import Imaging

struct CalibrationChart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibration-chart",
        abstract: "Write a colour-calibration chart to print (PNG) and its layout (JSON).",
        discussion: """
        The chart is a grid of colour patches (a grey ramp, then well-spread colours) framed by \
        four black corner markers. Print it at 100% (no scaling) on the printer and paper you \
        will print patches with, photograph it flat in the light you will test in, and run \
        `robustpatch calibrate --photo PHOTO --chart CHART.json`. The layout JSON is written \
        beside the PNG with the same name and extension .json.
        """)

    @Option(help: "Print resolution in dots per inch (50–600).")
    var dpi: Double = 300

    @Option(help: "Paper: a4 or letter (portrait).")
    var paper: String = "a4"

    @Option(help: "Patch grid as COLUMNSxROWS, 3–16 each (e.g. 6x6, 8x8, 12x10).")
    var patches: String = "8x8"

    @Option(help: "Output PNG path (the layout goes to the same path with extension .json).")
    var out: String

    func validate() throws {
        guard let p = Paper(name: paper), ChartOptions.papers.contains(p) else {
            throw ValidationError("--paper must be one of \(ChartOptions.papers.map(\.rawValue).joined(separator: ", ")), got '\(paper)'")
        }
        guard out.lowercased().hasSuffix(".png") else { throw ValidationError("--out must end in .png, got '\(out)'") }
    }

    func run() throws {
        let grid = try ChartOptions.parseGrid(patches)
        let options = ChartOptions(dpi: dpi, paper: Paper(name: paper) ?? .a4, rows: grid.rows, columns: grid.columns)
        let layout = try ChartLayout.make(options)
        let jsonPath = Self.sidecarPath(for: out)
        try layout.render().writePNG(to: out, dpi: dpi)
        try layout.write(to: jsonPath)
        let mm = 25.4 / dpi
        print("Calibration chart: \(layout.columns)×\(layout.rows) = \(layout.patches.count) patches, "
            + "\(layout.width)×\(layout.height) px at \(String(format: "%g", dpi)) dpi (\(options.paper.rawValue), "
            + String(format: "%.0f×%.0f mm", Double(layout.width) * mm, Double(layout.height) * mm) + ")")
        print(String(format: "  patch %.1f mm, marker %.1f mm; print at 100%%, no scaling, no colour correction",
                     Double(layout.patches[0].width) * mm, Double(layout.markers[0].size) * mm))
        print("Wrote:")
        print("  \(out)")
        print("  \(jsonPath)")
    }

    static func sidecarPath(for png: String) -> String {
        (png as NSString).deletingPathExtension + ".json"
    }
}
