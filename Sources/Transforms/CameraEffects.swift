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
        let r = k.count / 2, rowLen = W * 3
        k.withUnsafeBufferPointer { kp in
            // Vertical adjoint: g -> tmp.
            tmp.update(repeating: 0, count: H * rowLen)
            for y in 0..<H {
                let src = g + y * rowLen
                for t in 0..<kp.count {
                    let w = kp[t], dst = tmp + min(max(y + t - r, 0), H - 1) * rowLen
                    for o in 0..<rowLen { dst[o] += w * src[o] }
                }
            }
            // Horizontal adjoint: tmp -> g.
            let padLen = (W + 2 * r) * 3
            for y in 0..<H {
                let src = tmp + y * rowLen
                pad.update(repeating: 0, count: padLen)
                for t in 0..<kp.count {
                    let w = kp[t], dst = pad + t * 3
                    for o in 0..<rowLen { dst[o] += w * src[o] }
                }
                let out = g + y * rowLen
                for o in 0..<rowLen { out[o] = pad[o + r * 3] }
                for j in 0..<r {
                    for c in 0..<3 {
                        out[c] += pad[j * 3 + c]
                        out[(W - 1) * 3 + c] += pad[(W + r + j) * 3 + c]
                    }
                }
            }
        }
    }
}

enum Noise {
    /// img += σ · N(0, 1), normals from SplitMix64(seed) by Marsaglia's polar method (two normals
    /// per accepted pair, one log and no trigonometry; ~21% of pairs are rejected). Deterministic.
    static func add(_ img: UnsafeMutablePointer<Float>, count n: Int, sigma: Float, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var i = 0
        while i < n {
            let bits = rng.next()
            let u = Float(Int32(truncatingIfNeeded: bits)) * 0x1p-31            // [-1, 1)
            let v = Float(Int32(truncatingIfNeeded: bits >> 32)) * 0x1p-31
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let f = sigma * (-2 * logf(s) / s).squareRoot()
            img[i] += f * u
            if i + 1 < n { img[i + 1] += f * v }
            i += 2
        }
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
        withPlanes(width: W, height: H) { Y, Cb, Cr, cb, cr in
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
            upsample(cb, width: W, height: H, into: Cb)
            upsample(cr, width: W, height: H, into: Cr)
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
        withPlanes(width: W, height: H) { Y, Cb, Cr, cb, cr in
            // Adjoint of YCbCr -> RGB (the 1/255 and the ·255 of the forward cancel).
            for i in 0..<n {
                let r = g[i * 3], gg = g[i * 3 + 1], b = g[i * 3 + 2]
                Y[i] = r + gg + b
                Cb[i] = -0.344136 * gg + 1.772 * b
                Cr[i] = 1.402 * r - 0.714136 * gg
            }
            upsampleAdjoint(Cb, width: W, height: H, into: cb)
            upsampleAdjoint(Cr, width: W, height: H, into: cr)
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

    /// Scratch planes for one image: Y, Cb, Cr at full resolution (H, W) and cb, cr subsampled
    /// ((H + 1) / 2, (W + 1) / 2).
    private static func withPlanes(width W: Int, height H: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
        UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let n = W * H, sub = ((W + 1) / 2) * ((H + 1) / 2)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 3 * n + 2 * sub)
        buffer.initialize(repeating: 0, count: 3 * n + 2 * sub)
        defer { buffer.deallocate() }
        body(buffer, buffer + n, buffer + 2 * n, buffer + 3 * n, buffer + 3 * n + sub)
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

    /// ((H + 1) / 2, (W + 1) / 2) -> (H, W), libjpeg's h2v2 fancy upsampling.
    static func upsample(_ src: UnsafePointer<Float>, width W: Int, height H: Int, into dst: UnsafeMutablePointer<Float>) {
        let cw = (W + 1) / 2, chh = (H + 1) / 2
        for y in 0..<H {
            let (j0, j1) = taps(y, chh)
            for x in 0..<W {
                let (i0, i1) = taps(x, cw)
                let near = 0.75 * src[j0 * cw + i0] + 0.25 * src[j0 * cw + i1]
                let far = 0.75 * src[j1 * cw + i0] + 0.25 * src[j1 * cw + i1]
                dst[y * W + x] = 0.75 * near + 0.25 * far
            }
        }
    }

    static func upsampleAdjoint(_ src: UnsafePointer<Float>, width W: Int, height H: Int, into dst: UnsafeMutablePointer<Float>) {
        let cw = (W + 1) / 2, chh = (H + 1) / 2
        dst.update(repeating: 0, count: cw * chh)
        for y in 0..<H {
            let (j0, j1) = taps(y, chh)
            for x in 0..<W {
                let (i0, i1) = taps(x, cw), v = src[y * W + x]
                dst[j0 * cw + i0] += 0.5625 * v; dst[j0 * cw + i1] += 0.1875 * v
                dst[j1 * cw + i0] += 0.1875 * v; dst[j1 * cw + i1] += 0.0625 * v
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
