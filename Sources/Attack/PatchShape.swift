// PatchShape: the outline of the sticker (circle, square, W×H rectangle, or a PNG's alpha) and
// the texture size it implies.
import Foundation
import Imaging
import Transforms

public enum PatchShape: Codable, Sendable, Equatable, CustomStringConvertible {
    case circle
    case square
    /// Physical or relative width × height, e.g. 2×1.
    case rectangle(width: Double, height: Double)
    /// A PNG whose alpha (or, without alpha, luminance) is the mask.
    case maskFile(path: String)

    /// "circle", "square", "rect:2x1", or a path to a PNG.
    public static func parse(_ s: String) throws -> PatchShape {
        switch s.lowercased() {
        case "circle": return .circle
        case "square": return .square
        default:
            if s.lowercased().hasPrefix("rect:") {
                let parts = s.dropFirst(5).lowercased().split(separator: "x").compactMap { Double($0) }
                guard parts.count == 2, parts.allSatisfy({ $0.isFinite && $0 > 0 }), max(parts[0], parts[1]) / min(parts[0], parts[1]) <= 10 else {
                    throw AttackError.invalidSetting(.shape, "\(s): write rect:WxH with positive numbers and an aspect ratio up to 10, e.g. rect:3x2")
                }
                return .rectangle(width: parts[0], height: parts[1])
            }
            if s.lowercased().hasSuffix(".png") || FileManager.default.fileExists(atPath: s) { return .maskFile(path: s) }
            throw AttackError.invalidSetting(.shape, "\(s): use circle, square, rect:WxH or the path of a mask PNG")
        }
    }

    /// The kind of outline: circle, square, rectangle or mask (a print caption's word for it).
    public var name: String {
        switch self {
        case .circle: return "circle"
        case .square: return "square"
        case .rectangle: return "rectangle"
        case .maskFile: return "maskFile"
        }
    }

    public var description: String {
        switch self {
        case .circle: return "circle"
        case .square: return "square"
        case let .rectangle(w, h): return "rect:\(w)x\(h)"
        case let .maskFile(p): return p
        }
    }

    /// Texture width and height for a longer side of `side` pixels.
    public func textureSize(side: Int) throws -> (width: Int, height: Int) {
        switch self {
        case .circle, .square: return (side, side)
        case let .rectangle(w, h):
            return w >= h ? (side, max(2, Int((Double(side) * h / w).rounded()))) : (max(2, Int((Double(side) * w / h).rounded())), side)
        case let .maskFile(path):
            let img = try Image.read(from: path)
            return img.width >= img.height ? (side, max(2, side * img.height / img.width)) : (max(2, side * img.width / img.height), side)
        }
    }

    /// The anti-aliased alpha mask at texture resolution. A mask PNG with no opaque pixel throws.
    public func mask(width: Int, height: Int) throws -> Mask {
        switch self {
        case .circle: return try Mask.circle(width: width, height: height)
        case .square, .rectangle: return try Mask.full(width: width, height: height)
        case let .maskFile(path):
            do { return try Mask(image: try Image.read(from: path), width: width, height: height) } catch let error as ImagingError {
                throw AttackError.invalidSetting(.shape, "mask \(path): \(error)")
            } catch {
                throw AttackError.invalidSetting(.shape, "mask \(path): no opaque pixel (every alpha ≤ 0.5 after resizing to \(width)×\(height)); the mask must mark where the patch is with alpha (or white on black without alpha)")
            }
        }
    }
}
