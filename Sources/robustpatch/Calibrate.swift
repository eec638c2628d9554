// `robustpatch calibrate`: fits the printed→captured colour transform and the printable palette
// from a photo of a printed calibration chart. Thin: reads files, calls Calibrator, writes files.
import ArgumentParser
import Calibration
import Foundation
import Imaging

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure printer + camera colours from a photo of a printed calibration chart.",
        discussion: """
        Finds the chart's four corner markers (or takes --corners), maps the chart onto the photo \
        with a homography, takes a trimmed mean of the centre of every patch and fits \
        captured = M · printed + b (3×3 + bias, and per-channel gain/bias) by least squares. \
        Writes calibration.json (matrix, bias, residual, palette, markers, provenance), the \
        measured palette as a palette file (one "R G B" 0–255 per line, for --palette), and a \
        rectified view of the chart with the sampled regions outlined, to check by eye.
        """)

    @Option(help: "Photo of the printed chart (PNG or JPEG).") var photo: String
    @Option(help: "The chart layout JSON written by calibration-chart (default: the built-in a4, 300 dpi, 8x8 chart).") var chart: String?
    @Option(help: "Marker centres in photo pixels: x1,y1,x2,y2,x3,y3,x4,y4 (top-left, top-right, bottom-right, bottom-left of the chart). Skips marker detection.") var corners: String?
    @Option(help: "Output calibration JSON.") var out: String
    @Option(help: "Palette file to write (default: OUT with -palette.txt).") var paletteOut: String?
    @Option(help: "Rectified check image to write, a .png (default: OUT with -rectified.png).") var rectifiedOut: String?

    func validate() throws {
        guard out.lowercased().hasSuffix(".json") else { throw ValidationError("--out must end in .json, got '\(out)'") }
        if let rectifiedOut, !rectifiedOut.lowercased().hasSuffix(".png") {
            throw ValidationError("--rectified-out must end in .png (the check image is written as PNG), got '\(rectifiedOut)'")
        }
    }

    func run() throws {
        // Every output is named and its folder checked before any work, so nothing is half-written.
        let outputs = try CalibrationOutputs(out: out, paletteOut: paletteOut, rectifiedOut: rectifiedOut,
                                             inputs: [("--photo", photo)] + (chart.map { [("--chart", $0)] } ?? []))
        let palettePath = outputs.palette, rectifiedPath = outputs.rectified
        let givenCorners = try corners.map { text throws(CalibrationError) in try Calibrator.parseCorners(text) }
        let layout: ChartLayout, chartName: String
        if let chart {
            layout = try ChartLayout.read(from: chart); chartName = chart
        } else {
            layout = try ChartLayout.make(ChartOptions()); chartName = "built-in default (a4, 300 dpi, 8x8)"
        }
        let image: Image
        do { image = try Image.read(from: photo) } catch { throw CalibrationError.photoUnreadable(reason: error.description) }

        let result = try Calibrator.calibrate(photo: image, photoName: photo, layout: layout, chartName: chartName,
                                              corners: givenCorners, tool: "robustpatch \(ToolInfo.version)",
                                              date: ISO8601DateFormatter().string(from: Date()))
        let c = result.calibration
        try c.write(to: out)
        do { try AtomicFile.write(c.paletteFileText(), to: palettePath) } catch {
            throw CalibrationError.calibrationFile(path: palettePath, reason: "cannot write the palette: \(error.reason).")
        }
        try Calibrator.rectified(photo: image, layout: layout, photoFromChart: result.photoFromChart).writePNG(to: rectifiedPath)

        print("Markers in \(photo) (\(image.width)×\(image.height)):")
        for m in c.markers {
            print("  " + m.name.padding(toLength: 13, withPad: " ", startingAt: 0) + String(format: "%8.1f %8.1f   ", m.x, m.y) + m.source)
        }
        print("Colour transform printed → captured (RGB 0–1), \(c.palette.count) patches:")
        for (k, name) in ["R", "G", "B"].enumerated() {
            print(String(format: "  %@' = %6.3f R %+6.3f G %+6.3f B %+6.3f", name, c.matrix[k * 3], c.matrix[k * 3 + 1], c.matrix[k * 3 + 2], c.bias[k]))
        }
        print(String(format: "  residual RMS %.2f, max %.2f (0–255)", c.residualRMS, c.residualMax))
        print(String(format: "Per-channel gain/bias: R %.3f %+.3f, G %.3f %+.3f, B %.3f %+.3f; residual RMS %.2f%@",
                     c.channelGain[0], c.channelBias[0], c.channelGain[1], c.channelBias[1], c.channelGain[2], c.channelBias[2],
                     c.channelResidualRMS, c.isNearlyDiagonal() ? "" : " (channels mix: the 3×3 is not near diagonal)"))
        if c.residualRMS > 10 {
            print("Warning: the fit residual is large; check the rectified image and that the photo is evenly lit.")
        }
        print("Wrote:")
        print("  \(out)")
        print("  \(palettePath)")
        print("  \(rectifiedPath)")
    }
}
