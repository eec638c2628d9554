// The differentiable renderer of one EOT sample: printer -> mip-mapped bilinear warp of texture and
// mask -> lighting -> alpha composite over the scene -> motion blur -> blur -> resampling -> noise ->
// JPEG-like -> clamp.
// Forward and backward (to the texture only; the scene and mask get no gradient) side by side.
import Foundation

/// What `backward` needs from `forward`. Sizes are those of the `Renderer` that made it.
public struct RenderCache: Sendable {
    public let sample: TransformSample
    public let sceneFromPatch: Homography
    public let patchFromScene: Homography
    /// Scene pixels the patch can touch: x in [x0, x1), y in [y0, y1) (empty when x0 == x1).
    public let x0: Int, y0: Int, x1: Int, y1: Int
    let alpha: [Float]          // (y1 - y0, x1 - x0)      composite alpha (warped, anti-aliased mask)
    let warped: [Float]         // (y1 - y0, x1 - x0, 3)   warped printed texture, before lighting
    let printerSlope: [Float]   // (Th, Tw, 3)             d printed / d texture: gain, or 0 where clamped
    let layout: MipLayout
    /// The trilinear taps of every box pixel with alpha ≠ 0, in row-major order: the backward
    /// scatters through them instead of recomputing them (the same values, bit for bit).
    let taps: [Taps]
    /// The sample's motion blur and resampling operators (nil when off), built once for both passes.
    let motion: MotionBlur?, resample: SeparableResample?
    /// Mesh renders: each box pixel's shade (the factor between the printed texture and the
    /// lighting's input); empty for patches (where it is 1).
    var shade: [Float] = []
}

/// Renders patch textures of a fixed size into scenes of a fixed size (see the module's
/// conventions). A plain value; `forward`/`backward` are deterministic and thread-safe.
public struct Renderer: Sendable {
    public let textureWidth: Int, textureHeight: Int
    public let sceneWidth: Int, sceneHeight: Int
    /// The 3D object the texture covers (Renderer+Mesh.swift); nil for a flat patch. Samples must
    /// then carry an `object` pose, and their patch pose is not used.
    public let mesh: MeshSurface?
    /// Whether `backward` runs the camera effects' adjoints only on the windows around the patch
    /// that the texture's gradient depends on (the default), or on windows that are the whole
    /// image (the reference: the same values, bit for bit; tests compare the two).
    public var adjointsOnWindows = true
    /// Fill the scratch buffers that forward and backward leave unfilled (they write every value
    /// before reading it) with NaN instead: a test hook, so that any read of an unwritten value
    /// shows up as NaN in the result.
    public var poisonsScratch = false
    /// Skip the tap arithmetic for box pixels too far outside the texture for any tap to reach
    /// it (the default), or compute every pixel's taps (the reference: the same image and
    /// gradient, bit for bit; tests compare the two).
    public var cullsFarPixels = true

    /// Lower bound inside the gamma power, so that d/dl l^γ stays finite at 0 (γ < 1).
    public static let gammaEpsilon: Float = 1e-5

    public init(textureWidth: Int, textureHeight: Int, sceneWidth: Int, sceneHeight: Int, mesh: MeshSurface? = nil) throws {
        for (name, v) in [("textureWidth", textureWidth), ("textureHeight", textureHeight), ("sceneWidth", sceneWidth), ("sceneHeight", sceneHeight)] {
            guard v > 0, v <= 1 << 15 else { throw TransformError.outOfRange(field: name, value: Double(v), allowed: "1...32768") }
        }
        if let mesh, mesh.textureWidth != textureWidth || mesh.textureHeight != textureHeight {
            throw TransformError.invalid(field: "mesh", reason: "prepared for a \(mesh.textureWidth)×\(mesh.textureHeight) texture, not \(textureWidth)×\(textureHeight)")
        }
        self.textureWidth = textureWidth; self.textureHeight = textureHeight
        self.sceneWidth = sceneWidth; self.sceneHeight = sceneHeight
        self.mesh = mesh
    }

    func check(_ n: Int, _ name: String, _ h: Int, _ w: Int, _ c: Int) throws {
        guard n == h * w * c else {
            throw TransformError.shapeMismatch(name: name, expected: h * w * c, got: n, shape: c == 1 ? "(\(h), \(w))" : "(\(h), \(w), \(c))")
        }
    }

    // MARK: Forward

    /// texture (Th, Tw, 3), mask (Th, Tw), scene (H, W, 3) -> image (H, W, 3) (overwritten).
    public func forward(texture: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<Float>,
                        scene: UnsafeBufferPointer<Float>, sample: TransformSample,
                        image: UnsafeMutableBufferPointer<Float>) throws -> RenderCache {
        try check(scene.count, "scene", sceneHeight, sceneWidth, 3)
        guard let scn = scene.baseAddress else { throw TransformError.invalid(field: "scene", reason: "empty buffer") }
        return try forward(texture: texture, mask: mask, sample: sample, image: image) { $0.update(from: scn, count: scene.count) }
    }

    /// As above with an 8-bit scene (H, W, 3), values v / 255: scenes are stored as bytes (a
    /// fourth of the memory), each converted as it is rendered.
    public func forward(texture: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<Float>,
                        sceneBytes: UnsafeBufferPointer<UInt8>, sample: TransformSample,
                        image: UnsafeMutableBufferPointer<Float>) throws -> RenderCache {
        try check(sceneBytes.count, "scene", sceneHeight, sceneWidth, 3)
        return try forward(texture: texture, mask: mask, sample: sample, image: image) { img in
            Self.fill(img, bytes: sceneBytes)
        }
    }

    /// Rec. 601 luma weights of the printer's desaturation.
    static let luma: (Float, Float, Float) = (0.299, 0.587, 0.114)

    /// 0. Printer desaturation: m + s · (t − m) per channel, m the luma of t.
    @inline(__always) static func desaturate(_ t: (Float, Float, Float), _ s: Float) -> (Float, Float, Float) {
        let m = luma.0 * t.0 + luma.1 * t.1 + luma.2 * t.2
        return (m + s * (t.0 - m), m + s * (t.1 - m), m + s * (t.2 - m))
    }

    /// v / 255 for every byte v (what an 8-bit image file reads as).
    static let byteValues: [Float] = (0..<256).map { Float($0) / 255 }

    /// img[i] = bytes[i] / 255: 16 at a time (a vector division rounds each lane as the scalar
    /// one does, so every value is `byteValues[bytes[i]]` exactly).
    static func fill(_ img: UnsafeMutablePointer<Float>, bytes: UnsafeBufferPointer<UInt8>) {
        guard let b = bytes.baseAddress else { return }
        let n = bytes.count, raw = UnsafeRawPointer(b), out = UnsafeMutableRawPointer(img)
        var i = 0
        while i + 16 <= n {
            let v = SIMD16<Float>(raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)) / 255
            out.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { img[i] = byteValues[Int(b[i])]; i += 1 }
    }

    /// The forward pass on an image that `fillScene` first fills with the scene.
    private func forward(texture: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<Float>, sample: TransformSample,
                         image: UnsafeMutableBufferPointer<Float>, fillScene: (UnsafeMutablePointer<Float>) -> Void) throws -> RenderCache {
        let tw = textureWidth, th = textureHeight, W = sceneWidth, H = sceneHeight
        try check(texture.count, "texture", th, tw, 3)
        try check(mask.count, "mask", th, tw, 1)
        try check(image.count, "image", H, W, 3)
        guard let tex = texture.baseAddress, let msk = mask.baseAddress,
              let img = image.baseAddress else { throw TransformError.invalid(field: "buffers", reason: "empty buffer") }
        let sceneFromPatch: Homography, patchFromScene: Homography
        switch (mesh, sample.object) {
        case (nil, nil):
            sceneFromPatch = try sample.sceneFromPatch(textureWidth: tw, textureHeight: th, sceneWidth: W, sceneHeight: H)
            patchFromScene = try sceneFromPatch.inverse(name: "sceneFromPatch")
        case (_?, _?):
            try sample.validate()
            (sceneFromPatch, patchFromScene) = (.identity, .identity)
        case (nil, _?):
            throw TransformError.invalid(field: "object", reason: "the sample poses a 3D object, but this renderer draws a flat patch (no mesh); use a distribution without `object`, or render with a mesh")
        case (_?, nil):
            throw TransformError.invalid(field: "object", reason: "this renderer draws a mesh, and the sample has no object pose; use a distribution with `object` (the preset `object`)")
        }

        // 1. Printer: printed = clamp(gain_c · t + bias_c, 0, 1).
        let layout = MipLayout(width: tw, height: th)
        var pyr = [Float](repeating: 0, count: layout.totalPixels * 3)      // (levels…, 3)
        var mpyr = [Float](repeating: 0, count: layout.totalPixels)         // (levels…)
        var slope = [Float](repeating: 0, count: th * tw * 3)               // (Th, Tw, 3)
        let pg = sample.printerGain.map(Float.init), pb = sample.printerBias.map(Float.init)
        let saturation = Float(sample.printerSaturation)
        pyr.withUnsafeMutableBufferPointer { pp in
            slope.withUnsafeMutableBufferPointer { sp in
                for i in 0..<(th * tw) {
                    var t = (tex[i * 3], tex[i * 3 + 1], tex[i * 3 + 2])
                    if saturation != 1 { t = Self.desaturate(t, saturation) }
                    for c in 0..<3 {
                        let v = pg[c] * (c == 0 ? t.0 : c == 1 ? t.1 : t.2) + pb[c]
                        pp[i * 3 + c] = min(max(v, 0), 1)
                        sp[i * 3 + c] = (v >= 0 && v <= 1) ? pg[c] : 0
                    }
                }
            }
            // 2. Mip pyramids of the printed texture and of the mask.
            Mip.build(pp.baseAddress!, layout, channels: 3)
        }
        mpyr.withUnsafeMutableBufferPointer { mp in
            mp.baseAddress!.update(from: msk, count: th * tw)
            Mip.build(mp.baseAddress!, layout, channels: 1)
        }

        fillScene(img)
        let surface: SurfaceComposite
        if let mesh, let pose = sample.object {
            surface = try pyr.withUnsafeBufferPointer { pp in
                try mpyr.withUnsafeBufferPointer { mp in
                    try meshComposite(mesh, pose: pose, sample: sample, pyramid: pp.baseAddress!, maskPyramid: mp.baseAddress!, layout: layout, image: img)
                }
            }
        } else {
            surface = patchComposite(sceneFromPatch: sceneFromPatch, patchFromScene: patchFromScene, sample: sample, pyramid: pyr, maskPyramid: mpyr,
                                     layout: layout, image: img)
        }
        let box = surface.box

        // 7. Camera effects on the whole image: motion blur, defocus blur, resampling, noise, JPEG.
        let n = H * W * 3
        let optics = cameraOperators(sample)
        let kernel = Blur.kernel(sigma: sample.blurSigma)
        if optics.motion != nil || optics.resample != nil || !kernel.isEmpty {
            // Scratch: a copy of the image (the operators' input) and their intermediate.
            // Written before it is read: no zero fill (1.2 MB per sample at 224 × 224).
            var scratch = scratchBuffer(2 * n + (W + kernel.count) * 3)
            scratch.withUnsafeMutableBufferPointer { sp in
                let copy = sp.baseAddress!, tmp = copy + n, pad = tmp + n
                if let motion = optics.motion {
                    copy.update(from: img, count: n)
                    motion.forward(copy, into: img, tmp: tmp)
                }
                if !kernel.isEmpty { Blur.forward(img, width: W, height: H, kernel: kernel, tmp: tmp, pad: pad) }
                if let resample = optics.resample {
                    copy.update(from: img, count: n)
                    resample.forward(copy, into: img, tmp: tmp)
                }
            }
        }
        if sample.noiseSigma > 0 { Noise.add(img, count: n, sigma: Float(sample.noiseSigma), seed: sample.noiseSeed) }
        if let q = sample.jpegQuality { JPEGLike.apply(img, width: W, height: H, quality: q) }
        for i in 0..<n { img[i] = min(max(img[i], 0), 1) }

        return RenderCache(sample: sample, sceneFromPatch: sceneFromPatch, patchFromScene: patchFromScene,
                           x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1,
                           alpha: surface.alpha, warped: surface.warped, printerSlope: slope, layout: layout, taps: surface.taps,
                           motion: optics.motion, resample: optics.resample, shade: surface.shade)
    }

    /// Steps 3–6 for a flat patch: the warp of texture and mask, lighting and composite over `img`.
    private func patchComposite(sceneFromPatch: Homography, patchFromScene: Homography, sample: TransformSample,
                                pyramid pyr: [Float], maskPyramid mpyr: [Float], layout: MipLayout,
                                image img: UnsafeMutablePointer<Float>) -> SurfaceComposite {
        let W = sceneWidth
        // 3. Bounding box of the patch (its mask ramp included), clipped to the scene.
        let box = boundingBox(sceneFromPatch)
        let bw = box.x1 - box.x0, bh = box.y1 - box.y0
        var alpha = [Float](repeating: 0, count: bw * bh)                   // (bh, bw)
        var warped = [Float](repeating: 0, count: bw * bh * 3)              // (bh, bw, 3)
        var seen: [Taps] = []
        seen.reserveCapacity(bw * bh)

        let geo = WarpGeometry(patchFromScene: patchFromScene, sceneFromPatch: sceneFromPatch, layout: layout, cullsFar: cullsFarPixels)
        let light = Lighting(sample)
        pyr.withUnsafeBufferPointer { pp in
            mpyr.withUnsafeBufferPointer { mp in
                alpha.withUnsafeMutableBufferPointer { ap in
                    warped.withUnsafeMutableBufferPointer { wp in
                        let P = pp.baseAddress!, M = mp.baseAddress!
                        for y in box.y0..<box.y1 {
                            for x in box.x0..<box.x1 {
                                guard let t = geo.taps(x: Double(x) + 0.5, y: Double(y) + 0.5) else { continue }
                                // 4. Trilinear sample of texture and mask.
                                var (r, g, b, a) = t.a.sample(P, M)
                                if t.twoLevels {
                                    let (r1, g1, b1, a1) = t.b.sample(P, M)
                                    r += r1; g += g1; b += b1; a += a1
                                }
                                let bi = (y - box.y0) * bw + (x - box.x0)
                                ap[bi] = a; wp[bi * 3] = r; wp[bi * 3 + 1] = g; wp[bi * 3 + 2] = b
                                if a == 0 { continue }
                                seen.append(t)
                                // 5. Lighting, 6. composite.
                                let o = (y * W + x) * 3
                                img[o] = a * light.forward(r, 0) + (1 - a) * img[o]
                                img[o + 1] = a * light.forward(g, 1) + (1 - a) * img[o + 1]
                                img[o + 2] = a * light.forward(b, 2) + (1 - a) * img[o + 2]
                            }
                        }
                    }
                }
            }
        }

        return SurfaceComposite(box: box, alpha: alpha, warped: warped, shade: [], taps: seen)
    }

    /// Array convenience: returns the image (H, W, 3) and the cache.
    public func forward(texture: [Float], mask: [Float], scene: [Float], sample: TransformSample) throws -> (image: [Float], cache: RenderCache) {
        var image = [Float](repeating: 0, count: sceneWidth * sceneHeight * 3)
        let cache = try texture.withUnsafeBufferPointer { t in
            try mask.withUnsafeBufferPointer { m in
                try scene.withUnsafeBufferPointer { s in
                    try image.withUnsafeMutableBufferPointer { i in
                        try forward(texture: t, mask: m, scene: s, sample: sample, image: i)
                    }
                }
            }
        }
        return (image, cache)
    }

    /// Scene pixels whose centres can see the patch: the projection of the texture rectangle grown
    /// by half a texel (the mask's bilinear ramp), plus 2 px for coarser mip levels' ramps.
    /// The whole scene when a corner is at or behind the camera plane.
    func boundingBox(_ h: Homography) -> (x0: Int, y0: Int, x1: Int, y1: Int) {
        let tw = Double(textureWidth), th = Double(textureHeight)
        var lo = SIMD2(Double.infinity, .infinity), hi = -lo
        for c in [SIMD2(-0.5, -0.5), SIMD2(tw + 0.5, -0.5), SIMD2(tw + 0.5, th + 0.5), SIMD2(-0.5, th + 0.5)] {
            let v = h.applyHomogeneous(c)
            guard v.z > 1e-9 * abs(v.x) + 1e-9 * abs(v.y) + 1e-300 else { return (0, 0, sceneWidth, sceneHeight) }
            let p = SIMD2(v.x / v.z, v.y / v.z)
            lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p)
        }
        func clampI(_ v: Double, _ n: Int) -> Int { v.isFinite ? Int(min(max(v, 0), Double(n))) : (v > 0 ? n : 0) }
        let x0 = clampI((lo.x - 2).rounded(.down), sceneWidth), x1 = clampI((hi.x + 2).rounded(.up), sceneWidth)
        let y0 = clampI((lo.y - 2).rounded(.down), sceneHeight), y1 = clampI((hi.y + 2).rounded(.up), sceneHeight)
        return (x0, y0, max(x0, x1), max(y0, y1))
    }

    // MARK: Backward

    /// dImage (H, W, 3) -> ACCUMULATES d loss / d texture into dTexture (Th, Tw, 3).
    /// Noise, JPEG's quantisation and the final clamp pass the gradient unchanged
    /// (straight-through); JPEG's chroma subsampling and the blur use their exact adjoints; the lighting clamp and the printer
    /// clamp stop the gradient where their input was strictly outside [0, 1].
    public func backward(dImage: UnsafeBufferPointer<Float>, cache: RenderCache,
                         dTexture: UnsafeMutableBufferPointer<Float>) throws {
        let tw = textureWidth, th = textureHeight, W = sceneWidth, H = sceneHeight
        try check(dImage.count, "dImage", H, W, 3)
        try check(dTexture.count, "dTexture", th, tw, 3)
        try check(cache.printerSlope.count, "cache (from a renderer of another texture size)", th, tw, 3)
        guard let dimg = dImage.baseAddress, let dtex = dTexture.baseAddress else { return }
        let n = H * W * 3
        let box = (x0: cache.x0, y0: cache.y0, x1: cache.x1, y1: cache.y1)
        let bw = box.x1 - box.x0
        if bw == 0 || box.y1 == box.y0 { return }

        // 7'. Camera effects: clamp and noise are identity; JPEG -> the adjoint of its linear part
        // (chroma subsampling); resample, blur, motion blur -> adjoints.
        // (H, W, 3). Every pixel the scatter below reads (the box) is written first: no zero fill.
        var g = scratchBuffer(n)
        let kernel = Blur.kernel(sigma: cache.sample.blurSigma)
        let optics = (motion: cache.motion, resample: cache.resample)
        let windows = adjointWindows(cache: cache, blurKernel: kernel)
        // Scratch: the JPEG adjoint's output, the operators' intermediate and a copy.
        var scratch = scratchBuffer(3 * n + (W + kernel.count) * 3)
        g.withUnsafeMutableBufferPointer { gp in scratch.withUnsafeMutableBufferPointer { sp in
            let gp = gp.baseAddress!, afterJPEG = sp.baseAddress!, tmp = afterJPEG + n, copy = tmp + n, pad = copy + n
            var d = dimg
            if cache.sample.jpegQuality != nil {
                // Only what the resampling (or the blur) reads next is needed: the adjoint runs
                // on a crop around it, bit for bit the whole image's values there (`jpegCrop`).
                let c = Self.jpegCrop(around: cache.resample?.inputWindow(windows.blurReads) ?? windows.blurReads, width: W, height: H)
                let cw = c.x1 - c.x0, ch = c.y1 - c.y0
                if cw > 0 && ch > 0 {
                    // The crop, packed at the start of `tmp`, then written back into `afterJPEG`.
                    for y in 0..<ch { (tmp + y * cw * 3).update(from: dimg + ((c.y0 + y) * W + c.x0) * 3, count: cw * 3) }
                    JPEGLike.backward(tmp, width: cw, height: ch)
                    for y in 0..<ch { (afterJPEG + ((c.y0 + y) * W + c.x0) * 3).update(from: tmp + y * cw * 3, count: cw * 3) }
                }
                d = UnsafePointer(afterJPEG)
            }
            let (boxWindow, motionReads, blurReads) = (windows.box, windows.motionReads, windows.blurReads)
            if let resample = optics.resample { resample.backward(d, into: gp, tmp: tmp, window: blurReads) } else { gp.update(from: d, count: n) }
            if !kernel.isEmpty { Blur.backward(gp, width: W, height: H, kernel: kernel, tmp: tmp, pad: pad, window: motionReads) }
            if let motion = optics.motion {
                copy.update(from: gp, count: n)
                motion.backward(copy, into: gp, tmp: tmp, window: boxWindow)
            }
        } }

        // 6'–4'. Composite, lighting, then scatter through the trilinear taps into the pyramid.
        let layout = cache.layout
        var dpyr = [Float](repeating: 0, count: layout.totalPixels * 3)      // (levels…, 3)
        let light = Lighting(cache.sample)
        let shaded = !cache.shade.isEmpty
        var next = 0
        g.withUnsafeBufferPointer { gp in
            cache.alpha.withUnsafeBufferPointer { ap in
                cache.warped.withUnsafeBufferPointer { wp in
                    dpyr.withUnsafeMutableBufferPointer { dp in
                        let D = dp.baseAddress!
                        for y in box.y0..<box.y1 {
                            for x in box.x0..<box.x1 {
                                let bi = (y - box.y0) * bw + (x - box.x0)
                                let a = ap[bi]
                                if a == 0 { continue }
                                let t = cache.taps[next]
                                next += 1
                                let o = (y * W + x) * 3
                                var dr = light.backward(wp[bi * 3], 0, a * gp[o])
                                var dg = light.backward(wp[bi * 3 + 1], 1, a * gp[o + 1])
                                var db = light.backward(wp[bi * 3 + 2], 2, a * gp[o + 2])
                                if shaded { let s = cache.shade[bi]; dr *= s; dg *= s; db *= s }
                                t.a.scatter(D, dr, dg, db)
                                if t.twoLevels { t.b.scatter(D, dr, dg, db) }
                            }
                        }
                        // 2'. Pyramid -> level 0, 1'. printer slope.
                        Mip.backward(D, layout, channels: 3)
                        let saturation = Float(cache.sample.printerSaturation)
                        cache.printerSlope.withUnsafeBufferPointer { sp in
                            if saturation == 1 {
                                for i in 0..<(th * tw * 3) { dtex[i] += sp[i] * D[i] }
                            } else {
                                // 0'. desaturation: d t_k = s · e_k + (1 − s) · w_k · Σ_c e_c.
                                for i in 0..<(th * tw) {
                                    let e = (sp[i * 3] * D[i * 3], sp[i * 3 + 1] * D[i * 3 + 1], sp[i * 3 + 2] * D[i * 3 + 2])
                                    let shared = (1 - saturation) * (e.0 + e.1 + e.2)
                                    dtex[i * 3] += saturation * e.0 + shared * Self.luma.0
                                    dtex[i * 3 + 1] += saturation * e.1 + shared * Self.luma.1
                                    dtex[i * 3 + 2] += saturation * e.2 + shared * Self.luma.2
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where `backward` computes the camera adjoints: only the patch's box needs the gradient,
    /// so each adjoint is computed on the window its successor reads (bit for bit the
    /// whole-image values there), from the box outwards; `imageReads` is what it reads of dImage
    /// at all. The whole image when `adjointsOnWindows` is off.
    func adjointWindows(cache: RenderCache, blurKernel kernel: [Float])
        -> (box: PixelWindow, motionReads: PixelWindow, blurReads: PixelWindow, imageReads: PixelWindow) {
        let W = sceneWidth, H = sceneHeight
        let boxWindow = adjointsOnWindows ? PixelWindow(x0: cache.x0, x1: cache.x1, y0: cache.y0, y1: cache.y1)
                                          : PixelWindow(x0: 0, x1: W, y0: 0, y1: H)
        let motionReads = cache.motion?.inputWindow(boxWindow) ?? boxWindow
        let blurReads = kernel.isEmpty ? motionReads : motionReads.grown(by: kernel.count / 2, width: W, height: H)
        var reads = cache.resample?.inputWindow(blurReads) ?? blurReads
        // JPEG's adjoint (colour conversion, 4:2:0 chroma up/down-sampling) reads its crop.
        if cache.sample.jpegQuality != nil { reads = Self.jpegCrop(around: reads, width: W, height: H) }
        return (boxWindow, motionReads, blurReads, reads)
    }

    /// Where JPEG's adjoint must run so that it is exact on `window`: the window grown by 6
    /// pixels (the adjoint mixes pixels at most 2 apart; the crop's own edges disturb at most 3
    /// pixels in), its origin on even coordinates (the same 2 × 2 chroma blocks as the whole
    /// image), clipped to the image (where the crop's edges are the image's, it clamps alike).
    static func jpegCrop(around window: PixelWindow, width W: Int, height H: Int) -> PixelWindow {
        if window.isEmpty { return window }
        let g = window.grown(by: 6, width: W, height: H)
        return PixelWindow(x0: g.x0 & ~1, x1: g.x1, y0: g.y0 & ~1, y1: g.y1)
    }

    /// `count` floats that the caller writes before reading: not zero-filled, or all NaN when
    /// `poisonsScratch` (the test hook).
    func scratchBuffer(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { b, initialized in
            if poisonsScratch { b.initialize(repeating: .nan) }
            initialized = count
        }
    }

    /// The rows and columns of dImage that `backward` reads for this sample (empty when the
    /// patch is not in the image): a model's backward needs to compute the image gradient there
    /// only (`ModelRunner.backward(_:windows:)`).
    public func gradientWindow(cache: RenderCache) -> (rows: Range<Int>, columns: Range<Int>) {
        if cache.x1 == cache.x0 || cache.y1 == cache.y0 { return (0..<0, 0..<0) }
        let r = adjointWindows(cache: cache, blurKernel: Blur.kernel(sigma: cache.sample.blurSigma)).imageReads
        return r.isEmpty ? (0..<0, 0..<0) : (r.y0..<r.y1, r.x0..<r.x1)
    }

    /// Array convenience; accumulates into `dTexture` (Th, Tw, 3).
    public func backward(dImage: [Float], cache: RenderCache, dTexture: inout [Float]) throws {
        try dImage.withUnsafeBufferPointer { d in
            try dTexture.withUnsafeMutableBufferPointer { t in try backward(dImage: d, cache: cache, dTexture: t) }
        }
    }
}

/// Lighting on the patch (per channel c):
///   lin = ((contrast · (p − 0.5) + 0.5) · brightness + offset) · colorGain_c  =  A_c · p + B_c
///   l   = clamp(lin, 0, 1)
///   lit = γ == 1 ? l : max(l, ε)^γ            (ε = Renderer.gammaEpsilon)
/// d lit / d p = [0 ≤ lin ≤ 1] · (γ == 1 ? 1 : [lin > ε] γ lin^(γ−1)) · A_c.
/// Evaluated as A_c · p + B_c so that the identity lighting (A = 1, B = 0) is exact in Float.
struct Lighting {
    let gamma: Float
    let a: (Float, Float, Float), b: (Float, Float, Float)
    init(_ s: TransformSample) {
        gamma = Float(s.gamma)
        let g = s.colorGain
        let A = (0..<3).map { Float(s.contrast * s.brightness * g[$0]) }
        let B = (0..<3).map { Float((0.5 * (1 - s.contrast) * s.brightness + s.offset) * g[$0]) }
        a = (A[0], A[1], A[2]); b = (B[0], B[1], B[2])
    }
    @inline(__always) func linear(_ p: Float, _ c: Int) -> Float {
        c == 0 ? a.0 * p + b.0 : (c == 1 ? a.1 * p + b.1 : a.2 * p + b.2)
    }
    @inline(__always) func forward(_ p: Float, _ c: Int) -> Float {
        let l = min(max(linear(p, c), 0), 1)
        return gamma == 1 ? l : powf(max(l, Renderer.gammaEpsilon), gamma)
    }
    /// d loss / d p given d loss / d lit.
    @inline(__always) func backward(_ p: Float, _ c: Int, _ dlit: Float) -> Float {
        let lin = linear(p, c)
        guard lin >= 0, lin <= 1 else { return 0 }
        var d = dlit
        if gamma != 1 { d = lin > Renderer.gammaEpsilon ? d * gamma * powf(lin, gamma - 1) : 0 }
        return d * (c == 0 ? a.0 : (c == 1 ? a.1 : a.2))
    }
}

extension Renderer {
    /// The sample's linear camera operators (nil when the effect is off): motion blur before the
    /// defocus blur, resampling after it. Built per sample (a few µs: one small sparse matrix per axis).
    func cameraOperators(_ sample: TransformSample) -> (motion: MotionBlur?, resample: SeparableResample?) {
        let motion = sample.motionBlurLength >= 0.05
            ? MotionBlur(width: sceneWidth, height: sceneHeight, length: sample.motionBlurLength, angleDegrees: sample.motionBlurAngle) : nil
        let resample = sample.resampleScale < 0.999
            ? SeparableResample(width: sceneWidth, height: sceneHeight, scale: sample.resampleScale) : nil
        return (motion, resample)
    }
}
