// Motion blur and camera resampling: the fast separable operators against the naive per-pixel
// reference (odd sizes, every direction, lengths below and above one pixel), their adjoints by
// the dot-product test, and rows that sum to one.
import Testing
import Transforms

private func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

@Suite struct CameraOperatorsTests {
    static let cases: [(w: Int, h: Int, length: Double, angle: Double)] = [
        (13, 7, 3.5, 30), (1, 1, 2, 45), (9, 2, 0.3, 0), (16, 11, 5, 90), (17, 19, 2.2, -135), (5, 23, 7.9, 200)]

    @Test func motionBlurMatchesTheNaiveReference() throws {
        for (i, c) in Self.cases.enumerated() {
            let m = MotionBlur(width: c.w, height: c.h, length: c.length, angleDegrees: c.angle)
            let x = randomBuffer(c.w * c.h * 3, seed: UInt64(300 + i))
            let fast = try m.apply(x), naive = try m.applyReference(x, length: c.length, angleDegrees: c.angle)
            let e = zip(fast, naive).map { abs($0 - $1) }.max() ?? 0
            #expect(e < 2e-6, "\(c): forward max |fast − naive| \(e)")
            let g = randomBuffer(c.w * c.h * 3, seed: UInt64(400 + i), lo: -1, hi: 1)
            let fa = try m.applyAdjoint(g), na = try m.applyAdjointReference(g, length: c.length, angleDegrees: c.angle)
            let ea = zip(fa, na).map { abs($0 - $1) }.max() ?? 0
            #expect(ea < 1e-5, "\(c): adjoint max |fast − naive| \(ea)")
        }
    }

    @Test func adjointsPassTheDotProductTest() throws {
        for (i, c) in Self.cases.enumerated() {
            let x = randomBuffer(c.w * c.h * 3, seed: UInt64(500 + i)), y = randomBuffer(c.w * c.h * 3, seed: UInt64(600 + i), lo: -1, hi: 1)
            let m = MotionBlur(width: c.w, height: c.h, length: c.length, angleDegrees: c.angle)
            let r = SeparableResample(width: c.w, height: c.h, scale: 0.5 + 0.08 * Double(i))
            for (name, ax, aty) in [("motion", try m.apply(x), try m.applyAdjoint(y)), ("resample", try r.apply(x), try r.applyAdjoint(y))] {
                let lhs = dot(ax, y), rhs = dot(x, aty)
                #expect(abs(lhs - rhs) < 1e-5 * max(1, abs(lhs)), "\(name) \(c): <Ax, y> \(lhs) vs <x, Aᵀy> \(rhs)")
            }
        }
    }

    @Test func flatImagesStayFlatAndSizesAreChecked() throws {
        let flat = [Float](repeating: 0.4, count: 13 * 7 * 3)
        let m = MotionBlur(width: 13, height: 7, length: 4, angleDegrees: 60), r = SeparableResample(width: 13, height: 7, scale: 0.55)
        #expect(try m.apply(flat).allSatisfy { abs($0 - 0.4) < 1e-6 })
        #expect(try r.apply(flat).allSatisfy { abs($0 - 0.4) < 1e-6 })
        #expect(throws: TransformError.self) { try m.apply([0, 1, 2]) }
        #expect(throws: TransformError.self) { try r.applyAdjoint([Float](repeating: 0, count: 12)) }
    }
}
