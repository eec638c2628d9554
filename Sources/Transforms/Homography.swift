// A 3×3 projective transform of the plane (row-major Double, column vectors (x, y, 1)), with
// inverse, apply, compose and a 4-point fit. Not a camera model; see TransformSample+Geometry.

public struct Homography: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Row-major 3×3: [m00, m01, m02, m10, m11, m12, m20, m21, m22].
    public let elements: [Double]

    /// Throws if `elements` does not hold 9 finite numbers.
    public init(elements: [Double]) throws {
        guard elements.count == 9 else {
            throw TransformError.shapeMismatch(name: "homography elements", expected: 9, got: elements.count, shape: "(3, 3)")
        }
        for (i, e) in elements.enumerated() { try Check.finite(e, "homography element \(i)") }
        self.elements = elements
    }

    /// Internal: no checks (the module's own arithmetic).
    init(unchecked elements: [Double]) { self.elements = elements }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        try self.init(elements: try c.decode([Double].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(elements)
    }

    public static let identity = Homography(unchecked: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    public static func translation(x: Double, y: Double) -> Homography {
        Homography(unchecked: [1, 0, x, 0, 1, y, 0, 0, 1])
    }

    public static func scaling(x: Double, y: Double) -> Homography {
        Homography(unchecked: [x, 0, 0, 0, y, 0, 0, 0, 1])
    }

    public subscript(row: Int, column: Int) -> Double { elements[row * 3 + column] }

    /// H · (p.x, p.y, 1) without the division.
    public func applyHomogeneous(_ p: SIMD2<Double>) -> SIMD3<Double> {
        let m = elements
        return SIMD3(m[0] * p.x + m[1] * p.y + m[2],
                     m[3] * p.x + m[4] * p.y + m[5],
                     m[6] * p.x + m[7] * p.y + m[8])
    }

    /// Maps a point; the result is infinite/NaN when the point maps to the line at infinity.
    public func apply(_ p: SIMD2<Double>) -> SIMD2<Double> {
        let h = applyHomogeneous(p)
        return SIMD2(h.x / h.z, h.y / h.z)
    }

    /// self ∘ other: apply `other` first, then `self`.
    public func composed(with other: Homography) -> Homography {
        let a = elements, b = other.elements
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 {
                r[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j]
            }
        }
        return Homography(unchecked: r)
    }

    public var determinant: Double {
        let m = elements
        return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    /// Inverse by the adjugate. Throws `singularHomography` when the determinant is ~0
    /// relative to the matrix scale. Not rescaled: the inverse of a `sceneFromPatch` with
    /// positive depth row keeps a consistent sign convention.
    public func inverse(name: String = "homography") throws -> Homography {
        let m = elements
        let det = determinant
        let scale = m.reduce(0) { max($0, abs($1)) }
        guard det.isFinite, scale > 0, abs(det) > 1e-14 * scale * scale * scale else {
            throw TransformError.singularHomography(name: name)
        }
        let inv = 1 / det
        let r: [Double] = [
            (m[4] * m[8] - m[5] * m[7]) * inv, (m[2] * m[7] - m[1] * m[8]) * inv, (m[1] * m[5] - m[2] * m[4]) * inv,
            (m[5] * m[6] - m[3] * m[8]) * inv, (m[0] * m[8] - m[2] * m[6]) * inv, (m[2] * m[3] - m[0] * m[5]) * inv,
            (m[3] * m[7] - m[4] * m[6]) * inv, (m[1] * m[6] - m[0] * m[7]) * inv, (m[0] * m[4] - m[1] * m[3]) * inv,
        ]
        return Homography(unchecked: r)
    }

    /// The homography with H · from[i] ~ to[i] for four point pairs (direct linear transform,
    /// 8×8 solve with partial pivoting, m22 = 1). Throws when three points are collinear.
    public init(mapping from: [SIMD2<Double>], to: [SIMD2<Double>]) throws {
        guard from.count == 4, to.count == 4 else {
            throw TransformError.invalid(field: "homography points", reason: "need exactly 4 point pairs, got \(from.count) and \(to.count)")
        }
        var a = [[Double]](repeating: [Double](repeating: 0, count: 9), count: 8)
        for i in 0..<4 {
            let (x, y, X, Y) = (from[i].x, from[i].y, to[i].x, to[i].y)
            a[2 * i] = [x, y, 1, 0, 0, 0, -X * x, -X * y, X]
            a[2 * i + 1] = [0, 0, 0, x, y, 1, -Y * x, -Y * y, Y]
        }
        for col in 0..<8 {
            var piv = col
            for r in col..<8 where abs(a[r][col]) > abs(a[piv][col]) { piv = r }
            guard abs(a[piv][col]) > 1e-12 else { throw TransformError.singularHomography(name: "4-point homography") }
            a.swapAt(col, piv)
            for r in 0..<8 where r != col {
                let f = a[r][col] / a[col][col]
                if f != 0 { for c in col..<9 { a[r][c] -= f * a[col][c] } }
            }
        }
        var h = [Double](repeating: 0, count: 9)
        for i in 0..<8 { h[i] = a[i][8] / a[i][i] }
        h[8] = 1
        try self.init(elements: h)
    }

    /// Multiplies all elements by `s` (same mapping for s ≠ 0).
    func scaled(by s: Double) -> Homography { Homography(unchecked: elements.map { $0 * s }) }

    public var description: String {
        "Homography[" + (0..<3).map { r in (0..<3).map { "\(elements[r * 3 + $0])" }.joined(separator: ", ") }.joined(separator: "; ") + "]"
    }
}
