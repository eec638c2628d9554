// FGSM, the fast gradient sign method (Goodfellow, Shlens & Szegedy 2015, "Explaining and
// Harnessing Adversarial Examples"), untargeted, on the softmax-regression digit classifier, and
// test error as a function of ε. Also the control: random ±ε signs of the same size. Not an
// iterative attack (no PGD) and not for the deep models (those are the patch/perturb commands).
import Foundation
import Transforms

public enum FGSM {
    /// −1, 0 or +1.
    @inline(__always)
    public static func sign(_ v: Double) -> Float { v > 0 ? 1 : (v < 0 ? -1 : 0) }

    /// The step before clipping, ε·sign(∂loss/∂x) → (64).
    public static func step(_ x: [Float], label: Int, epsilon: Double, model: SoftmaxRegression) -> [Float] {
        model.inputGradient(x, label: label).map { Float(epsilon) * sign($0) }
    }

    /// x_adv = clip(x + ε·sign(∂loss/∂x), 0, 1): raises the loss of the true `label` as much
    /// as any change with |x_adv − x| ≤ ε per pixel can, to first order (exactly, for a linear
    /// model, before the softmax and the clipping).
    public static func perturb(_ x: [Float], label: Int, epsilon: Double, model: SoftmaxRegression) -> [Float] {
        zip(x, step(x, label: label, epsilon: epsilon, model: model)).map { min(max($0 + $1, 0), 1) }
    }

    /// Fraction of `data` misclassified after FGSM with `epsilon` (ε = 0: the clean error).
    public static func error(on data: DigitsDataset, model: SoftmaxRegression, epsilon: Double) -> Double {
        guard data.count > 0 else { return 0 }
        let wrong = (0..<data.count).filter { i in
            model.predict(perturb(data.image(i), label: data.labels[i], epsilon: epsilon, model: model)) != data.labels[i]
        }.count
        return Double(wrong) / Double(data.count)
    }

    /// The control: fraction misclassified after adding ε times random signs (each pixel ±1 with
    /// equal odds, from `SplitMix64(seed)`), clipped to [0, 1]. Same size as FGSM, no direction.
    public static func randomSignError(on data: DigitsDataset, model: SoftmaxRegression, epsilon: Double, seed: UInt64) -> Double {
        guard data.count > 0 else { return 0 }
        var rng = SplitMix64(seed: seed)
        var wrong = 0
        for i in 0..<data.count {
            let x = data.image(i).map { v -> Float in
                let s: Float = rng.next() >> 63 == 1 ? 1 : -1
                return min(max(v + Float(epsilon) * s, 0), 1)
            }
            if model.predict(x) != data.labels[i] { wrong += 1 }
        }
        return Double(wrong) / Double(data.count)
    }

    /// How many of the 64 pixels have sign(∂loss/∂x) equal to sign(w_other − w_label) (both
    /// nonzero): the linear model's gradient sign is (mostly) the sign of a weight difference.
    public static func signAgreement(_ x: [Float], label: Int, other: Int, model: SoftmaxRegression) -> Int {
        let g = model.inputGradient(x, label: label), a = model.template(other), t = model.template(label)
        return (0..<SoftmaxRegression.inputs).filter { i in
            let s = sign(g[i]), d = sign(Double(a[i]) - Double(t[i]))
            return s != 0 && s == d
        }.count
    }
}
