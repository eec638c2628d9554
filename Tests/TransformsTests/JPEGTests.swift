// JPEG against libjpeg-turbo: a 48 × 40 photo crop and PIL's round trips of it (Pillow 9.4 with
// libjpeg-turbo 2.1.5, Debian 12), made by
//   src.save(buf, 'JPEG', quality=q)                 -> jpeg_source.q{q}.pil.png      (4:2:0, PIL's default)
//   src.save(buf, 'JPEG', quality=q, subsampling=0)  -> jpeg_source.q{q}.444.pil.png  (no subsampling)
// where src = Samples/scenes/train/coffee.jpg resized to 1/4 (Lanczos), cropped at (40, 20, 88, 60).
// 40 rows make a chroma plane of 20 rows: partial border blocks are exercised.
// Then the backward: the exact adjoint of the linear part (dot-product test).
import Foundation
import Imaging
import Testing
import Transforms

private func fixture(_ name: String) throws -> Image {
    let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return try Image.read(from: directory.appendingPathComponent(name).path)
}

private func meanMax(_ a: [Float], _ b: [Float]) -> (mean: Float, max: Float) {
    let d = zip(a, b).map { abs(min(max($0, 0), 1) - $1) }
    return (d.reduce(0, +) / Float(d.count), d.max() ?? 0)
}

@Suite struct JPEGTests {
    @Test(arguments: [55, 90, 100]) func matchesLibjpegTurbo(quality: Int) throws {
        let src = try fixture("jpeg_source.png")
        let pil = try fixture("jpeg_source.q\(quality).pil.png"), pil444 = try fixture("jpeg_source.q\(quality).444.pil.png")
        #expect(src.width == 48 && src.height == 40 && src.channels == 3)
        var ours = src.pixels
        try JPEGLike.apply(&ours, width: 48, height: 40, quality: quality)
        let e = meanMax(ours, pil.pixels)
        // libjpeg works in integers (ISLOW DCT, planes rounded to 8 bits); this is Float. Measured:
        // mean 1.26 / 1.30 / 0.62 levels at q 55 / 90 / 100. At q 100 only rounding differs (max 3.8
        // levels); below, a coefficient near a step's midpoint can round the other way (max 20).
        #expect(e.mean < 1.5 / 255 && e.max < (quality == 100 ? 5.0 : 24.0) / 255,
                "vs PIL 4:2:0: mean \(e.mean * 255), max \(e.max * 255) levels")
        // The 4:4:4 file is farther away: the subsampling is what we model, not noise.
        let far = meanMax(ours, pil444.pixels)
        print("q\(quality): vs PIL 4:2:0 mean \(e.mean * 255), max \(e.max * 255); vs 4:4:4 mean \(far.mean * 255) levels")
        #expect(far.mean > 2 * e.mean, "vs PIL 4:4:4: mean \(far.mean * 255) levels (4:2:0: \(e.mean * 255))")
        // And the round trip moved the photo by more than our distance to it.
        let moved = meanMax(src.pixels, pil.pixels)
        #expect(moved.mean > 2 * e.mean, "PIL's round trip moved the photo by \(moved.mean * 255) levels")
    }

    @Test func backwardIsTheAdjointOfTheLinearPart() throws {
        for (w, h) in [(48, 40), (13, 7), (1, 1), (2, 9)] {
            let x = randomBuffer(w * h * 3, seed: UInt64(w * 31 + h), lo: 0, hi: 1)
            let y = randomBuffer(w * h * 3, seed: UInt64(w * 17 + h + 5), lo: -1, hi: 1)
            var lx = x, lty = y
            try JPEGLike.apply(&lx, width: w, height: h, quality: nil)
            try JPEGLike.backward(&lty, width: w, height: h)
            // <L x, y> = <x, Lᵀ y> once the constant (the level shift, which cancels) is out of L.
            var zero = [Float](repeating: 0, count: w * h * 3)
            try JPEGLike.apply(&zero, width: w, height: h, quality: nil)
            var lhs = 0.0, rhs = 0.0
            for i in 0..<x.count { lhs += Double(lx[i] - zero[i]) * Double(y[i]); rhs += Double(x[i]) * Double(lty[i]) }
            #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)), "\(w)×\(h): <Lx, y> \(lhs) vs <x, Lᵀy> \(rhs)")
        }
    }

    @Test func linearPartKeepsGreyAndLumaAndSmoothsChroma() throws {
        // A grey image passes unchanged; a one-pixel red dot keeps its luma but its chroma spreads.
        var grey = [Float](repeating: 0.4, count: 16 * 16 * 3)
        try JPEGLike.apply(&grey, width: 16, height: 16, quality: nil)
        #expect(grey.allSatisfy { abs($0 - 0.4) < 1e-5 })
        var dot = [Float](repeating: 0.5, count: 16 * 16 * 3)
        let o = (8 * 16 + 8) * 3
        dot[o] = 1; dot[o + 1] = 0.5; dot[o + 2] = 0.5
        let before = dot
        try JPEGLike.apply(&dot, width: 16, height: 16, quality: nil)
        let luma = { (p: [Float], i: Int) in 0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2] }
        #expect(abs(luma(dot, o) - luma(before, o)) < 1e-5)
        #expect(dot[o] < 0.8 && dot[o - 3] > 0.5, "red at the dot \(dot[o]), its left neighbour \(dot[o - 3])")
    }

    @Test func badShapesThrow() {
        var few = [Float](repeating: 0, count: 5)
        #expect(throws: TransformError.self) { try JPEGLike.apply(&few, width: 2, height: 2, quality: 75) }
        #expect(throws: TransformError.self) { try JPEGLike.backward(&few, width: 0, height: 2) }
    }
}
