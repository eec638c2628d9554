// What the attack optimizes on the model's logits, per EOT sample: targeted cross-entropy, a
// floored cross-entropy −log(ε + p_target) that spends little effort on samples the patch cannot
// yet move, its mirror image the focal cross-entropy −(1 − p)^γ log p (Lin et al. 2017) that
// spends little on samples already won, a targeted margin (Carlini–Wagner style, capped at κ), or
// untargeted (push the clean class down).
// Returns per-sample losses and d loss / d logits for the batch MEAN.
import Foundation
import Networks

public enum ClassificationObjective: Codable, Sendable, Equatable {
    /// −log p(target)
    case targetedCrossEntropy(target: Int)
    /// max(max_{j≠t} z_j − z_t, −κ): stops pushing once the target leads by κ.
    case targetedMargin(target: Int, kappa: Double)
    /// −log(ε + p(target)): cross-entropy's gradient scaled per sample by p/(ε + p), so samples
    /// with p ≪ ε (too small, too blurred, for now) weigh little and the near misses lead.
    case targetedFlooredCrossEntropy(target: Int, floor: Double)
    /// −(1 − p)^γ log p(target) (focal loss, Lin et al. 2017): per sample, d/dz = w·(q − e_t) with
    /// w = (1 − p)^γ − γ p (1 − p)^(γ−1) log p, so won samples (p → 1) weigh little and the
    /// samples the patch still loses lead; γ = 0 is cross-entropy.
    case targetedFocalCrossEntropy(target: Int, gamma: Double)
    /// log p(clean) per sample — lower means the clean class lost probability mass.
    case untargeted

    public var targetClass: Int? {
        switch self {
        case let .targetedCrossEntropy(t), let .targetedMargin(t, _), let .targetedFlooredCrossEntropy(t, _),
             let .targetedFocalCrossEntropy(t, _): return t
        case .untargeted: return nil
        }
    }

    /// logits (N, K); `cleanClasses` (N) are each scene's prediction without the patch
    /// (untargeted only). Returns mean loss, per-sample losses, and dL/dlogits (N, K).
    public func evaluate(logits: Tensor, cleanClasses: [Int]) -> (loss: Double, losses: [Double], dLogits: Tensor) {
        let (n, k) = (logits.shape[0], logits.shape[1])
        switch self {
        case let .targetedCrossEntropy(t):
            let ce = CrossEntropy.forward(logits: logits, targets: Array(repeating: t, count: n))
            return (ce.loss, ce.losses, CrossEntropy.backward(probabilities: ce.probabilities, targets: Array(repeating: t, count: n)))
        case let .targetedFlooredCrossEntropy(t, floor):
            return Self.reweightedCrossEntropy(logits: logits, target: t) { pt in (-log(floor + pt), pt / (floor + pt)) }
        case let .targetedFocalCrossEntropy(t, gamma):
            return Self.reweightedCrossEntropy(logits: logits, target: t) { pt in
                let lp = log(max(pt, Double.leastNormalMagnitude)), miss = max(1 - pt, 0), focus = pow(miss, gamma)
                // d/dp [−(1−p)^γ log p] · p = γ p (1−p)^(γ−1) log p − (1−p)^γ, and dp/dz_j = p (δ_tj − q_j).
                // At p = 1 the first term's limit is 0 (pow(0, γ−1) is infinite for γ < 1).
                let slope = miss == 0 ? 0 : gamma * pt * pow(miss, gamma - 1) * lp
                return (-focus * lp, focus - slope)
            }
        case let .targetedMargin(t, kappa):
            var d = [Float](repeating: 0, count: n * k)
            var losses: [Double] = []
            for i in 0..<n {
                var best = -Float.infinity, arg = 0
                for j in 0..<k where j != t && logits[flat: i * k + j] > best { best = logits[flat: i * k + j]; arg = j }
                let m = Double(best - logits[flat: i * k + t])
                if m > -kappa {
                    losses.append(m)
                    d[i * k + arg] += 1 / Float(n); d[i * k + t] -= 1 / Float(n)
                } else {
                    losses.append(-kappa)
                }
            }
            return (losses.reduce(0, +) / Double(n), losses, Tensor(shape: [n, k], values: d))
        case .untargeted:
            precondition(cleanClasses.count == n)
            let ce = CrossEntropy.forward(logits: logits, targets: cleanClasses)
            let g = CrossEntropy.backward(probabilities: ce.probabilities, targets: cleanClasses, scale: -1)
            return (-ce.loss, ce.losses.map { -$0 }, g)
        }
    }

    /// Targeted losses whose per-sample gradient is cross-entropy's scaled by a weight of
    /// p(target): `lossAndWeight(p)` gives (loss, weight). Returns mean loss, per-sample losses and
    /// dL/dlogits for the batch mean.
    static func reweightedCrossEntropy(logits: Tensor, target t: Int, lossAndWeight: (Double) -> (Double, Double)) -> (loss: Double, losses: [Double], dLogits: Tensor) {
        let (n, k) = (logits.shape[0], logits.shape[1])
        let p = CrossEntropy.forward(logits: logits, targets: Array(repeating: t, count: n)).probabilities
        var d = p.array
        var losses: [Double] = []
        for i in 0..<n {
            let (loss, weight) = lossAndWeight(Double(p[flat: i * k + t]))
            losses.append(loss)
            let w = Float(weight) / Float(n)
            d[i * k + t] -= 1
            for j in 0..<k { d[i * k + j] *= w }
        }
        return (losses.reduce(0, +) / Double(n), losses, Tensor(shape: [n, k], values: d))
    }
}
