// GlobalAveragePool (N, H, W, C) → (N, C) and its backward (spread evenly); residual Add; the
// input normalisation affine map. Small ops, forward and backward side by side.
import Tensors

public enum GlobalAveragePool {
    /// Overwrites y (N, C).
    public static func forward(_ x: UnsafePointer<Float>, n: Int, height h: Int, width w: Int, channels c: Int, into y: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(h * w)
        for b in 0..<n {
            let yb = y + b * c
            yb.initialize(repeating: 0, count: c)
            let xb = x + b * h * w * c
            for p in 0..<(h * w) { let xp = xb + p * c; for ch in 0..<c { yb[ch] += xp[ch] } }
            for ch in 0..<c { yb[ch] *= scale }
        }
    }

    /// WRITES dx (N, H, W, C) = dy (N, C) / (H·W) at every position.
    public static func backward(dy: UnsafePointer<Float>, n: Int, height h: Int, width w: Int, channels c: Int, into dx: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(h * w)
        for b in 0..<n {
            let db = dx + b * h * w * c
            for ch in 0..<c { db[ch] = dy[b * c + ch] * scale }
            for p in 1..<max(h * w, 1) { (db + p * c).update(from: db, count: c) }
        }
    }

    public static func forward(_ x: Tensor) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let y = Tensor(uninitialized: [n, c])
        forward(x.unsafePointer, n: n, height: h, width: w, channels: c, into: y.unsafePointer)
        return y
    }

    public static func backward(dy: Tensor, inputShape s: [Int]) -> Tensor {
        let dx = Tensor(uninitialized: s)
        backward(dy: dy.unsafePointer, n: s[0], height: s[1], width: s[2], channels: s[3], into: dx.unsafePointer)
        return dx
    }
}

/// Residual add: y = a + b. Backward: da = dy and db = dy (the caller routes dy to both).
public enum Add {
    public static func forward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count / 4096 + 1, work: count) { r in
            let lo = r.lowerBound * 4096, hi = min(r.upperBound * 4096, count)
            var i = lo
            while i < hi { y[i] = a[i] + b[i]; i &+= 1 }
        }
    }

    public static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Add: shapes \(a.shape) and \(b.shape) differ")
        let y = Tensor(uninitialized: a.shape)
        forward(a.unsafePointer, b.unsafePointer, into: y.unsafePointer, count: a.count)
        return y
    }

    /// (da, db) = (dy, dy).
    public static func backward(dy: Tensor) -> (Tensor, Tensor) { (dy, dy) }
}

/// y = x·scale[c] + shift[c] per RGB channel c of interleaved (…, 3) pixels: a model's input
/// normalisation, e.g. EfficientNet-Lite's (255·x − 127) / 128 (the same for every channel) or
/// torchvision's (x − mean[c]) / std[c]. Backward: dx = dy·scale[c]. Counts and offsets are
/// whole pixels (multiples of 3).
public struct AffineNormalization: Sendable, Equatable {
    public var scale: SIMD3<Float>, shift: SIMD3<Float>
    /// The same scale and shift for every channel.
    public init(scale: Float, shift: Float) { self.scale = SIMD3(repeating: scale); self.shift = SIMD3(repeating: shift) }
    public init(scale: SIMD3<Float>, shift: SIMD3<Float>) { self.scale = scale; self.shift = shift }
    /// (x − mean) / std per channel, as scale 1/std and shift −mean/std.
    public init(mean: SIMD3<Float>, std: SIMD3<Float>) {
        scale = SIMD3(1 / Double(std.x), 1 / Double(std.y), 1 / Double(std.z)).float
        shift = SIMD3(-Double(mean.x) / Double(std.x), -Double(mean.y) / Double(std.y), -Double(mean.z) / Double(std.z)).float
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let s = scale, t = shift
        // Chunks of 4095 = 1365 pixels, so each starts on a pixel.
        Parallel.forEachChunk(count / 4095 + 1, work: count) { r in
            let lo = r.lowerBound * 4095, hi = min(r.upperBound * 4095, count)
            var i = lo
            while i &+ 3 <= hi {
                y[i] = x[i] * s.x + t.x; y[i &+ 1] = x[i &+ 1] * s.y + t.y; y[i &+ 2] = x[i &+ 2] * s.z + t.z
                i &+= 3
            }
        }
    }

    public func backward(dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        let s = scale
        var i = 0
        while i &+ 3 <= count {
            dx[i] = dy[i] * s.x; dx[i &+ 1] = dy[i &+ 1] * s.y; dx[i &+ 2] = dy[i &+ 2] * s.z
            i &+= 3
        }
    }

    public func forward(_ x: Tensor) -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        forward(x.unsafePointer, into: y.unsafePointer, count: x.count)
        return y
    }
}

extension SIMD3 where Scalar == Double {
    var float: SIMD3<Float> { SIMD3<Float>(Float(x), Float(y), Float(z)) }
}
