// Built-in meshes with UV maps, in millimetres, centred on the origin, y up:
// - cylinder: the side is the label: u = angle around the axis / 360° (the seam at u = 0 and 1
//   has its vertices twice), v = height from the bottom; the two lids are fixed-colour discs;
// - box: six faces on a cross-shaped net (the printable cereal-box layout): the side faces in a
//   row (front, right, back, left), top and bottom above and below the front;
// - sphere: latitude–longitude (u = longitude / 360°, v = latitude from the south pole).
import Foundation

extension Mesh {
    /// The colour of a drinks can's lids: brushed aluminium.
    public static let lidColor = SIMD3(0.78, 0.78, 0.80)

    /// A cylinder of `diameter` × `height` with `segments` facets around: the side carries the
    /// texture; with `lids`, the top and bottom are closed by discs of `lidColor` (so that a view
    /// from above shows a lid, not the inside).
    public static func cylinder(diameter: Double, height: Double, segments: Int = 64, lids: Bool = true) throws(MeshError) -> Mesh {
        try checkSize(["diameter": diameter, "height": height], segments: segments, range: 3...4096)
        let r = diameter / 2
        var positions: [SIMD3<Double>] = [], uvs: [SIMD2<Double>] = [], normals: [SIMD3<Double>] = [], triangles: [[Corner]] = []
        for i in 0...segments {
            let u = Double(i) / Double(segments), a = 2 * Double.pi * u
            let (c, s) = (cos(a), sin(a))
            for (k, y) in [-height / 2, height / 2].enumerated() {
                positions.append(SIMD3(r * s, y, r * c))
                uvs.append(SIMD2(u, Double(k)))
                normals.append(SIMD3(s, 0, c))
            }
        }
        for i in 0..<segments {
            let b0 = 2 * i, t0 = b0 + 1, b1 = b0 + 2, t1 = b0 + 3
            let corner = { (k: Int) in Corner(position: k, uv: k, normal: k) }
            triangles.append([corner(b0), corner(b1), corner(t1)])
            triangles.append([corner(b0), corner(t1), corner(t0)])
        }
        var colors: [SIMD3<Double>?] = Array(repeating: nil, count: triangles.count)
        if lids {
            // A fan around a centre vertex at each end; normals along the axis; the corners'
            // texture coordinate is unused (the colour is fixed), any valid index will do.
            for (k, y) in [-height / 2, height / 2].enumerated() {
                let up = k == 1
                positions.append(SIMD3(0, y, 0)); normals.append(SIMD3(0, up ? 1 : -1, 0))
                let centre = positions.count - 1, n = normals.count - 1
                for i in 0..<segments {
                    let a = Corner(position: 2 * i + k, uv: 0, normal: n), b = Corner(position: 2 * (i + 1) + k, uv: 0, normal: n)
                    let c = Corner(position: centre, uv: 0, normal: n)
                    // Counter-clockwise seen from outside: from above for the top lid, from below for the bottom one.
                    triangles.append(up ? [c, a, b] : [c, b, a])
                    colors.append(lidColor)
                }
            }
        }
        let mesh = Mesh(positions: positions, uvs: uvs, normals: normals, triangles: triangles, triangleColors: lids ? colors : [])
        try mesh.validate()
        return mesh
    }

    /// A box of `width` (x) × `height` (y) × `depth` (z) whose texture is the net: four side faces
    /// in a row across the middle band (front, right, back, left), the top above the front, the
    /// bottom below it. The net is (2·width + 2·depth) wide and (height + 2·depth) tall; each face
    /// gets its physical share, so a texel is square on every face.
    public static func box(width: Double, height: Double, depth: Double) throws(MeshError) -> Mesh {
        try checkSize(["width": width, "height": height, "depth": depth], segments: 4, range: 4...4)
        let W = 2 * width + 2 * depth, H = height + 2 * depth
        let (x, y, z) = (width / 2, height / 2, depth / 2)
        var positions: [SIMD3<Double>] = [], uvs: [SIMD2<Double>] = [], normals: [SIMD3<Double>] = [], triangles: [[Corner]] = []
        /// A face from its 4 corners (bottom-left, bottom-right, top-right, top-left seen from
        /// outside) onto the net rectangle with bottom-left (u0, v0) and size (du, dv) in mm.
        func face(_ p: [SIMD3<Double>], _ normal: SIMD3<Double>, _ u0: Double, _ v0: Double, _ du: Double, _ dv: Double) {
            let base = positions.count
            positions += p
            uvs += [SIMD2(u0 / W, v0 / H), SIMD2((u0 + du) / W, v0 / H), SIMD2((u0 + du) / W, (v0 + dv) / H), SIMD2(u0 / W, (v0 + dv) / H)]
            normals.append(normal)
            let n = normals.count - 1
            let c = { (k: Int) in Corner(position: base + k, uv: base + k, normal: n) }
            triangles += [[c(0), c(1), c(2)], [c(0), c(2), c(3)]]
        }
        // Side band, v from depth to depth + height.
        face([SIMD3(-x, -y, z), SIMD3(x, -y, z), SIMD3(x, y, z), SIMD3(-x, y, z)], SIMD3(0, 0, 1), 0, depth, width, height)                       // front
        face([SIMD3(x, -y, z), SIMD3(x, -y, -z), SIMD3(x, y, -z), SIMD3(x, y, z)], SIMD3(1, 0, 0), width, depth, depth, height)                   // right
        face([SIMD3(x, -y, -z), SIMD3(-x, -y, -z), SIMD3(-x, y, -z), SIMD3(x, y, -z)], SIMD3(0, 0, -1), width + depth, depth, width, height)      // back
        face([SIMD3(-x, -y, -z), SIMD3(-x, -y, z), SIMD3(-x, y, z), SIMD3(-x, y, -z)], SIMD3(-1, 0, 0), 2 * width + depth, depth, depth, height)  // left
        face([SIMD3(-x, y, z), SIMD3(x, y, z), SIMD3(x, y, -z), SIMD3(-x, y, -z)], SIMD3(0, 1, 0), 0, depth + height, width, depth)              // top
        face([SIMD3(-x, -y, -z), SIMD3(x, -y, -z), SIMD3(x, -y, z), SIMD3(-x, -y, z)], SIMD3(0, -1, 0), 0, 0, width, depth)                      // bottom
        let mesh = Mesh(positions: positions, uvs: uvs, normals: normals, triangles: triangles)
        try mesh.validate()
        return mesh
    }

    /// A sphere of `diameter` with `segments` facets around and segments / 2 from pole to pole.
    public static func sphere(diameter: Double, segments: Int = 48) throws(MeshError) -> Mesh {
        try checkSize(["diameter": diameter], segments: segments, range: 4...4096)
        let r = diameter / 2, rings = max(2, segments / 2)
        var positions: [SIMD3<Double>] = [], uvs: [SIMD2<Double>] = [], normals: [SIMD3<Double>] = [], triangles: [[Corner]] = []
        for j in 0...rings {
            let v = Double(j) / Double(rings), lat = Double.pi * (v - 0.5)
            for i in 0...segments {
                let u = Double(i) / Double(segments), lon = 2 * Double.pi * u
                let n = SIMD3(cos(lat) * sin(lon), sin(lat), cos(lat) * cos(lon))
                positions.append(n * r); normals.append(n); uvs.append(SIMD2(u, v))
            }
        }
        let row = segments + 1
        let c = { (k: Int) in Corner(position: k, uv: k, normal: k) }
        for j in 0..<rings {
            for i in 0..<segments {
                let a = j * row + i, b = a + 1, d = a + row, e = d + 1
                if j > 0 { triangles.append([c(a), c(b), c(e)]) }              // the south pole row is a fan
                if j < rings - 1 { triangles.append([c(a), c(e), c(d)]) }      // and so is the north pole row
            }
        }
        let mesh = Mesh(positions: positions, uvs: uvs, normals: normals, triangles: triangles)
        try mesh.validate()
        return mesh
    }

    static func checkSize(_ sizes: [String: Double], segments: Int, range: ClosedRange<Int>) throws(MeshError) {
        for (name, v) in sizes.sorted(by: { $0.key < $1.key }) {
            guard v.isFinite, v > 0, v <= 10_000 else { throw .invalid("\(name) must be in (0, 10000] mm, got \(v)") }
        }
        guard range.contains(segments) else { throw .invalid("segments must be \(range.lowerBound)…\(range.upperBound), got \(segments)") }
    }
}
