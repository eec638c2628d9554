// The ONNX operators that have no kernel of the engine's own, NHWC, each forward beside its
// backward to the input: pooling windows of any size, stride, padding and ceil mode; a plain
// convolution for what Conv2D does not take (dilations, unequal strides); element-wise
// activations; broadcasting arithmetic; channel concatenation, zero padding, NCHW flattening and
// softmax. Plain loops: these carry a small share of a classifier's work (the convolutions and
// GEMMs run on the engine's kernels), and are the reference for themselves.
import Foundation
import Tensors

/// One sample's shape of an image-like value, NHWC; a vector of features is h = w = 1.
public struct MapShape: Equatable, Sendable, CustomStringConvertible {
    public var h: Int, w: Int, c: Int
    public var count: Int { h * w * c }
    public var description: String { h == 1 && w == 1 ? "(\(c))" : "(\(c), \(h), \(w))" }
}

/// Where a 2-D window op reads: kernel, stride, dilation and padding per axis, with the output
/// size it gives on an input size.
struct Window2D: Equatable, Sendable {
    var kh: Int, kw: Int, sh: Int, sw: Int, dh: Int = 1, dw: Int = 1
    var top: Int, left: Int, bottom: Int, right: Int
    var inH: Int, inW: Int, outH: Int, outW: Int

    /// nil when the window does not fit (an empty output).
    init?(kh: Int, kw: Int, sh: Int, sw: Int, dh: Int = 1, dw: Int = 1, top: Int, left: Int, bottom: Int, right: Int,
          inH: Int, inW: Int, ceilMode: Bool = false) {
        (self.kh, self.kw, self.sh, self.sw, self.dh, self.dw) = (kh, kw, sh, sw, dh, dw)
        (self.top, self.left, self.bottom, self.right, self.inH, self.inW) = (top, left, bottom, right, inH, inW)
        func out(_ n: Int, _ k: Int, _ s: Int, _ d: Int, _ lo: Int, _ hi: Int) -> Int {
            let span = n + lo + hi - (d * (k - 1) + 1)
            guard span >= 0 else { return 0 }
            var o = (ceilMode ? (span + s - 1) / s : span / s) + 1
            // Ceil mode: the last window must start inside the input or its leading pad.
            if ceilMode && (o - 1) * s >= n + lo { o -= 1 }
            return o
        }
        outH = out(inH, kh, sh, dh, top, bottom); outW = out(inW, kw, sw, dw, left, right)
        if outH <= 0 || outW <= 0 { return nil }
    }

    /// Calls `body(iy, ix)` for each tap of output (oy, ox)'s window that falls inside the input,
    /// in scan order (rows, then columns).
    @inline(__always)
    func forEachTap(_ oy: Int, _ ox: Int, _ body: (_ iy: Int, _ ix: Int) -> Void) {
        for ky in 0..<kh {
            let iy = oy * sh - top + ky * dh
            if iy < 0 || iy >= inH { continue }
            for kx in 0..<kw {
                let ix = ox * sw - left + kx * dw
                if ix >= 0 && ix < inW { body(iy, ix) }
            }
        }
    }
}

enum Pool {
    /// Max over each window (padding never wins). y: (n, outH, outW, c).
    static func maxForward(_ x: UnsafePointer<Float>, n: Int, c: Int, _ g: Window2D, into y: UnsafeMutablePointer<Float>) {
        for b in 0..<n { for oy in 0..<g.outH { for ox in 0..<g.outW {
            let dst = y + ((b * g.outH + oy) * g.outW + ox) * c
            dst.update(repeating: -.infinity, count: c)
            g.forEachTap(oy, ox) { iy, ix in
                let src = x + ((b * g.inH + iy) * g.inW + ix) * c
                for ch in 0..<c where src[ch] > dst[ch] || src[ch].isNaN { dst[ch] = src[ch] }
            }
        } } }
    }

    /// dx (WRITES) gets each window's dy at its first maximum in scan order (PyTorch's rule).
    static func maxBackward(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, n: Int, c: Int, _ g: Window2D, into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: n * g.inH * g.inW * c)
        var best = [Float](repeating: 0, count: c), at = [Int](repeating: -1, count: c)
        for b in 0..<n { for oy in 0..<g.outH { for ox in 0..<g.outW {
            for ch in 0..<c { best[ch] = -.infinity; at[ch] = -1 }
            g.forEachTap(oy, ox) { iy, ix in
                let src = ((b * g.inH + iy) * g.inW + ix) * c
                for ch in 0..<c {
                    let v = x[src + ch]
                    if at[ch] < 0 { at[ch] = src + ch }      // the window's first pixel, as PyTorch starts
                    if v > best[ch] || v.isNaN { best[ch] = v; at[ch] = src + ch }
                }
            }
            let g0 = ((b * g.outH + oy) * g.outW + ox) * c
            for ch in 0..<c where at[ch] >= 0 { dx[at[ch]] += dy[g0 + ch] }
        } } }
    }

    /// The divisor of each output position: the window's input pixels, or, with
    /// `countIncludePad`, those inside the padded input (ONNX's rule).
    static func divisors(_ g: Window2D, countIncludePad: Bool) -> [Float] {
        var d = [Float](repeating: 1, count: g.outH * g.outW)
        for oy in 0..<g.outH { for ox in 0..<g.outW {
            var k = 0
            for ky in 0..<g.kh { for kx in 0..<g.kw {
                let iy = oy * g.sh - g.top + ky * g.dh, ix = ox * g.sw - g.left + kx * g.dw
                let inside = countIncludePad ? (iy >= -g.top && iy < g.inH + g.bottom && ix >= -g.left && ix < g.inW + g.right)
                                             : (iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW)
                if inside { k += 1 }
            } }
            d[oy * g.outW + ox] = Float(max(k, 1))
        } }
        return d
    }

    static func averageForward(_ x: UnsafePointer<Float>, n: Int, c: Int, _ g: Window2D, divisors: [Float], into y: UnsafeMutablePointer<Float>) {
        for b in 0..<n { for oy in 0..<g.outH { for ox in 0..<g.outW {
            let dst = y + ((b * g.outH + oy) * g.outW + ox) * c
            dst.update(repeating: 0, count: c)
            g.forEachTap(oy, ox) { iy, ix in
                let src = x + ((b * g.inH + iy) * g.inW + ix) * c
                for ch in 0..<c { dst[ch] += src[ch] }
            }
            let inv = 1 / divisors[oy * g.outW + ox]
            for ch in 0..<c { dst[ch] *= inv }
        } } }
    }

    static func averageBackward(_ dy: UnsafePointer<Float>, n: Int, c: Int, _ g: Window2D, divisors: [Float], into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: n * g.inH * g.inW * c)
        for b in 0..<n { for oy in 0..<g.outH { for ox in 0..<g.outW {
            let src = dy + ((b * g.outH + oy) * g.outW + ox) * c
            let inv = 1 / divisors[oy * g.outW + ox]
            g.forEachTap(oy, ox) { iy, ix in
                let dst = dx + ((b * g.inH + iy) * g.inW + ix) * c
                for ch in 0..<c { dst[ch] += src[ch] * inv }
            }
        } } }
    }
}

/// A convolution in plain loops, for the attributes Conv2D does not take (dilations, unequal
/// strides): PyTorch-layout weight (cout, cin / groups, kh, kw).
struct PlainConv: Sendable {
    let weight: [Float], bias: [Float]
    let cin: Int, cout: Int, groups: Int
    let window: Window2D

    func forward(_ x: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>) {
        let g = window, cig = cin / groups, cog = cout / groups
        for b in 0..<n { for oy in 0..<g.outH { for ox in 0..<g.outW {
            let dst = y + ((b * g.outH + oy) * g.outW + ox) * cout
            for co in 0..<cout {
                let gi = co / cog
                var s = bias[co]
                for ky in 0..<g.kh { for kx in 0..<g.kw {
                    let iy = oy * g.sh - g.top + ky * g.dh, ix = ox * g.sw - g.left + kx * g.dw
                    if iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW { continue }
                    let src = x + ((b * g.inH + iy) * g.inW + ix) * cin + gi * cig
                    for ci in 0..<cig { s += weight[((co * cig + ci) * g.kh + ky) * g.kw + kx] * src[ci] }
                } }
                dst[co] = s
            }
        } } }
    }

    /// WRITES dx.
    func backward(_ dy: UnsafePointer<Float>, n: Int, into dx: UnsafeMutablePointer<Float>) {
        let g = window, cig = cin / groups, cog = cout / groups
        dx.update(repeating: 0, count: n * g.inH * g.inW * cin)
        for b in 0..<n { for oy in 0..<g.outH { for ox in 0..<g.outW {
            let src = dy + ((b * g.outH + oy) * g.outW + ox) * cout
            for co in 0..<cout {
                let gi = co / cog, d = src[co]
                if d == 0 { continue }
                for ky in 0..<g.kh { for kx in 0..<g.kw {
                    let iy = oy * g.sh - g.top + ky * g.dh, ix = ox * g.sw - g.left + kx * g.dw
                    if iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW { continue }
                    let dst = dx + ((b * g.inH + iy) * g.inW + ix) * cin + gi * cig
                    for ci in 0..<cig { dst[ci] += weight[((co * cig + ci) * g.kh + ky) * g.kw + kx] * d }
                } }
            }
        } } }
    }
}

/// Element-wise activations. Gradients follow PyTorch where the derivative jumps: none at the
/// clamps' bounds (ReLU at 0, ReLU6 at 0 and 6, hardsigmoid at ±3).
enum Unary: Equatable, Sendable {
    case clip(low: Float, high: Float)        // Relu: clip(0, ∞)
    case leakyRelu(alpha: Float)
    case sigmoid
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish

    func forward(_ x: Float) -> Float {
        switch self {
        case let .clip(lo, hi): return min(max(x, lo), hi)
        case let .leakyRelu(a): return x >= 0 ? x : a * x
        case .sigmoid: return 1 / (1 + exp(-x))
        case let .hardSigmoid(a, b): return min(max(a * x + b, 0), 1)
        case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
        }
    }

    /// d y / d x · dy, from the input x and the output y.
    func backward(_ dy: Float, x: Float, y: Float) -> Float {
        switch self {
        case let .clip(lo, hi): return x > lo && x < hi ? dy : 0
        case let .leakyRelu(a): return x > 0 ? dy : a * dy
        case .sigmoid: return dy * y * (1 - y)
        case let .hardSigmoid(a, b): let t = a * x + b; return t > 0 && t < 1 ? a * dy : 0
        case .hardSwish: return x < -3 ? 0 : (x <= 3 ? dy * (x / 3 + 0.5) : dy)
        }
    }
}

/// One side of a broadcasting Add, Sub, Mul or Div.
enum Operand: Equatable, Sendable {
    /// A value of the output's shape.
    case value(Int)
    /// A value of shape (c) or (c, 1, 1) per sample, spread over the output's pixels.
    case channels(Int)
    /// Constants: one (a scalar) or one per channel.
    case constant([Float])

    var slot: Int? { switch self { case let .value(s), let .channels(s): return s; case .constant: return nil } }
}

enum Arithmetic: String, Equatable, Sendable {
    case add = "Add", sub = "Sub", mul = "Mul", div = "Div"

    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self { case .add: return a + b; case .sub: return a - b; case .mul: return a * b; case .div: return a / b }
    }
    /// (d y / d a, d y / d b) · dy.
    @inline(__always) func partials(_ dy: Float, _ a: Float, _ b: Float) -> (Float, Float) {
        switch self {
        case .add: return (dy, dy)
        case .sub: return (dy, -dy)
        case .mul: return (dy * b, dy * a)
        case .div: return (dy / b, -dy * a / (b * b))
        }
    }
}

/// Offsets into an operand's storage for element (sample b, pixel p, channel ch) of the output.
struct OperandIndex {
    let kind: Int   // 0 value, 1 channels, 2 constant per channel, 3 scalar
    let pixels: Int, c: Int
    init(_ o: Operand, shape s: MapShape) {
        pixels = s.h * s.w; c = s.c
        switch o {
        case .value: kind = 0
        case .channels: kind = 1
        case let .constant(v): kind = v.count == 1 ? 3 : 2
        }
    }
    @inline(__always) func callAsFunction(_ b: Int, _ p: Int, _ ch: Int) -> Int {
        switch kind {
        case 0: return (b * pixels + p) * c + ch
        case 1: return b * c + ch
        case 2: return ch
        default: return 0
        }
    }
}

enum Layout {
    /// y (n, c·h·w) = x (n, h, w, c) read in NCHW order (what ONNX's Flatten and Reshape mean).
    static func flattenForward(_ x: UnsafePointer<Float>, n: Int, _ s: MapShape, into y: UnsafeMutablePointer<Float>) {
        for b in 0..<n { for p in 0..<(s.h * s.w) { for ch in 0..<s.c {
            y[b * s.count + ch * s.h * s.w + p] = x[(b * s.h * s.w + p) * s.c + ch]
        } } }
    }
    static func flattenBackward(_ dy: UnsafePointer<Float>, n: Int, _ s: MapShape, into dx: UnsafeMutablePointer<Float>) {
        for b in 0..<n { for p in 0..<(s.h * s.w) { for ch in 0..<s.c {
            dx[(b * s.h * s.w + p) * s.c + ch] = dy[b * s.count + ch * s.h * s.w + p]
        } } }
    }

    /// Zero (or `value`) padding of the rows and columns.
    static func padForward(_ x: UnsafePointer<Float>, n: Int, _ s: MapShape, top: Int, left: Int, bottom: Int, right: Int, value: Float,
                           into y: UnsafeMutablePointer<Float>) {
        let oh = s.h + top + bottom, ow = s.w + left + right
        y.update(repeating: value, count: n * oh * ow * s.c)
        for b in 0..<n { for r in 0..<s.h {
            (y + ((b * oh + r + top) * ow + left) * s.c).update(from: x + (b * s.h + r) * s.w * s.c, count: s.w * s.c)
        } }
    }
    static func padBackward(_ dy: UnsafePointer<Float>, n: Int, _ s: MapShape, top: Int, left: Int, bottom: Int, right: Int,
                            into dx: UnsafeMutablePointer<Float>) {
        let oh = s.h + top + bottom, ow = s.w + left + right
        for b in 0..<n { for r in 0..<s.h {
            (dx + (b * s.h + r) * s.w * s.c).update(from: dy + ((b * oh + r + top) * ow + left) * s.c, count: s.w * s.c)
        } }
    }
}
