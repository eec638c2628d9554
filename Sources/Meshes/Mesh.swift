// A textured triangle mesh (issue 22: adversarial textures for 3D objects): positions in
// millimetres, texture coordinates (u right, v up, as OBJ writes them; the texture's top row is
// v = 1), optional normals, and triangles whose corners index them. Plain values; `validate()`
// refuses what a renderer cannot use, by name.
import Foundation

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

    public init(positions: [SIMD3<Double>], uvs: [SIMD2<Double>], normals: [SIMD3<Double>] = [], triangles: [[Corner]]) {
        self.positions = positions; self.uvs = uvs; self.normals = normals; self.triangles = triangles
    }

    /// The limits any mesh here keeps (an OBJ asking for more is refused before it is built).
    public static let maxVertices = 1_000_000, maxTriangles = 2_000_000

    /// Throws a `MeshError` naming the first problem: no triangles, an index out of range,
    /// a non-finite value, a degenerate (zero-area) triangle, too many vertices or triangles.
    public func validate() throws(MeshError) {
        guard !triangles.isEmpty else { throw .invalid("the mesh has no triangles") }
        guard positions.count <= Self.maxVertices, uvs.count <= Self.maxVertices, normals.count <= Self.maxVertices else {
            throw .tooLarge("more than \(Self.maxVertices) vertices")
        }
        guard triangles.count <= Self.maxTriangles else { throw .tooLarge("\(triangles.count) triangles (at most \(Self.maxTriangles))") }
        for (i, p) in positions.enumerated() where !(p.x.isFinite && p.y.isFinite && p.z.isFinite) { throw .invalid("vertex \(i + 1) is not finite") }
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
        case let .file(path, line, reason): return "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)"
        }
    }
}
