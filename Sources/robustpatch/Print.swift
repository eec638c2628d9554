// `robustpatch print`: a print-ready sheet of a patch at true physical size (PNG with pHYs),
// plus the patch alone and a JSON sidecar. Thin: parses options, calls Printing, lists files.
import ArgumentParser
import Foundation
import Imaging
import Printing
import Runs

struct PrintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print",
        abstract: "Make a print-ready sheet with the patch at its true physical size.",
        discussion: """
        The texture is enlarged smoothly (bilinear) to exactly round(size / 25.4 mm × dpi) pixels \
        across, white paper outside its mask, with crop marks, a 1 cm (1 in for Letter or inch \
        sizes) scale bar and a caption. The PNG records the DPI, so printing it at 100% (no \
        scaling, no fit-to-page) gives the requested size; measure the scale bar to check. \
        Also writes NAME_patch.png (the patch alone, transparent outside the mask) and NAME.json \
        (sizes and pixel boxes, for checking).
        """)

    @Option(help: "A generate run folder (patch.png, mask.png, run.json), or a patch PNG (RGBA: alpha is the mask; RGB: give --mask or --shape).")
    var patch: String

    @OptionGroup var outline: PatchOutlineOptions

    @Option(help: "Width of the patch on paper, with a unit: 10cm, 100mm, 4in.")
    var size: String

    // A string, parsed in run(): a fractional or non-numeric value gets Printing's one-line
    // message (whole number, 72...1200) instead of the parser's bare "invalid value".
    @Option(help: "Printer resolution in dots per inch, a whole number (72...1200).")
    var dpi = "300"

    @Option(help: "a4, letter, a3, or fit (a sheet just big enough).")
    var paper = "a4"

    @Option(help: "How many copies to lay out in a grid (1...100).")
    var copies = 1

    @Option(help: "Output PNG, e.g. Printouts/toaster.png.")
    var out: String

    func run() throws {
        // Parsed here, not in validate(): their errors are one line, without the usage text.
        let spec = try PrintSpec(patchWidth: try PhysicalLength(parsing: size), dpi: try PrintSpec.parseDPI(dpi),
                                 paper: try Paper(parsing: paper), copies: copies)
        _ = try PrintOutputFiles(sheet: out)  // a wrong --out is refused before any work
        let artwork = PatchArtwork(try PatchArtifact.load(patch, maskPath: outline.mask, shape: outline.shape))
        let printed = try PrintSheet.render(artwork, spec: spec)
        let files = try printed.write(to: out)
        let layout = printed.layout
        let mmPerPixel = 25.4 / Double(spec.dpi)
        print("patch  \(spec.patchWidth) wide = \(layout.patchWidth) × \(layout.patchHeight) px at \(spec.dpi) dpi"
              + (spec.copies > 1 ? ", \(spec.copies) copies (\(layout.columns) × \(layout.rows))" : ""))
        print(String(format: "sheet  %@, %d × %d px = %.1f × %.1f mm", spec.paper.rawValue,
                     layout.sheetWidth, layout.sheetHeight,
                     Double(layout.sheetWidth) * mmPerPixel, Double(layout.sheetHeight) * mmPerPixel))
        print("Print at 100% (no scaling, no fit-to-page); the scale bar must measure exactly "
              + (spec.usesInches ? "1 in." : "1 cm."))
        for path in files.all { print("wrote  \(path)") }
    }
}
