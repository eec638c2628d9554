// Softmax, log-softmax and cross-entropy over the last axis of (N, K) logits, in a numerically
// stable form (subtract the row max). Backward of cross-entropy: (softmax − onehot) / N.
import Tensors
import Foundation

public enum Softmax {
    /// Row-wise softmax of (N, K) logits, computed in Double for stability.
    public static func forward(_ logits: Tensor) -> Tensor {
        let (n, k) = (logits.shape[0], logits.shape[1])
        var out = [Float](repeating: 0, count: n * k)
        logits.withUnsafeBufferPointer { l in
            for i in 0..<n {
                let row = l.baseAddress! + i * k
                var m = -Float.infinity
                for j in 0..<k { m = max(m, row[j]) }
                var s = 0.0
                for j in 0..<k { s += exp(Double(row[j] - m)) }
                for j in 0..<k { out[i * k + j] = Float(exp(Double(row[j] - m)) / s) }
            }
        }
        return Tensor(shape: [n, k], values: out)
    }

    /// Backward of softmax: dx = y ⊙ (dy − ⟨dy, y⟩) per row.
    public static func backward(dy: Tensor, y: Tensor) -> Tensor {
        let (n, k) = (y.shape[0], y.shape[1])
        var dx = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            var dot = 0.0
            for j in 0..<k { dot += Double(dy[flat: i * k + j]) * Double(y[flat: i * k + j]) }
            for j in 0..<k { dx[i * k + j] = Float(Double(y[flat: i * k + j]) * (Double(dy[flat: i * k + j]) - dot)) }
        }
        return Tensor(shape: [n, k], values: dx)
    }
}

public enum LogSoftmax {
    public static func forward(_ logits: Tensor) -> Tensor {
        let (n, k) = (logits.shape[0], logits.shape[1])
        var out = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            var m = -Float.infinity
            for j in 0..<k { m = max(m, logits[flat: i * k + j]) }
            var s = 0.0
            for j in 0..<k { s += exp(Double(logits[flat: i * k + j] - m)) }
            let lse = Double(m) + log(s)
            for j in 0..<k { out[i * k + j] = Float(Double(logits[flat: i * k + j]) - lse) }
        }
        return Tensor(shape: [n, k], values: out)
    }

    /// Backward of log-softmax: dx = dy − softmax · Σ dy per row.
    public static func backward(dy: Tensor, y: Tensor) -> Tensor {
        let (n, k) = (y.shape[0], y.shape[1])
        var dx = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            var s = 0.0
            for j in 0..<k { s += Double(dy[flat: i * k + j]) }
            for j in 0..<k { dx[i * k + j] = Float(Double(dy[flat: i * k + j]) - exp(Double(y[flat: i * k + j])) * s) }
        }
        return Tensor(shape: [n, k], values: dx)
    }
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
