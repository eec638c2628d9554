// Patch masks (alpha at texture resolution, (Th, Tw), values in [0, 1]) with anti-aliased edges
// by 4×4 supersampled area coverage. Not differentiable: the optimizer does not move the mask.

public struct Mask: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// (height, width) alpha in [0, 1], row-major.
    public let alpha: [Float]

    /// A user alpha map, e.g. from a PNG's alpha channel. Throws on a wrong count, non-finite or
    /// out-of-[0, 1] values, or when no pixel has alpha > 0.5.
    public init(alpha: [Float], width: Int, height: Int) throws {
        guard width > 0, height > 0 else {
            throw TransformError.invalid(field: "mask", reason: "width and height must be positive, got \(width)×\(height)")
        }
        guard alpha.count == width * height else {
            throw TransformError.shapeMismatch(name: "mask alpha", expected: width * height, got: alpha.count, shape: "(\(height), \(width))")
        }
        for (i, a) in alpha.enumerated() {
            guard a.isFinite, a >= 0, a <= 1 else {
                throw TransformError.invalid(field: "mask alpha[\(i)] (x \(i % width), y \(i / width))", reason: "value \(a) is not in [0, 1]")
            }
        }
        guard alpha.contains(where: { $0 > 0.5 }) else {
            throw TransformError.emptyMask(reason: "all \(alpha.count) alpha values are <= 0.5")
        }
        self.width = width; self.height = height; self.alpha = alpha
    }

    /// Rasterises `inside(x, y)` (texture pixel coords) by 4×4 supersampling per pixel.
    static func rasterise(width: Int, height: Int, _ inside: (Double, Double) -> Bool) throws -> Mask {
        var a = [Float](repeating: 0, count: max(0, width * height))
        if width > 0 && height > 0 {
            for y in 0..<height {
                for x in 0..<width {
                    var n = 0
                    for sy in 0..<4 {
                        for sx in 0..<4 where inside(Double(x) + (Double(sx) + 0.5) / 4, Double(y) + (Double(sy) + 0.5) / 4) { n += 1 }
                    }
                    a[y * width + x] = Float(n) / 16
                }
            }
        }
        return try Mask(alpha: a, width: width, height: height)
    }

    /// All-opaque (the patch's own edge is anti-aliased by the warp).
    public static func full(width: Int, height: Int) throws -> Mask {
        try Mask(alpha: [Float](repeating: 1, count: max(0, width * height)), width: width, height: height)
    }

    /// The largest centred circle (diameter = shorter side).
    public static func circle(width: Int, height: Int) throws -> Mask {
        let cx = Double(width) / 2, cy = Double(height) / 2, r = Double(min(width, height)) / 2
        return try rasterise(width: width, height: height) { x, y in (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r }
    }

    /// The largest centred square (side = shorter side); all-opaque on a square texture.
    public static func square(width: Int, height: Int) throws -> Mask {
        try rectangle(aspect: 1, width: width, height: height)
    }

    /// The largest centred rectangle with width / height = `aspect` (> 0).
    public static func rectangle(aspect: Double, width: Int, height: Int) throws -> Mask {
        guard aspect.isFinite, aspect > 0 else {
            throw TransformError.outOfRange(field: "mask aspect", value: aspect, allowed: "finite and > 0")
        }
        var rw = Double(width), rh = rw / aspect
        if rh > Double(height) { rh = Double(height); rw = rh * aspect }
        let x0 = (Double(width) - rw) / 2, y0 = (Double(height) - rh) / 2
        return try rasterise(width: width, height: height) { x, y in x >= x0 && x <= x0 + rw && y >= y0 && y <= y0 + rh }
    }
}
