// Mip pyramid of a (H, W, C) image by 2×2 box averaging (edge-clamped for odd sizes), with its
// backward, and the per-pixel trilinear tap computation used by the warp. Not the warp loop.
import Foundation

/// Level sizes and offsets (in pixels) of a pyramid stored level after level in one buffer.
/// Level k+1 has size ceil(size_k / 2); its pixel i averages level-k pixels 2i, 2i+1 (clamped),
/// so level-k texel centres sit at (i + 0.5) · 2^k in level-0 coords.
struct MipLayout: Sendable {
    var widths: [Int] = []
    var heights: [Int] = []
    var offsets: [Int] = []
    var totalPixels = 0

    init(width: Int, height: Int) {
        var w = width, h = height
        while true {
            widths.append(w); heights.append(h); offsets.append(totalPixels)
            totalPixels += w * h
            if w == 1 && h == 1 { break }
            w = (w + 1) / 2; h = (h + 1) / 2
        }
    }
    var count: Int { widths.count }
}

enum Mip {
    /// Fills levels 1... of `pyr` (level 0 already written). pyr: (totalPixels, C).
    static func build(_ pyr: UnsafeMutablePointer<Float>, _ L: MipLayout, channels C: Int) {
        for k in 1..<L.count {
            let src = pyr + L.offsets[k - 1] * C, dst = pyr + L.offsets[k] * C
            forEachBox(L, level: k, channels: C) { o, a, b, c, d in
                for ch in 0..<C { dst[o + ch] = 0.25 * (src[a + ch] + src[b + ch] + src[c + ch] + src[d + ch]) }
            }
        }
    }

    /// Adjoint of `build`: pushes the gradients of levels L-1 ... 1 down to level 0 (accumulates).
    static func backward(_ dpyr: UnsafeMutablePointer<Float>, _ L: MipLayout, channels C: Int) {
        var k = L.count - 1
        while k >= 1 {
            let dsrc = dpyr + L.offsets[k - 1] * C, ddst = dpyr + L.offsets[k] * C
            forEachBox(L, level: k, channels: C) { o, a, b, c, d in
                for ch in 0..<C {
                    let g = 0.25 * ddst[o + ch]
                    dsrc[a + ch] += g; dsrc[b + ch] += g; dsrc[c + ch] += g; dsrc[d + ch] += g
                }
            }
            k -= 1
        }
    }

    /// Calls `body(o, a, b, c, d)` for each pixel of level `k` (k ≥ 1), row by row: `o` is its
    /// element offset in level k, `a`, `b`, `c`, `d` those of the 2×2 level-(k−1) pixels it
    /// averages (top-left, top-right, bottom-left, bottom-right; edge-clamped for odd sizes).
    @inline(__always)
    private static func forEachBox(_ L: MipLayout, level k: Int, channels C: Int,
                                   _ body: (_ o: Int, _ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Void) {
        let sw = L.widths[k - 1], sh = L.heights[k - 1]
        let w = L.widths[k], h = L.heights[k]
        for j in 0..<h {
            let y0 = min(2 * j, sh - 1), y1 = min(2 * j + 1, sh - 1)
            for i in 0..<w {
                let x0 = min(2 * i, sw - 1), x1 = min(2 * i + 1, sw - 1)
                body((j * w + i) * C, (y0 * sw + x0) * C, (y0 * sw + x1) * C, (y1 * sw + x0) * C, (y1 * sw + x1) * C)
            }
        }
    }
}

/// The 4 bilinear taps of one mip level. `i*`: pixel indices into the pyramid (edge-clamped,
/// always valid); `w*`: texture weights (edge-clamped addressing); `m*`: the same weights but 0
/// for taps outside the level (zero padding), so the mask — and alpha — fades to 0 across the
/// patch border. Named scalars, not SIMD lanes: dynamic lane access spills to the stack.
struct LevelTaps {
    var i0: Int32 = 0, i1: Int32 = 0, i2: Int32 = 0, i3: Int32 = 0
    var w0: Float = 0, w1: Float = 0, w2: Float = 0, w3: Float = 0
    var m0: Float = 0, m1: Float = 0, m2: Float = 0, m3: Float = 0

    @inline(__always) var maskSum: Float { m0 + m1 + m2 + m3 }

    /// (r, g, b) of a 3-channel pyramid and the mask value of a 1-channel pyramid.
    @inline(__always)
    func sample(_ P: UnsafePointer<Float>, _ M: UnsafePointer<Float>) -> (Float, Float, Float, Float) {
        let a = Int(i0) &* 3, b = Int(i1) &* 3, c = Int(i2) &* 3, d = Int(i3) &* 3
        let r = w0 * P[a] + w1 * P[b] + w2 * P[c] + w3 * P[d]
        let g = w0 * P[a &+ 1] + w1 * P[b &+ 1] + w2 * P[c &+ 1] + w3 * P[d &+ 1]
        let bl = w0 * P[a &+ 2] + w1 * P[b &+ 2] + w2 * P[c &+ 2] + w3 * P[d &+ 2]
        let m = m0 * M[Int(i0)] + m1 * M[Int(i1)] + m2 * M[Int(i2)] + m3 * M[Int(i3)]
        return (r, g, bl, m)
    }

    /// Adjoint of `sample` for the texture: D[i] += w · (dr, dg, db).
    @inline(__always)
    func scatter(_ D: UnsafeMutablePointer<Float>, _ dr: Float, _ dg: Float, _ db: Float) {
        let a = Int(i0) &* 3, b = Int(i1) &* 3, c = Int(i2) &* 3, d = Int(i3) &* 3
        D[a] += w0 * dr; D[a &+ 1] += w0 * dg; D[a &+ 2] += w0 * db
        D[b] += w1 * dr; D[b &+ 1] += w1 * dg; D[b &+ 2] += w1 * db
        D[c] += w2 * dr; D[c &+ 1] += w2 * dg; D[c &+ 2] += w2 * db
        D[d] += w3 * dr; D[d &+ 1] += w3 * dg; D[d &+ 2] += w3 * db
    }
}

/// Trilinear taps of one scene pixel: level `a` (weight 1 − t folded in) and, when `twoLevels`,
/// the next coarser level `b` (weight t folded in).
struct Taps {
    var a = LevelTaps()
    var b = LevelTaps()
    var twoLevels = false
}

/// Per-call constants of the warp: patchFromScene, the depth row of sceneFromPatch, the layout.
struct WarpGeometry {
    var p: (Double, Double, Double, Double, Double, Double, Double, Double, Double)  // patchFromScene
    var depthRow: (Double, Double, Double)                                           // sceneFromPatch row 3
    let widths: [Int32], heights: [Int32], offsets: [Int32]
    let levels: Int
    let textureWidth: Double, textureHeight: Double
    let cullsFar: Bool

    init(patchFromScene: Homography, sceneFromPatch: Homography, layout: MipLayout, cullsFar: Bool = true) {
        let m = patchFromScene.elements
        p = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
        let s = sceneFromPatch.elements
        depthRow = (s[6], s[7], s[8])
        widths = layout.widths.map { Int32($0) }
        heights = layout.heights.map { Int32($0) }
        offsets = layout.offsets.map { Int32($0) }
        levels = layout.count
        textureWidth = Double(layout.widths[0]); textureHeight = Double(layout.heights[0])
        self.cullsFar = cullsFar
    }

    /// Sub-texel fractions this close to 0 or 1 snap to the texel (so an identity pose whose
    /// homography carries 1e-16 round-off samples texel centres exactly).
    static let snap = 1e-6
    /// Gamma and log safety: smallest footprint level difference treated as nonzero.
    static let levelSnap = 1e-6

    /// Taps of the scene pixel centre (x, y), or nil when the pixel sees nothing of the patch
    /// (behind the camera, at the horizon, or far outside the texture).
    @inline(__always)
    func taps(x: Double, y: Double) -> Taps? {
        let wq = p.6 * x + p.7 * y + p.8
        let u = (p.0 * x + p.1 * y + p.2) / wq
        let v = (p.3 * x + p.4 * y + p.5) / wq
        guard u.isFinite, v.isFinite, abs(u) < 1e7, abs(v) < 1e7 else { return nil }
        guard depthRow.0 * u + depthRow.1 * v + depthRow.2 > 0 else { return nil }
        // Footprint: texels per scene pixel, the longer of the two Jacobian columns.
        let ux = (p.0 - u * p.6) / wq, uy = (p.1 - u * p.7) / wq
        let vx = (p.3 - v * p.6) / wq, vy = (p.4 - v * p.7) / wq
        let rho2 = max(ux * ux + vx * vx, uy * uy + vy * vy)
        // Far outside the texture every tap's mask weight is 0 (nil below), so stop before the
        // level and tap arithmetic. The coarsest level used has texels L ≤ 2·max(1, √rho2) wide,
        // and a level's taps reach the mask only for −L/2 ≤ u < width + 3L/2 (its width is
        // ⌈width / L⌉ texels of L): outside width ± (4·max(1, √rho2) + 1) nothing is seen.
        if cullsFar {
            let reach = 4 * (rho2 > 1 ? rho2.squareRoot() : 1) + 1
            guard u > -reach, v > -reach, u < textureWidth + reach, v < textureHeight + reach else { return nil }
        }
        var l0 = 0
        var t = 0.0
        if rho2 > 1 {
            let lambda = 0.5 * log2(rho2)
            if lambda > Self.levelSnap {
                let fl = lambda.rounded(.down)
                l0 = Int(fl)
                t = lambda - fl
                if t < Self.levelSnap { t = 0 }
                if l0 >= levels - 1 { l0 = levels - 1; t = 0 }
            }
        }
        var out = Taps()
        out.a = levelTaps(u: u, v: v, level: l0, weight: 1 - t)
        if t > 0 {
            out.b = levelTaps(u: u, v: v, level: l0 + 1, weight: t)
            out.twoLevels = true
        }
        return out.a.maskSum + out.b.maskSum > 0 ? out : nil
    }

    @inline(__always)
    func levelTaps(u: Double, v: Double, level l: Int, weight lw: Double) -> LevelTaps {
        let scale = 1.0 / Double(1 << l)
        let lu = u * scale - 0.5, lv = v * scale - 0.5
        var fx0 = lu.rounded(.down), fy0 = lv.rounded(.down)
        var fx = lu - fx0, fy = lv - fy0
        if fx < Self.snap { fx = 0 } else if fx > 1 - Self.snap { fx = 0; fx0 += 1 }
        if fy < Self.snap { fy = 0 } else if fy > 1 - Self.snap { fy = 0; fy0 += 1 }
        let w = widths[l], h = heights[l]
        let ix = Int32(max(-2, min(fx0, Double(w)))), iy = Int32(max(-2, min(fy0, Double(h))))
        let cx0 = min(max(ix, 0), w - 1), cx1 = min(max(ix + 1, 0), w - 1)
        let cy0 = min(max(iy, 0), h - 1), cy1 = min(max(iy + 1, 0), h - 1)
        let in_x0: Float = ix >= 0 && ix < w ? 1 : 0, in_x1: Float = ix >= -1 && ix + 1 < w ? 1 : 0
        let in_y0: Float = iy >= 0 && iy < h ? 1 : 0, in_y1: Float = iy >= -1 && iy + 1 < h ? 1 : 0
        let ffx = Float(fx), ffy = Float(fy), flw = Float(lw)
        var o = LevelTaps()
        let base = offsets[l]
        o.i0 = base + cy0 * w + cx0; o.i1 = base + cy0 * w + cx1
        o.i2 = base + cy1 * w + cx0; o.i3 = base + cy1 * w + cx1
        o.w0 = (1 - ffx) * (1 - ffy) * flw; o.w1 = ffx * (1 - ffy) * flw
        o.w2 = (1 - ffx) * ffy * flw; o.w3 = ffx * ffy * flw
        o.m0 = o.w0 * in_x0 * in_y0; o.m1 = o.w1 * in_x1 * in_y0
        o.m2 = o.w2 * in_x0 * in_y1; o.m3 = o.w3 * in_x1 * in_y1
        return o
    }
}
