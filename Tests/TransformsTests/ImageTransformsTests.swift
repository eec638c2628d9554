// Whole-photo transformations: the identity sample frames a photo as `classify` does, the
// renderer's backward to the photo against central differences, the distribution's sampling,
// presets and JSON (unknown keys, bad ranges refused).
import Foundation
import Imaging
import Testing
import Transforms

@Suite("Whole-image transforms")
struct ImageTransformsTests {
    static func framing(_ w: Int, _ h: Int, _ size: Int) throws -> ImageFraming {
        let op = try ModelInputOperator(width: w, height: h, size: size)
        return ImageFraming(width: w, height: h, size: size, resizedWidth: op.resizedWidth, resizedHeight: op.resizedHeight, left: op.left, top: op.top)
    }

    @Test("the identity sample frames the photo as classify does (within the mip filter's difference from the triangle filter)")
    func identityIsClassifyFraming() throws {
        // A smooth photo (the two filters differ on fine detail, not on smooth content).
        let (w, h, s) = (90, 60, 48)
        let photo = (0..<(w * h * 3)).map { i -> Float in
            let p = i / 3, x = Double(p % w), y = Double(p / w), c = Double(i % 3)
            return Float(0.5 + 0.4 * sin(x / 9 + c) * cos(y / 7))
        }
        let f = try Self.framing(w, h, s)
        let renderer = try ImageRenderer(framing: f)
        var image = [Float](repeating: 0, count: s * s * 3)
        _ = try photo.withUnsafeBufferPointer { p in try image.withUnsafeMutableBufferPointer { try renderer.forward(photo: p, sample: ImageSample(), image: $0) } }
        let op = try ModelInputOperator(width: w, height: h, size: s)
        let expected = op.apply(photo)
        let mean = zip(image, expected).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(image.count)
        let worst = zip(image, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(mean < 0.01 && worst < 0.06, "mean |difference| \(mean), max \(worst)")
    }

    @Test("backward to the photo = central differences (rotation, zoom, shift, perspective, lighting, blur)")
    func gradient() throws {
        let (w, h, s) = (14, 10, 12)
        let f = try Self.framing(w, h, s)
        let renderer = try ImageRenderer(framing: f)
        var sample = ImageSample()
        sample.rotation = 12; sample.zoom = 0.93; sample.shiftX = 0.04; sample.shiftY = -0.03
        sample.corners = [SIMD2(0.01, -0.02), SIMD2(0, 0.02), SIMD2(-0.01, 0.01), SIMD2(0.02, 0)]
        sample.brightness = 1.05; sample.contrast = 0.95; sample.colorGain = [1.02, 0.99, 1]; sample.blurSigma = 0.7; sample.background = 0.3
        let photo = randomBuffer(w * h * 3, seed: 3, lo: 0.15, hi: 0.85)
        let weights = randomBuffer(s * s * 3, seed: 4, lo: -1, hi: 1)
        func render(_ p: [Float]) throws -> ([Float], RenderCache) {
            var image = [Float](repeating: 0, count: s * s * 3)
            let cache = try p.withUnsafeBufferPointer { pp in try image.withUnsafeMutableBufferPointer { try renderer.forward(photo: pp, sample: sample, image: $0) } }
            return (image, cache)
        }
        let (_, cache) = try render(photo)
        var analytic = [Float](repeating: 0, count: photo.count)
        try weights.withUnsafeBufferPointer { wp in try analytic.withUnsafeMutableBufferPointer { try renderer.backward(dImage: wp, cache: cache, dPhoto: $0) } }
        var worst = 0.0, largest = 0.0
        let eps: Float = 1e-2
        for i in 0..<photo.count {
            var plus = photo, minus = photo
            plus[i] += eps; minus[i] -= eps
            let fd = (loss(try render(plus).0, weights) - loss(try render(minus).0, weights)) / Double(2 * eps)
            worst = max(worst, abs(fd - Double(analytic[i])))
            largest = max(largest, abs(fd))
        }
        #expect(largest > 0.05, "the photo should reach the frame (largest derivative \(largest))")
        #expect(worst < 2e-3, "max |analytic − central difference| \(worst) (largest derivative \(largest))")
    }

    @Test("sampling: seeded, inside the ranges; standard inside wide")
    func sampling() throws {
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        let d = ImageTransformDistribution.standard
        let xs = (0..<300).map { _ in d.sample(using: &a) }
        #expect(xs == (0..<300).map { _ in d.sample(using: &b) })
        for x in xs {
            #expect(abs(x.rotation) <= 15 && (0.9...1.1).contains(x.zoom) && abs(x.shiftX) <= 0.05 && abs(x.shiftY) <= 0.05)
            #expect((0...1).contains(x.blurSigma) && (70...95).contains(x.jpegQuality ?? 0) && (0.9...1.1).contains(x.brightness))
        }
        let w = ImageTransformDistribution.wide, s = ImageTransformDistribution.standard
        func covers(_ outer: ValueRange, _ inner: ValueRange) -> Bool { outer.min <= inner.min && outer.max >= inner.max }
        #expect(covers(w.rotation, s.rotation) && covers(w.zoom, s.zoom) && covers(w.shift, s.shift) && covers(w.blurSigma, s.blurSigma)
                && covers(w.jpegQuality!, s.jpegQuality!) && covers(w.brightness, s.brightness))
    }

    @Test("JSON: missing keys are the identity; unknown keys and bad ranges are refused by name")
    func json() throws {
        let d = try ImageTransformDistribution.fromJSON(Data(#"{"rotation": {"min": -5, "max": 5}}"#.utf8))
        #expect(d.rotation == .symmetric(5) && d.zoom == .fixed(1) && d.jpegQuality == nil)
        #expect { try ImageTransformDistribution.fromJSON(Data(#"{"rotaton": {"min": -5, "max": 5}}"#.utf8)) } throws: { "\($0)".contains("rotaton") }
        #expect { try ImageTransformDistribution.fromJSON(Data(#"{"zoom": {"min": 0, "max": 5}}"#.utf8)) } throws: { "\($0)".contains("zoom") }
        #expect { try ImageTransformDistribution.fromJSON(Data(#"{"jpegQuality": {"min": 90, "max": 50}}"#.utf8)) } throws: { "\($0)".contains("jpegQuality") }
        #expect(throws: (any Error).self) { try ImageTransformDistribution.preset(named: "physical") }
    }
}
