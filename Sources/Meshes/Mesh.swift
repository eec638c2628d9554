// A textured triangle mesh (issue 22: adversarial textures for 3D objects): positions in
// millimetres, texture coordinates (u right, v up, as OBJ writes them; the texture's top row is
// v = 1), optional normals, and triangles whose corners index them. Plain values; `validate()`
// refuses what a renderer cannot use, by name.
import Foundation
import TextSafety

public struct Mesh: Sendable, Equatable {
    /// One corner of a triangle: indices into `positions`, `uvs` and (when present) `normals`.
    public struct Corner: Sendable, Equatable, Hashable {
        public var position: Int, uv: Int, normal: Int?
        public init(position: Int, uv: Int, normal: Int? = nil) { self.position = position; self.uv = uv; self.normal = normal }
    }

    public var positions: [SIMD3<Double>]
    public var uvs: [SIMD2<Double>]
    public var normals: [SIMD3<Double>]
    /// Three corners each, counter-clockwise seen from outside.
    public var triangles: [[Corner]]
    /// Per triangle: nil where the texture covers it, or a fixed RGB colour in [0, 1] (a can's
    /// metal lids, which no label covers and no optimisation changes). Empty: all textured.
    public var triangleColors: [SIMD3<Double>?]

    public init(positions: [SIMD3<Double>], uvs: [SIMD2<Double>], normals: [SIMD3<Double>] = [], triangles: [[Corner]],
                triangleColors: [SIMD3<Double>?] = []) {
        self.positions = positions; self.uvs = uvs; self.normals = normals; self.triangles = triangles
        self.triangleColors = triangleColors
    }

    /// Whether triangle `k` shows the texture (not a fixed colour).
    public func isTextured(_ k: Int) -> Bool { triangleColors.isEmpty || triangleColors[k] == nil }

    /// The limits any mesh here keeps (an OBJ asking for more is refused before it is built).
    public static let maxVertices = 1_000_000, maxTriangles = 2_000_000

    /// Throws a `MeshError` naming the first problem: no triangles, an index out of range,
    /// a non-finite value, a degenerate (zero-area) triangle, too many vertices or triangles.
    /// The largest coordinate a mesh may have, in mm (a kilometre).
    public static let maxCoordinate = 1e6

    public func validate() throws(MeshError) {
        guard !triangles.isEmpty else { throw .invalid("the mesh has no triangles") }
        guard positions.count <= Self.maxVertices, uvs.count <= Self.maxVertices, normals.count <= Self.maxVertices else {
            throw .tooLarge("more than \(Self.maxVertices) vertices")
        }
        guard triangles.count <= Self.maxTriangles else { throw .tooLarge("\(triangles.count) triangles (at most \(Self.maxTriangles))") }
        guard triangleColors.isEmpty || triangleColors.count == triangles.count else {
            throw .invalid("\(triangleColors.count) triangle colours for \(triangles.count) triangles")
        }
        for (k, c) in triangleColors.enumerated() {
            if let c, !(0...1).contains(c.x) || !(0...1).contains(c.y) || !(0...1).contains(c.z) { throw .invalid("triangle \(k + 1)'s colour is not RGB in [0, 1]") }
        }
        guard triangles.indices.contains(where: isTextured) else { throw .invalid("no triangle shows the texture (all have fixed colours)") }
        for (i, p) in positions.enumerated() where !(p.x.isFinite && p.y.isFinite && p.z.isFinite) { throw .invalid("vertex \(i + 1) is not finite") }
        // Areas, normals and the texture aspect square the coordinates: past a kilometre (1e6 mm)
        // they overflow to infinity (found by fuzzing: a vertex at 1e308 made the aspect NaN).
        for (i, p) in positions.enumerated() where max(abs(p.x), abs(p.y), abs(p.z)) > Self.maxCoordinate {
            throw .invalid("vertex \(i + 1) lies more than \(Int(Self.maxCoordinate)) mm from the origin (is the OBJ in millimetres?)")
        }
        for (i, t) in uvs.enumerated() where !(t.x.isFinite && t.y.isFinite) { throw .invalid("texture coordinate \(i + 1) is not finite") }
        for (i, n) in normals.enumerated() where !(n.x.isFinite && n.y.isFinite && n.z.isFinite) { throw .invalid("normal \(i + 1) is not finite") }
        for (k, t) in triangles.enumerated() {
            guard t.count == 3 else { throw .invalid("triangle \(k + 1) has \(t.count) corners") }
            for c in t {
                guard positions.indices.contains(c.position), uvs.indices.contains(c.uv), c.normal.map({ normals.indices.contains($0) }) ?? true else {
                    throw .invalid("triangle \(k + 1) refers to a vertex, texture coordinate or normal that does not exist")
                }
            }
            if area(of: k) <= 1e-12 { throw .invalid("triangle \(k + 1) has no area (its corners are on one line)") }
        }
    }

    /// The area of triangle `k` in mm².
    public func area(of k: Int) -> Double {
        let t = triangles[k]
        let a = positions[t[0].position], b = positions[t[1].position], c = positions[t[2].position]
        let n = cross(b - a, c - a)
        return 0.5 * (n.x * n.x + n.y * n.y + n.z * n.z).squareRoot()
    }

    /// The surface area in mm².
    public var surfaceArea: Double { triangles.indices.reduce(0) { $0 + area(of: $1) } }

    /// The area the texture covers in mm² (fixed-colour triangles left out).
    public var texturedArea: Double { triangles.indices.filter(isTextured).reduce(0) { $0 + area(of: $1) } }

    /// Texture width / height that makes texels square on the surface: for each textured
    /// triangle, the lengths of the surface vectors that one unit of u and of v span (the
    /// Jacobian of position by UV); their ratio's area-weighted geometric mean. π·d / h for the
    /// cylinder's label, the net's proportions for the box, 4/e ≈ 1.47 for the sphere. 1 when no textured
    /// triangle has a UV area.
    public var textureAspect: Double {
        var sum = 0.0, weight = 0.0
        for k in triangles.indices where isTextured(k) {
            let t = triangles[k]
            let p0 = positions[t[0].position], e1 = positions[t[1].position] - p0, e2 = positions[t[2].position] - p0
            let q0 = uvs[t[0].uv], d1 = uvs[t[1].uv] - q0, d2 = uvs[t[2].uv] - q0
            let det = d1.x * d2.y - d1.y * d2.x
            guard abs(det) > 1e-15 else { continue }
            // [e1 e2] = J [d1 d2]  =>  J = [e1 e2] [d1 d2]^-1; columns: d position / du, d position / dv.
            let ju = (e1 * d2.y - e2 * d1.y) / det, jv = (e2 * d1.x - e1 * d2.x) / det
            let lu = (ju * ju).sum().squareRoot(), lv = (jv * jv).sum().squareRoot()
            guard lu > 0, lv > 0 else { continue }
            let a = area(of: k)
            sum += a * log(lu / lv); weight += a
        }
        return weight > 0 ? exp(sum / weight) : 1
    }

    /// The axis-aligned bounding box (min, max) of the positions.
    public var bounds: (min: SIMD3<Double>, max: SIMD3<Double>) {
        var lo = SIMD3(repeating: Double.infinity), hi = -lo
        for p in positions { lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p) }
        return (lo, hi)
    }
}

@inline(__always) func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

/// Typed errors of the Meshes module: one line naming the problem (and the file and line for OBJ).
public enum MeshError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalid(String)
    case tooLarge(String)
    case file(path: String, line: Int?, reason: String)

    public var description: String {
        switch self {
        case let .invalid(s): return "invalid mesh: \(s)"
        case let .tooLarge(s): return "mesh too large: \(s)"
        case let .file(path, line, reason): return "\(displayPath(path))\(line.map { ":\($0)" } ?? ""): \(reason)"
        }
    }
}
