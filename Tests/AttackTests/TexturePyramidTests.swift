// The multi-scale texture parameterisation: upsampling against a per-pixel bilinear reference,
// the gradient as the exact transpose (dot-product identity), and bad level counts.
import Attack
import Testing

@Suite("Texture pyramid")
struct TexturePyramidTests {
    static func random(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(s >> 40) / Float(1 << 24) - 0.5
        }
    }

    /// Per-pixel reference: bilinear sample of level k at the texel centre's position, summed.
    static func reference(_ p: TexturePyramid, _ params: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: p.width * p.height * 3)
        var offset = 0
        for size in p.levelSizes {
            let (w, h) = (size[0], size[1])
            for y in 0..<p.height {
                for x in 0..<p.width {
                    let u = min(max((Double(x) + 0.5) * Double(w) / Double(p.width) - 0.5, 0), Double(w - 1))
                    let v = min(max((Double(y) + 0.5) * Double(h) / Double(p.height) - 0.5, 0), Double(h - 1))
                    let x0 = Int(u), y0 = Int(v), x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                    let a = u - Double(x0), b = v - Double(y0)
                    for c in 0..<3 {
                        func at(_ i: Int, _ j: Int) -> Double { Double(params[offset + (j * w + i) * 3 + c]) }
                        let top = at(x0, y0) * (1 - a) + at(x1, y0) * a, bottom = at(x0, y1) * (1 - a) + at(x1, y1) * a
                        out[(y * p.width + x) * 3 + c] += Float(top * (1 - b) + bottom * b)
                    }
                }
            }
            offset += w * h * 3
        }
        return out
    }

    @Test func levelSizesAndIdentityAtOneLevel() throws {
        let p = try TexturePyramid(width: 64, height: 64, levels: 4)
        #expect(p.levelSizes == [[64, 64], [32, 32], [16, 16], [8, 8]])
        #expect(p.parameterCount == (64 * 64 + 32 * 32 + 16 * 16 + 8 * 8) * 3)
        let odd = try TexturePyramid(width: 13, height: 7, levels: 3)
        #expect(odd.levelSizes == [[13, 7], [7, 4], [4, 2]])
        // One level is the texture itself; parameters(forTexture:) round-trips at any depth.
        let tex = Self.random(13 * 7 * 3, seed: 1)
        #expect(try TexturePyramid(width: 13, height: 7, levels: 1).texture(from: tex) == tex)
        #expect(odd.texture(from: odd.parameters(forTexture: tex)) == tex)
        // A constant coarse level upsamples to the same constant everywhere.
        var params = [Float](repeating: 0, count: odd.parameterCount)
        let start = odd.parameterCount - 4 * 2 * 3
        for i in start..<odd.parameterCount { params[i] = 0.25 }
        #expect(odd.texture(from: params).allSatisfy { abs($0 - 0.25) < 1e-6 })
    }

    @Test func upsamplingMatchesThePerPixelReference() throws {
        for (w, h, l) in [(64, 64, 4), (13, 7, 3), (48, 24, 5)] {
            let p = try TexturePyramid(width: w, height: h, levels: l)
            let params = Self.random(p.parameterCount, seed: UInt64(w * h + l))
            let fast = p.texture(from: params), ref = Self.reference(p, params)
            let err = zip(fast, ref).map { abs($0 - $1) }.max()!
            #expect(err < 1e-5, "\(w)×\(h), \(l) levels: max |fast − reference| = \(err)")
        }
    }

    @Test func gradientIsTheExactTranspose() throws {
        // <T(p), g> = <p, Tᵀ(g)> for random p and g.
        for (w, h, l) in [(64, 64, 4), (13, 7, 3), (48, 24, 5)] {
            let p = try TexturePyramid(width: w, height: h, levels: l)
            let params = Self.random(p.parameterCount, seed: 3), g = Self.random(w * h * 3, seed: 4)
            let lhs = zip(p.texture(from: params), g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(params, p.gradient(fromTextureGradient: g)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)), "\(w)×\(h), \(l) levels: \(lhs) vs \(rhs)")
        }
    }

    @Test func tooManyLevelsIsAClearError() {
        #expect { try TexturePyramid(width: 8, height: 8, levels: 4) } throws: { "\($0)".contains("at most 3 levels") }
        #expect { try TexturePyramid(width: 8, height: 8, levels: 0) } throws: { "\($0)".contains("pyramidLevels must be ≥ 1") }
    }
}
