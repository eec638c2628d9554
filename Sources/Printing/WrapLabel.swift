// `WrapLabelSheet`: prints a texture optimised for a 3D mesh (issue 22) as a label at true size —
// a can's wrap-around label with a glue margin, or a box's net with fold lines and glue tabs.
// Not a general net unfolder: only the procedural cylinder and box of `Meshes` (same UV layouts).
//
// Conventions (the same as `Mesh.cylinder` and `Mesh.box`):
// - cylinder: texture u (left → right) = angle around the axis 0…360°, image top row = top of
//   the can; the label is π·d × h. A glue margin on the right repeats the label's first
//   columns, so the pattern continues across the seam when the margin is glued under the start.
// - box: the texture is the whole net, (2w + 2d) × (h + 2d) mm, in net millimetres (u, v) with
//   v measured UP from the image's bottom row. Middle band v ∈ [d, d + h]: front u ∈ [0, w],
//   right [w, w + d], back [w + d, 2w + d], left [2w + d, 2w + 2d]; top u ∈ [0, w],
//   v ∈ [d + h, h + 2d]; bottom u ∈ [0, w], v ∈ [0, d]. Only these six faces are printed.
// - sheet pixels: origin top-left, a length of x mm spans round(x / 25.4 · dpi) pixels.
import Foundation
import Drawing
import Imaging

/// The object a label is printed for. Sizes in millimetres.
public enum LabelGeometry: Sendable, Equatable {
    /// A can or bottle: the label wraps its side.
    case cylinder(diameterMM: Double, heightMM: Double)
    /// A cereal box: the label is its net (width × height is the front face, depth the sides).
    case box(widthMM: Double, heightMM: Double, depthMM: Double)
    /// A ball: its latitude–longitude texture cannot be flattened, so `WrapLabelSheet` refuses it.
    case sphere(diameterMM: Double)

    /// The largest accepted size: as `PhysicalLength.maximumMillimetres` (1 m).
    public static let maximumMillimetres = PhysicalLength.maximumMillimetres

    /// "can", "box", "sphere": for messages and the sidecar.
    public var kind: String {
        switch self {
        case .cylinder: return "can"
        case .box: return "box"
        case .sphere: return "sphere"
        }
    }

    /// Each size, named for messages.
    var sizes: [(name: String, millimetres: Double)] {
        switch self {
        case .cylinder(let d, let h): return [("diameter", d), ("height", h)]
        case .box(let w, let h, let d): return [("width", w), ("height", h), ("depth", d)]
        case .sphere(let d): return [("diameter", d)]
        }
    }

    /// Throws unless every size is finite, greater than 0 and at most 1000 mm.
    public func validate() throws(PrintError) {
        for (name, value) in sizes where !(value.isFinite && value > 0 && value <= Self.maximumMillimetres) {
            throw .wrapLabel(.badSize(object: kind, name: name, millimetres: value))
        }
    }

    /// The label proper, without glue margin or tabs: π·d × h for a can, the net (2w + 2d) × (h + 2d)
    /// for a box, the latitude–longitude map at the equator's scale (π·d × π·d / 2) for a sphere.
    public var labelSizeMM: (width: Double, height: Double) {
        switch self {
        case .cylinder(let d, let h): return (Double.pi * d, h)
        case .box(let w, let h, let d): return (2 * w + 2 * d, h + 2 * d)
        case .sphere(let d): return (Double.pi * d, Double.pi * d / 2)
        }
    }

    /// The printed artwork: a can's label plus its glue margin on the right; a box's net plus a
    /// tab of `glueMarginMM` on each side (left of the top and bottom faces, right of the left
    /// face and of the top and bottom faces); a sphere's map as is.
    public func printedSizeMM(glueMarginMM: Double = WrapLabelSpec.defaultGlueMarginMM) -> (width: Double, height: Double) {
        let label = labelSizeMM
        switch self {
        case .cylinder: return (label.width + glueMarginMM, label.height)
        case .box: return (label.width + 2 * glueMarginMM, label.height)
        case .sphere: return label
        }
    }

    /// The perimeter the label wraps around: π·d for a can, 2w + 2d for a box (nil for a sphere).
    var perimeterMM: Double? {
        switch self {
        case .cylinder(let d, _): return Double.pi * d
        case .box(let w, _, let d): return 2 * w + 2 * d
        case .sphere: return nil
        }
    }

    var isBox: Bool { if case .box = self { return true } else { return false } }

    /// "can 66 x 115 mm", "box 100 x 150 x 40 mm (w x h x d)": ASCII, for captions.
    public var summary: String {
        switch self {
        case .cylinder(let d, let h): return "can \(Self.number(d)) x \(Self.number(h)) mm (d x h)"
        case .box(let w, let h, let d): return "box \(Self.number(w)) x \(Self.number(h)) x \(Self.number(d)) mm (w x h x d)"
        case .sphere(let d): return "sphere \(Self.number(d)) mm"
        }
    }

    /// "66", "207.3": at most one decimal ("%g" beyond ±1e15, "nan", "inf").
    static func number(_ mm: Double) -> String {
        guard mm.isFinite, abs(mm) < 1e15 else { return String(format: "%g", mm) }
        return mm == mm.rounded() ? String(Int(mm)) : String(format: "%.1f", mm)
    }
}

/// Why a wrap-around label cannot be made; thrown as `PrintError.wrapLabel`.
public enum WrapLabelProblem: Sendable, Equatable, CustomStringConvertible {
    case badSize(object: String, name: String, millimetres: Double)
    case sphereNotPrintable(diameterMM: Double)
    case badGlueMargin(millimetres: Double)
    /// The glue margin (or box tab) is more than half the perimeter it is glued around.
    case glueMarginTooLarge(millimetres: Double, object: String, halfPerimeterMM: Double)
    case textureTooSmall(width: Int, height: Int)
    /// Not even turned 90° does the artwork fit inside the paper's margins.
    case labelTooLarge(object: String, widthMM: Double, heightMM: Double, paper: Paper)

    public var description: String {
        func length(_ value: Double) -> String { "\(LabelGeometry.number(value)) mm" }
        let maximum = length(LabelGeometry.maximumMillimetres)
        switch self {
        case .badSize(let object, let name, let mm):
            return "\(object) \(name) \(length(mm)): each size must be a number of millimetres "
                + "greater than 0 and at most \(maximum)."
        case .sphereNotPrintable(let d):
            return "a sphere's latitude-longitude texture (diameter \(length(d))) cannot be printed "
                + "as one flat label: paper does not stretch over a ball. Use a cylinder or a box."
        case .badGlueMargin(let mm):
            return "glue margin \(length(mm)): give a length of at least 0 mm (10 mm is typical)."
        case .glueMarginTooLarge(let mm, let object, let half):
            return "glue margin \(length(mm)) is more than half way round the \(object) "
                + "(\(length(half))): use 0 to \(length(half)) (10 mm is typical)."
        case .textureTooSmall(let w, let h):
            return "the texture is \(w) x \(h) pixels; a label needs at least 2 x 2."
        case .labelTooLarge(let object, let w, let h, let paper):
            let bigger = paper == .a3 ? "" : "--paper a3 or "
            return "the \(object) label needs \(LabelGeometry.number(w)) x \(length(h)) "
                + "with its glue margin or tabs, which does not fit on \(paper.displayName) inside the "
                + "\(Int(PrintSpec.marginMillimetres)) mm margins, even turned 90 degrees. Use \(bigger)--paper fit."
        }
    }
}

/// How to print a wrap-around label. Validated at creation.
public struct WrapLabelSpec: Sendable, Equatable {
    public static let defaultGlueMarginMM = 10.0

    /// Printer dots per inch, in `PrintSpec.dpiRange` (parse `--dpi` text with `PrintSpec.parseDPI`).
    public var dpi: Int
    public var paper: Paper
    /// A can's overlap at the seam, and the depth of a box's glue tabs; 0 for none (tape instead).
    public var glueMarginMM: Double

    public init(dpi: Int = 300, paper: Paper = .a4, glueMarginMM: Double = WrapLabelSpec.defaultGlueMarginMM) throws(PrintError) {
        self.dpi = dpi
        self.paper = paper
        self.glueMarginMM = glueMarginMM
        try validate()
    }

    /// Throws unless the DPI is in range and the glue margin is a finite length ≥ 0 (its upper
    /// bound depends on the object: see `WrapLabelSheet.render`).
    public func validate() throws(PrintError) {
        guard PrintSpec.dpiRange.contains(dpi) else { throw .badDPI(dpi) }
        guard glueMarginMM.isFinite, glueMarginMM >= 0 else { throw .wrapLabel(.badGlueMargin(millimetres: glueMarginMM)) }
    }

    /// Printer pixels spanning `millimetres`, rounded (as `PrintSpec.pixels`).
    public func pixels(_ millimetres: Double) -> Int {
        Int((millimetres / PhysicalLength.millimetresPerInch * Double(dpi)).rounded())
    }
}

/// Where everything went on the sheet, in sheet pixels (origin top-left). Codable: the JSON sidecar.
public struct WrapLabelLayout: Sendable, Equatable, Codable {
    /// A named rectangle on the sheet: a box face ("front", "right", "back", "left", "top", "bottom").
    public struct Face: Sendable, Equatable, Codable {
        public var name: String
        public var rect: PixelRect
    }

    public var tool = "robustpatch print"
    /// "can" or "box".
    public var object: String
    public var dpi: Int
    public var paper: String
    public var sheetWidthPx: Int
    public var sheetHeightPx: Int
    /// Whether the artwork was turned 90° clockwise to fit the paper (the label's top edge is
    /// then at the sheet's right).
    public var rotated: Bool
    /// The label proper (π·d × h, or the box's net) and the whole artwork (with margin or tabs).
    public var labelWidthMm: Double
    public var labelHeightMm: Double
    public var printedWidthMm: Double
    public var printedHeightMm: Double
    public var glueMarginMm: Double
    /// Everything printed: label + glue margin, or net + tabs.
    public var artwork: PixelRect
    /// The can's label without its margin, or the box's net rectangle.
    public var label: PixelRect
    /// The can's glue margin (nil for a box or a margin of 0).
    public var glueMargin: PixelRect?
    /// The box's six faces (empty for a can).
    public var faces: [Face]
    /// The glue tabs' bounding boxes (box only).
    public var tabs: [PixelRect]
    public var scaleBarMm: Double
    public var scaleBarPx: Int
    public var captionLines: [String]
}

public enum WrapLabelSheet {
    /// Grey of the glue tabs: light enough to read as "not artwork", dark enough to see.
    static let tabGrey: Float = 0.85
    static let dashMillimetres = 3.0
    static let dashGapMillimetres = 2.0
    /// Caption lines: the caller's, the object, its size in pixels, how to assemble, how to print.
    static let captionLineCount = 5

    /// Draws `texture` as a label for `geometry`, at true size on `spec.paper` (see the file's
    /// conventions), with crop marks (can) or cut lines (box), dashed fold lines and the glue
    /// overlap, grey glue tabs, a 1 cm scale bar and `caption` (plus lines saying what to cut,
    /// fold and glue). The texture is stretched to the physical rectangle with `Image.resized`'s
    /// triangle filter, whatever its aspect ratio. Turned 90° if that is what fits.
    ///
    /// Throws for a sphere, sizes out of range, a texture under 2 × 2, a glue margin over half
    /// the perimeter, a label that does not fit the paper, or a sheet too large for an `Image`.
    public static func render(texture: Image, geometry: LabelGeometry, spec: WrapLabelSpec,
                              caption: String) throws(PrintError) -> (sheet: Image, layout: WrapLabelLayout) {
        try spec.validate()
        try geometry.validate()
        if case .sphere(let d) = geometry { throw .wrapLabel(.sphereNotPrintable(diameterMM: d)) }
        guard texture.width >= 2, texture.height >= 2 else {
            throw .wrapLabel(.textureTooSmall(width: texture.width, height: texture.height))
        }
        if let perimeter = geometry.perimeterMM, spec.glueMarginMM > perimeter / 2 {
            throw .wrapLabel(.glueMarginTooLarge(millimetres: spec.glueMarginMM, object: geometry.kind,
                                                 halfPerimeterMM: perimeter / 2))
        }
        let furniture = furnitureSizes(spec: spec)
        // Sizes first: a label that does not fit is refused before anything is resampled.
        let size = artworkPixels(geometry: geometry, spec: spec)
        // Crop marks around a can's label need gap + length outside it; a box's cut lines, half a line.
        let surround = geometry.isBox ? furniture.lineWidth : furniture.markGap + furniture.markLength
        let placed = try place(width: size.width, height: size.height, surround: surround, spec: spec,
                               furniture: furniture, geometry: geometry)
        let lines = captionLines(caption, geometry: geometry, spec: spec, rotated: placed.rotated,
                                 widthPx: size.label.width, heightPx: size.label.height)
        let captionWidth = lines.map { Image.textWidth($0, scale: furniture.textScale) }.max() ?? 0
        let sheetW = spec.paper.millimetres == nil ? max(placed.sheetWidth, 2 * furniture.margin + captionWidth) : placed.sheetWidth
        let sheetH = placed.sheetHeight
        try checkSize(width: sheetW, height: sheetH)

        let opaque = texture.hasAlpha ? flattenedOnWhite(texture) : texture
        let art = try artwork(opaque, geometry: geometry, spec: spec, lineWidth: furniture.lineWidth)
        assert(art.width == size.width && art.height == size.height, "artworkPixels disagrees with the drawing")
        let originX = (sheetW - (placed.rotated ? art.height : art.width)) / 2, originY = furniture.margin + surround
        /// An artwork rectangle (unrotated, artwork pixels) on the sheet.
        func onSheet(_ r: PixelRect) -> PixelRect {
            let turned = placed.rotated
                ? PixelRect(x: art.height - (r.y + r.height), y: r.x, width: r.height, height: r.width) : r
            return PixelRect(x: turned.x + originX, y: turned.y + originY, width: turned.width, height: turned.height)
        }
        let artworkRect = onSheet(PixelRect(x: 0, y: 0, width: art.width, height: art.height))

        var sheet = Image(width: sheetW, height: sheetH, channels: 3, fill: 1)
        let pad = art.pad
        sheet.blit(placed.rotated ? art.image.rotatedClockwise() : art.image, x: artworkRect.x - pad, y: artworkRect.y - pad)
        // The furniture (crop marks, scale bar) is drawn by `PrintSheet`'s own routines, from a
        // `PrintLayout` that holds just its positions.
        let footerTop = artworkRect.y + artworkRect.height + surround + furniture.footerGap
        let furnitureLayout = PrintLayout(
            sheetWidth: sheetW, sheetHeight: sheetH, patchWidth: artworkRect.width, patchHeight: artworkRect.height,
            patches: [artworkRect], columns: 1, rows: 1, maxCopies: 1, gutter: 0,
            markGap: furniture.markGap, markLength: furniture.markLength, lineWidth: furniture.lineWidth,
            scaleBarX: furniture.margin + furniture.lineWidth, scaleBarY: footerTop + furniture.tick,
            scaleBarLength: furniture.scaleBar, scaleBarTickHeight: furniture.tick,
            captionX: furniture.margin, captionY: footerTop + furniture.tick + furniture.lineWidth + furniture.captionGap,
            textScale: furniture.textScale)
        if !geometry.isBox { PrintSheet.drawCropMarks(&sheet, box: artworkRect, layout: furnitureLayout) }
        PrintSheet.drawScaleBar(&sheet, layout: furnitureLayout, inches: false)
        sheet.drawText(lines.joined(separator: "\n"), x: furnitureLayout.captionX, y: furnitureLayout.captionY,
                       scale: furnitureLayout.textScale, color: .black)

        let label = geometry.labelSizeMM, printed = geometry.printedSizeMM(glueMarginMM: spec.glueMarginMM)
        let layout = WrapLabelLayout(
            object: geometry.kind, dpi: spec.dpi, paper: spec.paper.rawValue, sheetWidthPx: sheetW, sheetHeightPx: sheetH,
            rotated: placed.rotated, labelWidthMm: label.width, labelHeightMm: label.height,
            printedWidthMm: printed.width, printedHeightMm: printed.height, glueMarginMm: spec.glueMarginMM,
            artwork: artworkRect, label: onSheet(art.label), glueMargin: art.glueMargin.map(onSheet),
            faces: art.faces.map { WrapLabelLayout.Face(name: $0.name, rect: onSheet($0.rect)) },
            tabs: art.tabs.map(onSheet),
            scaleBarMm: PrintLayout.scaleBarMillimetres(inches: false), scaleBarPx: furniture.scaleBar, captionLines: lines)
        return (sheet, layout)
    }

    /// Writes, atomically: the sheet at `path` (8-bit RGB PNG with pHYs = the DPI) and the layout
    /// beside it as `NAME.json`. Creates the folder if needed. `path` must end in ".png".
    public static func write(sheet: Image, layout: WrapLabelLayout, to path: String) throws(PrintError) -> (sheet: String, sidecar: String) {
        let files = try PrintOutputFiles(sheet: path)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try AtomicFile.createFolder(folder) } catch { throw .writeFailed(path: folder, reason: error.reason) }
        }
        do { try sheet.writePNG(to: files.sheet, dpi: Double(layout.dpi)) } catch {
            if case let .writeFailed(failed, reason) = error { throw .writeFailed(path: failed, reason: reason) }
            throw .writeFailed(path: error.path ?? path, reason: error.description)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data: Data
        do { data = try encoder.encode(layout) } catch { throw .writeFailed(path: files.sidecar, reason: "could not encode the layout (\(error))") }
        do { try AtomicFile.write(data, to: files.sidecar) } catch { throw .writeFailed(path: files.sidecar, reason: error.reason) }
        return (files.sheet, files.sidecar)
    }

    // MARK: - Artwork (unrotated, in artwork pixels)

    /// The label drawn on its own, unrotated: `image` is the artwork plus `pad` white pixels on
    /// every side (for lines centred on its outer edges); the rectangles are relative to the
    /// artwork's top-left corner (not the pad's).
    struct Artwork {
        var image: Image
        var pad: Int
        var width: Int
        var height: Int
        var label: PixelRect
        var glueMargin: PixelRect?
        var faces: [(name: String, rect: PixelRect)] = []
        var tabs: [PixelRect] = []
    }

    /// The artwork's size in pixels, and the label's (without glue margin or tabs): as drawn by
    /// `canLabel` and `boxNet`, computed without drawing.
    static func artworkPixels(geometry: LabelGeometry, spec: WrapLabelSpec) -> (width: Int, height: Int, label: (width: Int, height: Int)) {
        let glue = spec.pixels(spec.glueMarginMM)
        switch geometry {
        case .cylinder(let d, let h):
            let w = spec.pixels(Double.pi * d), hp = spec.pixels(h)
            return (w + glue, hp, (w, hp))
        case .box(let w, let h, let d):
            let netW = spec.pixels(2 * w + 2 * d), netH = spec.pixels(h + 2 * d)
            return (netW + 2 * glue, netH, (netW, netH))
        case .sphere:
            return (0, 0, (0, 0))
        }
    }

    static func artwork(_ texture: Image, geometry: LabelGeometry, spec: WrapLabelSpec, lineWidth: Int) throws(PrintError) -> Artwork {
        switch geometry {
        case .cylinder(let d, let h):
            return try canLabel(texture, labelWidth: spec.pixels(Double.pi * d), labelHeight: spec.pixels(h),
                                margin: spec.pixels(spec.glueMarginMM), spec: spec, lineWidth: lineWidth)
        case .box(let w, let h, let d):
            return try boxNet(texture, width: w, height: h, depth: d, spec: spec, lineWidth: lineWidth)
        case .sphere(let d):
            throw .wrapLabel(.sphereNotPrintable(diameterMM: d))
        }
    }

    /// The can's label, then its first `margin` columns again (the wrap-around glue margin), with
    /// a dashed line on the margin's first columns: where the label's start goes when glued.
    static func canLabel(_ texture: Image, labelWidth: Int, labelHeight: Int, margin: Int, spec: WrapLabelSpec,
                         lineWidth: Int) throws(PrintError) -> Artwork {
        let label = try resized(texture, width: labelWidth, height: labelHeight)
        let pad = 0, width = labelWidth + margin
        try checkSize(width: width, height: labelHeight)
        var image = Image(width: width, height: labelHeight, channels: 3, fill: 1)
        image.blit(label, x: 0, y: 0)
        var glueMargin: PixelRect?
        if margin > 0 {
            image.blit(label.cropped(x: 0, y: 0, width: margin, height: labelHeight), x: labelWidth, y: 0)
            // On the margin side of the seam, so the glued label's start hides it.
            drawDashed(&image, from: (labelWidth + lineWidth / 2, 0), to: (labelWidth + lineWidth / 2, labelHeight),
                       lineWidth: lineWidth, spec: spec)
            glueMargin = PixelRect(x: labelWidth, y: 0, width: margin, height: labelHeight)
        }
        return Artwork(image: image, pad: pad, width: width, height: labelHeight,
                       label: PixelRect(x: 0, y: 0, width: labelWidth, height: labelHeight), glueMargin: glueMargin)
    }

    /// The box's net: the texture resampled to the net rectangle, of which only the six faces are
    /// printed; grey trapezoid glue tabs; solid cut lines round the outline, dashed fold lines
    /// between faces and between a face and its tab.
    static func boxNet(_ texture: Image, width w: Double, height h: Double, depth d: Double, spec: WrapLabelSpec,
                       lineWidth: Int) throws(PrintError) -> Artwork {
        let netW = spec.pixels(2 * w + 2 * d), netH = spec.pixels(h + 2 * d)
        let tab = spec.pixels(spec.glueMarginMM)
        let pad = lineWidth, width = netW + 2 * tab
        try checkSize(width: width + 2 * pad, height: netH + 2 * pad)
        let net = try resized(texture, width: netW, height: netH)
        // Net millimetres (v up) to artwork pixel edges.
        func x(_ u: Double) -> Int { tab + spec.pixels(u) }
        func y(_ v: Double) -> Int { spec.pixels(h + 2 * d - v) }
        let faceBounds: [(String, Double, Double, Double, Double)] = [   // name, u0, u1, v0, v1
            ("front", 0, w, d, d + h), ("right", w, w + d, d, d + h), ("back", w + d, 2 * w + d, d, d + h),
            ("left", 2 * w + d, 2 * w + 2 * d, d, d + h), ("top", 0, w, d + h, h + 2 * d), ("bottom", 0, w, 0, d),
        ]
        var art = Artwork(image: Image(width: width + 2 * pad, height: netH + 2 * pad, channels: 3, fill: 1), pad: pad,
                          width: width, height: netH, label: PixelRect(x: tab, y: 0, width: netW, height: netH))
        for (name, u0, u1, v0, v1) in faceBounds {
            let r = PixelRect(x: x(u0), y: y(v1), width: x(u1) - x(u0), height: y(v0) - y(v1))
            guard r.width > 0, r.height > 0 else { continue }
            art.image.blit(net.cropped(x: r.x - tab, y: r.y, width: r.width, height: r.height), x: r.x + pad, y: r.y + pad)
            art.faces.append((name, r))
        }

        // Edges, as pixel-edge points: (from, to). Tabs replace the cut along the edge they hang on.
        typealias Point = (x: Int, y: Int)
        var folds: [(Point, Point)] = [
            ((x(w), y(d + h)), (x(w), y(d))), ((x(w + d), y(d + h)), (x(w + d), y(d))),
            ((x(2 * w + d), y(d + h)), (x(2 * w + d), y(d))),
            ((x(0), y(d + h)), (x(w), y(d + h))), ((x(0), y(d)), (x(w), y(d))),
        ]
        var cuts: [(Point, Point)] = [
            ((x(0), y(d + h)), (x(0), y(d))),                                       // front's left edge
            ((x(0), y(h + 2 * d)), (x(w), y(h + 2 * d))), ((x(0), y(0)), (x(w), y(0))),  // top's far edge, bottom's
            ((x(w), y(d + h)), (x(2 * w + 2 * d), y(d + h))), ((x(w), y(d)), (x(2 * w + 2 * d), y(d))),
        ]
        // Where tabs hang: an edge at pixel column `edge`, rows top..<bottom, pointing `outward` (±1).
        let tabEdges: [(edge: Int, top: Int, bottom: Int, outward: Int)] = [
            (x(2 * w + 2 * d), y(d + h), y(d), 1),                                   // the left face's free edge
            (x(0), y(h + 2 * d), y(d + h), -1), (x(w), y(h + 2 * d), y(d + h), 1),   // the top's sides
            (x(0), y(d), y(0), -1), (x(w), y(d), y(0), 1),                           // the bottom's sides
        ]
        for t in tabEdges {
            let a: Point = (t.edge, t.top), b: Point = (t.edge, t.bottom)
            guard tab > 0 else { cuts.append((a, b)); continue }
            folds.append((a, b))
            // A trapezoid with 45° ends (steeper on a short edge, so its outer side stays half the edge).
            let inset = min(tab, (t.bottom - t.top) / 4), outer = t.edge + t.outward * tab
            let corners: [Point] = [a, (outer, t.top + inset), (outer, t.bottom - inset), b]
            fillConvex(&art.image, corners.map { (Double($0.x + pad), Double($0.y + pad)) }, color: Color(gray: tabGrey))
            for k in 0..<3 { cuts.append((corners[k], corners[k + 1])) }
            art.tabs.append(PixelRect(x: min(t.edge, outer), y: t.top, width: tab, height: t.bottom - t.top))
        }
        let shift = { (p: Point) -> Point in (p.x + pad, p.y + pad) }
        for (a, b) in folds { drawDashed(&art.image, from: shift(a), to: shift(b), lineWidth: lineWidth, spec: spec) }
        for (a, b) in cuts { drawSolid(&art.image, from: shift(a), to: shift(b), lineWidth: lineWidth) }
        return art
    }

    // MARK: - Placement on the paper

    /// Furniture sizes in printer pixels, from `PrintLayout`'s millimetre constants.
    struct Furniture {
        var margin: Int, markGap: Int, markLength: Int, lineWidth: Int
        var footerGap: Int, tick: Int, captionGap: Int, scaleBar: Int, textScale: Int
        var footerHeight: Int
    }

    static func furnitureSizes(spec: WrapLabelSpec) -> Furniture {
        let lineWidth = max(1, spec.pixels(PrintLayout.lineWidthMillimetres))
        let scale = PrintLayout.textScale(dpi: spec.dpi)
        let tick = spec.pixels(PrintLayout.tickHeightMillimetres)
        let footerGap = spec.pixels(PrintLayout.footerGapMillimetres), captionGap = spec.pixels(PrintLayout.captionGapMillimetres)
        let captionHeight = Image.textHeight(Array(repeating: "x", count: captionLineCount).joined(separator: "\n"), scale: scale)
        return Furniture(margin: spec.pixels(PrintSpec.marginMillimetres), markGap: spec.pixels(PrintLayout.markGapMillimetres),
                         markLength: spec.pixels(PrintLayout.markLengthMillimetres), lineWidth: lineWidth,
                         footerGap: footerGap, tick: tick, captionGap: captionGap,
                         scaleBar: spec.pixels(PrintLayout.scaleBarMillimetres(inches: false)), textScale: scale,
                         footerHeight: footerGap + tick + lineWidth + captionGap + captionHeight)
    }

    /// The sheet's size and whether the artwork (`width` × `height` plus `surround` on every
    /// side) is turned 90° to fit inside the margins above the footer. `fit` paper never turns it.
    static func place(width: Int, height: Int, surround: Int, spec: WrapLabelSpec, furniture f: Furniture,
                      geometry: LabelGeometry) throws(PrintError) -> (sheetWidth: Int, sheetHeight: Int, rotated: Bool) {
        guard let paper = spec.paper.millimetres else {
            let barWidth = f.scaleBar + f.lineWidth + 2 * Image.characterAdvance(scale: f.textScale)
                + Image.textWidth(PrintLayout.scaleBarLabel(inches: false), scale: f.textScale)
            return (2 * f.margin + max(width + 2 * surround, barWidth),
                    2 * f.margin + height + 2 * surround + f.footerHeight, false)
        }
        let sheetW = spec.pixels(paper.width), sheetH = spec.pixels(paper.height)
        let availableW = sheetW - 2 * f.margin - 2 * surround, availableH = sheetH - 2 * f.margin - f.footerHeight - 2 * surround
        if width <= availableW && height <= availableH { return (sheetW, sheetH, false) }
        if height <= availableW && width <= availableH { return (sheetW, sheetH, true) }
        let printed = geometry.printedSizeMM(glueMarginMM: spec.glueMarginMM)
        throw .wrapLabel(.labelTooLarge(object: geometry.kind, widthMM: printed.width, heightMM: printed.height, paper: spec.paper))
    }

    /// The caption: the caller's line(s), the object and its label in mm, in pixels (and whether
    /// turned), how to assemble it, how to print. ASCII (the bitmap font), lines of at most ~66
    /// characters (A4 holds 70 at 300 dpi, 62 at 200) and cut with "..." to the paper's width if longer;
    /// always `captionLineCount` lines, so the footer's height is known before the text.
    static func captionLines(_ caption: String, geometry: LabelGeometry, spec: WrapLabelSpec, rotated: Bool,
                             widthPx: Int, heightPx: Int) -> [String] {
        let label = geometry.labelSizeMM, glue = LabelGeometry.number(spec.glueMarginMM)
        let first = caption.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: " | ")
        let size = "\(LabelGeometry.number(label.width)) x \(LabelGeometry.number(label.height)) mm"
        let turned = rotated ? "; turned 90 deg, top to the right" : ""
        var lines = [Image.drawable(first.isEmpty ? "RobustPatch" : first)]
        switch geometry {
        case .cylinder:
            lines.append("\(geometry.summary): label \(size)" + (spec.glueMarginMM > 0 ? " + \(glue) mm glue" : ""))
            lines.append("label \(widthPx) x \(heightPx) px at \(spec.dpi) dpi\(turned)")
            lines.append(spec.glueMarginMM > 0 ? "Cut at crop marks; glue the strip past the dashes under the start."
                                               : "Cut at the crop marks; tape the two ends edge to edge.")
        default:
            lines.append("\(geometry.summary): net \(size)")
            lines.append("net \(widthPx) x \(heightPx) px at \(spec.dpi) dpi\(turned)")
            lines.append(spec.glueMarginMM > 0 ? "Cut solid lines, fold dashed ones, glue the grey tabs inside."
                                               : "Cut solid lines, fold dashed ones, tape the edges.")
        }
        lines.append("PRINT AT 100% (no scaling, no fit-to-page). Bar must be 1 cm.")
        if let paper = spec.paper.millimetres {
            let limit = (spec.pixels(paper.width) - 2 * spec.pixels(PrintSpec.marginMillimetres))
                / Image.characterAdvance(scale: PrintLayout.textScale(dpi: spec.dpi))
            lines = lines.map { $0.count <= limit ? $0 : String($0.prefix(max(0, limit - 3))) + "..." }
        }
        return lines
    }

    // MARK: - Drawing helpers

    /// `texture` resampled to `width` × `height` with `Image.resized` (a triangle filter).
    static func resized(_ texture: Image, width: Int, height: Int) throws(PrintError) -> Image {
        do { return try texture.checkedResized(width: width, height: height) } catch {
            throw .sheetTooLarge(widthPixels: width, heightPixels: height)
        }
    }

    static func checkSize(width: Int, height: Int) throws(PrintError) {
        guard width >= 1, height >= 1, width <= Image.maxSide, height <= Image.maxSide,
              width * height <= Image.maxPixelCount else { throw .sheetTooLarge(widthPixels: width, heightPixels: height) }
    }

    /// An RGBA texture composited over paper white (transparent parts print as paper).
    static func flattenedOnWhite(_ texture: Image) -> Image {
        var white = Image(width: texture.width, height: texture.height, channels: 3, fill: 1)
        white.blit(texture, x: 0, y: 0)
        return white
    }

    /// A solid line `lineWidth` thick centred on the pixel-edge segment from `a` to `b`; axis-
    /// aligned lines run half a line past each end, so that lines meeting at a corner join.
    static func drawSolid(_ image: inout Image, from a: (x: Int, y: Int), to b: (x: Int, y: Int), lineWidth: Int,
                          color: Color = .black) {
        let half = lineWidth / 2
        if a.y == b.y {
            image.fillRect(x: min(a.x, b.x) - half, y: a.y - half, width: abs(b.x - a.x) + lineWidth, height: lineWidth, color: color)
        } else if a.x == b.x {
            image.fillRect(x: a.x - half, y: min(a.y, b.y) - half, width: lineWidth, height: abs(b.y - a.y) + lineWidth, color: color)
        } else {
            image.drawLine(x0: a.x, y0: a.y, x1: b.x, y1: b.y, lineWidth: lineWidth, color: color)
        }
    }

    /// A dashed line: black dashes with white gaps, so that it shows on dark artwork as on paper.
    static func drawDashed(_ image: inout Image, from a: (x: Int, y: Int), to b: (x: Int, y: Int), lineWidth: Int,
                           spec: WrapLabelSpec) {
        let dx = Double(b.x - a.x), dy = Double(b.y - a.y), length = (dx * dx + dy * dy).squareRoot()
        guard length > 0 else { return }
        let dash = Double(max(1, spec.pixels(dashMillimetres))), gap = Double(max(1, spec.pixels(dashGapMillimetres)))
        // Dashes centred on the segment: equal part-dashes at both ends.
        let count = max(1, ((length + gap) / (dash + gap)).rounded(.down))
        let start = (length - (count * (dash + gap) - gap)) / 2
        func point(_ s: Double) -> (x: Int, y: Int) {
            let t = min(max(s, 0), length) / length
            return (a.x + Int((dx * t).rounded()), a.y + Int((dy * t).rounded()))
        }
        drawSolid(&image, from: point(0), to: b, lineWidth: lineWidth, color: .white)
        for k in 0..<Int(count) {
            let s = start + Double(k) * (dash + gap)
            drawSolid(&image, from: point(s), to: point(s + dash), lineWidth: lineWidth)
        }
    }

    /// Fills a convex polygon given by its corners in pixel-edge coordinates: each pixel whose
    /// centre is inside (or on its left/top boundary).
    static func fillConvex(_ image: inout Image, _ corners: [(Double, Double)], color: Color) {
        let ys = corners.map(\.1)
        guard let minY = ys.min(), let maxY = ys.max() else { return }
        for row in max(0, Int(minY.rounded(.down)))..<min(image.height, Int(maxY.rounded(.up))) {
            let cy = Double(row) + 0.5
            var lo = Double.infinity, hi = -Double.infinity
            for k in corners.indices {
                let (x0, y0) = corners[k], (x1, y1) = corners[(k + 1) % corners.count]
                guard (y0 <= cy && cy < y1) || (y1 <= cy && cy < y0) else { continue }
                let x = x0 + (cy - y0) / (y1 - y0) * (x1 - x0)
                lo = min(lo, x); hi = max(hi, x)
            }
            guard lo < hi else { continue }
            // Pixel columns whose centre c + 0.5 lies in [lo, hi).
            let first = Int((lo - 0.5).rounded(.up)), last = Int((hi - 0.5).rounded(.up))
            if last > first { image.fillRect(x: first, y: row, width: last - first, height: 1, color: color) }
        }
    }
}

extension Image {
    /// The image turned a quarter clockwise: pixel (x, y) goes to (height − 1 − y, x), so the top
    /// row becomes the right column.
    func rotatedClockwise() -> Image {
        var out = Image(width: height, height: width, channels: channels, fill: 0)
        let c = channels, w = width, h = height
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        let s = (y * w + x) * c, d = (x * h + (h - 1 - y)) * c
                        for k in 0..<c { dst[d + k] = src[s + k] }
                    }
                }
            }
        }
        return out
    }
}
