// JPEG decoding against PIL's decode of the same files (same libjpeg-turbo), EXIF orientation
// 1–8 (little- and big-endian TIFF), JFIF density. Fixtures: Scripts/make_image_fixtures.py.
import Imaging
import Testing

/// Decodes `name.jpg` with Imaging and `name.pil.png` (PIL's decode, orientation applied).
private func oursAndPIL(_ name: String) throws -> (ours: Image, pil: Image) {
    (try Image.read(from: Fixtures.path(name + ".jpg")), try Image.read(from: Fixtures.path(name + ".pil.png")))
}

@Test("JPEG decode matches PIL (libjpeg-turbo, ISLOW, fancy upsampling)",
      arguments: ["jpeg_baseline", "jpeg_progressive", "jpeg_gray"])
func jpegMatchesPIL(_ name: String) throws {
    let (ours, pil) = try oursAndPIL(name)
    #expect(ours.width == 32 && ours.height == 24 && ours.channels == 3)
    // Same library and settings as PIL: observed max difference 0.
    #expect(maxDifference(ours, pil) == 0)
}

@Test func jpegIsCloseToTheSourceGradient() throws {
    // The source was r = 8x, g = 10y, b = 4(x + y) (bytes), saved at quality 90.
    for name in ["jpeg_baseline.jpg", "jpeg_progressive.jpg"] {
        let image = try Image.read(from: Fixtures.path(name))
        var total: Float = 0
        for y in 0..<24 {
            for x in 0..<32 {
                let source = [8 * x % 256, 10 * y % 256, 4 * (x + y) % 256]
                for c in 0..<3 { total += abs(image[x, y, c] - Float(source[c]) / 255) }
            }
        }
        let meanError = total / Float(32 * 24 * 3)
        #expect(meanError < 0.03, "\(name): mean abs error \(meanError)")
    }
}

@Test func cmykJPEGBecomesRGB() throws {
    let (ours, pil) = try oursAndPIL("jpeg_cmyk")
    #expect(ours.channels == 3 && ours.width == 32 && ours.height == 32)
    // With K = 0 every CMYK -> RGB formula agrees; JPEG noise in K makes small differences.
    #expect(maxDifference(ours, pil) < 0.05)
    // Block centres: red, green / blue, white.
    let expected: [(Int, Int, [Float])] = [(8, 8, [1, 0, 0]), (24, 8, [0, 1, 0]), (8, 24, [0, 0, 1]), (24, 24, [1, 1, 1])]
    for (x, y, rgb) in expected {
        for c in 0..<3 { #expect(abs(ours[x, y, c] - rgb[c]) < 0.05) }
    }
}

/// Colours of the 3 × 2 blocks (16 px each) of the upright orientation fixture.
private let blockColours: [[[Float]]] = [
    [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    [[1, 1, 0], [1, 0, 1], [0, 1, 1]],
]

@Test("EXIF orientation is applied", arguments: [
    "jpeg_orient1", "jpeg_orient2", "jpeg_orient3", "jpeg_orient4",
    "jpeg_orient5", "jpeg_orient6", "jpeg_orient7", "jpeg_orient8", "jpeg_orient6_mm",
])
func exifOrientationIsApplied(_ name: String) throws {
    let (ours, pil) = try oursAndPIL(name)
    #expect(ours.width == 48 && ours.height == 32, "\(name): \(ours.width) × \(ours.height)")
    #expect(maxDifference(ours, pil) == 0, "\(name) differs from PIL's exif_transpose")
    for by in 0..<2 {
        for bx in 0..<3 {
            for c in 0..<3 {
                let v = ours[16 * bx + 8, 16 * by + 8, c]
                #expect(abs(v - blockColours[by][bx][c]) < 0.1, "\(name) block (\(bx), \(by))")
            }
        }
    }
}

@Test func storedOrientation6IsPortrait() throws {
    // The stored raster is 32 × 48; only the EXIF tag makes it landscape.
    let bytes = try Fixtures.data("jpeg_orient6.jpg")
    let sof = try #require(bytes.indices.first { i in i + 1 < bytes.count && bytes[i] == 0xFF && bytes[i + 1] == 0xC0 })
    let height = Int(bytes[sof + 5]) << 8 | Int(bytes[sof + 6])
    let width = Int(bytes[sof + 7]) << 8 | Int(bytes[sof + 8])
    #expect(width == 32 && height == 48)
}

@Test func jfifDensityIsReadAsDPI() throws {
    #expect(try Image.readDPI(from: Fixtures.path("jpeg_baseline.jpg")) == 200)
    #expect(try Image.fileFormat(of: Fixtures.path("jpeg_baseline.jpg")) == .jpeg)
    // PIL writes JFIF with density 1:1 and no unit when no dpi is given: no resolution.
    #expect(try Image.readDPI(from: Fixtures.path("jpeg_orient1.jpg")) == nil)
}
