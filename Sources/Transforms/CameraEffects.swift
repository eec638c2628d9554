// Camera effects on the whole (H, W, 3) image: separable Gaussian blur (forward + exact adjoint),
// seeded additive Gaussian noise, and JPEG-like 8×8 DCT quantisation. Not lens distortion.
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

/// JPEG-like quantisation: RGB -> YCbCr (JFIF, full-resolution chroma: no subsampling), 8×8
/// DCT-II per channel, quantised with the IJG-scaled Annex K tables, inverse DCT, back to RGB.
/// Partial border blocks are padded by edge replication. No entropy coding (it is lossless).
/// Backward is straight-through (identity), as in BPDA (Athalye et al. 2018).
enum JPEGLike {
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

    static func apply(_ img: UnsafeMutablePointer<Float>, width W: Int, height H: Int, quality: Int) {
        let qt = [table(lumaTable, quality: quality), table(chromaTable, quality: quality)]
        // One block's 3 channels (3 · 64), then the 8 × 8 intermediate of a 2-D transform.
        let blk = UnsafeMutablePointer<Float>.allocate(capacity: 4 * 64), tmp = blk + 3 * 64
        blk.initialize(repeating: 0, count: 4 * 64)
        defer { blk.deallocate() }
        for by in stride(from: 0, to: H, by: 8) {
            for bx in stride(from: 0, to: W, by: 8) {
                // Gather (edge-replicated) and convert to level-shifted YCbCr in 0...255 units.
                for j in 0..<8 {
                    for i in 0..<8 {
                        let p = img + ((min(by + j, H - 1) * W) + min(bx + i, W - 1)) * 3
                        let r = p[0] * 255, g = p[1] * 255, b = p[2] * 255
                        blk[j * 8 + i] = 0.299 * r + 0.587 * g + 0.114 * b - 128
                        blk[64 + j * 8 + i] = -0.168736 * r - 0.331264 * g + 0.5 * b
                        blk[128 + j * 8 + i] = 0.5 * r - 0.418688 * g - 0.081312 * b
                    }
                }
                for ch in 0..<3 {
                    let q = qt[ch == 0 ? 0 : 1]
                    let B = blk + ch * 64
                    // F = C B Cᵀ, quantised
                    product8(dct, B, into: tmp)
                    product8(tmp, dct, transposeB: true, into: B)
                    for t in 0..<64 { let qq = q[t]; B[t] = (B[t] / qq).rounded() * qq }
                    // B = Cᵀ F C
                    product8(dct, transposeA: true, B, into: tmp)
                    product8(tmp, dct, into: B)
                }
                for j in 0..<min(8, H - by) {
                    for i in 0..<min(8, W - bx) {
                        let yy = blk[j * 8 + i] + 128, cb = blk[64 + j * 8 + i], cr = blk[128 + j * 8 + i]
                        let p = img + (((by + j) * W) + bx + i) * 3
                        p[0] = (yy + 1.402 * cr) / 255
                        p[1] = (yy - 0.344136 * cb - 0.714136 * cr) / 255
                        p[2] = (yy + 1.772 * cb) / 255
                    }
                }
            }
        }
    }

    /// c = A · B for 8 × 8 row-major matrices, each sum taken in order k = 0..<8 from 0:
    /// c[i·8 + j] = Σ_k A(i, k) · B(k, j), where A(i, k) = a[i·8 + k], or a[k·8 + i] when
    /// `transposeA` (likewise B). `c` must not alias `a` or `b`.
    @inline(__always)
    private static func product8(_ a: UnsafePointer<Float>, transposeA: Bool = false, _ b: UnsafePointer<Float>,
                                 transposeB: Bool = false, into c: UnsafeMutablePointer<Float>) {
        for i in 0..<8 {
            for j in 0..<8 {
                var s: Float = 0
                for k in 0..<8 { s += a[transposeA ? k * 8 + i : i * 8 + k] * b[transposeB ? j * 8 + k : k * 8 + j] }
                c[i * 8 + j] = s
            }
        }
    }
}
