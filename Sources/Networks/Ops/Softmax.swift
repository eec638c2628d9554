// Softmax, log-softmax and cross-entropy over the last axis of (N, K) logits, in a numerically
// stable form (subtract the row max). Backward of cross-entropy: (softmax − onehot) / N.
import Tensors
import Foundation

public enum Softmax {
    /// Row-wise softmax of (N, K) logits, computed in Double for stability.
    public static func forward(_ logits: Tensor) -> Tensor {
        rowwiseForward(logits) { x, m, s, y in
            for j in x.indices { y[j] = Float(exp(Double(x[j] - m)) / s) }
        }
    }

    /// Backward of softmax: dx = y ⊙ (dy − ⟨dy, y⟩) per row.
    public static func backward(dy: Tensor, y: Tensor) -> Tensor {
        rowwiseBackward(dy: dy, y: y, rowSum: { dy, y in dy * y }) { dy, y, dot in y * (dy - dot) }
    }
}

public enum LogSoftmax {
    public static func forward(_ logits: Tensor) -> Tensor {
        rowwiseForward(logits) { x, m, s, y in
            let lse = Double(m) + log(s)
            for j in x.indices { y[j] = Float(Double(x[j]) - lse) }
        }
    }

    /// Backward of log-softmax: dx = dy − softmax · Σ dy per row.
    public static func backward(dy: Tensor, y: Tensor) -> Tensor {
        rowwiseBackward(dy: dy, y: y, rowSum: { dy, _ in dy }) { dy, y, sum in dy - exp(y) * sum }
    }
}

/// (N, K) logits → (N, K) row by row, the stable way: `row(x, m, s, y)` writes y (K) from the
/// row's logits x (K), their max m and Σ exp(x − m) summed in Double.
@inline(__always)
private func rowwiseForward(_ logits: Tensor, _ row: (_ x: UnsafeBufferPointer<Float>, _ max: Float, _ expSum: Double,
                                                      _ y: UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
    let (n, k) = (logits.shape[0], logits.shape[1])
    var out = [Float](repeating: 0, count: n * k)
    logits.withUnsafeBufferPointer { l in
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<n {
                let x = UnsafeBufferPointer(rebasing: l[(i * k)..<(i * k + k)])
                var m = -Float.infinity
                for j in 0..<k { m = max(m, x[j]) }
                var s = 0.0
                for j in 0..<k { s += exp(Double(x[j] - m)) }
                row(x, m, s, UnsafeMutableBufferPointer(rebasing: o[(i * k)..<(i * k + k)]))
            }
        }
    }
    return Tensor(shape: [n, k], values: out)
}

/// dx (N, K) of a row-wise softmax-like op from dy and its output y, both (N, K), in Double:
/// per row r = Σ_j rowSum(dy_j, y_j) (in order), then dx_j = gradient(dy_j, y_j, r).
private func rowwiseBackward(dy: Tensor, y: Tensor, rowSum: (_ dy: Double, _ y: Double) -> Double,
                             _ gradient: (_ dy: Double, _ y: Double, _ r: Double) -> Double) -> Tensor {
    let (n, k) = (y.shape[0], y.shape[1])
    var dx = [Float](repeating: 0, count: n * k)
    for i in 0..<n {
        var r = 0.0
        for j in 0..<k { r += rowSum(Double(dy[flat: i * k + j]), Double(y[flat: i * k + j])) }
        for j in 0..<k { dx[i * k + j] = Float(gradient(Double(dy[flat: i * k + j]), Double(y[flat: i * k + j]), r)) }
    }
    return Tensor(shape: [n, k], values: dx)
}

/// Mean cross-entropy of (N, K) logits against one target class per row.
public enum CrossEntropy {
    public struct Result: Sendable {
        /// mean over the batch of −log softmax(logits)[target]
        public var loss: Double
        /// per-sample losses (N)
        public var losses: [Double]
        /// softmax probabilities (N, K)
        public var probabilities: Tensor
    }

    public static func forward(logits: Tensor, targets: [Int]) -> Result {
        let (n, k) = (logits.shape[0], logits.shape[1])
        precondition(targets.count == n && targets.allSatisfy { (0..<k).contains($0) }, "one target in 0..<\(k) per row")
        let logp = LogSoftmax.forward(logits)
        let losses = (0..<n).map { -Double(logp[flat: $0 * k + targets[$0]]) }
        var p = [Float](repeating: 0, count: n * k)
        for i in 0..<(n * k) { p[i] = Float(exp(Double(logp[flat: i]))) }
        return Result(loss: losses.reduce(0, +) / Double(n), losses: losses, probabilities: Tensor(shape: [n, k], values: p))
    }

    /// d loss / d logits = (softmax − onehot(target)) · scale / N  (scale = 1 for the mean loss).
    public static func backward(probabilities p: Tensor, targets: [Int], scale: Float = 1) -> Tensor {
        let (n, k) = (p.shape[0], p.shape[1])
        var d = p.array
        for i in 0..<n {
            d[i * k + targets[i]] -= 1
            for j in 0..<k { d[i * k + j] *= scale / Float(n) }
        }
        return Tensor(shape: [n, k], values: d)
    }
}
