// Camera effects on the whole (H, W, 3) image: separable Gaussian blur (forward + exact adjoint),
// seeded additive Gaussian noise, and JPEG (4:2:0, 8×8 DCT quantisation). Not lens distortion.
import Foundation

enum Blur {
    /// Normalised 1-D Gaussian, radius ceil(3σ) (at least 1). Empty for σ == 0.
    static func kernel(sigma: Double) -> [Float] {
        guard sigma > 0 else { return [] }
        let r = max(1, Int((3 * sigma).rounded(.up)))
        var k = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +)
        k = k.map { $0 / s }
        return k.map { Float($0) }
    }

    /// In place: img (H, W, 3) <- G * img, edges replicated (clamp-to-edge).
    /// tmp: (H, W, 3) scratch; pad: ((W + 2r) · 3) scratch.
    static func forward(_ img: UnsafeMutablePointer<Float>, width W: Int, height H: Int, kernel k: [Float],
                        tmp: UnsafeMutablePointer<Float>, pad: UnsafeMutablePointer<Float>) {
        let r = k.count / 2, rowLen = W * 3
        k.withUnsafeBufferPointer { kp in
            // Horizontal: img -> tmp.
            for y in 0..<H {
                let row = img + y * rowLen
                for j in 0..<(W + 2 * r) {
                    let sx = min(max(j - r, 0), W - 1)
                    pad[j * 3] = row[sx * 3]; pad[j * 3 + 1] = row[sx * 3 + 1]; pad[j * 3 + 2] = row[sx * 3 + 2]
                }
                let out = tmp + y * rowLen
                out.update(repeating: 0, count: rowLen)
                for t in 0..<kp.count {
                    let w = kp[t], src = pad + t * 3
                    for o in 0..<rowLen { out[o] += w * src[o] }
                }
            }
            // Vertical: tmp -> img.
            for y in 0..<H {
                let out = img + y * rowLen
                out.update(repeating: 0, count: rowLen)
                for t in 0..<kp.count {
                    let w = kp[t], src = tmp + min(max(y + t - r, 0), H - 1) * rowLen
                    for o in 0..<rowLen { out[o] += w * src[o] }
                }
            }
        }
    }

    /// In place: g (H, W, 3) <- Gᵀ g, the exact adjoint of `forward`. In the interior this is the
    /// same symmetric blur; at the borders the weight of clamped taps folds back onto the edge pixel.
    static func backward(_ g: UnsafeMutablePointer<Float>, width W: Int, height H: Int, kernel k: [Float],
                         tmp: UnsafeMutablePointer<Float>, pad: UnsafeMutablePointer<Float>) {
        backward(g, width: W, height: H, kernel: k, tmp: tmp, pad: pad, window: PixelWindow(x0: 0, x1: W, y0: 0, y1: H))
    }
}

extension Blur {
    /// `backward` computed for `window` of g only: there g is what the whole-image pass gives,
    /// the same sums in the same order (bit for bit), reading g only in the window grown by the
    /// kernel's radius. Rows outside the window keep their input; the window's rows outside its
    /// columns are unspecified.
    static func backward(_ g: UnsafeMutablePointer<Float>, width W: Int, height H: Int, kernel k: [Float],
                         tmp: UnsafeMutablePointer<Float>, pad: UnsafeMutablePointer<Float>, window w: PixelWindow) {
        guard !w.isEmpty else { return }
        let r = k.count / 2, rowLen = W * 3
        let read = w.grown(by: r, width: W, height: H)                 // rows and columns of g read
        let cols = read.x0 * 3, count = (read.x1 - read.x0) * 3
        k.withUnsafeBufferPointer { kp in
            // Vertical adjoint into tmp, rows of the window only, the columns the next pass reads.
            for j in w.y0..<w.y1 { (tmp + j * rowLen + cols).update(repeating: 0, count: count) }
            for y in read.y0..<read.y1 {
                let src = g + y * rowLen + cols
                for t in 0..<kp.count {
                    let j = min(max(y + t - r, 0), H - 1)
                    if j >= w.y0 && j < w.y1 { addRow(kp[t], src, to: tmp + j * rowLen + cols, count: count) }
                }
            }
            // Horizontal adjoint of the window's rows: tmp -> g.
            let padLen = (W + 2 * r) * 3
            for y in w.y0..<w.y1 {
                let src = tmp + y * rowLen
                pad.update(repeating: 0, count: padLen)
                for t in 0..<kp.count { addRow(kp[t], src + cols, to: pad + t * 3 + cols, count: count) }
                let out = g + y * rowLen
                for o in (w.x0 * 3)..<(w.x1 * 3) { out[o] = pad[o + r * 3] }
                for j in 0..<r {
                    for c in 0..<3 {
                        if w.x0 == 0 { out[c] += pad[j * 3 + c] }
                        if w.x1 == W { out[(W - 1) * 3 + c] += pad[(W + r + j) * 3 + c] }
                    }
                }
            }
        }
    }
}

public enum Noise {
    /// Array form of `add`: image += σ · N(0, 1), seeded.
    public static func add(_ image: inout [Float], sigma: Float, seed: UInt64) {
        image.withUnsafeMutableBufferPointer { if let p = $0.baseAddress { add(p, count: $0.count, sigma: sigma, seed: seed) } }
    }

    /// img += σ · z with z ~ N(0, 1) drawn from SplitMix64(seed): each z is a standard normal
    /// quantile, `quantiles[u]` for a uniform 16-bit u (four per 64-bit draw). So z is normal to
    /// within 1/65536 in probability, cut at ±4.3 (the 1/131072 tails); no logarithm or square
    /// root per pixel (Marsaglia's polar method spent ~1.2 ms per 224 × 224 image here).
    /// Deterministic.
    static func add(_ img: UnsafeMutablePointer<Float>, count n: Int, sigma: Float, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        quantiles.withUnsafeBufferPointer { qb in
            let q = qb.baseAddress!
            var i = 0
            while i &+ 4 <= n {
                let b = rng.next()
                img[i] += sigma * q[Int(b & 0xFFFF)]
                img[i &+ 1] += sigma * q[Int((b >> 16) & 0xFFFF)]
                img[i &+ 2] += sigma * q[Int((b >> 32) & 0xFFFF)]
                img[i &+ 3] += sigma * q[Int(b >> 48)]
                i &+= 4
            }
            if i < n {
                let b = rng.next()
                for j in 0..<(n &- i) { img[i &+ j] += sigma * q[Int((b >> UInt64(16 * j)) & 0xFFFF)] }
            }
        }
    }

    /// Φ⁻¹((u + 0.5) / 65536) for u in 0..<65536.
    static let quantiles: [Float] = (0..<65536).map { Float(probit((Double($0) + 0.5) / 65536)) }

    /// The standard normal quantile Φ⁻¹(p), 0 < p < 1: Acklam's rational approximation
    /// (relative error < 1.2e-9) and one Halley step on Φ(x) − p = erfc(−x/√2)/2 − p.
    public static func probit(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }
}

/// JPEG as libjpeg (and PIL, and most cameras) does it by default, without the (lossless)
/// entropy coding: RGB -> YCbCr (JFIF); chroma subsampled 4:2:0 (2 × 2 box average, libjpeg's
/// h2v2 downsampling); 8 × 8 DCT-II per plane, quantised with the IJG-scaled Annex K tables;
/// inverse DCT; chroma upsampled with libjpeg's "fancy" triangle filter (9/16, 3/16, 3/16, 1/16);
/// back to RGB. Partial border blocks are padded by edge replication, as libjpeg pads to whole
/// MCUs. Kept in Float: within ~1/255 of a libjpeg-turbo round trip (test against PIL).
///
/// Backward: the adjoint of the linear part L (colour transform, chroma down- and up-sampling;
/// quantisation taken as identity, as in BPDA, Athalye et al. 2018). So the gradient knows that
/// chroma detail finer than 2 px does not survive, and the luma gradient passes unchanged.
public enum JPEGLike {
    static let lumaTable: [Float] = [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
    static let chromaTable: [Float] = [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
        47, 66, 99, 99, 99, 99, 99, 99] + [Float](repeating: 99, count: 32)
    /// C[u][x] = a(u) cos((2x + 1)uπ/16).
    static let dct: [Float] = (0..<64).map { i in
        let u = i / 8, x = i % 8
        let a = u == 0 ? (1.0 / 8).squareRoot() : (2.0 / 8).squareRoot()
        return Float(a * cos(Double(2 * x + 1) * Double(u) * .pi / 16))
    }

    static func table(_ base: [Float], quality: Int) -> [Float] {
        let q = min(max(quality, 1), 100)
        let s = q < 50 ? 5000 / q : 200 - 2 * q
        return base.map { min(max(((($0 * Float(s)) + 50) / 100).rounded(.down), 1), 255) }
    }

    /// Array form of `apply`: image (H, W, 3) in [0, 1], quality 1...100 or nil (linear part only).
    public static func apply(_ image: inout [Float], width: Int, height: Int, quality: Int?) throws(TransformError) {
        guard width > 0, height > 0, image.count == width * height * 3 else {
            throw .shapeMismatch(name: "image", expected: max(width, 0) * max(height, 0) * 3, got: image.count, shape: "(\(height), \(width), 3)")
        }
        image.withUnsafeMutableBufferPointer { apply($0.baseAddress!, width: width, height: height, quality: quality) }
    }

    /// Array form of `backward`: g (H, W, 3) <- Lᵀ g.
    public static func backward(_ g: inout [Float], width: Int, height: Int) throws(TransformError) {
        guard width > 0, height > 0, g.count == width * height * 3 else {
            throw .shapeMismatch(name: "gradient", expected: max(width, 0) * max(height, 0) * 3, got: g.count, shape: "(\(height), \(width), 3)")
        }
        g.withUnsafeMutableBufferPointer { backward($0.baseAddress!, width: width, height: height) }
    }

    /// In place on img (H, W, 3) in [0, 1]. `quality` nil: the linear part only (no quantisation).
    static func apply(_ img: UnsafeMutablePointer<Float>, width W: Int, height H: Int, quality: Int?) {
        let n = W * H, cw = (W + 1) / 2, chh = (H + 1) / 2
        withPlanes(width: W, height: H) { Y, Cb, Cr, cb, cr, half in
            for i in 0..<n {
                let r = img[i * 3] * 255, g = img[i * 3 + 1] * 255, b = img[i * 3 + 2] * 255
                Y[i] = 0.299 * r + 0.587 * g + 0.114 * b - 128
                Cb[i] = -0.168736 * r - 0.331264 * g + 0.5 * b
                Cr[i] = 0.5 * r - 0.418688 * g - 0.081312 * b
            }
            downsample(Cb, width: W, height: H, into: cb)
            downsample(Cr, width: W, height: H, into: cr)
            if let quality {
                let luma = table(lumaTable, quality: quality), chromaQ = table(chromaTable, quality: quality)
                quantise(Y, width: W, height: H, table: luma)
                quantise(cb, width: cw, height: chh, table: chromaQ)
                quantise(cr, width: cw, height: chh, table: chromaQ)
            }
            upsample(cb, width: W, height: H, into: Cb, half: half)
            upsample(cr, width: W, height: H, into: Cr, half: half)
            for i in 0..<n {
                let yy = Y[i] + 128, u = Cb[i], v = Cr[i]
                img[i * 3] = (yy + 1.402 * v) / 255
                img[i * 3 + 1] = (yy - 0.344136 * u - 0.714136 * v) / 255
                img[i * 3 + 2] = (yy + 1.772 * u) / 255
            }
        }
    }

    /// In place on g (H, W, 3): g <- Lᵀ g, the exact adjoint of `apply(quality: nil)`.
    static func backward(_ g: UnsafeMutablePointer<Float>, width W: Int, height H: Int) {
        let n = W * H
        withPlanes(width: W, height: H) { Y, Cb, Cr, cb, cr, half in
            // Adjoint of YCbCr -> RGB (the 1/255 and the ·255 of the forward cancel).
            for i in 0..<n {
                let r = g[i * 3], gg = g[i * 3 + 1], b = g[i * 3 + 2]
                Y[i] = r + gg + b
                Cb[i] = -0.344136 * gg + 1.772 * b
                Cr[i] = 1.402 * r - 0.714136 * gg
            }
            upsampleAdjoint(Cb, width: W, height: H, into: cb, half: half)
            upsampleAdjoint(Cr, width: W, height: H, into: cr, half: half)
            downsampleAdjoint(cb, width: W, height: H, into: Cb)
            downsampleAdjoint(cr, width: W, height: H, into: Cr)
            // Adjoint of RGB -> YCbCr.
            for i in 0..<n {
                let y = Y[i], u = Cb[i], v = Cr[i]
                g[i * 3] = 0.299 * y - 0.168736 * u + 0.5 * v
                g[i * 3 + 1] = 0.587 * y - 0.331264 * u - 0.418688 * v
                g[i * 3 + 2] = 0.114 * y + 0.5 * u - 0.081312 * v
            }
        }
    }

    /// Scratch planes for one image: Y, Cb, Cr at full resolution (H, W), cb, cr subsampled
    /// ((H + 1) / 2, (W + 1) / 2), and the up-sampling's half-way plane ((H + 1) / 2, W).
    private static func withPlanes(width W: Int, height H: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
        UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let n = W * H, sub = ((W + 1) / 2) * ((H + 1) / 2), half = ((H + 1) / 2) * W
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 3 * n + 2 * sub + half)
        buffer.initialize(repeating: 0, count: 3 * n + 2 * sub + half)
        defer { buffer.deallocate() }
        body(buffer, buffer + n, buffer + 2 * n, buffer + 3 * n, buffer + 3 * n + sub, buffer + 3 * n + 2 * sub)
    }

    /// (H, W) -> ((H + 1) / 2, (W + 1) / 2): the mean of each 2 × 2 block, edges replicated.
    static func downsample(_ src: UnsafePointer<Float>, width W: Int, height H: Int, into dst: UnsafeMutablePointer<Float>) {
        let cw = (W + 1) / 2, chh = (H + 1) / 2
        for j in 0..<chh {
            let y0 = 2 * j, y1 = min(2 * j + 1, H - 1)
            for i in 0..<cw {
                let x0 = 2 * i, x1 = min(2 * i + 1, W - 1)
                dst[j * cw + i] = 0.25 * (src[y0 * W + x0] + src[y0 * W + x1] + src[y1 * W + x0] + src[y1 * W + x1])
            }
        }
    }

    static func downsampleAdjoint(_ src: UnsafePointer<Float>, width W: Int, height H: Int, into dst: UnsafeMutablePointer<Float>) {
        let cw = (W + 1) / 2, chh = (H + 1) / 2
        dst.update(repeating: 0, count: W * H)
        for j in 0..<chh {
            let y0 = 2 * j, y1 = min(2 * j + 1, H - 1)
            for i in 0..<cw {
                let x0 = 2 * i, x1 = min(2 * i + 1, W - 1), v = 0.25 * src[j * cw + i]
                dst[y0 * W + x0] += v; dst[y0 * W + x1] += v; dst[y1 * W + x0] += v; dst[y1 * W + x1] += v
            }
        }
    }

    /// The two chroma taps of full-resolution coordinate x (or y): the nearer sample (weight 3/4)
    /// and the one beyond it on x's side (1/4), clamped at the edges.
    @inline(__always)
    static func taps(_ x: Int, _ n: Int) -> (Int, Int) {
        let i = x / 2
        return (i, x % 2 == 0 ? max(i - 1, 0) : min(i + 1, n - 1))
    }

    /// ((H + 1) / 2, (W + 1) / 2) -> (H, W), libjpeg's h2v2 fancy upsampling. Separable: each
    /// chroma row is widened (3/4 nearer + 1/4 farther sample) into `half` ((H + 1) / 2, W), then
    /// each output row is 3/4 of the nearer widened row + 1/4 of the farther one (whole rows,
    /// vectorised). The same sums as the 2-D 9/3/3/1 formula, in the same order.
    static func upsample(_ src: UnsafePointer<Float>, width W: Int, height H: Int, into dst: UnsafeMutablePointer<Float>,
                         half: UnsafeMutablePointer<Float>) {
        let cw = (W + 1) / 2, chh = (H + 1) / 2
        for j in 0..<chh {
            let s = src + j * cw, h = half + j * W
            for x in 0..<W {
                let (i0, i1) = taps(x, cw)
                h[x] = 0.75 * s[i0] + 0.25 * s[i1]
            }
        }
        for y in 0..<H {
            let (j0, j1) = taps(y, chh)
            let near = half + j0 * W, far = half + j1 * W, d = dst + y * W
            for x in 0..<W { d[x] = 0.75 * near[x] + 0.25 * far[x] }
        }
    }

    /// The adjoint of `upsample`, WRITES dst ((H + 1) / 2, (W + 1) / 2): rows first (each
    /// output row's gradient goes 3/4 to its nearer widened row, 1/4 to the farther), then each
    /// widened row back to its chroma samples.
    static func upsampleAdjoint(_ src: UnsafePointer<Float>, width W: Int, height H: Int, into dst: UnsafeMutablePointer<Float>,
                                half: UnsafeMutablePointer<Float>) {
        let cw = (W + 1) / 2, chh = (H + 1) / 2
        half.update(repeating: 0, count: chh * W)
        for y in 0..<H {
            let (j0, j1) = taps(y, chh)
            let near = half + j0 * W, far = half + j1 * W, g = src + y * W
            for x in 0..<W { near[x] += 0.75 * g[x] }
            for x in 0..<W { far[x] += 0.25 * g[x] }
        }
        dst.update(repeating: 0, count: cw * chh)
        for j in 0..<chh {
            let h = half + j * W, d = dst + j * cw
            for x in 0..<W {
                let (i0, i1) = taps(x, cw)
                d[i0] += 0.75 * h[x]; d[i1] += 0.25 * h[x]
            }
        }
    }

    /// In place on one (H, W) plane (level-shifted, 0...255 units): 8 × 8 blocks (partial border
    /// blocks padded by edge replication), DCT, quantise with `table`, inverse DCT. A block is 8
    /// SIMD rows: F = C B Cᵀ and B = Cᵀ F C as four 8 × 8 products of rows.
    static func quantise(_ plane: UnsafeMutablePointer<Float>, width W: Int, height H: Int, table q: [Float]) {
        let rows = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: 5 * 8)
        defer { rows.deallocate() }
        let c = rows, ct = rows + 8, steps = rows + 16, blk = rows + 24, tmp = rows + 32
        for u in 0..<8 {
            for x in 0..<8 { c[u][x] = dct[u * 8 + x]; ct[x][u] = dct[u * 8 + x]; steps[u][x] = q[u * 8 + x] }
        }
        for by in stride(from: 0, to: H, by: 8) {
            for bx in stride(from: 0, to: W, by: 8) {
                let full = by + 8 <= H && bx + 8 <= W
                for j in 0..<8 {
                    if full {
                        blk[j] = UnsafeRawPointer(plane + (by + j) * W + bx).loadUnaligned(as: SIMD8<Float>.self)
                    } else {
                        for i in 0..<8 { blk[j][i] = plane[min(by + j, H - 1) * W + min(bx + i, W - 1)] }
                    }
                }
                rowProduct(c, blk, into: tmp)                   // C B
                rowProduct(tmp, ct, into: blk)                  // (C B) Cᵀ = F
                for u in 0..<8 { blk[u] = (blk[u] / steps[u]).rounded(.toNearestOrAwayFromZero) * steps[u] }
                rowProduct(ct, blk, into: tmp)                  // Cᵀ F
                rowProduct(tmp, c, into: blk)                   // (Cᵀ F) C = B
                for j in 0..<min(8, H - by) {
                    if full {
                        UnsafeMutableRawPointer(plane + (by + j) * W + bx).storeBytes(of: blk[j], as: SIMD8<Float>.self)
                    } else {
                        for i in 0..<min(8, W - bx) { plane[(by + j) * W + bx + i] = blk[j][i] }
                    }
                }
            }
        }
    }

    /// y = a · b for 8 × 8 matrices held as 8 SIMD rows: row u of y = Σ_k a(u, k) · (row k of b).
    /// `y` must not alias `a` or `b`.
    @inline(__always)
    private static func rowProduct(_ a: UnsafePointer<SIMD8<Float>>, _ b: UnsafePointer<SIMD8<Float>>,
                                   into y: UnsafeMutablePointer<SIMD8<Float>>) {
        for u in 0..<8 {
            let au = a[u]
            var acc = au[0] * b[0]
            for k in 1..<8 { acc.addProduct(au[k], b[k]) }
            y[u] = acc
        }
    }
}
