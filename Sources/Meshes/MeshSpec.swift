// Which mesh a run textures, as a run record spells it: a built-in shape with its physical size,
// or an OBJ file. `load()` builds or reads it; the CLI's `--mesh KIND --mesh-size SIZE` parse here.
import Foundation
import TextSafety

public enum MeshSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    /// A can or bottle: the side is the label, the lids are aluminium.
    case cylinder(diameter: Double, height: Double)
    /// A box whose texture is its net (cereal-box layout).
    case box(width: Double, height: Double, depth: Double)
    /// A ball with a latitude–longitude texture.
    case sphere(diameter: Double)
    /// A Wavefront OBJ with texture coordinates in [0, 1], in millimetres.
    case file(path: String)

    /// The default sizes (mm): a 330 ml drinks can, a cereal box, a tennis ball.
    public static let defaultCylinder = MeshSpec.cylinder(diameter: 66, height: 115)
    public static let defaultBox = MeshSpec.box(width: 190, height: 280, depth: 60)
    public static let defaultSphere = MeshSpec.sphere(diameter: 67)

    /// `kind` is cylinder, box, sphere or the path of an .obj; `size` (mm, "x"-separated, an
    /// optional "mm") is d×h for a cylinder, w×h×d for a box, d for a sphere; nil takes the
    /// default size. A file takes no size (its coordinates are millimetres).
    public static func parse(_ kind: String, size: String?) throws(MeshError) -> MeshSpec {
        func numbers(_ count: Int, _ form: String) throws(MeshError) -> [Double]? {
            guard let size else { return nil }
            var text = size.lowercased().trimmingCharacters(in: .whitespaces)
            if text.hasSuffix("mm") { text.removeLast(2) }
            let parts = text.split(separator: "x", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == count, parts.allSatisfy({ $0 != nil && $0!.isFinite && $0! > 0 && $0! <= 10_000 }) else {
                throw .invalid("mesh size '\(untrustedText(size))': a \(untrustedText(kind)) takes \(form) in millimetres, each in (0, 10000], e.g. \(Self.example(kind))")
            }
            return parts.map { $0! }
        }
        switch kind.lowercased() {
        case "cylinder", "can":
            guard let n = try numbers(2, "diameter x height") else { return defaultCylinder }
            return .cylinder(diameter: n[0], height: n[1])
        case "box":
            guard let n = try numbers(3, "width x height x depth") else { return defaultBox }
            return .box(width: n[0], height: n[1], depth: n[2])
        case "sphere", "ball":
            guard let n = try numbers(1, "a diameter") else { return defaultSphere }
            return .sphere(diameter: n[0])
        default:
            guard kind.lowercased().hasSuffix(".obj") else {
                throw .invalid("'\(untrustedText(kind))' is not a mesh: use cylinder, box, sphere or the path of a Wavefront .obj file")
            }
            guard size == nil else {
                throw .invalid("an OBJ file gives its own size (its coordinates are millimetres); drop the mesh size, or scale the file")
            }
            return .file(path: kind)
        }
    }

    static func example(_ kind: String) -> String {
        switch kind.lowercased() { case "box": "190x280x60"; case "sphere", "ball": "67"; default: "66x115" }
    }

    /// Builds the shape or reads the file (every refusal a `MeshError` naming the problem).
    public func load() throws(MeshError) -> Mesh {
        switch self {
        case let .cylinder(d, h): return try Mesh.cylinder(diameter: d, height: h)
        case let .box(w, h, d): return try Mesh.box(width: w, height: h, depth: d)
        case let .sphere(d): return try Mesh.sphere(diameter: d)
        case let .file(path): return try OBJReader.read(from: path)
        }
    }

    /// "cylinder 66 × 115 mm", "box 190 × 280 × 60 mm", "sphere 67 mm", or the file's path.
    public var description: String {
        func mm(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%g", v) }
        switch self {
        case let .cylinder(d, h): return "cylinder \(mm(d)) × \(mm(h)) mm"
        case let .box(w, h, d): return "box \(mm(w)) × \(mm(h)) × \(mm(d)) mm"
        case let .sphere(d): return "sphere \(mm(d)) mm"
        case let .file(path): return path
        }
    }

    /// The word for the kind: cylinder, box, sphere or file.
    public var kind: String {
        switch self { case .cylinder: "cylinder"; case .box: "box"; case .sphere: "sphere"; case .file: "file" }
    }
}
