// `PrintSheet`: renders a print-ready sheet at true physical size — the texture upscaled smoothly
// to the requested width at the DPI, paper-white outside its mask, crop marks, a 1 cm / 1 in
// scale bar and a caption — and writes it as a PNG with pHYs, plus the bare patch and a JSON
// sidecar. Not a print driver: printing at 100% (no fit-to-page) is what makes the size true.
import Foundation
import Drawing
import Imaging

/// A rendered sheet, ready to write.
public struct PrintedSheet: Sendable {
    public var spec: PrintSpec
    public var layout: PrintLayout
    /// The whole sheet, RGB, white paper.
    public var sheet: Image
    /// Just the patch at print size: RGBA, alpha = the upscaled mask.
    public var patch: Image
    public var caption: [String]
    public var info: PatchInfo
    /// The patch's height on paper (its width is `spec.patchWidth`), from the texture's aspect ratio.
    public var patchHeightMillimetres: Double
}

/// The files `PrintedSheet.write(to:)` wrote.
public struct PrintOutputFiles: Sendable, Equatable {
    public var sheet: String
    public var patch: String
    public var sidecar: String
    public var all: [String] { [sheet, patch, sidecar] }

    /// The three files for a sheet at `sheet`: NAME.png, NAME_patch.png, NAME.json. Throws
    /// `outputNotPNG` unless `sheet` ends in ".png" (any case), so a command can check `--out`
    /// before doing any work.
    public init(sheet: String) throws(PrintError) {
        guard sheet.lowercased().hasSuffix(".png"), sheet.count > 4 else { throw .outputNotPNG(path: sheet) }
        let base = String(sheet.dropLast(4))
        self.sheet = sheet
        self.patch = base + "_patch.png"
        self.sidecar = base + ".json"
    }
}

public enum PrintSheet {
    /// Lays out and draws the sheet for `artwork` according to `spec`.
    public static func render(_ artwork: PatchArtwork, spec: PrintSpec) throws(PrintError) -> PrintedSheet {
        let texture = artwork.texture
        let heightMillimetres = spec.patchWidth.millimetres * Double(texture.height) / Double(texture.width)
        let patchW = spec.patchWidth.pixels(dpi: spec.dpi)
        let patchH = PhysicalLength(millimetres: heightMillimetres).pixels(dpi: spec.dpi)
        let lines = caption(info: artwork.info, spec: spec, patchWidth: patchW, patchHeight: patchH)
        let layout = try PrintLayout.make(spec: spec, textureWidth: texture.width, textureHeight: texture.height,
                                          captionLines: lines)
        let patch = try upscaledPatch(artwork, width: layout.patchWidth, height: layout.patchHeight, spec: spec)

        var sheet = Image(width: layout.sheetWidth, height: layout.sheetHeight, channels: 3, fill: 1)
        let paperWhite = Image(width: patch.width, height: patch.height, channels: 3, fill: 1)
        var onPaper = paperWhite
        onPaper.blit(patch, x: 0, y: 0)  // RGBA over white: the mask becomes paper outside the shape
        for box in layout.patches {
            sheet.blit(onPaper, x: box.x, y: box.y)
            drawCropMarks(&sheet, box: box, layout: layout)
        }
        drawScaleBar(&sheet, layout: layout, inches: spec.usesInches)
        sheet.drawText(lines.joined(separator: "\n"), x: layout.captionX, y: layout.captionY,
                       scale: layout.textScale, color: .black)
        return PrintedSheet(spec: spec, layout: layout, sheet: sheet, patch: patch, caption: lines, info: artwork.info,
                            patchHeightMillimetres: heightMillimetres)
    }

    /// The texture and mask resized to `width` × `height` with `Image.resized` (a triangle filter:
    /// bilinear interpolation when enlarging, so no blocky pixels), combined as RGBA.
    ///
    /// The enlarged mask is a ramp as wide as one texture pixel (1.5 mm for a 64-px texture at
    /// 10 cm); it is sharpened around its 0.5 contour to a ramp of about one printer pixel, so
    /// the shape prints with a clean, cuttable edge at the place the soft mask puts it.
    ///
    /// Throws (never traps) for a size an `Image` cannot have: under 1 pixel (`patchTooSmall`)
    /// or over `Image.maxSide` (`sheetTooLarge`). `PrintLayout.make` refuses both first.
    static func upscaledPatch(_ artwork: PatchArtwork, width: Int, height: Int, spec: PrintSpec) throws(PrintError) -> Image {
        let texture: Image, mask: Image
        do {
            texture = try artwork.texture.checkedResized(width: width, height: height)
            let maskImage = Image(uncheckedMask: artwork.mask, width: artwork.texture.width, height: artwork.texture.height)
            mask = try maskImage.checkedResized(width: width, height: height)
        } catch {
            if width < 1 || height < 1 {
                let perPixel = PhysicalLength.millimetresPerInch / Double(spec.dpi)
                throw .patchTooSmall(size: spec.patchWidth.exactDescription, widthMillimetres: Double(width) * perPixel,
                                     heightMillimetres: Double(height) * perPixel)
            }
            throw .sheetTooLarge(widthPixels: width, heightPixels: height)
        }
        let gain = Float(max(1, Double(width) / Double(artwork.texture.width)))
        var rgba = texture.rgba
        for i in 0..<(width * height) {
            let a = (mask.pixels[i * 3] - 0.5) * gain + 0.5
            rgba.pixels[i * 4 + 3] = min(max(a, 0), 1)
        }
        return rgba
    }

    /// Classic crop marks: at each corner of `box`, two short lines on the extensions of the box's
    /// edges, starting `markGap` outside it, so they never touch the patch. Each mark's inner edge
    /// lies exactly on the cut line (the box edge).
    static func drawCropMarks(_ sheet: inout Image, box: PixelRect, layout: PrintLayout) {
        let g = layout.markGap, l = layout.markLength, w = layout.lineWidth
        let left = box.x, right = box.x + box.width, top = box.y, bottom = box.y + box.height
        for rowStart in [top - w, bottom] {
            // Horizontal marks on the top/bottom edge lines, left and right of the box.
            sheet.fillRect(x: left - g - l, y: rowStart, width: l, height: w, color: .black)
            sheet.fillRect(x: right + g, y: rowStart, width: l, height: w, color: .black)
        }
        for columnStart in [left - w, right] {
            // Vertical marks on the left/right edge lines, above and below the box.
            sheet.fillRect(x: columnStart, y: top - g - l, width: w, height: l, color: .black)
            sheet.fillRect(x: columnStart, y: bottom + g, width: w, height: l, color: .black)
        }
    }

    /// A ruler 1 cm (ticks every mm, taller at 5 mm) or 1 in (ticks every 1/8 in, taller at 1/4
    /// and 1/2) long, labelled. Tick centres span exactly `scaleBarLength` pixels.
    static func drawScaleBar(_ sheet: inout Image, layout: PrintLayout, inches: Bool) {
        let divisions = inches ? 8 : 10
        let x0 = layout.scaleBarX, y = layout.scaleBarY, length = layout.scaleBarLength
        let w = layout.lineWidth, tall = layout.scaleBarTickHeight
        let half = w / 2
        sheet.fillRect(x: x0 - half, y: y, width: length + w, height: w, color: .black)
        for k in 0...divisions {
            let x = x0 + Int((Double(k) * Double(length) / Double(divisions)).rounded())
            let height: Int
            if k == 0 || k == divisions {
                height = tall
            } else if inches ? k == 4 : k == 5 {
                height = tall * 7 / 10
            } else if inches && k % 2 == 0 {
                height = tall / 2
            } else {
                height = tall * 3 / 10
            }
            sheet.fillRect(x: x - half, y: y - height, width: w, height: height, color: .black)
        }
        let label = PrintLayout.scaleBarLabel(inches: inches)
        let textY = y + w - Image.textHeight(label, scale: layout.textScale)
        sheet.drawText(label, x: x0 + length + w + Image.characterAdvance(scale: layout.textScale), y: textY,
                       scale: layout.textScale, color: .black)
    }

    /// Caption lines (ASCII, for the bitmap font), truncated with "..." to the sheet's width.
    public static func caption(info: PatchInfo, spec: PrintSpec, patchWidth: Int, patchHeight: Int) -> [String] {
        var target = "unknown (no run.json)"
        if let label = info.targetLabel {
            target = label + (info.targetIndex.map { " (ImageNet \($0))" } ?? "")
        } else if let index = info.targetIndex {
            target = "ImageNet class \(index)"
        }
        let models = info.models.isEmpty ? "unknown" : info.models.joined(separator: ", ")
        let seed = info.seed.map(String.init) ?? "unknown"
        let generated = info.created.map { String($0.prefix(10)) } ?? "unknown"
        let size = spec.patchWidth
        let otherUnit = size.unit == .inch
            ? String(format: "%.1f mm", size.millimetres)
            : String(format: "%.2f in", size.inches)
        let copies = spec.copies > 1 ? ", \(spec.copies) copies" : ""
        let bar = PrintLayout.scaleBarLabel(inches: spec.usesInches)
        var lines = [
            "RobustPatch | target: \(target)",
            "model: \(models) | seed: \(seed) | generated \(generated) | printed \(spec.printedOn)",
            "patch: \(size) (\(otherUnit)) = \(patchWidth) x \(patchHeight) px at \(spec.dpi) dpi\(copies)",
            "PRINT AT 100% (no scaling, no fit-to-page). Bar must be \(bar).",
        ]
        if let limit = PrintLayout.maxCaptionCharacters(spec: spec) {
            lines = lines.map { $0.count <= limit ? $0 : String($0.prefix(max(0, limit - 3))) + "..." }
        }
        return lines
    }
}

extension PrintedSheet {
    /// Writes, atomically: the sheet at `path` (8-bit RGB PNG with pHYs = the DPI), the patch
    /// alone beside it as `NAME_patch.png` (RGBA, same DPI), and `NAME.json` (layout, sizes, source).
    /// Creates the folder if needed. `path` must end in ".png" (else `outputNotPNG`).
    public func write(to path: String) throws(PrintError) -> PrintOutputFiles {
        let files = try PrintOutputFiles(sheet: path)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try AtomicFile.createFolder(folder) } catch { throw .writeFailed(path: folder, reason: error.reason) }
        }
        do {
            try sheet.writePNG(to: files.sheet, dpi: Double(spec.dpi))
            try patch.writePNG(to: files.patch, dpi: Double(spec.dpi))
        } catch {
            if case let .writeFailed(failed, reason) = error { throw .writeFailed(path: failed, reason: reason) }
            throw .writeFailed(path: error.path ?? path, reason: error.description)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data: Data
        do { data = try encoder.encode(sidecar(patchFile: (files.patch as NSString).lastPathComponent)) } catch {
            throw .writeFailed(path: files.sidecar, reason: "could not encode the layout (\(error))")
        }
        do { try AtomicFile.write(data, to: files.sidecar) } catch { throw .writeFailed(path: files.sidecar, reason: error.reason) }
        return files
    }

    /// What the sidecar JSON holds: enough for an independent checker to verify the sizes.
    public struct Sidecar: Codable, Sendable, Equatable {
        public var tool = "robustpatch print"
        public var dpi: Int
        public var paper: String
        public var sheetWidthPx: Int
        public var sheetHeightPx: Int
        public var sheetWidthMm: Double
        public var sheetHeightMm: Double
        public var requestedSize: String
        public var patchWidthMm: Double
        public var patchHeightMm: Double
        public var patchWidthPx: Int
        public var patchHeightPx: Int
        /// Each copy's bounding box on the sheet, in pixels.
        public var patchBoxes: [PixelRect]
        public var scaleBarMm: Double
        public var scaleBarPx: Int
        public var patchFile: String
        public var printedOn: String
        public var info: PatchInfo
    }

    public func sidecar(patchFile: String) -> Sidecar {
        let mmPerPixel = PhysicalLength.millimetresPerInch / Double(spec.dpi)
        return Sidecar(
            dpi: spec.dpi, paper: spec.paper.rawValue,
            sheetWidthPx: layout.sheetWidth, sheetHeightPx: layout.sheetHeight,
            sheetWidthMm: spec.paper.millimetres?.width ?? Double(layout.sheetWidth) * mmPerPixel,
            sheetHeightMm: spec.paper.millimetres?.height ?? Double(layout.sheetHeight) * mmPerPixel,
            requestedSize: spec.patchWidth.description,
            patchWidthMm: spec.patchWidth.millimetres,
            patchHeightMm: patchHeightMillimetres,
            patchWidthPx: layout.patchWidth, patchHeightPx: layout.patchHeight,
            patchBoxes: layout.patches,
            scaleBarMm: PrintLayout.scaleBarMillimetres(inches: spec.usesInches), scaleBarPx: layout.scaleBarLength,
            patchFile: patchFile, printedOn: spec.printedOn, info: info)
    }
}

extension Image {
    /// A grey RGB image from per-pixel coverage values (for resampling a mask with `resized`).
    init(uncheckedMask mask: [Float], width: Int, height: Int) {
        var pixels = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[i * 3] = mask[i]; pixels[i * 3 + 1] = mask[i]; pixels[i * 3 + 2] = mask[i]
        }
        self.init(width: width, height: height, channels: 3, fill: 0)
        self.pixels = pixels
    }
}
