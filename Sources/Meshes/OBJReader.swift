// Wavefront OBJ (the subset a textured mesh needs): `v x y z [w]`, `vt u v [w]`, `vn x y z`,
// `f` with triangles and quads (`v/vt`, `v/vt/vn`; negative indices count back from the end),
// and one texture: `mtllib`, `usemtl`, `o`, `g` and `s` are accepted and ignored. Every face
// needs texture coordinates. Anything else (lines, curves, faces of 5+ corners, faces without
// `vt`), a number that does not parse, an index out of range, or a file or mesh over the limits
// is refused with the file, the line and what to do. Text quoted from the file is escaped and cut (TextSafety).
import Foundation
import TextSafety

public enum OBJReader {
    /// The largest file read (bytes).
    public static let maxFileSize = 256 << 20
    /// The longest statement read (bytes before any `#` comment): `v`, `vt`, `vn` and `f` of at most 4 corners
    /// fit in a few dozen; a longer one would only be split into millions of words before being refused.
    public static let maxStatementLength = 4096

    public static func read(from path: String) throws(MeshError) -> Mesh {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw .file(path: path, line: nil, reason: isDir.boolValue ? "is a folder; give a .obj file" : "no such file; give a Wavefront .obj file")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileSize else { throw .file(path: path, line: nil, reason: "is \(size >> 20) MiB; meshes up to \(maxFileSize >> 20) MiB are read") }
        guard let data = FileManager.default.contents(atPath: path) else { throw .file(path: path, line: nil, reason: "cannot be read (permissions?)") }
        return try parse(data, name: path)
    }

    public static func parse(_ data: Data, name: String = "mesh.obj") throws(MeshError) -> Mesh {
        guard let text = String(data: data, encoding: .utf8) else { throw .file(path: name, line: nil, reason: "is not text (UTF-8); is it a binary file?") }
        var positions: [SIMD3<Double>] = [], uvs: [SIMD2<Double>] = [], normals: [SIMD3<Double>] = []
        var triangles: [[Mesh.Corner]] = []
        var lineNumber = 0
        func fail(_ reason: String) -> MeshError { .file(path: name, line: lineNumber, reason: reason) }
        // Lines are walked one at a time (an eager split of a file of newlines would hold one Substring per byte),
        // and a statement longer than maxStatementLength is refused before it is split into words.
        var lineStart = text.startIndex
        while lineStart < text.endIndex {
            let lineEnd = text.utf8[lineStart...].firstIndex(of: 0x0A) ?? text.endIndex
            let raw = text[lineStart..<lineEnd]
            lineStart = lineEnd < text.endIndex ? text.utf8.index(after: lineEnd) : text.endIndex
            lineNumber += 1
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard line.utf8.count <= maxStatementLength else {
                throw fail("a statement of \(line.utf8.count) bytes ('\(printable(line))'); OBJ statements here are at most "
                    + "\(maxStatementLength) (a face of 4 corners is a few dozen)")
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let keyword = words.first else { continue }
            let args = words.dropFirst()
            func numbers(_ count: ClosedRange<Int>) throws(MeshError) -> [Double] {
                guard count.contains(args.count) else { throw fail("'\(keyword)' takes \(count.lowerBound)\(count.count > 1 ? "–\(count.upperBound)" : "") numbers, got \(args.count)") }
                var out: [Double] = []
                for a in args {
                    guard let v = Double(a), v.isFinite else { throw fail("'\(printable(a))' is not a finite number") }
                    out.append(v)
                }
                return out
            }
            switch keyword {
            case "v":
                let v = try numbers(3...4)
                positions.append(SIMD3(v[0], v[1], v[2]))
                if positions.count > Mesh.maxVertices { throw fail("more than \(Mesh.maxVertices) vertices") }
            case "vt":
                let v = try numbers(2...3)
                uvs.append(SIMD2(v[0], v[1]))
                if uvs.count > Mesh.maxVertices { throw fail("more than \(Mesh.maxVertices) texture coordinates") }
            case "vn":
                let v = try numbers(3...3)
                normals.append(SIMD3(v[0], v[1], v[2]))
                if normals.count > Mesh.maxVertices { throw fail("more than \(Mesh.maxVertices) normals") }
            case "f":
                guard (3...4).contains(args.count) else {
                    throw fail("a face of \(args.count) corners; only triangles and quads are read (triangulate it in your 3D tool)")
                }
                var corners: [Mesh.Corner] = []
                for a in args {
                    let parts = a.split(separator: "/", omittingEmptySubsequences: false)
                    guard parts.count >= 2, !parts[1].isEmpty else {
                        throw fail("face corner '\(printable(a))' has no texture coordinate; every face needs v/vt (export the mesh with UVs)")
                    }
                    func index(_ s: Substring, _ count: Int, _ what: String) throws(MeshError) -> Int {
                        guard let i = Int(s), i != 0 else { throw fail("'\(printable(s))' is not a \(what) index (1-based, or negative from the end)") }
                        let k = i > 0 ? i - 1 : count + i
                        guard (0..<count).contains(k) else { throw fail("\(what) index \(i) is out of range (\(count) defined so far)") }
                        return k
                    }
                    let p = try index(parts[0], positions.count, "vertex")
                    let t = try index(parts[1], uvs.count, "texture coordinate")
                    let n: Int? = parts.count >= 3 && !parts[2].isEmpty ? try index(parts[2], normals.count, "normal") : nil
                    corners.append(Mesh.Corner(position: p, uv: t, normal: n))
                }
                triangles.append([corners[0], corners[1], corners[2]])
                if corners.count == 4 { triangles.append([corners[0], corners[2], corners[3]]) }
                if triangles.count > Mesh.maxTriangles { throw fail("more than \(Mesh.maxTriangles) triangles") }
            case "mtllib", "usemtl", "o", "g", "s":
                continue
            default:
                throw fail("'\(printable(keyword))' is not read here (only v, vt, vn, f, and mtllib/usemtl/o/g/s, which are ignored)")
            }
        }
        lineNumber = 0
        let mesh = Mesh(positions: positions, uvs: uvs, normals: normals, triangles: triangles)
        do { try mesh.validate() } catch { throw .file(path: name, line: nil, reason: error.description) }
        return mesh
    }

    /// Text from the file for a message: escaped, at most 40 characters (a line names the rest).
    static func printable(_ s: Substring) -> String { untrustedText(s, limit: 40) }
}
