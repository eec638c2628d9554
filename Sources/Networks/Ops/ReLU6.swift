// ReLU6, standalone and as the fused epilogue of convolutions: forward and backward side by side.
import Tensors

public enum ReLU6 {
    /// y = min(max(x, 0), 6), elementwise; `y` may alias `x`.
    @inlinable
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v.relu6, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count { y[i] = min(max(x[i], 0), 6); i &+= 1 }
    }

    /// dx = dy where 0 < y < 6, else 0, reading the forward OUTPUT y. Writes dx (may alias dy).
    @inlinable
    public static func backward(dy: UnsafePointer<Float>, y: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let zero = SIMD8<Float>.zero, six = SIMD8<Float>(repeating: 6)
        while i &+ 8 <= count {
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            let keep = (yv .> zero) .& (yv .< six)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: zero.replacing(with: g, where: keep), as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count { dx[i] = (y[i] > 0 && y[i] < 6) ? dy[i] : 0; i &+= 1 }
    }

    // Tensor conveniences.
    public static func forward(_ x: Tensor) -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        forward(x.unsafePointer, y.unsafePointer, count: x.count)
        return y
    }

    public static func backward(dy: Tensor, y: Tensor) -> Tensor {
        let dx = Tensor(uninitialized: dy.shape)
        backward(dy: dy.unsafePointer, y: y.unsafePointer, dx: dx.unsafePointer, count: dy.count)
        return dx
    }
}

/// Fused bias + activation epilogue over rows `rows` of an (M, C) row-major buffer, in place,
/// on the calling thread.
@inlinable
func biasActivationRows(_ y: UnsafeMutablePointer<Float>, rows: Range<Int>, channels c: Int, bias: UnsafePointer<Float>, activation: Activation) {
    for r in rows {
        let row = y + r &* c
        var j = 0
        if activation == .relu6 {
            while j &+ 8 <= c {
                let v = load8(row + j) + load8(bias + j)
                store8(v.relu6, row + j)
                j &+= 8
            }
            while j < c { row[j] = min(max(row[j] + bias[j], 0), 6); j &+= 1 }
        } else if activation == .relu {
            let z = SIMD8<Float>.zero
            while j &+ 8 <= c {
                let v = load8(row + j) + load8(bias + j)
                store8(v.replacing(with: z, where: v .< z), row + j)
                j &+= 8
            }
            while j < c { row[j] = max(row[j] + bias[j], 0); j &+= 1 }
        } else {
            while j &+ 8 <= c {
                store8(load8(row + j) + load8(bias + j), row + j)
                j &+= 8
            }
            while j < c { row[j] += bias[j]; j &+= 1 }
        }
    }
}

/// The same over all rows, in parallel.
@inlinable
func applyBiasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, channels c: Int, bias: UnsafePointer<Float>, activation: Activation) {
    Parallel.forEachChunk(rows, work: rows &* c) { range in biasActivationRows(y, rows: range, channels: c, bias: bias, activation: activation) }
}

/// Rows per GEMM tile: small enough that a tile of the output (rows × columns floats, ~128 KiB)
/// stays in L2 for its epilogue, large enough that OpenBLAS's packing of the weight matrix
/// (depth × columns, repeated per call) is amortised over ≥ 8·depth rows.
@inlinable
func tileRows(columns: Int, depth: Int) -> Int { max(64, (32 * 1024 / max(columns, 1)) & ~7, 8 * depth) }

/// In-place activation backward over `count` elements: dy ← dy · act'(y).
@inlinable
func maskActivationGradient(_ dy: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, count: Int, activation: Activation) {
    guard activation != .none else { return }
    Parallel.forEachChunk(count / 4096 + 1, work: count) { range in
        let lo = range.lowerBound * 4096, hi = min(range.upperBound * 4096, count)
        if lo < hi { maskActivationRows(dy + lo, y: y + lo, count: hi - lo, activation: activation) }
    }
}

/// `maskActivationGradient` on the calling thread.
@inlinable
func maskActivationRows(_ dy: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, count: Int, activation: Activation) {
    switch activation {
    case .none: return
    case .relu6: ReLU6.backward(dy: dy, y: y, dx: dy, count: count)
    case .relu:
        let z = SIMD8<Float>.zero
        var i = 0
        while i &+ 8 <= count {
            let v = load8(dy + i)
            store8(v.replacing(with: z, where: .!(load8(y + i) .> z)), dy + i)
            i &+= 8
        }
        while i < count { if !(y[i] > 0) { dy[i] = 0 }; i &+= 1 }
    }
}

extension SIMD8 where Scalar == Float {
    /// min(max(self, 0), 6) with plain compares and blends; the standard library's `clamped`
    /// goes through unspecialised generic code (pointwiseMin/Max), ~10× slower here.
    @inlinable @inline(__always)
    var relu6: SIMD8<Float> {
        let z = SIMD8<Float>.zero, six = SIMD8<Float>(repeating: 6)
        var v = self.replacing(with: z, where: self .< z)
        v.replace(with: six, where: v .> six)
        return v
    }
}
