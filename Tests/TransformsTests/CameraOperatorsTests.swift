// Motion blur and camera resampling: the fast separable operators against the naive per-pixel
// reference (odd sizes, every direction, lengths below and above one pixel), their adjoints by
// the dot-product test, and rows that sum to one.
import Testing
import Transforms

private func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

@Suite struct CameraOperatorsTests {
    static let cases: [(w: Int, h: Int, length: Double, angle: Double)] = [
        (13, 7, 3.5, 30), (1, 1, 2, 45), (9, 2, 0.3, 0), (16, 11, 5, 90), (17, 19, 2.2, -135), (5, 23, 7.9, 200)]

    @Test func motionBlurMatchesTheNaiveReference() throws {
        for (i, c) in Self.cases.enumerated() {
            let m = MotionBlur(width: c.w, height: c.h, length: c.length, angleDegrees: c.angle)
            let x = randomBuffer(c.w * c.h * 3, seed: UInt64(300 + i))
            let fast = try m.apply(x), naive = try m.applyReference(x, length: c.length, angleDegrees: c.angle)
            let e = zip(fast, naive).map { abs($0 - $1) }.max() ?? 0
            #expect(e < 2e-6, "\(c): forward max |fast − naive| \(e)")
            let g = randomBuffer(c.w * c.h * 3, seed: UInt64(400 + i), lo: -1, hi: 1)
            let fa = try m.applyAdjoint(g), na = try m.applyAdjointReference(g, length: c.length, angleDegrees: c.angle)
            let ea = zip(fa, na).map { abs($0 - $1) }.max() ?? 0
            #expect(ea < 1e-5, "\(c): adjoint max |fast − naive| \(ea)")
        }
    }

    @Test func adjointsPassTheDotProductTest() throws {
        for (i, c) in Self.cases.enumerated() {
            let x = randomBuffer(c.w * c.h * 3, seed: UInt64(500 + i)), y = randomBuffer(c.w * c.h * 3, seed: UInt64(600 + i), lo: -1, hi: 1)
            let m = MotionBlur(width: c.w, height: c.h, length: c.length, angleDegrees: c.angle)
            let r = SeparableResample(width: c.w, height: c.h, scale: 0.5 + 0.08 * Double(i))
            for (name, ax, aty) in [("motion", try m.apply(x), try m.applyAdjoint(y)), ("resample", try r.apply(x), try r.applyAdjoint(y))] {
                let lhs = dot(ax, y), rhs = dot(x, aty)
                #expect(abs(lhs - rhs) < 1e-5 * max(1, abs(lhs)), "\(name) \(c): <Ax, y> \(lhs) vs <x, Aᵀy> \(rhs)")
            }
        }
    }

    /// The resampling's 4-lane pixel loads give what one scalar per channel gives, bit for bit
    /// (odd sizes, one row, one column; the last row takes the scalar path).
    @Test func resamplingsVectorLoadsEqualThePlainLoopsBitForBit() throws {
        let extra: [(w: Int, h: Int, length: Double, angle: Double)] = [(3, 31, 6.5, 80), (40, 9, 2.5, 10), (224, 17, 3, 33)]
        for (i, c) in (Self.cases + extra).enumerated() {
            let x = randomBuffer(c.w * c.h * 3, seed: UInt64(900 + i))
            for scale in [0.5, 0.61, 0.83, 0.99] {
                let r = SeparableResample(width: c.w, height: c.h, scale: scale)
                let sameResample = try r.apply(x) == r.applyReference(x)
                #expect(sameResample, "resample \(c) scale \(scale)")
            }
        }
    }

    @Test func flatImagesStayFlatAndSizesAreChecked() throws {
        let flat = [Float](repeating: 0.4, count: 13 * 7 * 3)
        let m = MotionBlur(width: 13, height: 7, length: 4, angleDegrees: 60), r = SeparableResample(width: 13, height: 7, scale: 0.55)
        #expect(try m.apply(flat).allSatisfy { abs($0 - 0.4) < 1e-6 })
        #expect(try r.apply(flat).allSatisfy { abs($0 - 0.4) < 1e-6 })
        #expect(throws: TransformError.self) { try m.apply([0, 1, 2]) }
        #expect(throws: TransformError.self) { try r.applyAdjoint([Float](repeating: 0, count: 12)) }
    }
}

@Suite struct WindowedAdjointTests {
    /// Six samples of each preset, then one sample with every camera effect (rolled 17°) at each
    /// of the `edges` centres: patches at the image's edges and corners.
    static func samples(presets: [String], width: Int, height: Int, seed: UInt64, edges: [(Double, Double)],
                        edge: (size: Double, blur: Double, motion: Double, angle: Double, resample: Double, jpeg: Int)) throws -> [TransformSample] {
        var samples: [TransformSample] = []
        var rng = SplitMix64(seed: seed)
        for name in presets {
            let d = try TransformDistribution.preset(named: name)
            for _ in 0..<6 { samples.append(d.sample(imageWidth: width, imageHeight: height, using: &rng)) }
        }
        for (cx, cy) in edges {
            var s = TransformSample(roll: 17, size: edge.size, centerX: cx, centerY: cy, blurSigma: edge.blur)
            s.motionBlurLength = edge.motion; s.motionBlurAngle = edge.angle; s.resampleScale = edge.resample; s.jpegQuality = edge.jpeg
            samples.append(s)
        }
        return samples
    }

    /// The renderer's backward with the camera adjoints on windows around the patch gives the
    /// texture the same gradient, bit for bit, as with them on the whole image: samples of the
    /// photo, tabletop and physical presets (motion blur, resampling, blur, JPEG) and patches at
    /// the image's edges and corners.
    @Test func windowedBackwardEqualsWholeImageBackward() throws {
        let (tw, sw, sh) = (12, 61, 47)
        var windowed = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sh)
        windowed.poisonsScratch = true   // an unwritten scratch value read anywhere would show as NaN
        var whole = windowed
        windowed.adjointsOnWindows = true; whole.adjointsOnWindows = false
        let texture = randomBuffer(tw * tw * 3, seed: 700), scene = randomBuffer(sw * sh * 3, seed: 701)
        let mask = try Mask.circle(width: tw, height: tw).alpha
        let dImage = randomBuffer(sw * sh * 3, seed: 702, lo: -1, hi: 1)
        let samples = try Self.samples(presets: ["photo", "tabletop", "physical"], width: sw, height: sh, seed: 703,
                                       edges: [(0.02, 0.5), (0.98, 0.03), (0.5, 0.99), (0.01, 0.01)],
                                       edge: (size: 0.3, blur: 1.1, motion: 2.6, angle: 120, resample: 0.6, jpeg: 70))
        var nonzero = 0
        for (i, s) in samples.enumerated() {
            let (_, cache) = try windowed.forward(texture: texture, mask: mask, scene: scene, sample: s)
            var a = [Float](repeating: 0, count: texture.count), b = a
            try windowed.backward(dImage: dImage, cache: cache, dTexture: &a)
            try whole.backward(dImage: dImage, cache: cache, dTexture: &b)
            #expect(a == b, "sample \(i): max |windowed − whole| \(zip(a, b).map { abs($0 - $1) }.max() ?? 0)")
            if a.contains(where: { $0 != 0 }) { nonzero += 1 }
        }
        #expect(nonzero >= samples.count - 2, "most samples see the patch: \(nonzero) of \(samples.count)")
    }

    /// Culling box pixels far outside the texture before their taps are computed changes
    /// nothing, bit for bit, in the image or the gradient: every preset, patches at the edges,
    /// strongly minified (a 64-texel patch a few pixels wide: coarse mip levels, whose taps
    /// reach furthest), seen at a grazing angle, and magnified.
    @Test func cullingFarPixelsChangesNothing() throws {
        let setups: [(tw: Int, sw: Int, sh: Int, size: Double)] = [(12, 61, 47, 0.3), (64, 40, 33, 0.12), (64, 48, 48, 0.05), (5, 50, 50, 0.9)]
        for (tw, sw, sh, size) in setups {
            var culled = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sh)
            var every = culled
            culled.cullsFarPixels = true; every.cullsFarPixels = false
            let texture = randomBuffer(tw * tw * 3, seed: 720), scene = randomBuffer(sw * sh * 3, seed: 721)
            let dImage = randomBuffer(sw * sh * 3, seed: 722, lo: -1, hi: 1)
            var samples = try Self.samples(presets: ["photo", "tabletop", "physical", "digital"], width: sw, height: sh, seed: 723,
                                           edges: [(0.02, 0.5), (0.98, 0.97)],
                                           edge: (size: size, blur: 0.8, motion: 1.5, angle: 30, resample: 0.7, jpeg: 80))
            samples.append(TransformSample(yaw: 80, pitch: 10, roll: 40, size: size, centerX: 0.5, centerY: 0.5))
            samples.append(TransformSample(yaw: -60, pitch: 55, size: size, centerX: 0.4, centerY: 0.6))
            for mask in [try Mask.circle(width: tw, height: tw).alpha, [Float](repeating: 1, count: tw * tw)] {
                for (i, s) in samples.enumerated() {
                    let (x, cx) = try culled.forward(texture: texture, mask: mask, scene: scene, sample: s)
                    let (y, cy) = try every.forward(texture: texture, mask: mask, scene: scene, sample: s)
                    let sameImage = x == y
                    #expect(sameImage, "\(tw)→\(sw)×\(sh) sample \(i): image")
                    var a = [Float](repeating: 0, count: texture.count), b = a
                    try culled.backward(dImage: dImage, cache: cx, dTexture: &a)
                    try every.backward(dImage: dImage, cache: cy, dTexture: &b)
                    let sameGradient = a == b
                    #expect(sameGradient, "\(tw)→\(sw)×\(sh) sample \(i): gradient")
                }
            }
        }
    }

    /// Scenes stored as bytes render as the same floats, v / 255 exactly, whatever their length.
    @Test func byteScenesFillAsTheirFloatValues() throws {
        let (tw, sw, sh) = (6, 23, 7)
        let r = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sh)
        let bytes: [UInt8] = (0..<(sw * sh * 3)).map { (i: Int) -> UInt8 in UInt8((i * 37 + i / 256) % 256) }
        let floats: [Float] = bytes.map { Float($0) / 255 }
        // A patch outside the frame: the image is the scene.
        let s = TransformSample(size: 0.2, centerX: 3, centerY: 3)
        let texture = randomBuffer(tw * tw * 3, seed: 730), mask = [Float](repeating: 1, count: tw * tw)
        var image = [Float](repeating: -1, count: floats.count)
        _ = try texture.withUnsafeBufferPointer { t in try mask.withUnsafeBufferPointer { m in try bytes.withUnsafeBufferPointer { b in
            try image.withUnsafeMutableBufferPointer { try r.forward(texture: t, mask: m, sceneBytes: b, sample: s, image: $0) } } } }
        let same = image == floats
        #expect(same)
        #expect(Set(bytes).count == 256)
    }

    /// `gradientWindow` is all the backward reads of the image gradient: zeroing the gradient
    /// outside it (what a model's windowed backward hands over) leaves the texture's
    /// gradient unchanged, bit for bit, with every camera effect (JPEG's chroma adjoint mixes rows).
    @Test func gradientWindowIsAllTheBackwardReads() throws {
        let (tw, sw, sh) = (12, 61, 47)
        var renderer = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sh)
        renderer.poisonsScratch = true
        let texture = randomBuffer(tw * tw * 3, seed: 710), scene = randomBuffer(sw * sh * 3, seed: 711)
        let mask = try Mask.circle(width: tw, height: tw).alpha
        let dImage = randomBuffer(sw * sh * 3, seed: 712, lo: -1, hi: 1)
        let samples = try Self.samples(presets: ["photo", "tabletop", "physical", "digital"], width: sw, height: sh, seed: 713,
                                       edges: [(0.5, 0.02), (0.3, 0.98), (0.5, 0.5)],
                                       edge: (size: 0.25, blur: 1.4, motion: 2.9, angle: 80, resample: 0.55, jpeg: 60))
        var narrower = 0
        for (i, s) in samples.enumerated() {
            let (image, cache) = try renderer.forward(texture: texture, mask: mask, scene: scene, sample: s)
            #expect(image.allSatisfy { $0.isFinite }, "sample \(i): the forward image reads no unwritten scratch")
            let (rows, columns) = renderer.gradientWindow(cache: cache)
            #expect(rows.lowerBound >= 0 && rows.upperBound <= sh && columns.lowerBound >= 0 && columns.upperBound <= sw)
            var cut = dImage
            for y in 0..<sh { for x in 0..<sw where !rows.contains(y) || !columns.contains(x) { for c in 0..<3 { cut[(y * sw + x) * 3 + c] = 0 } } }
            var a = [Float](repeating: 0, count: texture.count), b = a
            try renderer.backward(dImage: dImage, cache: cache, dTexture: &a)
            try renderer.backward(dImage: cut, cache: cache, dTexture: &b)
            #expect(a == b, "sample \(i) window \(rows) × \(columns): max |whole image − window| \(zip(a, b).map { abs($0 - $1) }.max() ?? 0)")
            if rows.count < sh && columns.count < sw { narrower += 1 }
        }
        #expect(narrower >= samples.count / 2, "the window is smaller than the image for most samples: \(narrower) of \(samples.count)")
    }
}
