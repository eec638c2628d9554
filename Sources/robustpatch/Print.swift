// `robustpatch print`: a print-ready sheet of a patch at true physical size (PNG with pHYs),
// plus the patch alone and a JSON sidecar. Thin: parses options, calls Printing, lists files.
import ArgumentParser
import Foundation
import Imaging
import Meshes
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
        (sizes and pixel boxes, for checking). \
        A `generate --mesh` run prints as a wrap-around label at its object's size (no --size): a \
        cylinder's label is circumference × height plus a glue margin that continues the pattern; \
        a box's is its net with fold lines and glue tabs.
        """)

    @Option(help: "A generate run folder (patch.png, mask.png, run.json), or a patch PNG (RGBA: alpha is the mask; RGB: give --mask or --shape).")
    var patch: String

    @OptionGroup var outline: PatchOutlineOptions

    @Option(help: "Width of the patch on paper, with a unit: 10cm, 100mm, 4in. (Mesh runs: the object's own size.)")
    var size: String?

    @Option(help: "Mesh runs, cylinder: the glue margin that overlaps the label's start, with a unit. (default: 10mm)")
    var glue: String?

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
        let artifact = try PatchArtifact.load(patch, maskPath: outline.mask, shape: outline.shape)
        if let mesh = artifact.mesh { return try printLabel(artifact, mesh: mesh) }
        if glue != nil { throw CommandError("--glue is the glue margin of a mesh run's wrap-around label; \(patch) is a flat patch: drop --glue") }
        guard let size else { throw CommandError("--size is missing: give the patch's width on paper with a unit, e.g. --size 10cm") }
        // Parsed here, not in validate(): their errors are one line, without the usage text.
        let spec = try PrintSpec(patchWidth: try PhysicalLength(parsing: size), dpi: try PrintSpec.parseDPI(dpi),
                                 paper: try Paper(parsing: paper), copies: copies)
        _ = try PrintOutputFiles(sheet: out)  // a wrong --out is refused before any work
        let artwork = PatchArtwork(artifact)
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

    /// A mesh run's texture as a wrap-around label at the object's size.
    func printLabel(_ artifact: PatchArtifact, mesh: MeshSpec) throws {
        if size != nil { throw CommandError("--size: \(artifact.name) textures a \(mesh), and its label is printed at that object's size; drop --size") }
        if copies != 1 { throw CommandError("--copies: a wrap-around label is printed once per sheet; drop --copies") }
        let geometry: LabelGeometry
        switch mesh {
        case let .cylinder(d, h): geometry = .cylinder(diameterMM: d, heightMM: h)
        case let .box(w, h, d): geometry = .box(widthMM: w, heightMM: h, depthMM: d)
        case let .sphere(d): geometry = .sphere(diameterMM: d)
        case let .file(path):
            throw CommandError("\(artifact.name) textures \(path), whose UV map is not a printable label; print its patch.png as a flat sticker with --size, or use a cylinder or box mesh")
        }
        let glueMM = try glue.map { try PhysicalLength(parsing: $0).millimetres } ?? WrapLabelSpec.defaultGlueMarginMM
        let spec = try WrapLabelSpec(dpi: try PrintSpec.parseDPI(dpi), paper: try Paper(parsing: paper), glueMarginMM: glueMM)
        _ = try PrintOutputFiles(sheet: out)  // a wrong --out is refused before any work
        let info = PatchArtwork(artifact).info
        let target = info.targetLabel.map { "target \($0)" } ?? "untargeted"
        let caption = "\(target) - \(info.models.joined(separator: "+")) - \(mesh.description.replacingOccurrences(of: "×", with: "x")) - \(artifact.name)"   // the font is ASCII
        let (sheet, layout) = try WrapLabelSheet.render(texture: artifact.textureImage, geometry: geometry, spec: spec, caption: caption)
        let files = try WrapLabelSheet.write(sheet: sheet, layout: layout, to: out)
        print(String(format: "label  %.1f × %.1f mm (%@)%@ at %d dpi", layout.labelWidthMm, layout.labelHeightMm, mesh.description,
                     layout.glueMarginMm > 0 && geometry.kind == "can" ? String(format: " + %.0f mm glue margin", layout.glueMarginMm) : "", spec.dpi))
        print(String(format: "sheet  %@, %d × %d px%@", spec.paper.rawValue, layout.sheetWidthPx, layout.sheetHeightPx, layout.rotated ? ", label turned 90°" : ""))
        print("Print at 100% (no scaling, no fit-to-page); the scale bar must measure exactly 1 cm.")
        print("wrote  \(files.sheet)")
        print("       \(files.sidecar)")
    }
}
