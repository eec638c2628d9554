// `SoftmaxRegression`: a linear classifier of 8×8 digits (logits z = W x + b, W (10, 64), b (10))
// trained with full-batch Adam on mean cross-entropy + (λ/2)·‖W‖², and its gradient with respect
// to the input, which FGSM follows. Plain loops in Double: the model is 650 numbers and the
// dataset 1347 images, so a training run is ~0.1-1 s. Not a general model: one layer, no GPU.
import Attack
import Foundation

/// z = W x + b, p = softmax(z); `classes` = 10 digits, `inputs` = 64 pixels in [0, 1].
public struct SoftmaxRegression: Sendable, Equatable, Codable {
    public static let inputs = DigitsDataset.pixelCount
    public static let classes = DigitsDataset.classCount

    /// (10, 64) row-major: row k is digit k's template, `weights[k * 64 + pixel]`.
    public var weights: [Float]
    /// (10)
    public var bias: [Float]

    /// All zeros: every class equally likely.
    public init() {
        weights = [Float](repeating: 0, count: Self.classes * Self.inputs)
        bias = [Float](repeating: 0, count: Self.classes)
    }

    public init(weights: [Float], bias: [Float]) {
        precondition(weights.count == Self.classes * Self.inputs && bias.count == Self.classes, "SoftmaxRegression: W must be (10, 64) and b (10)")
        self.weights = weights
        self.bias = bias
    }

    /// Row k of W: what digit k's score adds up over the pixels (64).
    public func template(_ k: Int) -> [Float] { Array(weights[(k * Self.inputs)..<((k + 1) * Self.inputs)]) }

    // MARK: - Forward

    /// z = W x + b for one image `x` (64) → (10).
    public func logits(_ x: [Float]) -> [Double] {
        precondition(x.count == Self.inputs)
        return (0..<Self.classes).map { k in
            var z = Double(bias[k])
            for i in 0..<Self.inputs { z += Double(weights[k * Self.inputs + i]) * Double(x[i]) }
            return z
        }
    }

    /// softmax(z) computed stably (max subtracted) → (10), summing to 1.
    public static func softmax(_ z: [Double]) -> [Double] {
        let m = z.max() ?? 0
        let e = z.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    public func probabilities(_ x: [Float]) -> [Double] { Self.softmax(logits(x)) }

    /// The most likely digit (the lowest index on a tie).
    public func predict(_ x: [Float]) -> Int { Self.argmax(logits(x)) }

    static func argmax(_ v: [Double]) -> Int { v.indices.max { v[$0] < v[$1] || (v[$0] == v[$1] && $0 > $1) } ?? 0 }

    /// Cross-entropy of one image: −log p_label = logsumexp(z) − z_label.
    public func loss(_ x: [Float], label: Int) -> Double {
        let z = logits(x), m = z.max() ?? 0
        return m + log(z.reduce(0) { $0 + exp($1 - m) }) - z[label]
    }

    // MARK: - Backward

    /// ∂loss/∂x = Wᵀ (p − onehot(label)) → (64): a mix of weight rows, Σ_k p_k w_k − w_label.
    /// For a confidently right prediction this is ≈ Σ_{k≠label} p_k (w_k − w_label): mostly the
    /// difference of the runner-up's template and the true one.
    public func inputGradient(_ x: [Float], label: Int) -> [Double] {
        var dz = probabilities(x)            // (10)
        dz[label] -= 1
        var dx = [Double](repeating: 0, count: Self.inputs)
        for k in 0..<Self.classes where dz[k] != 0 {
            for i in 0..<Self.inputs { dx[i] += dz[k] * Double(weights[k * Self.inputs + i]) }
        }
        return dx
    }

    /// The training objective on `data`, mean cross-entropy + (l2 / 2)·‖W‖² (the bias is not
    /// penalised), and its gradient with respect to W (10, 64) and b (10). Written, not accumulated.
    public func objective(on data: DigitsDataset, l2: Double) -> (loss: Double, dWeights: [Double], dBias: [Double]) {
        let n = data.count, c = Self.classes, d = Self.inputs
        var loss = 0.0
        var dW = [Double](repeating: 0, count: c * d), db = [Double](repeating: 0, count: c)
        let w = weights.map(Double.init), b = bias.map(Double.init)
        data.pixels.withUnsafeBufferPointer { px in
            var z = [Double](repeating: 0, count: c), x = [Double](repeating: 0, count: d)
            for s in 0..<n {
                for i in 0..<d { x[i] = Double(px[s * d + i]) }
                var m = -Double.infinity
                for k in 0..<c {
                    var acc = b[k]
                    for i in 0..<d { acc += w[k * d + i] * x[i] }
                    z[k] = acc; m = max(m, acc)
                }
                var sum = 0.0
                for k in 0..<c { z[k] = exp(z[k] - m); sum += z[k] }
                let label = data.labels[s]
                loss -= log(z[label] / sum)
                for k in 0..<c {
                    let g = (z[k] / sum - (k == label ? 1 : 0)) / Double(n)   // ∂(mean CE)/∂z_k
                    db[k] += g
                    for i in 0..<d { dW[k * d + i] += g * x[i] }
                }
            }
        }
        loss /= Double(n)
        for j in 0..<(c * d) {
            loss += 0.5 * l2 * w[j] * w[j]
            dW[j] += l2 * w[j]
        }
        return (loss, dW, db)
    }

    // MARK: - Training

    /// Full-batch Adam from zero weights; deterministic (no sampling at all).
    public struct Training: Sendable, Equatable, Codable {
        public var steps = 300
        public var learningRate = 0.05
        /// λ of the (λ/2)·‖W‖² penalty on the mean loss.
        public var l2 = 1e-4
        public init(steps: Int = 300, learningRate: Double = 0.05, l2: Double = 1e-4) {
            self.steps = steps; self.learningRate = learningRate; self.l2 = l2
        }
    }

    /// Trains on `data` and returns the model and the objective before each step (and after the last).
    public static func train(on data: DigitsDataset, _ settings: Training = Training()) -> (model: SoftmaxRegression, losses: [Double]) {
        var model = SoftmaxRegression()
        var theta = model.weights + model.bias
        var adam = Adam(parameterCount: theta.count)
        var losses: [Double] = []
        let wc = model.weights.count
        for _ in 0..<max(settings.steps, 0) {
            let o = model.objective(on: data, l2: settings.l2)
            losses.append(o.loss)
            adam.update(&theta, gradient: (o.dWeights + o.dBias).map(Float.init), learningRate: settings.learningRate)
            model.weights = Array(theta[..<wc]); model.bias = Array(theta[wc...])
        }
        losses.append(model.objective(on: data, l2: settings.l2).loss)
        return (model, losses)
    }

    /// Fraction of `data` classified correctly.
    public func accuracy(on data: DigitsDataset) -> Double {
        guard data.count > 0 else { return 0 }
        let right = (0..<data.count).filter { predict(data.image($0)) == data.labels[$0] }.count
        return Double(right) / Double(data.count)
    }
}
