// Adam (Kingma & Ba 2015) on a flat parameter vector, with bias correction. A value type: its
// state is saved in checkpoints so `--resume` continues the exact trajectory.

public struct Adam: Codable, Sendable, Equatable {
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    public private(set) var step = 0
    public private(set) var m: [Float]
    public private(set) var v: [Float]

    public init(parameterCount: Int) {
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
    }

    /// θ ← θ − lr · m̂ / (√v̂ + ε).
    public mutating func update(_ theta: inout [Float], gradient g: [Float], learningRate lr: Double) {
        precondition(theta.count == g.count && g.count == m.count)
        step += 1
        let b1 = Float(beta1), b2 = Float(beta2)
        let c1 = 1 - Float(pow(beta1, Double(step))), c2 = 1 - Float(pow(beta2, Double(step)))
        let lrf = Float(lr), eps = Float(epsilon)
        for i in 0..<theta.count {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            theta[i] -= lrf * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
        }
    }
}

import Foundation
