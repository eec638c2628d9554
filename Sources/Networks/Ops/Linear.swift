// Linear (fully connected): y (N, out) = x (N, in) · Wᵀ + b; backward to the input only.
import Tensors

public struct Linear: Sendable {
    public let inputFeatures: Int, outputFeatures: Int
    /// (out, in), PyTorch's layout.
    public let weight: [Float]
    /// (out)
    public let bias: [Float]

    public init(weight: [Float], bias: [Float]?, inputFeatures: Int, outputFeatures: Int) {
        precondition(weight.count == inputFeatures * outputFeatures, "weight count mismatch")
        self.weight = weight
        self.bias = bias ?? [Float](repeating: 0, count: outputFeatures)
        self.inputFeatures = inputFeatures; self.outputFeatures = outputFeatures
    }

    /// Overwrites y (N, out).
    public func forward(_ x: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<n { bias.withUnsafeBufferPointer { (y + i * outputFeatures).update(from: $0.baseAddress!, count: outputFeatures) } }
        weight.withUnsafeBufferPointer { wp in
            Gemm.multiply(.none, .transposed, m: n, n: outputFeatures, k: inputFeatures, a: x, lda: inputFeatures,
                          b: wp.baseAddress!, ldb: inputFeatures, beta: 1, c: y, ldc: outputFeatures)
        }
    }

    /// WRITES dx (N, in) = dy (N, out) · W.
    public func backward(dy: UnsafePointer<Float>, n: Int, into dx: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { wp in
            Gemm.multiply(.none, .none, m: n, n: inputFeatures, k: outputFeatures, a: dy, lda: outputFeatures,
                          b: wp.baseAddress!, ldb: inputFeatures, c: dx, ldc: inputFeatures)
        }
    }

    public func forward(_ x: Tensor) -> Tensor {
        let n = x.count / inputFeatures
        let y = Tensor(uninitialized: [n, outputFeatures])
        forward(x.unsafePointer, n: n, into: y.unsafePointer)
        return y
    }

    public func backward(dy: Tensor) -> Tensor {
        let n = dy.shape[0]
        let dx = Tensor(uninitialized: [n, inputFeatures])
        backward(dy: dy.unsafePointer, n: n, into: dx.unsafePointer)
        return dx
    }
}
