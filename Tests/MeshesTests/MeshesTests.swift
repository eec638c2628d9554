// Meshes: the OBJ reader (triangles, quads, negative indices, ignored statements, and every
// refusal naming the file and line), and the procedural cylinder, box and sphere (areas against
// their formulas, UVs in [0, 1], outward winding, the box net's proportions).
import Foundation
import Meshes
import Testing

@Suite("Meshes: OBJ reader and procedural meshes")
struct MeshesTests {
    static let quad = """
    # a unit square as one quad, and a triangle with negative indices
    mtllib x.mtl
    o square
    v 0 0 0
    v 1 0 0
    v 1 1 0
    v 0 1 0
    vt 0 0
    vt 1 0
    vt 1 1
    vt 0 1
    vn 0 0 1
    usemtl paper
    s off
    f 1/1/1 2/2/1 3/3/1 4/4/1
    f -4/-4 -3/-3 -1/-1
    """

    @Test("quads are split in two, negative indices count back, mtllib/usemtl/o/s are ignored")
    func parsesQuadsAndNegativeIndices() throws {
        let m = try OBJReader.parse(Data(Self.quad.utf8))
        #expect(m.positions.count == 4 && m.uvs.count == 4 && m.normals.count == 1)
        #expect(m.triangles.count == 3)
        #expect(m.triangles[2].map(\.position) == [0, 1, 3] && m.triangles[2][0].normal == nil)
        #expect(abs(m.surfaceArea - 1.5) < 1e-12)
    }

    @Test("refusals name the file and line and say what to do", arguments: [
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3", ":4:", "no texture coordinate"),
        ("v 0 0 0\nvt 0 0\nf 1/1 2/1 3/1", ":3:", "out of range"),
        ("v 0 0 zero", ":1:", "not a finite number"),
        ("v 0 0 nan", ":1:", "not a finite number"),
        ("v 1 2", ":1:", "takes 3–4 numbers"),
        ("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 2 2 0\nvt 0 0\nf 1/1 2/1 3/1 4/1 5/1", ":7:", "only triangles and quads"),
        ("l 1 2", ":1:", "'l' is not read here"),
        ("v 0 0 0\nvt 0 0\nf 0/1 1/1 1/1", ":3:", "not a vertex index"),
        ("v 0 0 0\nv 1 0 0\nv 2 0 0\nvt 0 0\nf 1/1 2/1 3/1", "", "no area"),
        ("# nothing", "", "no triangles"),
        ("v 0 0 0\u{1}\u{2}", ":1:", "\\x01"),
    ])
    func refusals(_ text: String, _ line: String, _ expected: String) {
        #expect { try OBJReader.parse(Data(text.utf8), name: "m.obj") } throws: { error in
            let s = "\(error)"
            return s.hasPrefix("m.obj") && (line.isEmpty || s.contains(line)) && s.contains(expected) && !s.contains("\n")
        }
    }

    @Test("files: missing, a folder, not text")
    func files() throws {
        #expect { try OBJReader.read(from: "/nonexistent/x.obj") } throws: { "\($0)".contains("no such file") }
        #expect { try OBJReader.read(from: NSTemporaryDirectory()) } throws: { "\($0)".contains("is a folder") }
        #expect { try OBJReader.parse(Data([0xFF, 0xFE, 0x00, 0x80])) } throws: { "\($0)".contains("not text") }
    }

    @Test("a 330 ml can: the label's area is π·d·h, the lids' π·d²/2, UVs wrap once around, faces point outward, texels square at π·d/h")
    func cylinder() throws {
        let m = try Mesh.cylinder(diameter: 66, height: 115, segments: 256)
        let exact = Double.pi * 66 * 115
        #expect(abs(m.texturedArea - exact) / exact < 1e-3)
        let lids = Double.pi * 66 * 66 / 2
        #expect(abs(m.surfaceArea - m.texturedArea - lids) / lids < 1e-3)
        #expect(m.triangleColors.count == m.triangles.count && m.triangleColors.filter { $0 != nil }.count == 2 * 256)
        #expect(abs(m.textureAspect - Double.pi * 66 / 115) < 1e-4)   // 256 flat facets: a little shorter around
        let open = try Mesh.cylinder(diameter: 66, height: 115, segments: 16, lids: false)
        #expect(open.triangleColors.isEmpty && open.triangles.count == 32)
        #expect(m.uvs.allSatisfy { (0...1).contains($0.x) && (0...1).contains($0.y) })
        #expect(m.uvs.map(\.x).max() == 1 && m.uvs.map(\.x).min() == 0)
        try Self.expectOutward(m)
        let b = m.bounds
        #expect(abs(b.max.y - b.min.y - 115) < 1e-9 && abs(b.max.x - b.min.x - 66) < 1e-6)
    }

    @Test("a sphere's area approaches π·d², its faces point outward")
    func sphere() throws {
        let m = try Mesh.sphere(diameter: 100, segments: 128)
        let exact = Double.pi * 100 * 100
        #expect(abs(m.surfaceArea - exact) / exact < 2e-3)
        // Latitude–longitude: u spans 2·cos(latitude) times what v does; the area-weighted
        // geometric mean of 2·cos over the sphere is 4/e (texels square at latitude ±42.6°).
        #expect(abs(m.textureAspect - 4 / M_E) < 0.01)
        try Self.expectOutward(m)
    }

    @Test("a box: area 2(wh + wd + hd), its net's faces keep their proportions (square texels)")
    func box() throws {
        let (w, h, d) = (190.0, 280.0, 60.0)
        let m = try Mesh.box(width: w, height: h, depth: d)
        #expect(abs(m.surfaceArea - 2 * (w * h + w * d + h * d)) < 1e-6)
        try Self.expectOutward(m)
        let netW = 2 * w + 2 * d, netH = h + 2 * d
        #expect(abs(m.textureAspect - netW / netH) < 1e-9)
        for t in m.triangles {
            // Each triangle's area on the net (in mm, from its UVs) equals its area on the box.
            let p = t.map { m.uvs[$0.uv] * SIMD2(netW, netH) }
            let uvArea = abs((p[1].x - p[0].x) * (p[2].y - p[0].y) - (p[2].x - p[0].x) * (p[1].y - p[0].y)) / 2
            let a = t.map { m.positions[$0.position] }
            let e1 = a[1] - a[0], e2 = a[2] - a[0]
            let n = SIMD3(e1.y * e2.z - e1.z * e2.y, e1.z * e2.x - e1.x * e2.z, e1.x * e2.y - e1.y * e2.x)
            #expect(abs(uvArea - 0.5 * (n * n).sum().squareRoot()) < 1e-6)
        }
    }

    @Test("impossible sizes are refused by name", arguments: [(-1.0, "diameter"), (0, "diameter"), (.nan, "diameter"), (1e9, "diameter")])
    func badSizes(_ d: Double, _ name: String) {
        #expect { try Mesh.cylinder(diameter: d, height: 10) } throws: { "\($0)".contains(name) }
        #expect { try Mesh.cylinder(diameter: 10, height: 10, segments: 2) } throws: { "\($0)".contains("segments") }
    }

    /// Every triangle's normal (from its winding) points away from the mesh's centre.
    static func expectOutward(_ m: Mesh) throws {
        let b = m.bounds, centre = (b.min + b.max) / 2
        for t in m.triangles {
            let a = t.map { m.positions[$0.position] }
            let e1 = a[1] - a[0], e2 = a[2] - a[0]
            let n = SIMD3(e1.y * e2.z - e1.z * e2.y, e1.z * e2.x - e1.x * e2.z, e1.x * e2.y - e1.y * e2.x)
            let mid = (a[0] + a[1] + a[2]) / 3 - centre
            #expect((n * mid).sum() > 0, "a triangle faces inward")
        }
    }
}
