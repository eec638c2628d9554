// Shared fixtures for the Transforms tests: seeded random buffers and a central-difference
// gradient check of the renderer. Not a test by itself.
import Transforms

func randomBuffer(_ n: Int, seed: UInt64, lo: Float = 0, hi: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in lo + (hi - lo) * Float(Double(rng.next() >> 11) * 0x1p-53) }
}

/// Loss L = Σ w_i · image_i, accumulated in Double from the Float image.
func loss(_ image: [Float], _ w: [Float]) -> Double {
    var s = 0.0
    for i in 0..<image.count { s += Double(w[i]) * Double(image[i]) }
    return s
}

struct GradCheckResult { var maxAbsError: Double; var maxAbsGradient: Double; var worstRelative: Double; var checked: Int }

/// Central differences (eps = 1e-2, exact to Float round-off for the parts of the renderer that
/// are linear in the texture; O(eps²) truncation for gamma) of L = Σ w·render(texture) against
/// `backward(dImage: w)`. Forward runs in Float; L and the differences are taken in Double.
func gradCheck(renderer r: Renderer, texture: [Float], mask: [Float], scene: [Float], sample: TransformSample,
               seed: UInt64 = 99, eps: Float = 1e-2) throws -> GradCheckResult {
    let w = randomBuffer(r.sceneWidth * r.sceneHeight * 3, seed: seed, lo: -1, hi: 1)
    let (_, cache) = try r.forward(texture: texture, mask: mask, scene: scene, sample: sample)
    var analytic = [Float](repeating: 0, count: texture.count)
    try r.backward(dImage: w, cache: cache, dTexture: &analytic)
    var res = GradCheckResult(maxAbsError: 0, maxAbsGradient: 0, worstRelative: 0, checked: texture.count)
    for i in 0..<texture.count {
        var tp = texture, tm = texture
        tp[i] += eps; tm[i] -= eps
        let lp = loss(try r.forward(texture: tp, mask: mask, scene: scene, sample: sample).image, w)
        let lm = loss(try r.forward(texture: tm, mask: mask, scene: scene, sample: sample).image, w)
        let fd = (lp - lm) / Double(2 * eps)
        let an = Double(analytic[i])
        let err = abs(fd - an)
        res.maxAbsError = max(res.maxAbsError, err)
        res.maxAbsGradient = max(res.maxAbsGradient, abs(an))
        res.worstRelative = max(res.worstRelative, err / (1e-3 + abs(an)))
    }
    return res
}
