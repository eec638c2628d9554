// Linear camera effects of print-and-capture simulation on (H, W, 3) images, each with an exact
// adjoint for backward: SparseImageOperator (each output pixel a weighted sum of input pixels,
// compressed rows; used for motion blur along a direction) and SeparableResample (the camera's
// lower resolution: down- then up-sampling, one sparse matrix per axis).
import Foundation

struct SparseImageOperator: Sendable {
    let width: Int, height: Int
    /// rowStart[p] ..< rowStart[p + 1] index `columns` and `weights` for output pixel p.
    let rowStart: [Int32]
    let columns: [Int32]
    let weights: [Float]

    /// y (H, W, 3) = A · x; `y` must not alias `x`.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        for p in 0..<(width * height) {
            var r: Float = 0, g: Float = 0, b: Float = 0
            for t in Int(rowStart[p])..<Int(rowStart[p + 1]) {
                let q = Int(columns[t]) * 3, w = weights[t]
                r += w * x[q]; g += w * x[q + 1]; b += w * x[q + 2]
            }
            y[p * 3] = r; y[p * 3 + 1] = g; y[p * 3 + 2] = b
        }
    }

    /// dx (H, W, 3) = Aᵀ · dy, WRITES dx; `dx` must not alias `dy`.
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: width * height * 3)
        for p in 0..<(width * height) {
            let r = dy[p * 3], g = dy[p * 3 + 1], b = dy[p * 3 + 2]
            for t in Int(rowStart[p])..<Int(rowStart[p + 1]) {
                let q = Int(columns[t]) * 3, w = weights[t]
                dx[q] += w * r; dx[q + 1] += w * g; dx[q + 2] += w * b
            }
        }
    }

    /// Builds rows from a closure that lists (input pixel index, weight) pairs per output pixel.
    init(width: Int, height: Int, _ taps: (_ x: Int, _ y: Int, _ add: (Int, Float) -> Void) -> Void) {
        self.width = width; self.height = height
        var rs: [Int32] = [0], cs: [Int32] = [], ws: [Float] = []
        cs.reserveCapacity(width * height * 8); ws.reserveCapacity(width * height * 8)
        for y in 0..<height {
            for x in 0..<width {
                taps(x, y) { q, w in cs.append(Int32(q)); ws.append(w) }
                rs.append(Int32(cs.count))
            }
        }
        rowStart = rs; columns = cs; weights = ws
    }

    /// Motion blur: the mean of bilinear samples along a segment of `length` pixels at `angle`
    /// degrees (0 = horizontal), centred on each pixel; edges clamped. K = ⌈length⌉ + 1 samples.
    static func motionBlur(width W: Int, height H: Int, length: Double, angleDegrees: Double) -> SparseImageOperator {
        let k = max(2, Int(length.rounded(.up)) + 1)
        let dx = cos(angleDegrees * .pi / 180), dy = sin(angleDegrees * .pi / 180)
        return SparseImageOperator(width: W, height: H) { x, y, add in
            for i in 0..<k {
                let t = (Double(i) / Double(k - 1) - 0.5) * length
                let sx = min(max(Double(x) + t * dx, 0), Double(W - 1)), sy = min(max(Double(y) + t * dy, 0), Double(H - 1))
                let x0 = Int(sx), y0 = Int(sy), fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                let x1 = min(x0 + 1, W - 1), y1 = min(y0 + 1, H - 1)
                let w = 1 / Float(k)
                add(y0 * W + x0, w * (1 - fx) * (1 - fy)); add(y0 * W + x1, w * fx * (1 - fy))
                add(y1 * W + x0, w * (1 - fx) * fy); add(y1 * W + x1, w * fx * fy)
            }
        }
    }


}

/// Camera resampling: down to ⌈scale·W⌉ × ⌈scale·H⌉ with a triangle (antialiasing) filter, then
/// bilinear back up to W × H — the detail a lower-resolution camera loses. Separable: one sparse
/// (up ∘ down) matrix per axis, applied to rows then columns; backward applies the transposes.
struct SeparableResample: Sendable {
    let width: Int, height: Int
    let ax: [[(Int, Float)]], ay: [[(Int, Float)]]

    init(width: Int, height: Int, scale: Double) {
        self.width = width; self.height = height
        ax = Self.axisMatrix(size: width, scale: scale)
        ay = Self.axisMatrix(size: height, scale: scale)
    }

    /// y = Ay · x · Axᵀ per channel; `y` must not alias `x`.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let W = width, H = height, rowLen = W * 3
        withScratchImage { tp in
            for r in 0..<H {
                for o in 0..<W {
                    var a: Float = 0, b: Float = 0, c: Float = 0
                    for (i, w) in ax[o] { let q = (r * W + i) * 3; a += w * x[q]; b += w * x[q + 1]; c += w * x[q + 2] }
                    let d = (r * W + o) * 3
                    tp[d] = a; tp[d + 1] = b; tp[d + 2] = c
                }
            }
            for o in 0..<H {
                let dst = y + o * rowLen
                dst.update(repeating: 0, count: rowLen)
                for (j, w) in ay[o] { Self.addRow(w, tp + j * rowLen, to: dst, count: rowLen) }
            }
        }
    }

    /// dx = Ayᵀ · dy · Ax per channel, WRITES dx; `dx` must not alias `dy`.
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let W = width, H = height, rowLen = W * 3
        withScratchImage { tp in
            for o in 0..<H {
                for (j, w) in ay[o] { Self.addRow(w, dy + o * rowLen, to: tp + j * rowLen, count: rowLen) }
            }
            dx.update(repeating: 0, count: H * rowLen)
            for r in 0..<H {
                for o in 0..<W {
                    let s = (r * W + o) * 3
                    for (i, w) in ax[o] { let q = (r * W + i) * 3; dx[q] += w * tp[s]; dx[q + 1] += w * tp[s + 1]; dx[q + 2] += w * tp[s + 2] }
                }
            }
        }
    }

    /// Runs `body` on a zeroed (H, W, 3) scratch image: the result of the first axis's pass.
    @inline(__always)
    private func withScratchImage(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        var tmp = [Float](repeating: 0, count: width * height * 3)
        tmp.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    /// dst[k] += w · src[k] for k in 0..<count: one whole row's share in the vertical pass.
    @inline(__always)
    private static func addRow(_ w: Float, _ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        for k in 0..<count { dst[k] += w * src[k] }
    }

    /// Per axis: (up ∘ down)[o] as sparse (input index, weight) lists.
    static func axisMatrix(size n: Int, scale: Double) -> [[(Int, Float)]] {
        let m = max(1, Int((Double(n) * scale).rounded(.up)))
        let ratio = Double(n) / Double(m)             // input pixels per low-res pixel (≥ 1)
        // down[j]: triangle filter of half-width `ratio` centred on low-res pixel j.
        let down: [[(Int, Double)]] = (0..<m).map { j in
            let c = (Double(j) + 0.5) * ratio
            var taps: [(Int, Double)] = []
            for i in max(0, Int(c - ratio) - 1)...min(n - 1, Int(c + ratio) + 1) {
                let w = max(0, 1 - abs(Double(i) + 0.5 - c) / ratio)
                if w > 0 { taps.append((i, w)) }
            }
            let s = taps.reduce(0) { $0 + $1.1 }
            return taps.map { ($0.0, $0.1 / s) }
        }
        // up[o]: bilinear from the low-res grid at pixel centres, clamped.
        return (0..<n).map { o in
            let p = min(max((Double(o) + 0.5) / ratio - 0.5, 0), Double(m - 1))
            let j0 = Int(p), j1 = min(j0 + 1, m - 1), f = p - Double(j0)
            var acc: [Int: Double] = [:]
            for (i, w) in down[j0] { acc[i, default: 0] += (1 - f) * w }
            if f > 0 { for (i, w) in down[j1] { acc[i, default: 0] += f * w } }
            return acc.keys.sorted().map { ($0, Float(acc[$0]!)) }
        }
    }
}
