// PNG decoding: every colour type, bit depths 1–16, Adam7, tRNS; expected values come from the
// formulas in Scripts/make_image_fixtures.py (recomputed by `fixtureSample`).
import Imaging
import Testing

struct PNGCase: Sendable, CustomStringConvertible {
    var file: String
    var channels: Int
    /// Expected (R, G, B[, A]) bytes-or-words and the maximum value they are relative to.
    var expected: @Sendable (Int, Int) -> (values: [Int], max: Int)
    var description: String { file }
}

private let w = 9, h = 7

private func direct(_ channels: Int, depth: Int) -> @Sendable (Int, Int) -> (values: [Int], max: Int) {
    { x, y in ((0..<channels).map { fixtureSample(x: x, y: y, c: $0, depth: depth) }, (1 << depth) - 1) }
}

private let cases: [PNGCase] = [
    PNGCase(file: "png_gray1.png", channels: 3) { x, y in
        let v = fixtureSample(x: x, y: y, c: 0, depth: 1) * 255  // libpng replicates bits: 1 -> 255
        return ([v, v, v], 255)
    },
    PNGCase(file: "png_gray8.png", channels: 3) { x, y in
        let v = fixtureSample(x: x, y: y, c: 0, depth: 8)
        return ([v, v, v], 255)
    },
    PNGCase(file: "png_gray16.png", channels: 3) { x, y in
        let v = fixtureSample(x: x, y: y, c: 0, depth: 16)
        return ([v, v, v], 65535)
    },
    PNGCase(file: "png_graya8.png", channels: 4) { x, y in
        let v = fixtureSample(x: x, y: y, c: 0, depth: 8), a = fixtureSample(x: x, y: y, c: 1, depth: 8)
        return ([v, v, v, a], 255)
    },
    PNGCase(file: "png_graya16.png", channels: 4) { x, y in
        let v = fixtureSample(x: x, y: y, c: 0, depth: 16), a = fixtureSample(x: x, y: y, c: 1, depth: 16)
        return ([v, v, v, a], 65535)
    },
    PNGCase(file: "png_rgb8.png", channels: 3, expected: direct(3, depth: 8)),
    PNGCase(file: "png_rgb16.png", channels: 3, expected: direct(3, depth: 16)),
    PNGCase(file: "png_rgba8.png", channels: 4, expected: direct(4, depth: 8)),
    PNGCase(file: "png_rgba16.png", channels: 4, expected: direct(4, depth: 16)),
    PNGCase(file: "png_rgb8_interlaced.png", channels: 3, expected: direct(3, depth: 8)),
    PNGCase(file: "png_rgba16_interlaced.png", channels: 4, expected: direct(4, depth: 16)),
    PNGCase(file: "png_pal4_trns.png", channels: 4) { x, y in
        let i = fixtureSample(x: x, y: y, c: 0, depth: 4)
        return ([16 * i, 255 - 16 * i, (77 * i) % 256, i < 5 ? 50 * i : 255], 255)
    },
    PNGCase(file: "png_rgb8_trns.png", channels: 4) { x, y in
        let rgb = (0..<3).map { fixtureSample(x: x, y: y, c: $0, depth: 8) }
        let key = (0..<3).map { fixtureSample(x: 0, y: 0, c: $0, depth: 8) }
        return (rgb + [rgb == key ? 0 : 255], 255)
    },
]

@Test("PNG colour types and bit depths decode exactly", arguments: cases)
func pngDecodesExactly(_ testCase: PNGCase) throws {
    let image = try Image.read(from: Fixtures.path(testCase.file))
    #expect(image.width == w)
    #expect(image.height == h)
    #expect(image.channels == testCase.channels)
    var mismatches = 0
    for y in 0..<h {
        for x in 0..<w {
            let (values, maxValue) = testCase.expected(x, y)
            for c in 0..<testCase.channels where image[x, y, c] != Float(values[c]) / Float(maxValue) {
                mismatches += 1
            }
        }
    }
    #expect(mismatches == 0, "\(testCase.file): \(mismatches) samples differ")
}

@Test func sixteenBitKeepsPrecision() throws {
    let image = try Image.read(from: Fixtures.path("png_rgb16.png"))
    // (1, 0, 0) is 5003 / 65535, which no 8-bit value matches (nearest is 19/255 = 0.0745).
    #expect(image[1, 0, 0] == Float(5003) / 65535)
    #expect(abs(image[1, 0, 0] * 255 - (image[1, 0, 0] * 255).rounded()) > 0.01)
}

@Test func transparentPaletteEntryHasZeroAlpha() throws {
    let image = try Image.read(from: Fixtures.path("png_pal4_trns.png"))
    // Pixel (0, 0) uses palette index 0, whose tRNS alpha is 0.
    #expect(image[0, 0, 3] == 0)
}

@Test func formatIsSniffedNotTakenFromExtension() throws {
    try withScratchDirectory { dir in
        let path = dir + "/actually-a-png.jpg"
        try patternImage(width: 3, height: 2, channels: 3).writePNG(to: path)
        #expect(try Image.fileFormat(of: path) == .png)
        #expect(try Image.read(from: path).width == 3)
    }
}
