// Resize: golden values from PIL (Scripts/golden_resize.py), identity, alpha handling, constants.
import Foundation
import Imaging
import Testing

private struct Golden: Decodable {
    struct Case: Decodable { var width: Int; var height: Int; var pixels: [Float] }
    var width: Int, height: Int, channels: Int
    var bytes: [Int]
    var cases: [Case]
}

@Test("resize matches PIL's anti-aliased BILINEAR (Scripts/golden_resize.py)")
func resizeMatchesPIL() throws {
    let golden = try JSONDecoder().decode(Golden.self, from: Fixtures.data("resize_golden.json"))
    let input = try Image(width: golden.width, height: golden.height, channels: golden.channels,
                          pixels: golden.bytes.map { Float($0) / 255 })
    var worst: Float = 0
    for testCase in golden.cases {
        let out = input.resized(width: testCase.width, height: testCase.height)
        let expected = try Image(width: testCase.width, height: testCase.height, channels: 3, pixels: testCase.pixels)
        let difference = maxDifference(out, expected)
        // PIL accumulates in double, we in Float: observed max difference 1.2e-7 over all cases.
        #expect(difference < 1e-6, "\(testCase.width) × \(testCase.height): max difference \(difference)")
        worst = max(worst, difference)
    }
    print("resize vs PIL: max difference \(worst) over \(golden.cases.count) sizes")
}

@Test func identityResizeReturnsIdenticalPixels() throws {
    let image = try patternImage(width: 7, height: 5, channels: 4)
    #expect(image.resized(width: 7, height: 5) == image)
}

@Test func resizeKeepsConstantImagesConstant() {
    let image = Image(width: 11, height: 9, channels: 3, fill: 0.3)
    for (w, h) in [(3, 2), (20, 17), (11, 4), (1, 1)] {
        let out = image.resized(width: w, height: h)
        #expect(out.width == w && out.height == h)
        #expect(out.pixels.allSatisfy { abs($0 - 0.3) < 1e-6 })
    }
}

@Test func opaqueRGBAResizesLikeRGB() throws {
    let rgb = try patternImage(width: 13, height: 10, channels: 3)
    let a = rgb.rgba.resized(width: 6, height: 15)
    let b = rgb.resized(width: 6, height: 15)
    #expect(maxDifference(a.rgb, b) < 1e-6)
    #expect(a.pixels.enumerated().allSatisfy { $0.offset % 4 != 3 || abs($0.element - 1) < 1e-6 })
}

@Test func transparentColourDoesNotBleed() throws {
    // Left: red at alpha 0; right: opaque blue. Premultiplied filtering gives blue at alpha 0.5.
    let image = try Image(width: 2, height: 1, channels: 4, pixels: [1, 0, 0, 0, 0, 0, 1, 1])
    let out = image.resized(width: 1, height: 1)
    #expect(out.pixels == [0, 0, 1, 0.5])
}

@Test func downscaleByTwoUsesWidenedTriangle() throws {
    // Shrinking 4 -> 2 stretches the triangle to ±2 input pixels: taps 1/8, 3/8, 3/8, 1/8
    // (clipped and renormalised at the edges: 3/7... for output 0: inputs 0,1,2 weights 3,3,1).
    var pixels = [Float]()
    for x in 0..<4 { pixels += [Float(x), 0, 0] }
    let image = try Image(width: 4, height: 1, channels: 3, pixels: pixels)
    let out = image.resized(width: 2, height: 1)
    #expect(abs(out[0, 0, 0] - Float(0 * 3 + 1 * 3 + 2 * 1) / 7) < 1e-6)
    #expect(abs(out[1, 0, 0] - Float(1 * 1 + 2 * 3 + 3 * 3) / 7) < 1e-6)
}

@Test("the 8-bit resize is Pillow's RGB BILINEAR byte for byte (Scripts/golden_resize.py)")
func resizeLike8BitPIL() throws {
    struct Case: Decodable { var width: Int; var height: Int; var bytes: [Int] }
    struct G: Decodable { var width: Int; var height: Int; var bytes: [Int]; var cases_8bit: [Case] }
    let golden = try JSONDecoder().decode(G.self, from: Fixtures.data("resize_golden.json"))
    let input = try Image(width: golden.width, height: golden.height, channels: 3, pixels: golden.bytes.map { Float($0) / 255 })
    #expect(golden.cases_8bit.count >= 8)
    for c in golden.cases_8bit {
        let out = input.resizedLike8BitPIL(width: c.width, height: c.height)
        let ours = out.pixels.map { Int(($0 * 255).rounded()) }
        let differing = zip(ours, c.bytes).filter { $0 != $1 }.count
        #expect(out.width == c.width && out.height == c.height && differing == 0, "\(c.width) × \(c.height): \(differing) bytes differ")
    }
}
