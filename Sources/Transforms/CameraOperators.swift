// Linear camera effects of print-and-capture simulation on (H, W, 3) images, each with an exact
// adjoint for backward. Fast: SeparableOperator (Ay · X · Axᵀ per channel, one compressed sparse
// matrix per axis), MotionBlur (a mean of K separable bilinear shifts) and SeparableResample (the
// camera's lower resolution). Reference: SparseImageOperator (one weighted sum per output pixel,
// built from the same taps; the test oracle for MotionBlur, not used when rendering).
import Foundation

/// One axis of a separable operator: output o is Σ weight[t] · input[index[t]] over
/// t in start[o] ..< start[o + 1] (compressed sparse rows, flat arrays).
struct AxisOperator: Sendable {
    let outputs: Int
    let start: [Int32]     // (outputs + 1)
    let index: [Int32]     // (taps)
    let weight: [Float]    // (taps)
    /// Outputs o in band.lo ..< band.hi all read input o + shifts[k] with weight weights[k]
    /// (a convolution band: a motion blur's shift away from the edges). Empty when no row repeats.
    let band: (lo: Int, hi: Int, shifts: [Int], weights: [Float])

    /// Builds rows from a closure that lists (input index, weight) pairs for output o; zero
    /// weights are dropped.
    init(outputs: Int, _ taps: (_ o: Int, _ add: (Int, Float) -> Void) -> Void) {
        self.outputs = outputs
        var st: [Int32] = [0], ix: [Int32] = [], wt: [Float] = []
        ix.reserveCapacity(outputs * 4); wt.reserveCapacity(outputs * 4)
        for o in 0..<outputs {
            taps(o) { i, w in if w != 0 { ix.append(Int32(i)); wt.append(w) } }
            st.append(Int32(ix.count))
        }
        start = st; index = ix; weight = wt
        band = Self.findBand(outputs: outputs, start: st, index: ix, weight: wt)
    }

    /// The longest run of rows around the middle one that repeat it, shifted (same weights, same
    /// input offsets relative to o).
    private static func findBand(outputs n: Int, start: [Int32], index: [Int32], weight: [Float]) -> (lo: Int, hi: Int, shifts: [Int], weights: [Float]) {
        guard n >= 8 else { return (0, 0, [], []) }
        let m = n / 2
        let ref = Int(start[m])..<Int(start[m + 1])
        let shifts = ref.map { Int(index[$0]) - m }, weights = ref.map { weight[$0] }
        func same(_ o: Int) -> Bool {
            let r = Int(start[o])..<Int(start[o + 1])
            guard r.count == shifts.count else { return false }
            for (k, t) in r.enumerated() where Int(index[t]) - o != shifts[k] || weight[t] != weights[k] { return false }
            return true
        }
        var lo = m, hi = m + 1
        while lo > 0, same(lo - 1) { lo -= 1 }
        while hi < n, same(hi) { hi += 1 }
        return hi - lo >= 4 ? (lo, hi, shifts, weights) : (0, 0, [], [])
    }
}

/// A rectangle of pixels: columns x0 ..< x1, rows y0 ..< y1 (empty when either range is).
struct PixelWindow: Equatable, Sendable {
    var x0: Int, x1: Int, y0: Int, y1: Int
    var isEmpty: Bool { x1 <= x0 || y1 <= y0 }
    /// Grown by `r` pixels on every side, clipped to a W × H image.
    func grown(by r: Int, width: Int, height: Int) -> PixelWindow {
        PixelWindow(x0: max(0, x0 - r), x1: min(width, x1 + r), y0: max(0, y0 - r), y1: min(height, y1 + r))
    }
    /// The smallest window holding both.
    func union(_ o: PixelWindow) -> PixelWindow {
        isEmpty ? o : o.isEmpty ? self : PixelWindow(x0: min(x0, o.x0), x1: max(x1, o.x1), y0: min(y0, o.y0), y1: max(y1, o.y1))
    }
}

extension AxisOperator {
    /// The outputs o that read some input in `inputs` (a range lo ..< hi of the outputs, empty
    /// when none): the rows of the transpose that reach those inputs.
    func outputs(reaching inputs: Range<Int>) -> Range<Int> {
        var lo = outputs, hi = 0
        for o in 0..<outputs {
            for t in Int(start[o])..<Int(start[o + 1]) where inputs.contains(Int(index[t])) {
                lo = min(lo, o); hi = max(hi, o + 1); break
            }
        }
        return lo < hi ? lo..<hi : 0..<0
    }
}

/// y = s · Ay · X · Axᵀ on each channel of an (H, W, 3) image X.
struct SeparableOperator: Sendable {
    let ax: AxisOperator   // W outputs, W inputs
    let ay: AxisOperator   // H outputs, H inputs
    var width: Int { ax.outputs }
    var height: Int { ay.outputs }

    /// y (H, W, 3) = s · Ay X Axᵀ, or += when `accumulate`. tmp: (H, W, 3) scratch. No aliasing.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, scale s: Float = 1, accumulate: Bool = false,
                 tmp: UnsafeMutablePointer<Float>) {
        let W = width, H = height, rowLen = W * 3
        let band = ax.band
        ax.start.withUnsafeBufferPointer { st in ax.index.withUnsafeBufferPointer { ix in ax.weight.withUnsafeBufferPointer { wt in
            for r in 0..<H {
                let src = x + r * rowLen, dst = tmp + r * rowLen
                // A pixel's three channels as one 4-lane load (the 4th lane, the next pixel's
                // red, is never stored): lane by lane the same products and sums as three
                // scalars. The image's last pixel has no 4th float after it: its row is scalar.
                let wide = r < height - 1
                func row(_ o: Int) {
                    if wide {
                        var acc = SIMD4<Float>()
                        for t in Int(st[o])..<Int(st[o + 1]) {
                            let v = UnsafeRawPointer(src + Int(ix[t]) * 3).loadUnaligned(as: SIMD4<Float>.self)
                            acc += wt[t] * v
                        }
                        dst[o * 3] = acc[0]; dst[o * 3 + 1] = acc[1]; dst[o * 3 + 2] = acc[2]
                        return
                    }
                    var a: Float = 0, b: Float = 0, c: Float = 0
                    for t in Int(st[o])..<Int(st[o + 1]) {
                        let q = Int(ix[t]) * 3, w = wt[t]
                        a += w * src[q]; b += w * src[q + 1]; c += w * src[q + 2]
                    }
                    dst[o * 3] = a; dst[o * 3 + 1] = b; dst[o * 3 + 2] = c
                }
                for o in 0..<band.lo { row(o) }
                if band.hi > band.lo {
                    // The band as whole-row shifted products: contiguous, vectorised.
                    let count = (band.hi - band.lo) * 3, d = dst + band.lo * 3
                    d.update(repeating: 0, count: count)
                    for (k, w) in band.weights.enumerated() { addRow(w, src + (band.lo + band.shifts[k]) * 3, to: d, count: count) }
                }
                for o in max(band.hi, band.lo)..<W { row(o) }
            }
        } } }
        ay.start.withUnsafeBufferPointer { st in ay.index.withUnsafeBufferPointer { ix in ay.weight.withUnsafeBufferPointer { wt in
            for o in 0..<H {
                let dst = y + o * rowLen
                if !accumulate { dst.update(repeating: 0, count: rowLen) }
                for t in Int(st[o])..<Int(st[o + 1]) { addRow(s * wt[t], tmp + Int(ix[t]) * rowLen, to: dst, count: rowLen) }
            }
        } } }
    }

    /// dx (H, W, 3) = s · Ayᵀ dy Ax, or += when `accumulate`: the exact adjoint of `forward`.
    /// tmp: (H, W, 3) scratch. No aliasing.
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, scale s: Float = 1, accumulate: Bool = false,
                  tmp: UnsafeMutablePointer<Float>) {
        backward(dy, into: dx, scale: s, accumulate: accumulate, tmp: tmp, window: PixelWindow(x0: 0, x1: width, y0: 0, y1: height))
    }
}

extension SeparableOperator {
    /// What `backward(…, window:)` reads of dy for `window` of dx: the outputs whose rows of A
    /// reach it.
    func inputWindow(_ w: PixelWindow) -> PixelWindow {
        let ox = ax.outputs(reaching: w.x0..<w.x1), oy = ay.outputs(reaching: w.y0..<w.y1)
        return PixelWindow(x0: ox.lowerBound, x1: ox.upperBound, y0: oy.lowerBound, y1: oy.upperBound)
    }

    /// `backward` computed for `window` of dx only: there dx is what the whole-image pass gives,
    /// the same sums in the same order (bit for bit), reading dy only in `inputWindow(window)`.
    /// Rows of dx outside the window are not written; the window's rows outside its columns are
    /// unspecified. The renderer's backward needs the gradient only around the patch.
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, scale s: Float = 1, accumulate: Bool = false,
                  tmp: UnsafeMutablePointer<Float>, window w: PixelWindow) {
        let W = width, rowLen = W * 3
        guard !w.isEmpty else { return }
        let ox = ax.outputs(reaching: w.x0..<w.x1), oy = ay.outputs(reaching: w.y0..<w.y1)
        let cols = ox.lowerBound * 3, count = ox.count * 3
        for j in w.y0..<w.y1 { (tmp + j * rowLen + cols).update(repeating: 0, count: count) }
        ay.start.withUnsafeBufferPointer { st in ay.index.withUnsafeBufferPointer { ix in ay.weight.withUnsafeBufferPointer { wt in
            for o in oy {
                for t in Int(st[o])..<Int(st[o + 1]) {
                    let j = Int(ix[t])
                    if j >= w.y0 && j < w.y1 { addRow(s * wt[t], dy + o * rowLen + cols, to: tmp + j * rowLen + cols, count: count) }
                }
            }
        } } }
        if !accumulate { for r in w.y0..<w.y1 { (dx + r * rowLen).update(repeating: 0, count: rowLen) } }
        let band = ax.band
        ax.start.withUnsafeBufferPointer { st in ax.index.withUnsafeBufferPointer { ix in ax.weight.withUnsafeBufferPointer { wt in
            for r in w.y0..<w.y1 {
                let src = tmp + r * rowLen, dst = dx + r * rowLen
                func row(_ o: Int) {
                    let a = src[o * 3], b = src[o * 3 + 1], c = src[o * 3 + 2]
                    for t in Int(st[o])..<Int(st[o + 1]) {
                        let q = Int(ix[t]) * 3, w = wt[t]
                        dst[q] += w * a; dst[q + 1] += w * b; dst[q + 2] += w * c
                    }
                }
                // As the whole-image pass: the low edge, the band by weight, the high edge.
                for o in ox.lowerBound..<max(ox.lowerBound, min(band.lo, ox.upperBound)) { row(o) }
                let lo = max(band.lo, ox.lowerBound), hi = min(band.hi, ox.upperBound)
                if hi > lo {
                    for (k, w) in band.weights.enumerated() { addRow(w, src + lo * 3, to: dst + (lo + band.shifts[k]) * 3, count: (hi - lo) * 3) }
                }
                let high = max(band.hi, band.lo, ox.lowerBound)
                if high < ox.upperBound { for o in high..<ox.upperBound { row(o) } }
            }
        } } }
    }
}

/// dst[k] += w · src[k] for k in 0..<count: one whole row's share in a vertical pass.
@inline(__always)
func addRow(_ w: Float, _ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
    for k in 0..<count { dst[k] += w * src[k] }
}

/// Motion blur: the mean of K = max(2, ⌈length⌉ + 1) bilinear samples along a segment of
/// `length` pixels at `angle` degrees (0 = horizontal), centred on each pixel; sample
/// coordinates clamped to the image. Each sample is a constant shift, and clamping x and y
/// separately makes its bilinear tap separable: y = (1/K) Σ_k Ay_k X Ax_kᵀ.
public struct MotionBlur: Sendable {
    let taps: [SeparableOperator]
    public let width: Int, height: Int

    public init(width W: Int, height H: Int, length: Double, angleDegrees: Double) {
        width = W; height = H
        let k = Self.sampleCount(length)
        let dx = cos(angleDegrees * .pi / 180), dy = sin(angleDegrees * .pi / 180)
        taps = (0..<k).map { i in
            let t = Self.offset(i, k, length)
            return SeparableOperator(ax: Self.shift(n: W, by: t * dx), ay: Self.shift(n: H, by: t * dy))
        }
    }

    static func sampleCount(_ length: Double) -> Int { max(2, Int(length.rounded(.up)) + 1) }
    /// Position of sample i of k along the segment, in pixels from its centre.
    static func offset(_ i: Int, _ k: Int, _ length: Double) -> Double { (Double(i) / Double(k - 1) - 0.5) * length }

    /// One axis of a bilinear shift by `d` pixels, coordinates clamped to [0, n − 1].
    static func shift(n: Int, by d: Double) -> AxisOperator {
        AxisOperator(outputs: n) { o, add in
            let s = min(max(Double(o) + d, 0), Double(n - 1))
            let i0 = Int(s), f = Float(s - Double(i0)), i1 = min(i0 + 1, n - 1)
            add(i0, 1 - f); add(i1, f)
        }
    }

    /// y (H, W, 3) = blur(x); tmp: (H, W, 3) scratch. No aliasing.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>) {
        let s = 1 / Float(taps.count)
        for (k, op) in taps.enumerated() { op.forward(x, into: y, scale: s, accumulate: k > 0, tmp: tmp) }
    }

    /// dx (H, W, 3) = blurᵀ(dy), WRITES dx; tmp: (H, W, 3) scratch. No aliasing.
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>) {
        let s = 1 / Float(taps.count)
        for (k, op) in taps.enumerated() { op.backward(dy, into: dx, scale: s, accumulate: k > 0, tmp: tmp) }
    }

    /// What `backward(…, window:)` reads of dy.
    func inputWindow(_ w: PixelWindow) -> PixelWindow {
        taps.reduce(PixelWindow(x0: 0, x1: 0, y0: 0, y1: 0)) { $0.union($1.inputWindow(w)) }
    }

    /// `backward` for `window` of dx only (bit for bit the whole-image values there).
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>, window: PixelWindow) {
        let s = 1 / Float(taps.count)
        for (k, op) in taps.enumerated() { op.backward(dy, into: dx, scale: s, accumulate: k > 0, tmp: tmp, window: window) }
    }
}

/// Naive reference: each output pixel a weighted sum of input pixels (compressed rows over the
/// whole image). The test oracle for MotionBlur.
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

    /// The motion blur of `MotionBlur`, pixel by pixel: the mean of K bilinear samples along the
    /// segment, each tap written out.
    static func motionBlur(width W: Int, height H: Int, length: Double, angleDegrees: Double) -> SparseImageOperator {
        let k = MotionBlur.sampleCount(length)
        let dx = cos(angleDegrees * .pi / 180), dy = sin(angleDegrees * .pi / 180)
        return SparseImageOperator(width: W, height: H) { x, y, add in
            for i in 0..<k {
                let t = MotionBlur.offset(i, k, length)
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
public struct SeparableResample: Sendable {
    let op: SeparableOperator
    public var width: Int { op.width }
    public var height: Int { op.height }

    public init(width: Int, height: Int, scale: Double) {
        let ax = Self.axisMatrix(size: width, scale: scale)
        op = SeparableOperator(ax: ax, ay: height == width ? ax : Self.axisMatrix(size: height, scale: scale))
    }

    /// y = Ay · x · Axᵀ per channel; tmp: (H, W, 3) scratch. No aliasing.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>) {
        op.forward(x, into: y, tmp: tmp)
    }

    /// dx = Ayᵀ · dy · Ax per channel, WRITES dx; tmp: (H, W, 3) scratch. No aliasing.
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>) {
        op.backward(dy, into: dx, tmp: tmp)
    }

    /// What `backward(…, window:)` reads of dy.
    func inputWindow(_ w: PixelWindow) -> PixelWindow { op.inputWindow(w) }

    /// `backward` for `window` of dx only (bit for bit the whole-image values there).
    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>, window: PixelWindow) {
        op.backward(dy, into: dx, tmp: tmp, window: window)
    }

    /// Per axis: (up ∘ down)[o] as sparse (input index, weight) rows, inputs ascending.
    /// Built for every photo-like sample: flat arrays, no per-row allocation.
    static func axisMatrix(size n: Int, scale: Double) -> AxisOperator {
        let m = max(1, Int((Double(n) * scale).rounded(.up)))
        let ratio = Double(n) / Double(m)             // input pixels per low-res pixel (≥ 1)
        // down[j]: triangle filter of half-width `ratio` centred on low-res pixel j, taps
        // downIndex/downWeight[downStart[j] ..< downStart[j + 1]], inputs ascending.
        var downStart = [Int](repeating: 0, count: m + 1)
        var downIndex: [Int] = [], downWeight: [Double] = []
        downIndex.reserveCapacity(m * (Int(2 * ratio) + 4)); downWeight.reserveCapacity(m * (Int(2 * ratio) + 4))
        for j in 0..<m {
            let c = (Double(j) + 0.5) * ratio
            let first = downIndex.count
            var sum = 0.0
            for i in max(0, Int(c - ratio) - 1)...min(n - 1, Int(c + ratio) + 1) {
                let w = max(0, 1 - abs(Double(i) + 0.5 - c) / ratio)
                if w > 0 { downIndex.append(i); downWeight.append(w); sum += w }
            }
            for t in first..<downIndex.count { downWeight[t] /= sum }
            downStart[j + 1] = downIndex.count
        }
        // up[o]: bilinear from the low-res grid at pixel centres, clamped.
        return AxisOperator(outputs: n) { o, add in
            let p = min(max((Double(o) + 0.5) / ratio - 0.5, 0), Double(m - 1))
            let j0 = Int(p), j1 = min(j0 + 1, m - 1), f = p - Double(j0)
            // (1 − f) · down[j0] + f · down[j1], both sorted by input index: merged in order.
            var i = downStart[j0], k = f > 0 ? downStart[j1] : 0
            let iEnd = downStart[j0 + 1], kEnd = f > 0 ? downStart[j1 + 1] : 0
            while i < iEnd || k < kEnd {
                if k == kEnd || (i < iEnd && downIndex[i] < downIndex[k]) { add(downIndex[i], Float((1 - f) * downWeight[i])); i += 1 }
                else if i == iEnd || downIndex[k] < downIndex[i] { add(downIndex[k], Float(f * downWeight[k])); k += 1 }
                else { add(downIndex[i], Float((1 - f) * downWeight[i] + f * downWeight[k])); i += 1; k += 1 }
            }
        }
    }
}

// MARK: Array forms (tests, tools)

/// Runs `body` on a pointer to `x` (H, W, 3), a zeroed result and a scratch image, after checking
/// the size.
private func withImageBuffers(_ x: [Float], width: Int, height: Int,
                              _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) throws(TransformError) -> [Float] {
    let n = width * height * 3
    guard x.count == n else { throw .shapeMismatch(name: "image", expected: n, got: x.count, shape: "(\(height), \(width), 3)") }
    var y = [Float](repeating: 0, count: n), tmp = [Float](repeating: 0, count: n)
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in tmp.withUnsafeMutableBufferPointer { tp in
        body(xp.baseAddress!, yp.baseAddress!, tp.baseAddress!)
    } } }
    return y
}

extension MotionBlur {
    /// The blurred image (H, W, 3).
    public func apply(_ x: [Float]) throws(TransformError) -> [Float] {
        try withImageBuffers(x, width: width, height: height) { forward($0, into: $1, tmp: $2) }
    }
    /// The adjoint applied to g (H, W, 3).
    public func applyAdjoint(_ g: [Float]) throws(TransformError) -> [Float] {
        try withImageBuffers(g, width: width, height: height) { backward($0, into: $1, tmp: $2) }
    }
    /// `apply` by the naive per-pixel reference (the test oracle).
    public func applyReference(_ x: [Float], length: Double, angleDegrees: Double) throws(TransformError) -> [Float] {
        let op = SparseImageOperator.motionBlur(width: width, height: height, length: length, angleDegrees: angleDegrees)
        return try withImageBuffers(x, width: width, height: height) { x, y, _ in op.forward(x, into: y) }
    }
    /// `applyAdjoint` by the naive per-pixel reference.
    public func applyAdjointReference(_ g: [Float], length: Double, angleDegrees: Double) throws(TransformError) -> [Float] {
        let op = SparseImageOperator.motionBlur(width: width, height: height, length: length, angleDegrees: angleDegrees)
        return try withImageBuffers(g, width: width, height: height) { g, d, _ in op.backward(g, into: d) }
    }
}

extension SeparableResample {
    /// The resampled image (H, W, 3).
    public func apply(_ x: [Float]) throws(TransformError) -> [Float] {
        try withImageBuffers(x, width: width, height: height) { forward($0, into: $1, tmp: $2) }
    }
    /// The adjoint applied to g (H, W, 3).
    public func applyAdjoint(_ g: [Float]) throws(TransformError) -> [Float] {
        try withImageBuffers(g, width: width, height: height) { backward($0, into: $1, tmp: $2) }
    }
    /// `apply` by plain loops over the two axis matrices, each sum in `forward`'s order: one
    /// scalar per channel (`forward` loads a pixel's channels as one vector), the same value
    /// bit for bit.
    public func applyReference(_ x: [Float]) throws(TransformError) -> [Float] {
        let (W, H, ax, ay) = (width, height, op.ax, op.ay)
        guard x.count == W * H * 3 else { throw .shapeMismatch(name: "image", expected: W * H * 3, got: x.count, shape: "(\(H), \(W), 3)") }
        var tmp = [Float](repeating: 0, count: W * H * 3), y = tmp
        for r in 0..<H {
            for o in 0..<W {
                for c in 0..<3 {
                    var a: Float = 0
                    for t in Int(ax.start[o])..<Int(ax.start[o + 1]) { a += ax.weight[t] * x[(r * W + Int(ax.index[t])) * 3 + c] }
                    tmp[(r * W + o) * 3 + c] = a
                }
            }
        }
        for o in 0..<H {
            for t in Int(ay.start[o])..<Int(ay.start[o + 1]) {
                for e in 0..<(W * 3) { y[o * W * 3 + e] += (1 * ay.weight[t]) * tmp[Int(ay.index[t]) * W * 3 + e] }
            }
        }
        return y
    }
}
