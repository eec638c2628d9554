// Bilinear sampling of an `Image` at real (x, y) and a whole-image perspective warp through a
// homography. Used to rectify a chart photo (and by tests to fake one). Not differentiable and
// not anti-aliased beyond optional supersampling; the EOT renderer lives in Transforms.
import Imaging
import Transforms

public enum PerspectiveWarp {
    /// RGB at (x, y) (pixel centres at +0.5, so (0.5, 0.5) is pixel (0, 0) exactly), bilinear,
    /// edges clamped; nil when (x, y) is outside [0, width] × [0, height].
    @inline(__always)
    public static func sample(_ image: Image, x: Double, y: Double) -> SIMD3<Float>? {
        guard x >= 0, y >= 0, x <= Double(image.width), y <= Double(image.height) else { return nil }
        let u = x - 0.5, v = y - 0.5
        let fx = u.rounded(.down), fy = v.rounded(.down)
        let tx = Float(u - fx), ty = Float(v - fy)
        let x0 = min(max(Int(fx), 0), image.width - 1), x1 = min(max(Int(fx) + 1, 0), image.width - 1)
        let y0 = min(max(Int(fy), 0), image.height - 1), y1 = min(max(Int(fy) + 1, 0), image.height - 1)
        let c = image.channels, w = image.width
        return image.pixels.withUnsafeBufferPointer { p in
            func at(_ xx: Int, _ yy: Int) -> SIMD3<Float> {
                let i = (yy * w + xx) * c
                return SIMD3(p[i], p[i + 1], p[i + 2])
            }
            let top = at(x0, y0) * (1 - tx) + at(x1, y0) * tx
            let bottom = at(x0, y1) * (1 - tx) + at(x1, y1) * tx
            return top * (1 - ty) + bottom * ty
        }
    }

    /// A `width` × `height` RGB image whose pixel (x, y) shows `source` at
    /// `sourceFromTarget`(x + 0.5, y + 0.5); `background` where that falls outside the source.
    /// `supersample` n > 1 averages n × n sub-pixel samples (a box filter against aliasing).
    public static func warp(_ source: Image, sourceFromTarget: Homography, width: Int, height: Int,
                            background: SIMD3<Float> = SIMD3(repeating: 0), supersample: Int = 1) -> Image {
        var out = Image(width: width, height: height, channels: 3, fill: 0)
        let n = max(1, supersample)
        let inv = 1 / Float(n * n)
        for y in 0..<height {
            for x in 0..<width {
                var acc = SIMD3<Float>(repeating: 0)
                for sy in 0..<n {
                    for sx in 0..<n {
                        let p = SIMD2(Double(x) + (Double(sx) + 0.5) / Double(n), Double(y) + (Double(sy) + 0.5) / Double(n))
                        let q = sourceFromTarget.apply(p)
                        acc += (q.x.isFinite && q.y.isFinite ? sample(source, x: q.x, y: q.y) : nil) ?? background
                    }
                }
                acc *= inv
                let i = (y * width + x) * 3
                out.pixels[i] = acc.x; out.pixels[i + 1] = acc.y; out.pixels[i + 2] = acc.z
            }
        }
        return out
    }
}
