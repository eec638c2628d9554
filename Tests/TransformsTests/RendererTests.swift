// Renderer and geometry tests in kornia's order: shapes, bad input, golden/properties
// (identity is exact, one-pixel translation, inverse round-trip, partly outside), determinism,
// gradient checks by central differences. Speed is not tested here: `robustpatch-bench --renderer`.
import Foundation
import Testing
import Transforms

/// A sample mapping texture pixels 1:1 onto scene pixels with the texture's top-left at (ox, oy).
func identitySample(tw: Int, th: Int, sw: Int, sh: Int, ox: Int, oy: Int) -> TransformSample {
    TransformSample(size: Double(tw) / Double(min(sw, sh)),
                    centerX: (Double(ox) + Double(tw) / 2) / Double(sw),
                    centerY: (Double(oy) + Double(th) / 2) / Double(sh))
}

@Suite struct RendererTests {
    // MARK: Shapes and bad input

    @Test func shapes() throws {
        let r = try Renderer(textureWidth: 6, textureHeight: 5, sceneWidth: 12, sceneHeight: 10)
        let (img, cache) = try r.forward(texture: randomBuffer(90, seed: 1), mask: [Float](repeating: 1, count: 30),
                                         scene: randomBuffer(360, seed: 2), sample: TransformSample(size: 0.5))
        #expect(img.count == 360)
        #expect(cache.x0 >= 0 && cache.x1 <= 12 && cache.y0 >= 0 && cache.y1 <= 10 && cache.x0 < cache.x1)
        var d = [Float](repeating: 0, count: 90)
        try r.backward(dImage: [Float](repeating: 1, count: 360), cache: cache, dTexture: &d)
        #expect(d.allSatisfy { $0.isFinite })
    }

    @Test func badInput() throws {
        #expect(throws: TransformError.self) { try Renderer(textureWidth: 0, textureHeight: 5, sceneWidth: 12, sceneHeight: 10) }
        let r = try Renderer(textureWidth: 6, textureHeight: 6, sceneWidth: 12, sceneHeight: 12)
        let tex = randomBuffer(108, seed: 1), mask = [Float](repeating: 1, count: 36), scene = randomBuffer(432, seed: 2)
        #expect(throws: TransformError.shapeMismatch(name: "texture", expected: 108, got: 107, shape: "(6, 6, 3)")) {
            try r.forward(texture: Array(tex.dropLast()), mask: mask, scene: scene, sample: TransformSample())
        }
        #expect(throws: TransformError.self) { try r.forward(texture: tex, mask: mask, scene: scene, sample: TransformSample(gamma: .nan)) }
        let (_, cache) = try r.forward(texture: tex, mask: mask, scene: scene, sample: TransformSample())
        var d = [Float](repeating: 0, count: 10)
        #expect(throws: TransformError.self) { try r.backward(dImage: [Float](repeating: 0, count: 432), cache: cache, dTexture: &d) }
        // Masks.
        #expect(throws: TransformError.self) { try Mask(alpha: [Float](repeating: 0, count: 36), width: 6, height: 6) }
        #expect(throws: TransformError.self) { try Mask(alpha: [Float](repeating: .nan, count: 36), width: 6, height: 6) }
        #expect(throws: TransformError.self) { try Mask(alpha: [1, 1], width: 6, height: 6) }
        #expect(throws: TransformError.self) { try Mask.rectangle(aspect: 0, width: 6, height: 6) }
        #expect(throws: TransformError.self) { try Mask.circle(width: 0, height: 6) }
    }

    @Test func masks() throws {
        let c = try Mask.circle(width: 16, height: 16)
        #expect(c.alpha[8 * 16 + 8] == 1 && c.alpha[0] == 0)
        #expect(c.alpha.contains { $0 > 0 && $0 < 1 })   // anti-aliased edge
        let area = c.alpha.reduce(0, +)
        #expect(abs(Double(area) - Double.pi * 64) < 3)
        let rect = try Mask.rectangle(aspect: 2, width: 16, height: 16)
        #expect(abs(rect.alpha.reduce(0, +) - 128) < 1e-3)
        #expect(try Mask.square(width: 8, height: 8).alpha.allSatisfy { $0 == 1 })
    }

    // MARK: Geometry properties

    @Test func homographyInverseRoundTrips() throws {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<50 {
            let s = TransformDistribution.tabletop.sample(imageWidth: 224, imageHeight: 224, using: &rng)
            let h = try s.sceneFromPatch(textureWidth: 96, textureHeight: 96, sceneWidth: 224, sceneHeight: 224)
            let hi = try h.inverse()
            let id = h.composed(with: hi).elements
            let scale = abs(id[8])
            for i in 0..<9 { #expect(abs(id[i] / scale - Homography.identity.elements[i]) < 1e-9) }
            for p in [SIMD2(0.0, 0.0), SIMD2(96.0, 13.5), SIMD2(40.25, 96.0)] {
                let q = hi.apply(h.apply(p))
                #expect(abs(q.x - p.x) < 1e-8 && abs(q.y - p.y) < 1e-8)
            }
        }
        #expect(throws: TransformError.self) { try Homography(elements: [1, 2, 3, 2, 4, 6, 0, 0, 1]).inverse() }
        // 4-point fit and JSON.
        let quad = [SIMD2(10.0, 12.0), SIMD2(50.0, 8.0), SIMD2(55.0, 60.0), SIMD2(6.0, 50.0)]
        let h = try Homography(mapping: [SIMD2(0, 0), SIMD2(8, 0), SIMD2(8, 8), SIMD2(0, 8)], to: quad)
        for (i, p) in [SIMD2(0.0, 0.0), SIMD2(8.0, 0.0), SIMD2(8.0, 8.0), SIMD2(0.0, 8.0)].enumerated() {
            let q = h.apply(p)
            #expect(abs(q.x - quad[i].x) < 1e-9 && abs(q.y - quad[i].y) < 1e-9)
        }
        let back = try JSONDecoder().decode(Homography.self, from: JSONEncoder().encode(h))
        #expect(back == h)
    }

    @Test func poseConventions() throws {
        // Positive roll turns clockwise in the y-down image: the texture's +x axis points to +y.
        let s = TransformSample(roll: 90, size: 0.5)
        let h = try s.sceneFromPatch(textureWidth: 10, textureHeight: 10, sceneWidth: 40, sceneHeight: 40)
        let c = h.apply(SIMD2(5, 5)), e = h.apply(SIMD2(10, 5))
        #expect(abs(c.x - 20) < 1e-9 && abs(c.y - 20) < 1e-9)
        #expect(abs(e.x - 20) < 1e-9 && abs(e.y - 30) < 1e-9)
        // Positive yaw: the patch's right edge comes toward the camera (appears taller).
        let y = TransformSample(yaw: 40, size: 0.5)
        let hy = try y.sceneFromPatch(textureWidth: 10, textureHeight: 10, sceneWidth: 40, sceneHeight: 40)
        let right = abs(hy.apply(SIMD2(10, 10)).y - hy.apply(SIMD2(10, 0)).y)
        let left = abs(hy.apply(SIMD2(0, 10)).y - hy.apply(SIMD2(0, 0)).y)
        #expect(right > left)
        // Positive pitch: the top edge comes toward the camera (appears wider).
        let p = try TransformSample(pitch: 40, size: 0.5).sceneFromPatch(textureWidth: 10, textureHeight: 10, sceneWidth: 40, sceneHeight: 40)
        #expect(abs(p.apply(SIMD2(10, 0)).x - p.apply(SIMD2(0, 0)).x) > abs(p.apply(SIMD2(10, 10)).x - p.apply(SIMD2(0, 10)).x))
    }

    @Test func identityPoseIsExact() throws {
        let (tw, th, sw, sh, ox, oy) = (8, 6, 20, 16, 5, 3)
        let r = try Renderer(textureWidth: tw, textureHeight: th, sceneWidth: sw, sceneHeight: sh)
        let tex = randomBuffer(tw * th * 3, seed: 11), scene = randomBuffer(sw * sh * 3, seed: 12)
        let s = identitySample(tw: tw, th: th, sw: sw, sh: sh, ox: ox, oy: oy)
        let (img, _) = try r.forward(texture: tex, mask: [Float](repeating: 1, count: tw * th), scene: scene, sample: s)
        for y in 0..<sh {
            for x in 0..<sw {
                let inside = x >= ox && x < ox + tw && y >= oy && y < oy + th
                for c in 0..<3 {
                    let expected = inside ? tex[((y - oy) * tw + (x - ox)) * 3 + c] : scene[(y * sw + x) * 3 + c]
                    #expect(img[(y * sw + x) * 3 + c] == expected, "pixel (\(x), \(y)) channel \(c)")
                }
            }
        }
    }

    @Test func translateByOnePixelShiftsByOnePixel() throws {
        let (tw, sw) = (12, 32)
        let r = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sw)
        let tex = randomBuffer(tw * tw * 3, seed: 21)
        let mask = try Mask.circle(width: tw, height: tw).alpha
        let scene = [Float](repeating: 0.25, count: sw * sw * 3)
        var s = TransformSample(yaw: 20, pitch: -10, roll: 30, size: 0.3, centerX: 0.45, centerY: 0.5)
        let a = try r.forward(texture: tex, mask: mask, scene: scene, sample: s).image
        s.centerX += 1 / Double(sw)
        s.centerY += 1 / Double(sw)
        let b = try r.forward(texture: tex, mask: mask, scene: scene, sample: s).image
        var maxDiff: Float = 0
        for y in 0..<(sw - 1) {
            for x in 0..<(sw - 1) {
                for c in 0..<3 { maxDiff = max(maxDiff, abs(b[((y + 1) * sw + x + 1) * 3 + c] - a[(y * sw + x) * 3 + c])) }
            }
        }
        #expect(maxDiff < 1e-5, "max difference \(maxDiff)")
        #expect(a != b)
    }

    @Test func patchPartlyOutsideTheImage() throws {
        let r = try Renderer(textureWidth: 16, textureHeight: 16, sceneWidth: 24, sceneHeight: 24)
        let tex = randomBuffer(768, seed: 31), scene = [Float](repeating: 0.5, count: 24 * 24 * 3)
        let mask = [Float](repeating: 1, count: 256)
        let s = TransformSample(yaw: 35, roll: 10, size: 0.6, centerX: 0.02, centerY: 0.9)
        let (img, cache) = try r.forward(texture: tex, mask: mask, scene: scene, sample: s)
        #expect(img != scene)
        #expect(cache.x0 == 0 && cache.y1 == 24)
        var d = [Float](repeating: 0, count: 768)
        try r.backward(dImage: [Float](repeating: 1, count: img.count), cache: cache, dTexture: &d)
        #expect(d.allSatisfy { $0.isFinite } && d.contains { $0 != 0 } && d.contains { $0 == 0 })
        // Entirely outside: the image is the scene and the gradient is zero.
        let out = TransformSample(size: 0.3, centerX: 3, centerY: 0.5)
        let (img2, cache2) = try r.forward(texture: tex, mask: mask, scene: scene, sample: out)
        #expect(img2 == scene)
        var d2 = [Float](repeating: 0, count: 768)
        try r.backward(dImage: [Float](repeating: 1, count: img.count), cache: cache2, dTexture: &d2)
        #expect(d2.allSatisfy { $0 == 0 })
    }

    @Test func patchCrossingTheCameraPlaneIsClipped() throws {
        // A large, steeply turned patch: some corners are behind the camera.
        let r = try Renderer(textureWidth: 8, textureHeight: 8, sceneWidth: 16, sceneHeight: 16)
        let s = TransformSample(yaw: 85, size: 8, centerX: 0.5, centerY: 0.5)
        let (img, cache) = try r.forward(texture: randomBuffer(192, seed: 1), mask: [Float](repeating: 1, count: 64),
                                         scene: [Float](repeating: 0.5, count: 768), sample: s)
        #expect(img.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(cache.x0 == 0 && cache.x1 == 16)
    }

    @Test func minificationIsAntiAliased() throws {
        // A 1-texel checkerboard shrunk ~10× must average to grey, not alias into stripes.
        let tw = 128, sw = 32
        var tex = [Float](repeating: 0, count: tw * tw * 3)
        for y in 0..<tw { for x in 0..<tw { for c in 0..<3 { tex[(y * tw + x) * 3 + c] = (x + y) % 2 == 0 ? 1 : 0 } } }
        let r = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sw)
        let s = TransformSample(yaw: 30, roll: 17, size: 0.4, centerX: 0.5, centerY: 0.5)
        let (img, cache) = try r.forward(texture: tex, mask: [Float](repeating: 1, count: tw * tw),
                                         scene: [Float](repeating: 0.5, count: sw * sw * 3), sample: s)
        _ = cache
        let dev = img.map { abs($0 - 0.5) }.max() ?? 1
        #expect(dev < 0.02, "max deviation from grey \(dev)")
    }

    @Test func magnifiedWarpMatchesNaiveBilinear() throws {
        // Naive oracle for mip level 0 (every pixel magnified): plain bilinear at the pixel centre,
        // texture edge-clamped, mask zero-padded, then alpha-composited.
        let (tw, th, sw, sh) = (6, 5, 24, 20)
        let r = try Renderer(textureWidth: tw, textureHeight: th, sceneWidth: sw, sceneHeight: sh)
        let tex = randomBuffer(tw * th * 3, seed: 81), scene = randomBuffer(sw * sh * 3, seed: 82)
        let mask = randomBuffer(tw * th, seed: 83, lo: 0.5, hi: 1)
        let s = TransformSample(yaw: 30, pitch: -20, roll: 40, size: 0.8, centerX: 0.55, centerY: 0.45)
        let (img, cache) = try r.forward(texture: tex, mask: mask, scene: scene, sample: s)
        let h = cache.patchFromScene
        var maxErr: Float = 0
        for y in 0..<sh { for x in 0..<sw {
            let p = h.apply(SIMD2(Double(x) + 0.5, Double(y) + 0.5))
            let fx = p.x - 0.5, fy = p.y - 0.5
            let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
            let ax = Float(fx - Double(x0)), ay = Float(fy - Double(y0))
            func t(_ i: Int, _ j: Int, _ c: Int) -> Float { tex[(min(max(j, 0), th - 1) * tw + min(max(i, 0), tw - 1)) * 3 + c] }
            func m(_ i: Int, _ j: Int) -> Float { i < 0 || j < 0 || i >= tw || j >= th ? 0 : mask[j * tw + i] }
            func lerp2(_ f: (Int, Int) -> Float) -> Float {
                (1 - ax) * (1 - ay) * f(x0, y0) + ax * (1 - ay) * f(x0 + 1, y0) + (1 - ax) * ay * f(x0, y0 + 1) + ax * ay * f(x0 + 1, y0 + 1)
            }
            let a = lerp2(m)
            for c in 0..<3 {
                let expected = a * lerp2 { t($0, $1, c) } + (1 - a) * scene[(y * sw + x) * 3 + c]
                maxErr = max(maxErr, abs(expected - img[(y * sw + x) * 3 + c]))
            }
        } }
        #expect(maxErr < 1e-5, "max error vs naive bilinear \(maxErr)")
    }

    @Test func noiseHasTheSampledSigma() throws {
        let r = try Renderer(textureWidth: 4, textureHeight: 4, sceneWidth: 64, sceneHeight: 64)
        let s = TransformSample(centerX: 5, noiseSigma: 0.05, noiseSeed: 1234)
        let img = try r.forward(texture: randomBuffer(48, seed: 1), mask: [Float](repeating: 1, count: 16),
                                scene: [Float](repeating: 0.5, count: 64 * 64 * 3), sample: s).image
        let d = img.map { Double($0) - 0.5 }
        let mean = d.reduce(0, +) / Double(d.count)
        let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d.count)).squareRoot()
        #expect(abs(mean) < 0.002 && abs(sd - 0.05) < 0.002, "mean \(mean), sd \(sd)")
    }

    // MARK: Camera effects

    @Test func blurMatchesNaiveReference() throws {
        let (sw, sh) = (13, 9)
        let r = try Renderer(textureWidth: 4, textureHeight: 4, sceneWidth: sw, sceneHeight: sh)
        let scene = randomBuffer(sw * sh * 3, seed: 41)
        let sigma = 1.3
        // Patch far outside: the output is blur(scene).
        let s = TransformSample(centerX: 5, blurSigma: sigma)
        let img = try r.forward(texture: randomBuffer(48, seed: 1), mask: [Float](repeating: 1, count: 16), scene: scene, sample: s).image
        let rad = Int((3 * sigma).rounded(.up))
        var k = (-rad...rad).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let ks = k.reduce(0, +); k = k.map { $0 / ks }
        var maxErr = 0.0
        for y in 0..<sh { for x in 0..<sw { for c in 0..<3 {
            var acc = 0.0
            for j in -rad...rad { for i in -rad...rad {
                let yy = min(max(y + j, 0), sh - 1), xx = min(max(x + i, 0), sw - 1)
                acc += k[j + rad] * k[i + rad] * Double(scene[(yy * sw + xx) * 3 + c])
            } }
            maxErr = max(maxErr, abs(acc - Double(img[(y * sw + x) * 3 + c])))
        } } }
        #expect(maxErr < 1e-5, "max error vs naive clamp-to-edge 2-D convolution \(maxErr)")
    }

    @Test func jpegBackwardIsItsLinearPartsAdjoint() throws {
        let (tw, sw) = (8, 24)
        let r = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sw)
        let tex = randomBuffer(tw * tw * 3, seed: 51, lo: 0.2, hi: 0.8), scene = randomBuffer(sw * sw * 3, seed: 52, lo: 0.2, hi: 0.8)
        let mask = [Float](repeating: 1, count: tw * tw)
        var s = TransformSample(roll: 10, size: 0.4, centerX: 0.5, centerY: 0.5)
        let (plain, c0) = try r.forward(texture: tex, mask: mask, scene: scene, sample: s)
        s.jpegQuality = 100
        let (q100, c1) = try r.forward(texture: tex, mask: mask, scene: scene, sample: s)
        s.jpegQuality = 10
        let q10 = try r.forward(texture: tex, mask: mask, scene: scene, sample: s).image
        var linear = plain                                  // colour transform and 4:2:0 chroma, no quantisation
        try JPEGLike.apply(&linear, width: sw, height: sw, quality: nil)
        let e100 = zip(linear, q100).map { abs(min(max($0, 0), 1) - $1) }.max() ?? 0
        let e10 = zip(linear, q10).map { abs(min(max($0, 0), 1) - $1) }.max() ?? 0
        #expect(e100 < 3.0 / 255 && e10 > e100, "q100 \(e100), q10 \(e10)")
        let w = randomBuffer(sw * sw * 3, seed: 53, lo: -1, hi: 1)
        // Quantisation is straight-through: the JPEG render's backward is the plain render's
        // backward of Lᵀ w (L: colour transform and 4:2:0 chroma subsampling).
        var ltw = w
        try JPEGLike.backward(&ltw, width: sw, height: sw)
        var d0 = [Float](repeating: 0, count: tex.count), d1 = d0
        try r.backward(dImage: ltw, cache: c0, dTexture: &d0)
        try r.backward(dImage: w, cache: c1, dTexture: &d1)
        #expect(d0 == d1)
        #expect(ltw != w)
    }

    // MARK: Determinism

    @Test func sameSeedSameImage() throws {
        let r = try Renderer(textureWidth: 16, textureHeight: 16, sceneWidth: 40, sceneHeight: 32)
        let tex = randomBuffer(768, seed: 61), scene = randomBuffer(40 * 32 * 3, seed: 62)
        let mask = try Mask.circle(width: 16, height: 16).alpha
        var d = TransformDistribution.tabletop
        d.jpegQuality = ValueRange(50, 90)
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        for _ in 0..<5 {
            let sa = d.sample(imageWidth: 40, imageHeight: 32, using: &a), sb = d.sample(imageWidth: 40, imageHeight: 32, using: &b)
            #expect(sa == sb)
            let ia = try r.forward(texture: tex, mask: mask, scene: scene, sample: sa).image
            let ib = try r.forward(texture: tex, mask: mask, scene: scene, sample: sb).image
            #expect(ia.map(\.bitPattern) == ib.map(\.bitPattern))
        }
    }

    // MARK: Gradient checks (central differences, eps = 1e-2 on the Float forward, loss in Double)
    // Texture values lie in [0.25, 0.75] and the printer/lighting parameters keep every clamp's input
    // strictly inside (0, 1), so no kink is crossed; the renderer is linear in the texture except for
    // gamma, whose O(eps²) truncation error is ~1e-5.

    func check(tw: Int, th: Int, sw: Int, sh: Int, sample: TransformSample, mask: [Float]? = nil, seed: UInt64) throws {
        let r = try Renderer(textureWidth: tw, textureHeight: th, sceneWidth: sw, sceneHeight: sh)
        let tex = randomBuffer(tw * th * 3, seed: seed, lo: 0.25, hi: 0.75)
        let scene = randomBuffer(sw * sh * 3, seed: seed + 1, lo: 0.2, hi: 0.8)
        let m = mask ?? [Float](repeating: 1, count: tw * th)
        let res = try gradCheck(renderer: r, texture: tex, mask: m, scene: scene, sample: sample, seed: seed + 2)
        print("gradcheck seed \(seed): \(res.checked) texture elements, max |fd - analytic| \(res.maxAbsError), max |grad| \(res.maxAbsGradient)")
        #expect(res.maxAbsGradient > 0.05, "gradient vanishes: \(res)")
        #expect(res.maxAbsError < 2e-4, "max |fd - analytic| = \(res.maxAbsError), max |grad| = \(res.maxAbsGradient)")
    }

    @Test func gradientWarpMagnified() throws {
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: TransformSample(yaw: 25, pitch: -15, roll: 20, size: 0.7, centerX: 0.5, centerY: 0.5), seed: 100)
    }

    @Test func gradientWarpMinifiedAntiAliased() throws {
        // 16×16 texture to ~5 px: footprint ≈ 3 texels/px, trilinear between mip levels 1 and 2.
        try check(tw: 16, th: 16, sw: 12, sh: 12, sample: TransformSample(yaw: 30, roll: 15, size: 0.4, centerX: 0.5, centerY: 0.5), seed: 110)
    }

    @Test func gradientLighting() throws {
        let s = TransformSample(roll: 10, size: 0.6, centerX: 0.5, centerY: 0.5, brightness: 1.1, offset: 0.02, contrast: 0.9,
                                colorGain: [1.03, 0.96, 1.0], gamma: 0.8)
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: s, seed: 120)
        var s2 = s; s2.gamma = 1.25
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: s2, seed: 125)
    }

    @Test func gradientPrinter() throws {
        let s = TransformSample(roll: -12, size: 0.6, centerX: 0.5, centerY: 0.5, printerGain: [0.9, 1.05, 0.95], printerBias: [0.03, 0, 0.02])
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: s, seed: 130)
    }

    @Test func gradientPrinterSaturation() throws {
        var s = TransformSample(roll: -12, size: 0.6, centerX: 0.5, centerY: 0.5, printerGain: [0.9, 1.05, 0.95], printerBias: [0.03, 0, 0.02])
        s.printerSaturation = 0.6   // channels mix: d printed_c / d t_k ≠ 0 for c ≠ k
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: s, seed: 135)
    }

    @Test func printerSaturationZeroPrintsGreyAndOneChangesNothing() throws {
        let r = try Renderer(textureWidth: 4, textureHeight: 4, sceneWidth: 8, sceneHeight: 8)
        let tex = randomBuffer(4 * 4 * 3, seed: 7, lo: 0.1, hi: 0.9), scene = [Float](repeating: 0.5, count: 8 * 8 * 3)
        var s = TransformSample(size: 1, centerX: 0.5, centerY: 0.5)
        let plain = try r.forward(texture: tex, mask: [Float](repeating: 1, count: 16), scene: scene, sample: s).image
        s.printerSaturation = 1
        #expect(try r.forward(texture: tex, mask: [Float](repeating: 1, count: 16), scene: scene, sample: s).image == plain)
        s.printerSaturation = 0
        let grey = try r.forward(texture: tex, mask: [Float](repeating: 1, count: 16), scene: scene, sample: s).image
        for i in stride(from: 0, to: grey.count, by: 3) { #expect(abs(grey[i] - grey[i + 1]) < 1e-6 && abs(grey[i] - grey[i + 2]) < 1e-6) }
    }

    @Test func gradientCompositing() throws {
        let mask = try Mask.circle(width: 8, height: 8).alpha   // fractional alpha everywhere on the rim
        try check(tw: 8, th: 8, sw: 12, sh: 12, sample: TransformSample(roll: 5, size: 0.8, centerX: 0.5, centerY: 0.5), mask: mask, seed: 140)
    }

    @Test func gradientBlur() throws {
        // Patch touching the left/top border so the blur's edge handling is in play.
        let s = TransformSample(roll: 8, size: 0.6, centerX: 0.2, centerY: 0.25, blurSigma: 0.9)
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: s, seed: 150)
    }

    @Test func gradientWholeChain() throws {
        let mask = try Mask.circle(width: 10, height: 10).alpha
        let s = TransformSample(yaw: -30, pitch: 20, roll: 25, size: 0.55, centerX: 0.45, centerY: 0.55,
                                brightness: 0.95, offset: 0.03, contrast: 1.05, colorGain: [1.02, 0.98, 1.01], gamma: 1.2,
                                printerGain: [0.95, 0.9, 1.02], printerBias: [0.02, 0.04, 0], blurSigma: 0.7,
                                noiseSigma: 0.01, noiseSeed: 77)
        try check(tw: 10, th: 10, sw: 12, sh: 12, sample: s, mask: mask, seed: 160)
    }

    @Test func gradientMotionBlurAndResampling() throws {
        var s = TransformSample(roll: 8, size: 0.6, centerX: 0.3, centerY: 0.6)
        s.motionBlurLength = 3.5; s.motionBlurAngle = 30
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: s, seed: 170)
        var r = TransformSample(roll: -8, size: 0.6, centerX: 0.6, centerY: 0.4)
        r.resampleScale = 0.55
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: r, seed: 175)
        var both = s; both.resampleScale = 0.7; both.blurSigma = 0.6
        try check(tw: 6, th: 6, sw: 12, sh: 12, sample: both, seed: 178)
    }

    @Test func motionBlurAndResamplingPreserveFlatImages() throws {
        // A flat image stays flat (rows of both operators sum to 1); a horizontal motion blur
        // leaves a horizontal edge alone and smears a vertical one.
        let r = try Renderer(textureWidth: 4, textureHeight: 4, sceneWidth: 16, sceneHeight: 16)
        var s = TransformSample(size: 0.3)   // with an all-zero mask below: image = scene
        s.motionBlurLength = 5; s.motionBlurAngle = 0; s.resampleScale = 0.5
        let flat = [Float](repeating: 0.4, count: 16 * 16 * 3)
        let out = try r.forward(texture: [Float](repeating: 0, count: 48), mask: [Float](repeating: 0, count: 16), scene: flat, sample: s).image
        #expect(out.allSatisfy { abs($0 - 0.4) < 1e-5 })
        var edge = [Float](repeating: 0, count: 16 * 16 * 3)
        for y in 0..<16 { for x in 8..<16 { for c in 0..<3 { edge[(y * 16 + x) * 3 + c] = 1 } } }
        var m = s; m.resampleScale = 1
        let smeared = try r.forward(texture: [Float](repeating: 0, count: 48), mask: [Float](repeating: 0, count: 16), scene: edge, sample: m).image
        #expect(smeared[(8 * 16 + 7) * 3] > 0.2 && smeared[(8 * 16 + 8) * 3] < 0.8)   // the vertical edge is smeared
    }

    @Test func gradientStopsAtPrinterClamp() throws {
        // One-sided expectation: a texel whose printed value is clamped (gain·t + bias > 1) gets 0.
        let r = try Renderer(textureWidth: 4, textureHeight: 4, sceneWidth: 8, sceneHeight: 8)
        var tex = randomBuffer(48, seed: 170, lo: 0.3, hi: 0.6)
        tex[0] = 0.99
        let s = TransformSample(size: 0.5, printerGain: [1.1, 1, 1])
        let (_, cache) = try r.forward(texture: tex, mask: [Float](repeating: 1, count: 16), scene: randomBuffer(192, seed: 171), sample: s)
        var d = [Float](repeating: 0, count: 48)
        try r.backward(dImage: [Float](repeating: 1, count: 192), cache: cache, dTexture: &d)
        #expect(d[0] == 0 && d[1] != 0 && d[3] != 0)
    }
}
