// ModelInputOperator: the framing `classify` uses (Image.centerSquare) as a linear map with its
// adjoint — the forward against centerSquare itself, the adjoint against the forward (⟨Ax, y⟩ =
// ⟨x, Aᵀy⟩), bad sizes refused.
import Foundation
import Imaging
import Testing

@Suite("ModelInputOperator: classify's framing, differentiable")
struct ModelInputOperatorTests {
    static func photo(_ w: Int, _ h: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<(w * h * 3)).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(s >> 40) / Float(1 << 24)
        }
    }

    @Test("forward = centerSquare (crop fraction 1) for photos larger, smaller, taller, wider and of the input size", arguments: [
        (451, 300, 224), (300, 451, 224), (224, 224, 224), (100, 60, 64), (33, 47, 64), (640, 640, 240), (1000, 200, 96),
    ])
    func forwardMatchesCenterSquare(_ w: Int, _ h: Int, _ size: Int) throws {
        let pixels = Self.photo(w, h, seed: UInt64(w * 31 + h))
        let image = try Image(width: w, height: h, channels: 3, pixels: pixels)
        let op = try ModelInputOperator(width: w, height: h, size: size)
        let expected = image.centerSquare(size: size).pixels
        let got = op.apply(pixels)
        let worst = zip(expected, got).map { abs($0 - $1) }.max() ?? 0
        // The same taps in the same order per pass; only the vertical pass sums in another order.
        #expect(worst < 2e-6, "\(w)×\(h) → \(size): max difference \(worst)")
    }

    @Test("forward ≈ centerSquare with a crop fraction (which rounds to 8 bits as Pillow does)")
    func cropFraction() throws {
        let (w, h, size) = (451, 300, 224)
        let pixels = Self.photo(w, h, seed: 5).map { ($0 * 255).rounded() / 255 }
        let image = try Image(width: w, height: h, channels: 3, pixels: pixels)
        let op = try ModelInputOperator(width: w, height: h, size: size, cropFraction: 0.875)
        #expect(op.resizedHeight == 256 && op.resizedWidth == 384)
        let worst = zip(image.centerSquare(size: size, cropFraction: 0.875).pixels, op.apply(pixels)).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1.01 / 255, "max difference \(worst)")
    }

    @Test("adjoint: ⟨A x, y⟩ = ⟨x, Aᵀ y⟩", arguments: [(451, 300, 224), (40, 30, 64), (224, 224, 224), (97, 211, 50)])
    func adjoint(_ w: Int, _ h: Int, _ size: Int) throws {
        let op = try ModelInputOperator(width: w, height: h, size: size)
        let x = Self.photo(w, h, seed: 1).map { $0 - 0.5 }, y = Self.photo(size, size, seed: 2).map { $0 - 0.5 }
        let ax = op.apply(x), aty = op.adjoint(y)
        let lhs = zip(ax, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x, aty).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "\(lhs) vs \(rhs)")
        // The adjoint accumulates.
        var twice = op.adjoint(y)
        y.withUnsafeBufferPointer { yp in twice.withUnsafeMutableBufferPointer { op.adjoint(yp.baseAddress!, accumulateInto: $0.baseAddress!) } }
        #expect(zip(twice, aty).allSatisfy { abs($0 - 2 * $1) <= 1e-6 * max(1, abs($0)) })
    }

    @Test("sizes outside 1…maxSide are refused, not trapped")
    func badSizes() {
        #expect(throws: ImagingError.self) { try ModelInputOperator(width: 0, height: 10, size: 224) }
        #expect(throws: ImagingError.self) { try ModelInputOperator(width: 10, height: 10, size: 0) }
        #expect(throws: ImagingError.self) { try ModelInputOperator(width: Image.maxSide + 1, height: 10, size: 224) }
    }
}
