// `PrintSpec` (what to print: size, DPI, paper, copies) and `PrintLayout` (where everything goes
// on the sheet, in printer pixels). Pure arithmetic, no drawing: see `PrintSheet` for that.
import Foundation
import Drawing
import Imaging

/// What to print. Validated at creation, so a `PrintSpec` value is always printable in range.
public struct PrintSpec: Sendable, Equatable {
    public static let dpiRange = 72...1200
    public static let maxCopies = 100
    /// Margin on every side of the sheet (most printers cannot print closer than ~5 mm).
    public static let marginMillimetres = 10.0
    /// The smallest patch side on paper: 14 printer pixels at 72 dpi, 59 at 300. Smaller, a
    /// printer cannot reproduce the pattern (and at a few pixels there is nothing left to print).
    public static let minimumPatchMillimetres = 5.0

    /// Width of the patch on paper; its height follows the texture's aspect ratio.
    public var patchWidth: PhysicalLength
    public var dpi: Int
    public var paper: Paper
    public var copies: Int
    /// The date printed in the caption, "yyyy-MM-dd" (a parameter, so sheets are reproducible).
    public var printedOn: String

    public init(patchWidth: PhysicalLength, dpi: Int = 300, paper: Paper = .a4, copies: Int = 1,
                printedOn: String = PrintSpec.today()) throws(PrintError) {
        self.patchWidth = patchWidth
        self.dpi = dpi
        self.paper = paper
        self.copies = copies
        self.printedOn = printedOn
        try validate()
    }

    /// Throws unless the DPI and copies are in range and the patch is at least
    /// `minimumPatchMillimetres` wide. `init` runs it; `PrintLayout.make` runs it again, since
    /// the fields are mutable.
    public func validate() throws(PrintError) {
        guard Self.dpiRange.contains(dpi) else { throw .badDPI(dpi) }
        guard (1...Self.maxCopies).contains(copies) else { throw .badCopies(copies) }
        guard patchWidth.millimetres >= Self.minimumPatchMillimetres else {
            throw .patchTooSmall(size: patchWidth.exactDescription, widthMillimetres: patchWidth.millimetres, heightMillimetres: nil)
        }
    }

    /// Parses `--dpi` text: a whole number in `dpiRange` ("300", "+300"; not "71.9", "nan", "1e9").
    public static func parseDPI(_ text: String) throws(PrintError) -> Int {
        guard let dpi = Int(text.trimmingCharacters(in: .whitespaces)) else { throw .unreadableDPI(text) }
        guard dpiRange.contains(dpi) else { throw .badDPI(dpi) }
        return dpi
    }

    /// Scale bar and caption in inches for Letter paper or an inch size; centimetres otherwise.
    public var usesInches: Bool { paper.prefersInches || patchWidth.unit == .inch }

    /// Printer pixels spanning `millimetres` at this DPI, rounded.
    public func pixels(_ millimetres: Double) -> Int {
        Int((millimetres / PhysicalLength.millimetresPerInch * Double(dpi)).rounded())
    }

    /// Today's date (UTC), "yyyy-MM-dd".
    public static func today() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }
}

/// A rectangle of whole pixels: top-left pixel (`x`, `y`), `width` × `height`.
public struct PixelRect: Sendable, Equatable, Codable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

/// Where everything goes on the sheet, in printer pixels (origin top-left).
///
/// The sheet, top to bottom: margin, the grid of copies (room for crop marks around it, and a
/// gutter between copies in which neighbouring copies' marks coincide), then the footer (scale
/// bar, caption), then margin.
public struct PrintLayout: Sendable, Equatable, Codable {
    public var sheetWidth: Int
    public var sheetHeight: Int
    /// The patch's bounding box size: round(mm / 25.4 · dpi).
    public var patchWidth: Int
    public var patchHeight: Int
    /// One bounding box per copy.
    public var patches: [PixelRect]
    public var columns: Int
    public var rows: Int
    /// How many copies fit on this paper (for `fit`, the number requested).
    public var maxCopies: Int
    /// Space between neighbouring copies' boxes: 2 · markGap + markLength.
    public var gutter: Int
    /// Crop marks: they start `markGap` outside the box and are `markLength` long and `lineWidth` thick.
    public var markGap: Int
    public var markLength: Int
    public var lineWidth: Int
    /// The scale bar: ticks centred from `scaleBarX` to `scaleBarX + scaleBarLength`, baseline at `scaleBarY`.
    public var scaleBarX: Int
    public var scaleBarY: Int
    public var scaleBarLength: Int
    public var scaleBarTickHeight: Int
    /// Caption top-left and font magnification (each font pixel = textScale² printer pixels).
    public var captionX: Int
    public var captionY: Int
    public var textScale: Int

    /// Millimetre sizes of the furniture around the patch.
    static let markGapMillimetres = 2.0
    static let markLengthMillimetres = 5.0
    static let lineWidthMillimetres = 0.25
    static let footerGapMillimetres = 4.0
    static let tickHeightMillimetres = 4.0
    static let captionGapMillimetres = 3.0
    /// Caption capital height ≈ 2.7 mm (8 font pixels): easily read on paper at any DPI.
    static let textHeightMillimetres = 2.7

    /// Text magnification for `dpi`: 8·scale pixels ≈ 2.7 mm.
    static func textScale(dpi: Int) -> Int {
        max(1, Int((textHeightMillimetres / PhysicalLength.millimetresPerInch * Double(dpi) / 8).rounded()))
    }

    /// The scale bar's length in millimetres: 1 in or 1 cm.
    static func scaleBarMillimetres(inches: Bool) -> Double { inches ? 25.4 : 10 }

    /// Lays out `spec.copies` patches of a `textureWidth` × `textureHeight` texture and a caption
    /// of `captionLines` (each line at most as wide as the sheet allows; see `maxCaptionCharacters`).
    /// Throws when the spec is out of range (`PrintSpec.validate`), when the patch would be under
    /// `PrintSpec.minimumPatchMillimetres` tall, when not one copy fits, when fewer copies fit
    /// than requested, or when the sheet is too large for an `Image`.
    public static func make(spec: PrintSpec, textureWidth: Int, textureHeight: Int,
                            captionLines: [String]) throws(PrintError) -> PrintLayout {
        precondition(textureWidth > 0 && textureHeight > 0, "PrintLayout.make: empty texture")
        try spec.validate()
        let aspect = Double(textureHeight) / Double(textureWidth)
        let heightMillimetres = spec.patchWidth.millimetres * aspect
        let patchW = spec.patchWidth.pixels(dpi: spec.dpi)
        let patchH = PhysicalLength(millimetres: heightMillimetres).pixels(dpi: spec.dpi)
        guard heightMillimetres >= PrintSpec.minimumPatchMillimetres, patchW >= 1, patchH >= 1 else {
            throw .patchTooSmall(size: spec.patchWidth.exactDescription, widthMillimetres: spec.patchWidth.millimetres,
                                 heightMillimetres: heightMillimetres)
        }
        let margin = spec.pixels(PrintSpec.marginMillimetres)
        let gap = spec.pixels(markGapMillimetres), length = spec.pixels(markLengthMillimetres)
        let lineWidth = max(1, spec.pixels(lineWidthMillimetres))
        let pad = gap + length, gutter = 2 * gap + length
        /// Grid extent, marks included, for n copies along one axis.
        func span(_ n: Int, _ patch: Int) -> Int { n * patch + (n - 1) * gutter + 2 * pad }
        func fitting(_ available: Int, _ patch: Int) -> Int { max(0, (available - 2 * pad + gutter) / (patch + gutter)) }
        let scale = textScale(dpi: spec.dpi)
        let tick = spec.pixels(tickHeightMillimetres)
        let barLength = spec.pixels(scaleBarMillimetres(inches: spec.usesInches))
        let labelWidth = Image.textWidth(scaleBarLabel(inches: spec.usesInches), scale: scale)
        let captionHeight = captionLines.isEmpty ? 0 : Image.textHeight(captionLines.joined(separator: "\n"), scale: scale)
        let footerGap = spec.pixels(footerGapMillimetres), captionGap = spec.pixels(captionGapMillimetres)
        let footerH = footerGap + tick + lineWidth + captionGap + captionHeight
        let footerW = max(barLength + lineWidth + 2 * Image.characterAdvance(scale: scale) + labelWidth,
                          captionLines.map { Image.textWidth($0, scale: scale) }.max() ?? 0)

        let columns: Int, rows: Int, maxCopies: Int, sheetW: Int, sheetH: Int
        if let paper = spec.paper.millimetres {
            sheetW = spec.pixels(paper.width)
            sheetH = spec.pixels(paper.height)
            let availableW = sheetW - 2 * margin, availableH = sheetH - 2 * margin - footerH
            let fitColumns = fitting(availableW, patchW), fitRows = fitting(availableH, patchH)
            maxCopies = fitColumns * fitRows
            if maxCopies == 0 {
                let largestPixels = min(Double(availableW - 2 * pad), Double(availableH - 2 * pad) / aspect)
                throw .patchTooLarge(size: spec.patchWidth.description, paper: spec.paper.displayName,
                                     largestMillimetres: max(0, largestPixels) / Double(spec.dpi) * PhysicalLength.millimetresPerInch)
            }
            if spec.copies > maxCopies {
                throw .tooManyCopies(requested: spec.copies, maximum: maxCopies,
                                     size: spec.patchWidth.description, paper: spec.paper.displayName)
            }
            columns = min(spec.copies, fitColumns)
            rows = (spec.copies + columns - 1) / columns
        } else {
            columns = Int(Double(spec.copies).squareRoot().rounded(.up))
            rows = (spec.copies + columns - 1) / columns
            maxCopies = spec.copies
            sheetW = 2 * margin + max(span(columns, patchW), footerW)
            sheetH = 2 * margin + span(rows, patchH) + footerH
        }
        if sheetW > Image.maxSide || sheetH > Image.maxSide || sheetW * sheetH > Image.maxPixelCount {
            throw .sheetTooLarge(widthPixels: sheetW, heightPixels: sheetH)
        }
        let gridX = (sheetW - span(columns, patchW)) / 2, gridY = margin
        var patches: [PixelRect] = []
        for index in 0..<spec.copies {
            let column = index % columns, row = index / columns
            patches.append(PixelRect(x: gridX + pad + column * (patchW + gutter), y: gridY + pad + row * (patchH + gutter),
                                     width: patchW, height: patchH))
        }
        let footerTop = gridY + span(rows, patchH) + footerGap
        return PrintLayout(
            sheetWidth: sheetW, sheetHeight: sheetH, patchWidth: patchW, patchHeight: patchH,
            patches: patches, columns: columns, rows: rows, maxCopies: maxCopies, gutter: gutter,
            markGap: gap, markLength: length, lineWidth: lineWidth,
            scaleBarX: margin + lineWidth, scaleBarY: footerTop + tick, scaleBarLength: barLength,
            scaleBarTickHeight: tick,
            captionX: margin, captionY: footerTop + tick + lineWidth + captionGap, textScale: scale)
    }

    /// Characters per caption line that fit between the margins on `spec.paper` (nil for `fit`).
    public static func maxCaptionCharacters(spec: PrintSpec) -> Int? {
        guard let paper = spec.paper.millimetres else { return nil }
        let available = spec.pixels(paper.width) - 2 * spec.pixels(PrintSpec.marginMillimetres)
        return available / Image.characterAdvance(scale: textScale(dpi: spec.dpi))
    }

    static func scaleBarLabel(inches: Bool) -> String { inches ? "1 in" : "1 cm" }
}
