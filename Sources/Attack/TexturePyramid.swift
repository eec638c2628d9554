// TexturePyramid: the texture written as a sum of levels at full, ½, ¼, … resolution, each
// upsampled bilinearly (the multi-scale parameterisation of feature-visualisation work, Olah et
// al. 2017, "Feature Visualization", Distill). Adam steps every parameter by about the learning
// rate, so a coarse texel moves a whole block of the texture as fast as a fine texel moves one:
// the optimiser reaches low-frequency structure, which blur, resampling and JPEG keep, sooner.
// Forward (levels → texture) and its exact adjoint (texture gradient → level gradients) are side
// by side; the tests check the adjoint by the dot-product identity and the upsampling against a
// per-pixel reference.

/// Level 0 is the texture itself (width × height); level k is ⌈width/2^k⌉ × ⌈height/2^k⌉.
/// Parameters are the levels' (H, W, 3) arrays, concatenated from level 0.
public struct TexturePyramid: Sendable, Equatable {
    public let width: Int, height: Int
    /// (width, height) of each level.
    public let levelSizes: [[Int]]
    /// Each level's bilinear taps along x and y, fixed by the sizes, so worked out once here.
    let taps: [(x: [Tap], y: [Tap])]

    /// One output coordinate's two source taps and the weight of the second.
    struct Tap: Sendable, Equatable { var i0: Int, i1: Int, a: Float }

    public static func == (a: TexturePyramid, b: TexturePyramid) -> Bool {
        a.width == b.width && a.height == b.height && a.levelSizes == b.levelSizes
    }

    public init(width: Int, height: Int, levels: Int) throws {
        guard levels >= 1, width >= 1, height >= 1 else { throw AttackError.invalidSetting(.pyramidLevels, "must be ≥ 1 (1 = off), got \(levels)") }
        var sizes: [[Int]] = []
        for k in 0..<levels {
            let f = 1 << k
            let w = (width + f - 1) / f, h = (height + f - 1) / f
            guard w >= 2, h >= 2 else {
                throw AttackError.invalidSetting(.pyramidLevels, "\(levels): a \(width)×\(height) texture has room for at most \(k) levels (the coarsest needs 2×2 texels); use fewer levels or a larger --texture")
            }
            sizes.append([w, h])
        }
        self.width = width; self.height = height; levelSizes = sizes
        taps = sizes.map { (Self.taps(source: $0[0], target: width), Self.taps(source: $0[1], target: height)) }
    }

    public var levels: Int { levelSizes.count }
    public var parameterCount: Int { levelSizes.reduce(0) { $0 + $1[0] * $1[1] * 3 } }

    /// Parameters whose sum is `texture`: all of it in level 0, zeros elsewhere.
    public func parameters(forTexture texture: [Float]) -> [Float] {
        precondition(texture.count == width * height * 3)
        return texture + [Float](repeating: 0, count: parameterCount - texture.count)
    }

    /// Bilinear taps from `source` samples to `target` (pixel centres aligned, edges clamped).
    static func taps(source: Int, target: Int) -> [Tap] {
        (0..<target).map { x in
            if source == target { return Tap(i0: x, i1: x, a: 0) }
            let u = min(max((Double(x) + 0.5) * Double(source) / Double(target) - 0.5, 0), Double(source - 1))
            let i0 = Int(u.rounded(.down))
            return Tap(i0: i0, i1: min(i0 + 1, source - 1), a: Float(u - Double(i0)))
        }
    }

    /// The texture: Σ_k upsample(level k).
    public func texture(from parameters: [Float]) -> [Float] {
        precondition(parameters.count == parameterCount)
        var out = [Float](repeating: 0, count: width * height * 3)
        var offset = 0
        for (size, (tx, ty)) in zip(levelSizes, taps) {
            let (w, h) = (size[0], size[1])
            // Along x: (h, w, 3) → (h, width, 3); then along y, accumulating into out.
            var rows = [Float](repeating: 0, count: h * width * 3)
            for y in 0..<h {
                for x in 0..<width {
                    let t = tx[x]
                    for c in 0..<3 {
                        let p0 = parameters[offset + (y * w + t.i0) * 3 + c], p1 = parameters[offset + (y * w + t.i1) * 3 + c]
                        rows[(y * width + x) * 3 + c] = p0 + t.a * (p1 - p0)
                    }
                }
            }
            for y in 0..<height {
                let t = ty[y]
                for j in 0..<(width * 3) {
                    let r0 = rows[t.i0 * width * 3 + j], r1 = rows[t.i1 * width * 3 + j]
                    out[y * width * 3 + j] += r0 + t.a * (r1 - r0)
                }
            }
            offset += w * h * 3
        }
        return out
    }

    /// The gradient with respect to the parameters, given the gradient with respect to the
    /// texture: the transpose of `texture(from:)`.
    public func gradient(fromTextureGradient g: [Float]) -> [Float] {
        precondition(g.count == width * height * 3)
        var out = [Float](repeating: 0, count: parameterCount)
        var offset = 0
        for (size, (tx, ty)) in zip(levelSizes, taps) {
            let (w, h) = (size[0], size[1])
            var rows = [Float](repeating: 0, count: h * width * 3)
            for y in 0..<height {
                let t = ty[y]
                for j in 0..<(width * 3) {
                    let v = g[y * width * 3 + j]
                    rows[t.i0 * width * 3 + j] += (1 - t.a) * v
                    rows[t.i1 * width * 3 + j] += t.a * v
                }
            }
            for y in 0..<h {
                for x in 0..<width {
                    let t = tx[x]
                    for c in 0..<3 {
                        let v = rows[(y * width + x) * 3 + c]
                        out[offset + (y * w + t.i0) * 3 + c] += (1 - t.a) * v
                        out[offset + (y * w + t.i1) * 3 + c] += t.a * v
                    }
                }
            }
            offset += w * h * 3
        }
        return out
    }
}
