// Tests for WrapLabelSheet: a 330 ml can's label at true size with its wrap-around glue margin,
// a box's net (faces where Mesh.box's UV layout puts them, white elsewhere, tabs off the faces),
// turning 90° to fit, the PNG's DPI and sidecar, and every refusal (sphere, too large, bad sizes).
// Positions are computed here from the millimetres (round(mm / 25.4 · dpi)), not read from the
// layout, wherever the layout is what is being checked.
import Foundation
import Imaging
import Printing
import Testing

/// Printer pixels spanning `mm` at `dpi`: round(mm / 25.4 · dpi).
private func px(_ mm: Double, _ dpi: Int) -> Int { Int((mm / 25.4 * Double(dpi)).rounded()) }

/// An RGB texture with every sample from `color(x, y)`.
private func texture(width: Int, height: Int, _ color: (Int, Int) -> (Float, Float, Float)) -> Image {
    var image = Image(width: width, height: height, channels: 3, fill: 0)
    for y in 0..<height {
        for x in 0..<width {
            let (r, g, b) = color(x, y)
            image[x, y, 0] = r; image[x, y, 1] = g; image[x, y, 2] = b
        }
    }
    return image
}

/// The can texture of the issue's example: 192 × 107, smooth ramps in [0.1, 0.7] (always ink)
/// plus a fine checker, so that every column differs from its neighbours.
private let canTexture = texture(width: 192, height: 107) { x, y in
    (0.1 + 0.6 * Float(x) / 191, 0.1 + 0.6 * Float(y) / 106, (x + y) % 2 == 0 ? 0.3 : 0.5)
}

/// The region `rect` of `sheet` as it was before the sheet turned it (a quarter clockwise: the
/// artwork's pixel (x, y) is at the rect's (height − 1 − y, x)).
private func unturned(_ sheet: Image, _ rect: PixelRect, rotated: Bool) -> Image {
    guard rotated else { return sheet.cropped(x: rect.x, y: rect.y, width: rect.width, height: rect.height) }
    var out = Image(width: rect.height, height: rect.width, channels: 3, fill: 0)
    for y in 0..<out.height {
        for x in 0..<out.width {
            for c in 0..<3 { out[x, y, c] = sheet[rect.x + rect.width - 1 - y, rect.y + x, c] }
        }
    }
    return out
}

private func isWhite(_ image: Image, _ x: Int, _ y: Int) -> Bool { (0..<3).allSatisfy { image[x, y, $0] == 1 } }
private func isBlack(_ image: Image, _ x: Int, _ y: Int) -> Bool { (0..<3).allSatisfy { image[x, y, $0] == 0 } }

@Suite struct WrapLabelCanTests {
    static let can = LabelGeometry.cylinder(diameterMM: 66, heightMM: 115)  // 330 ml

    @Test func labelIsTrueSizeAndFitsA4() throws {
        let spec = try WrapLabelSpec(dpi: 300, paper: .a4)
        let (sheet, layout) = try WrapLabelSheet.render(texture: canTexture, geometry: Self.can, spec: spec, caption: "test can")
        #expect(sheet.width == 2480 && sheet.height == 3508)
        #expect(layout.sheetWidthPx == 2480 && layout.sheetHeightPx == 3508)
        // 207.3 mm × 115 mm plus 10 mm: too wide for A4's 190 mm between the margins, so turned.
        #expect(layout.rotated)
        let labelW = px(Double.pi * 66, 300), labelH = px(115, 300), glueW = px(10, 300)
        #expect(labelW == 2449 && labelH == 1358 && glueW == 118)
        let label = layout.label, glue = try #require(layout.glueMargin)
        #expect(abs(label.height - labelW) <= 1 && abs(label.width - labelH) <= 1)  // turned: the length runs down
        #expect(glue.height == glueW && glue.width == label.width)
        #expect(glue.y == label.y + label.height && glue.x == label.x)
        #expect(layout.artwork == PixelRect(x: label.x, y: label.y, width: label.width, height: label.height + glue.height))
        // Inside the 10 mm margins.
        let margin = px(10, 300), a = layout.artwork
        #expect(a.x >= margin && a.y >= margin && a.x + a.width <= 2480 - margin && a.y + a.height <= 3508 - margin)
        #expect(abs(layout.printedWidthMm - (Double.pi * 66 + 10)) < 1e-9 && layout.printedHeightMm == 115)
        // Measured from the pixels alone: the ink of the label is labelH wide and labelW + glue tall
        // (crop marks, the 1 cm bar and the gappy caption text are all shorter).
        #expect(longestHorizontalInkRun(sheet) == labelH)
        #expect(longestVerticalInkRun(sheet) == labelW + glueW)
        #expect(layout.captionLines.count == 5 && layout.captionLines.allSatisfy { !$0.hasSuffix("...") }, "\(layout.captionLines)")
        #expect(layout.captionLines[0] == "test can" && layout.captionLines[2].contains("turned 90 deg"))
        print("can label on A4 at 300 dpi: \(label.height) x \(label.width) px + glue \(glue.height) px, turned")
    }

    @Test(arguments: [Paper.fit, .a4])
    func glueMarginRepeatsTheLabelsFirstColumns(paper: Paper) throws {
        let spec = try WrapLabelSpec(dpi: 300, paper: paper)
        let (sheet, layout) = try WrapLabelSheet.render(texture: canTexture, geometry: Self.can, spec: spec, caption: "")
        #expect(layout.rotated == (paper == .a4))
        let art = unturned(sheet, layout.artwork, rotated: layout.rotated)
        let labelW = px(Double.pi * 66, 300), glueW = px(10, 300)
        #expect(art.width == labelW + glueW && art.height == px(115, 300))
        // Past the dashed line (0.25 mm = 3 px; skip 1 mm), column k of the margin is column k of the label.
        let dashed = px(1, 300)
        var mismatches = 0
        for k in dashed..<glueW {
            for y in 0..<art.height where (0..<3).contains(where: { art[labelW + k, y, $0] != art[k, y, $0] }) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        // ... and the label's last column is not its first (it really is the wrap-around, not an edge copy).
        #expect((0..<art.height).contains { art[labelW - 1, $0, 0] != art[0, $0, 0] })
        // The dashed line where the overlap begins: on the margin's first columns, black dashes and white gaps.
        let column = (0..<art.height).map { (isBlack(art, labelW + 1, $0), isWhite(art, labelW + 1, $0)) }
        #expect(column.filter(\.0).count > art.height / 2 && column.filter(\.1).count > art.height / 5)
        #expect(!isBlack(art, labelW - 1, art.height / 2) && !isWhite(art, labelW - 1, art.height / 2))
    }

    @Test func textureIsStretchedSmoothlyToThePhysicalRectangle() throws {
        // 192 × 107 onto 207.3 × 115 mm: a different aspect ratio, stretched, not cropped.
        let spec = try WrapLabelSpec(dpi: 150, paper: .fit, glueMarginMM: 0)
        let (sheet, layout) = try WrapLabelSheet.render(texture: canTexture, geometry: Self.can, spec: spec, caption: "")
        #expect(layout.glueMargin == nil && !layout.rotated)
        let label = layout.label
        #expect(label.width == px(Double.pi * 66, 150) && label.height == px(115, 150))
        // Corners carry the texture's corner colours (ramps from 0.1 to 0.7).
        #expect(abs(sheet[label.x, label.y, 0] - 0.1) < 0.01 && abs(sheet[label.x, label.y, 1] - 0.1) < 0.01)
        let right = label.x + label.width - 1, bottom = label.y + label.height - 1
        #expect(abs(sheet[right, bottom, 0] - 0.7) < 0.01 && abs(sheet[right, bottom, 1] - 0.7) < 0.01)
        // Bilinear: the 107 rows of the green ramp become many more levels (nearest would keep 107).
        let levels = Set((label.y..<(bottom + 1)).map { sheet[label.x + label.width / 2, $0, 1] })
        #expect(levels.count > 400)
    }
}

@Suite struct WrapLabelBoxTests {
    // A 100 × 150 × 40 mm box: the net is 280 × 230 mm.
    static let w = 100.0, h = 150.0, d = 40.0
    static let box = LabelGeometry.box(widthMM: w, heightMM: h, depthMM: d)

    /// Net regions in millimetres, v up: name, u0, u1, v0, v1.
    static let faces: [(String, Double, Double, Double, Double)] = [
        ("front", 0, w, d, d + h), ("right", w, w + d, d, d + h), ("back", w + d, 2 * w + d, d, d + h),
        ("left", 2 * w + d, 2 * w + 2 * d, d, d + h), ("top", 0, w, d + h, h + 2 * d), ("bottom", 0, w, 0, d),
    ]
    static let colors: [String: (Float, Float, Float)] = [
        "front": (0.9, 0.1, 0.1), "right": (0.1, 0.8, 0.1), "back": (0.1, 0.1, 0.9),
        "left": (0.9, 0.8, 0.1), "top": (0.1, 0.8, 0.8), "bottom": (0.7, 0.1, 0.7),
    ]
    /// Not on any face: dark, so that printing it would show.
    static let outside: (Float, Float, Float) = (0.2, 0.2, 0.2)

    /// The net at 1 px per mm, each face its own colour (row 0 is v = h + 2d).
    static let netTexture = texture(width: 280, height: 230) { x, y in
        let u = Double(x) + 0.5, v = 230 - (Double(y) + 0.5)
        for (name, u0, u1, v0, v1) in faces where u0 <= u && u < u1 && v0 <= v && v < v1 { return colors[name]! }
        return outside
    }

    /// The expected sheet rectangle of net region [u0, u1] × [v0, v1] when the artwork (net
    /// plus tabs, unturned) has its top-left at `origin`.
    static func rect(_ u0: Double, _ u1: Double, _ v0: Double, _ v1: Double, origin: (Int, Int), dpi: Int) -> PixelRect {
        let tab = px(10, dpi), top = 2 * Self.d + Self.h
        let x0 = origin.0 + tab + px(u0, dpi), x1 = origin.0 + tab + px(u1, dpi)
        let y0 = origin.1 + px(top - v1, dpi), y1 = origin.1 + px(top - v0, dpi)
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    @Test func facesSitWhereTheUVLayoutPutsThem() throws {
        let dpi = 300
        let spec = try WrapLabelSpec(dpi: dpi, paper: .fit)
        let (sheet, layout) = try WrapLabelSheet.render(texture: Self.netTexture, geometry: Self.box, spec: spec, caption: "box")
        #expect(!layout.rotated)
        let origin = (layout.artwork.x, layout.artwork.y)
        #expect(layout.artwork.width == px(280, dpi) + 2 * px(10, dpi) && layout.artwork.height == px(230, dpi))
        #expect(layout.label == Self.rect(0, 280, 0, 230, origin: origin, dpi: dpi))
        #expect(layout.faces.map(\.name) == Self.faces.map(\.0))
        for (name, u0, u1, v0, v1) in Self.faces {
            let face = try #require(layout.faces.first { $0.name == name }).rect
            #expect(face == Self.rect(u0, u1, v0, v1, origin: origin, dpi: dpi), "\(name)")
            let (r, g, b) = Self.colors[name]!
            let cx = face.x + face.width / 2, cy = face.y + face.height / 2
            #expect(abs(sheet[cx, cy, 0] - r) < 1e-4 && abs(sheet[cx, cy, 1] - g) < 1e-4 && abs(sheet[cx, cy, 2] - b) < 1e-4,
                    "\(name) centre")
        }
        // Spot values: front at x = tab, right face from 100 mm, top row of the band at 40 mm from the top.
        let front = try #require(layout.faces.first).rect
        #expect(front.x - origin.0 == 118 && front.width == 1181 && front.y - origin.1 == 472 && front.height == 1772)
        try checkWhiteOutsideFacesAndTabs(sheet, layout: layout, dpi: dpi)
        try checkTabs(sheet, layout: layout)
    }

    @Test func turnedOnA3AndStillRight() throws {
        // 300 × 230 mm with tabs: not upright on A3 (277 mm between the margins), but turned.
        let dpi = 150
        let spec = try WrapLabelSpec(dpi: dpi, paper: .a3)
        let (sheet, layout) = try WrapLabelSheet.render(texture: Self.netTexture, geometry: Self.box, spec: spec, caption: "box")
        #expect(layout.rotated && sheet.width == px(297, dpi) && sheet.height == px(420, dpi))
        #expect(layout.artwork.width == px(230, dpi) && layout.artwork.height == px(300, dpi))
        let art = unturned(sheet, layout.artwork, rotated: true)
        for (name, u0, u1, v0, v1) in Self.faces {
            let expected = Self.rect(u0, u1, v0, v1, origin: (0, 0), dpi: dpi)
            let face = try #require(layout.faces.first { $0.name == name }).rect
            #expect(face.width == expected.height && face.height == expected.width, "\(name)")
            let (r, g, b) = Self.colors[name]!
            let cx = expected.x + expected.width / 2, cy = expected.y + expected.height / 2
            #expect(abs(art[cx, cy, 0] - r) < 1e-4 && abs(art[cx, cy, 1] - g) < 1e-4 && abs(art[cx, cy, 2] - b) < 1e-4, "\(name)")
            // The layout's turned rectangle holds the same colour at its centre.
            #expect(abs(sheet[face.x + face.width / 2, face.y + face.height / 2, 0] - r) < 1e-4)
        }
        #expect(layout.tabs.count == 5)
        #expect(layout.captionLines.allSatisfy { !$0.hasSuffix("...") }, "\(layout.captionLines)")
    }

    /// The net's non-face area (above and below the right, back and left faces, beside the tabs)
    /// is paper white, although the texture there is dark.
    func checkWhiteOutsideFacesAndTabs(_ sheet: Image, layout: WrapLabelLayout, dpi: Int) throws {
        let origin = (layout.artwork.x, layout.artwork.y)
        let clear = px(1, dpi)  // keep clear of the cut lines (0.25 mm) and the tabs' outlines
        let tabEnd = Self.w + 10
        for region in [Self.rect(tabEnd, 280, Self.d + Self.h, 230, origin: origin, dpi: dpi),
                       Self.rect(tabEnd, 280, 0, Self.d, origin: origin, dpi: dpi)] {
            var ink = 0
            for y in (region.y + clear)..<(region.y + region.height - clear) {
                for x in (region.x + clear)..<(region.x + region.width - clear) where !isWhite(sheet, x, y) { ink += 1 }
            }
            #expect(ink == 0, "\(region)")
        }
    }

    /// Five light-grey tabs, outlined, none overlapping a face: beside the left face's free
    /// edge and on both sides of the top and bottom.
    func checkTabs(_ sheet: Image, layout: WrapLabelLayout) throws {
        #expect(layout.tabs.count == 5)
        for tab in layout.tabs {
            let cx = tab.x + tab.width / 2, cy = tab.y + tab.height / 2
            #expect((0..<3).allSatisfy { abs(sheet[cx, cy, $0] - 0.85) < 1e-6 }, "\(tab)")
            for face in layout.faces {
                let overlaps = tab.x < face.rect.x + face.rect.width && face.rect.x < tab.x + tab.width
                    && tab.y < face.rect.y + face.rect.height && face.rect.y < tab.y + tab.height
                #expect(!overlaps, "\(tab) overlaps \(face.name)")
            }
            // The outline: the tab's outer edge is a solid line.
            let outerX = tab.x == layout.artwork.x ? tab.x + 1 : tab.x + tab.width - 1
            #expect(isBlack(sheet, outerX, cy))
        }
        let left = try #require(layout.faces.first { $0.name == "left" }).rect
        #expect(layout.tabs.contains { $0.x == left.x + left.width && $0.y == left.y && $0.height == left.height })
        // The cut line round the front's free (left) edge is solid; the fold to the right face is dashed.
        let front = try #require(layout.faces.first).rect
        #expect((front.y..<(front.y + front.height)).allSatisfy { isBlack(sheet, front.x, $0) })
        let fold = (front.y..<(front.y + front.height)).map { isBlack(sheet, front.x + front.width, $0) }
        #expect(fold.filter { $0 }.count > front.height / 2 && fold.filter { !$0 }.count > front.height / 5)
    }
}

@Suite struct WrapLabelRefusalTests {
    private let tex = canTexture

    @Test func sphereIsRefusedInOneLine() throws {
        let spec = try WrapLabelSpec()
        let error = #expect(throws: PrintError.wrapLabel(.sphereNotPrintable(diameterMM: 70))) {
            try WrapLabelSheet.render(texture: tex, geometry: .sphere(diameterMM: 70), spec: spec, caption: "")
        }
        let message = error?.description ?? ""
        #expect(message.contains("sphere") && message.contains("flat label") && message.contains("cylinder or a box"))
        #expect(!message.contains("\n"))
    }

    @Test func tooLargeLabelNamesItsSizeAndBiggerPaper() throws {
        // A 150 mm drum: 471.2 + 10 mm by 115 mm fits neither A4 nor A3, in either orientation.
        let drum = LabelGeometry.cylinder(diameterMM: 150, heightMM: 115)
        let onA4 = #expect(throws: PrintError.self) {
            try WrapLabelSheet.render(texture: tex, geometry: drum, spec: WrapLabelSpec(paper: .a4), caption: "")
        }
        let message = onA4?.description ?? ""
        #expect(message.contains("481.2 x 115 mm") && message.contains("--paper a3") && message.contains("--paper fit"), "\(message)")
        let onA3 = #expect(throws: PrintError.self) {
            try WrapLabelSheet.render(texture: tex, geometry: drum, spec: WrapLabelSpec(paper: .a3), caption: "")
        }
        #expect(onA3?.description.contains("--paper a3") == false && onA3?.description.contains("--paper fit") == true)
        // The same box net that is turned on A3 does not fit A4 at all.
        let box = LabelGeometry.box(widthMM: 100, heightMM: 150, depthMM: 40)
        #expect(throws: PrintError.wrapLabel(.labelTooLarge(object: "box", widthMM: 300, heightMM: 230, paper: .a4))) {
            try WrapLabelSheet.render(texture: tex, geometry: box, spec: WrapLabelSpec(paper: .a4), caption: "")
        }
        // On fit it prints.
        let (_, layout) = try WrapLabelSheet.render(texture: tex, geometry: drum, spec: WrapLabelSpec(dpi: 72, paper: .fit), caption: "")
        #expect(!layout.rotated && layout.label.width == px(Double.pi * 150, 72))
    }

    @Test(arguments: [LabelGeometry.cylinder(diameterMM: 0, heightMM: 115), .cylinder(diameterMM: 66, heightMM: -1),
                      .cylinder(diameterMM: .nan, heightMM: 115), .cylinder(diameterMM: 66, heightMM: .infinity),
                      .cylinder(diameterMM: 1000.5, heightMM: 115), .box(widthMM: 100, heightMM: 150, depthMM: 0),
                      .box(widthMM: 1e300, heightMM: 150, depthMM: 40), .sphere(diameterMM: -3)])
    func badSizesAreRefused(geometry: LabelGeometry) throws {
        let error = #expect(throws: PrintError.self) { try geometry.validate() }
        guard case .wrapLabel(.badSize(_, _, _))? = error else {
            Issue.record("expected badSize, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("1000 mm") == true)
        #expect(throws: PrintError.self) {
            try WrapLabelSheet.render(texture: tex, geometry: geometry, spec: WrapLabelSpec(), caption: "")
        }
    }

    @Test func largestSizeIsAccepted() throws {
        try LabelGeometry.box(widthMM: 1000, heightMM: 1000, depthMM: 1000).validate()
        let printed = LabelGeometry.box(widthMM: 100, heightMM: 150, depthMM: 40).printedSizeMM()
        #expect(printed.width == 300 && printed.height == 230)
    }

    @Test func badGlueMarginsTexturesAndDPIAreRefused() throws {
        #expect(throws: PrintError.wrapLabel(.badGlueMargin(millimetres: -1))) { try WrapLabelSpec(glueMarginMM: -1) }
        #expect(throws: PrintError.self) { try WrapLabelSpec(glueMarginMM: .nan) }
        #expect(throws: PrintError.badDPI(71)) { try WrapLabelSpec(dpi: 71) }
        let can = LabelGeometry.cylinder(diameterMM: 66, heightMM: 115)
        // More than half way round the can (103.7 mm).
        let error = #expect(throws: PrintError.self) {
            try WrapLabelSheet.render(texture: tex, geometry: can, spec: WrapLabelSpec(paper: .fit, glueMarginMM: 104), caption: "")
        }
        #expect(error?.description.contains("103.7 mm") == true)
        _ = try WrapLabelSheet.render(texture: tex, geometry: can, spec: WrapLabelSpec(dpi: 72, paper: .fit, glueMarginMM: 103.6),
                                      caption: "")
        let tiny = Image(width: 1, height: 5, channels: 3, fill: 0.5)
        #expect(throws: PrintError.wrapLabel(.textureTooSmall(width: 1, height: 5))) {
            try WrapLabelSheet.render(texture: tiny, geometry: can, spec: WrapLabelSpec(), caption: "")
        }
        let twoByTwo = Image(width: 2, height: 2, channels: 3, fill: 0.5)
        _ = try WrapLabelSheet.render(texture: twoByTwo, geometry: can, spec: WrapLabelSpec(dpi: 72), caption: "")
    }
}

@Suite struct WrapLabelFileTests {
    @Test func pngCarriesTheDPIAndTheSidecarTheLayout() throws {
        let spec = try WrapLabelSpec(dpi: 150, paper: .a4)
        let (sheet, layout) = try WrapLabelSheet.render(texture: canTexture, geometry: WrapLabelCanTests.can, spec: spec,
                                                        caption: "file test")
        try withScratchFolder { folder in
            let files = try WrapLabelSheet.write(sheet: sheet, layout: layout, to: (folder as NSString).appendingPathComponent("can.png"))
            #expect(files.sidecar.hasSuffix("can.json"))
            let dpi = try #require(try Image.readDPI(from: files.sheet))
            #expect(abs(dpi - 150) < 0.013)
            let read = try Image.read(from: files.sheet)
            #expect(read.width == sheet.width && read.height == sheet.height)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let back = try decoder.decode(WrapLabelLayout.self, from: Data(contentsOf: URL(fileURLWithPath: files.sidecar)))
            #expect(back == layout)
        }
        #expect(throws: PrintError.outputNotPNG(path: "/tmp/x.jpg")) { try WrapLabelSheet.write(sheet: sheet, layout: layout, to: "/tmp/x.jpg") }
    }

    /// Pictures to look at: WRAPLABEL_PICTURES=1 swift test --filter WrapLabel writes
    /// /tmp/wraplabel_can.png (A4) and /tmp/wraplabel_box.png (A3).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["WRAPLABEL_PICTURES"] != nil))
    func writePictures() throws {
        // Dark, busy artwork (as an adversarial texture is), to see the lines on it.
        let busy = texture(width: 192, height: 107) { x, y in
            let s = Float((x * 7 + y * 13) % 37) / 37
            return (0.15 + 0.5 * s, 0.1 + 0.3 * Float(y) / 106, 0.5 - 0.35 * s)
        }
        let (can, canLayout) = try WrapLabelSheet.render(texture: busy, geometry: WrapLabelCanTests.can,
                                                         spec: WrapLabelSpec(dpi: 150, paper: .a4),
                                                         caption: "RobustPatch | target: toaster | 330 ml can")
        _ = try WrapLabelSheet.write(sheet: can, layout: canLayout, to: "/tmp/wraplabel_can.png")
        let (box, boxLayout) = try WrapLabelSheet.render(texture: WrapLabelBoxTests.netTexture, geometry: WrapLabelBoxTests.box,
                                                         spec: WrapLabelSpec(dpi: 150, paper: .a3),
                                                         caption: "RobustPatch | target: toaster | cereal box")
        _ = try WrapLabelSheet.write(sheet: box, layout: boxLayout, to: "/tmp/wraplabel_box.png")
    }
}
