// Losses on the patch texture: total variation (smoothness, so the print survives blur and
// resampling) and the non-printability score (Sharif et al. 2016: distance to printable colours).
// Texture layout (H, W, 3), values in [0, 1]. Each loss returns its value and ACCUMULATES its
// gradient, times `weight`, into `gradient`.
import Foundation
import TextSafety

public enum TotalVariation {
    /// Mean over pixels of √(Δx² + Δy² + ε) with forward differences (Δ = 0 past the last
    /// row/column). ε = 1e-4 keeps the gradient finite where the texture is flat.
    public static let epsilon: Double = 1e-4

    public static func loss(texture t: [Float], width w: Int, height h: Int, weight: Double, gradient: inout [Float]) -> Double {
        precondition(t.count == w * h * 3 && gradient.count == t.count)
        var total = 0.0
        let norm = 1.0 / Double(w * h)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let i = (y * w + x) * 3 + c
                    let dx = x + 1 < w ? Double(t[i + 3] - t[i]) : 0
                    let dy = y + 1 < h ? Double(t[i + w * 3] - t[i]) : 0
                    let r = (dx * dx + dy * dy + epsilon).squareRoot()
                    total += r
                    let g = weight * norm / r
                    if x + 1 < w { gradient[i + 3] += Float(g * dx); gradient[i] -= Float(g * dx) }
                    if y + 1 < h { gradient[i + w * 3] += Float(g * dy); gradient[i] -= Float(g * dy) }
                }
            }
        }
        return total * norm
    }
}

/// A printable palette: the colours a printer can reproduce (RGB in [0, 1]).
public struct PrintablePalette: Sendable, Equatable {
    public var colors: [SIMD3<Float>]

    /// The most colours a palette may hold: the loss costs texels × colours on every step, and a measured palette
    /// has one colour per chart patch (at most 16 × 16); Sharif et al. used 30, the bundled one has 130.
    public static let maxColors = 4096
    /// The largest palette file read (4096 lines of "255 255 255" are 50 KB; comments may add some).
    public static let maxFileBytes = 1 << 20

    public init(colors: [SIMD3<Float>]) throws {
        guard !colors.isEmpty else { throw AttackError.badPalette("the palette has no colours") }
        guard colors.count <= Self.maxColors else {
            throw AttackError.badPalette("the palette has \(colors.count) colours; at most \(Self.maxColors) (the loss visits each on every step)")
        }
        guard colors.allSatisfy({ c in (0..<3).allSatisfy { c[$0].isFinite && c[$0] >= 0 && c[$0] <= 1 } }) else {
            throw AttackError.badPalette("palette colours must be finite and within 0…1")
        }
        self.colors = colors
    }

    /// Reads a palette file: one colour per line as three numbers 0–255 (or 0–1 when all are
    /// ≤ 1), separated by spaces, commas or tabs; `#` starts a comment.
    public static func read(from path: String) throws -> PrintablePalette {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileBytes else {
            throw AttackError.badPalette("\(displayPath(path)): the palette file is \(size) bytes; at most \(maxFileBytes) are read (one colour per line)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AttackError.badPalette("\(displayPath(path)): cannot read the palette file")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws -> PrintablePalette {
        var rows: [[Double]] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
            if parts.isEmpty { continue }
            let values = parts.compactMap(Double.init)
            guard parts.count == 3, values.count == 3, values.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 255 }) else {
                throw AttackError.badPalette("\(displayPath(source)):\(n + 1): expected three numbers 0–255, got '\(untrustedText(line))'")
            }
            rows.append(values)
            guard rows.count <= maxColors else {
                throw AttackError.badPalette("\(displayPath(source)): more than \(maxColors) colours; at most \(maxColors) (the loss visits each on every step)")
            }
        }
        let scale = rows.allSatisfy { $0.allSatisfy { $0 <= 1 } } ? 1.0 : 255.0
        return try PrintablePalette(colors: rows.map { SIMD3(Float($0[0] / scale), Float($0[1] / scale), Float($0[2] / scale)) })
    }

    /// The bundled default (Resources/default_palette.txt): see that file for how it was made.
    public static func defaultPalette() throws -> PrintablePalette {
        guard let url = Bundle.module.url(forResource: "default_palette", withExtension: "txt"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw AttackError.badPalette("the bundled default_palette.txt is missing; rebuild the package")
        }
        return try parse(text, source: "default_palette.txt")
    }
}

public enum NonPrintability {
    /// Mean over masked pixels of the distance to the nearest palette colour,
    /// √(‖p − c*‖² + ε) (the min-distance form used by Thys et al. 2019 in place of Sharif's
    /// product, which vanishes/explodes with large palettes). `mask` (H·W) weights each pixel.
    public static func loss(texture t: [Float], mask: [Float], palette: PrintablePalette, weight: Double, gradient: inout [Float]) -> Double {
        let pixels = t.count / 3
        precondition(mask.count == pixels && gradient.count == t.count)
        let maskSum = max(mask.reduce(0, +), 1e-6)
        var total = 0.0
        for p in 0..<pixels where mask[p] > 0 {
            let v = SIMD3<Float>(t[p * 3], t[p * 3 + 1], t[p * 3 + 2])
            var best = Float.infinity, nearest = palette.colors[0]
            for c in palette.colors {
                let d = v - c
                let dd = (d * d).sum()
                if dd < best { best = dd; nearest = c }
            }
            let r = (Double(best) + 1e-6).squareRoot()
            total += Double(mask[p]) * r
            let g = weight * Double(mask[p]) / Double(maskSum) / r
            let d = v - nearest
            for c in 0..<3 { gradient[p * 3 + c] += Float(g * Double(d[c])) }
        }
        return total / Double(maskSum)
    }
}
