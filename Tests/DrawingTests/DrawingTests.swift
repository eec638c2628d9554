// Tests for the Drawing module: the bundled font, text metrics, exact rectangle/line pixels,
// exact and scaled blits. Pixel-exact expectations, no golden files.
import Drawing
import Imaging
import Testing

/// Pixels of `image` (channel 0) that differ from `background`, as (x, y) pairs.
private func inked(_ image: Image, background: Float = 1) -> Set<[Int]> {
    var out = Set<[Int]>()
    for y in 0..<image.height {
        for x in 0..<image.width where image[x, y, 0] != background { out.insert([x, y]) }
    }
    return out
}

@Suite struct FontTests {
    @Test func everyPrintableASCIIHasAGlyph() {
        let font = BitmapFont.basic8x8
        for code in UInt32(32)...126 {
            #expect(font.hasGlyph(Unicode.Scalar(code)!), "missing U+\(String(code, radix: 16))")
        }
        #expect(!font.hasGlyph("é"))
        #expect(font.rows(for: "é") == font.rows(for: "?"))
    }

    @Test func glyphOfAIsTheKnownBitmap() {
        // font8x8_basic 'A' = 0C 1E 33 33 3F 33 33 00 (bit n = column n from the left).
        #expect(BitmapFont.basic8x8.rows(for: "A") == [0x0C, 0x1E, 0x33, 0x33, 0x3F, 0x33, 0x33, 0x00])
        var image = Image(width: 8, height: 8, channels: 3, fill: 1)
        image.drawText("A", x: 0, y: 0)
        let ink = inked(image)
        #expect(ink.count == 2 + 4 + 4 + 4 + 6 + 4 + 4)
        #expect(ink.contains([2, 0]) && ink.contains([3, 0]) && !ink.contains([0, 0]))
        #expect(ink.contains([0, 4]) && ink.contains([5, 4]))  // the crossbar 0x3F
    }

    @Test func spaceIsBlankAndUnknownIsQuestionMark() {
        var space = Image(width: 8, height: 8, channels: 3, fill: 1)
        space.drawText(" ", x: 0, y: 0)
        #expect(inked(space).isEmpty)
        var unknown = Image(width: 8, height: 8, channels: 3, fill: 1)
        unknown.drawText("✓", x: 0, y: 0)
        var question = Image(width: 8, height: 8, channels: 3, fill: 1)
        question.drawText("?", x: 0, y: 0)
        #expect(unknown == question)
        #expect(!inked(question).isEmpty)
    }

    @Test func badFontTextThrows() {
        #expect(throws: DrawingError.missingFallbackGlyph) { try BitmapFont(parsing: "0041 0C 1E 33 33 3F 33 33 00\n") }
        #expect(throws: DrawingError.self) { try BitmapFont(parsing: "003F 1E 33\n") }
        #expect(throws: DrawingError.self) { try BitmapFont(parsing: "zz 00 00 00 00 00 00 00 00\n") }
    }
}

@Suite struct TextTests {
    @Test func widthAndHeight() {
        #expect(Image.textWidth("Hello", scale: 1) == 40)
        #expect(Image.textWidth("Hello", scale: 2) == 80)
        #expect(Image.textWidth("ab\nlonger", scale: 1) == 48)
        #expect(Image.textWidth("", scale: 3) == 0)
        #expect(Image.textHeight("one", scale: 2) == 16)
        #expect(Image.textHeight("one\ntwo", scale: 2) == 20 + 16)
    }

    @Test func scaleTwoDoublesEveryInkPixel() {
        var small = Image(width: 8, height: 8, channels: 3, fill: 1)
        small.drawText("R", x: 0, y: 0, scale: 1)
        var big = Image(width: 16, height: 16, channels: 3, fill: 1)
        big.drawText("R", x: 0, y: 0, scale: 2)
        #expect(inked(big).count == 4 * inked(small).count)
        for y in 0..<16 {
            for x in 0..<16 { #expect(big[x, y, 0] == small[x / 2, y / 2, 0]) }
        }
    }

    @Test func textIsClippedNotCrashing() {
        var image = Image(width: 10, height: 10, channels: 4, fill: 0)
        let w = image.drawText("clipped text", x: -5, y: 4, scale: 2, color: .red)
        #expect(w == 12 * 16)
        #expect(!inked(image, background: 0).isEmpty)
    }
}

@Suite struct ShapeTests {
    @Test func fillRectPixelsExact() {
        var image = Image(width: 10, height: 8, channels: 3, fill: 1)
        image.fillRect(x: 2, y: 3, width: 4, height: 2, color: Color(red: 0.25, green: 0.5, blue: 0.75))
        for y in 0..<8 {
            for x in 0..<10 {
                let inside = (2..<6).contains(x) && (3..<5).contains(y)
                #expect(image[x, y, 0] == (inside ? 0.25 : 1))
                #expect(image[x, y, 1] == (inside ? 0.5 : 1))
                #expect(image[x, y, 2] == (inside ? 0.75 : 1))
            }
        }
    }

    @Test func fillRectClipsAndSetsAlpha() {
        var image = Image(width: 4, height: 4, channels: 4, fill: 0)
        image.fillRect(x: -2, y: -2, width: 4, height: 4, color: .black)
        #expect(inked(image, background: 0).isEmpty)  // RGB black on RGB 0 ...
        #expect(image[1, 1, 3] == 1 && image[2, 2, 3] == 0)  // ... but alpha set only inside
    }

    @Test func strokeRectIsInsideTheBox() {
        var image = Image(width: 12, height: 12, channels: 3, fill: 1)
        image.strokeRect(x: 1, y: 1, width: 10, height: 8, lineWidth: 2, color: .black)
        let ink = inked(image)
        #expect(ink.count == 10 * 8 - 6 * 4)
        #expect(ink.contains([1, 1]) && ink.contains([10, 8]) && ink.contains([2, 2]))
        #expect(!ink.contains([3, 3]) && !ink.contains([0, 0]) && !ink.contains([11, 9]))
    }

    @Test func linesAxisAlignedAndDiagonal() {
        var image = Image(width: 10, height: 10, channels: 3, fill: 1)
        image.drawLine(x0: 7, y0: 2, x1: 1, y1: 2, color: .black)
        #expect(inked(image) == Set((1...7).map { [$0, 2] }))
        var diagonal = Image(width: 10, height: 10, channels: 3, fill: 1)
        diagonal.drawLine(x0: 0, y0: 0, x1: 9, y1: 9, color: .black)
        #expect(inked(diagonal) == Set((0...9).map { [$0, $0] }))
        var steep = Image(width: 10, height: 10, channels: 3, fill: 1)
        steep.drawLine(x0: 0, y0: 9, x1: 3, y1: 0, color: .black)
        let ink = inked(steep)
        #expect(ink.count == 10)  // one pixel per row for a steep line
        #expect(ink.contains([0, 9]) && ink.contains([3, 0]))
    }

    @Test func translucentColorBlends() {
        var image = Image(width: 1, height: 1, channels: 3, fill: 1)
        image.setPixel(x: 0, y: 0, color: Color(gray: 0, alpha: 0.25))
        #expect(abs(image[0, 0, 0] - 0.75) < 1e-6)
    }
}

@Suite struct BlitTests {
    private func gradient(_ w: Int, _ h: Int, channels: Int = 3) -> Image {
        var image = Image(width: w, height: h, channels: channels, fill: 1)
        for y in 0..<h {
            for x in 0..<w {
                image[x, y, 0] = Float(x) / Float(w)
                image[x, y, 1] = Float(y) / Float(h)
                image[x, y, 2] = 0.5
            }
        }
        return image
    }

    @Test func blitIsExact() {
        let source = gradient(5, 4)
        var canvas = Image(width: 20, height: 10, channels: 3, fill: 1)
        canvas.blit(source, x: 7, y: 3)
        #expect(canvas.cropped(x: 7, y: 3, width: 5, height: 4) == source)
        #expect(canvas[6, 3, 0] == 1 && canvas[12, 3, 0] == 1 && canvas[7, 2, 0] == 1 && canvas[7, 7, 0] == 1)
    }

    @Test func blitClipsAtEdges() {
        var canvas = Image(width: 4, height: 4, channels: 3, fill: 1)
        canvas.blit(gradient(5, 5), x: -2, y: -3)
        #expect(canvas[0, 0, 0] == 2 / 5 && canvas[0, 0, 1] == 3 / 5)
        #expect(canvas[3, 0, 0] == 1)  // source column 5 does not exist
    }

    @Test func rgbaBlitUsesAlpha() {
        var source = Image(width: 2, height: 1, channels: 4, fill: 0)
        source[0, 0, 3] = 1  // opaque black, then fully transparent
        var canvas = Image(width: 2, height: 1, channels: 3, fill: 1)
        canvas.blit(source, x: 0, y: 0)
        #expect(canvas[0, 0, 0] == 0 && canvas[1, 0, 0] == 1)
    }

    @Test func nearestScaleRepeatsPixels() {
        let source = gradient(3, 2)
        var canvas = Image(width: 9, height: 6, channels: 3, fill: 1)
        canvas.blit(source, x: 0, y: 0, width: 9, height: 6, filter: .nearest)
        for y in 0..<6 {
            for x in 0..<9 { #expect(canvas[x, y, 0] == source[x / 3, y / 3, 0] && canvas[x, y, 1] == source[x / 3, y / 3, 1]) }
        }
    }

    @Test func bilinearScaleIsSmoothAndMatchesResized() {
        let source = gradient(4, 4)
        var canvas = Image(width: 16, height: 16, channels: 3, fill: 1)
        canvas.blit(source, x: 0, y: 0, width: 16, height: 16, filter: .bilinear)
        #expect(canvas == source.resized(width: 16, height: 16))
        // Smooth: more distinct values along a row than the source has.
        #expect(Set((0..<16).map { canvas[$0, 5, 0] }).count > 4)
    }
}
