// Copying one `Image` into another at a pixel offset, optionally scaled (nearest neighbour or the
// smooth triangle filter of `Image.resized`). Clipped to the destination. Not a warp: no rotation.
import Imaging

/// How `blit(_:x:y:width:height:filter:)` scales the source.
public enum ScaleFilter: String, Sendable, CaseIterable {
    /// Each destination pixel takes the source pixel under its centre: blocky, exact colours.
    case nearest
    /// `Image.resized`: triangle (bilinear) filter, anti-aliased when shrinking (as PIL's BILINEAR).
    case bilinear
}

extension Image {
    /// Draws `source` with its top-left pixel at (`x`, `y`). An RGB source is copied exactly; an
    /// RGBA source is composited "over" the destination with its straight alpha (alpha 1 copies
    /// exactly, alpha 0 leaves the destination). Parts outside the destination are dropped.
    public mutating func blit(_ source: Image, x: Int, y: Int) {
        let x0 = max(x, 0), y0 = max(y, 0)
        let x1 = min(x + source.width, width), y1 = min(y + source.height, height)
        guard x0 < x1, y0 < y1 else { return }
        let dc = channels, sc = source.channels, dw = width, sw = source.width
        source.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for row in y0..<y1 {
                    for column in x0..<x1 {
                        let s = ((row - y) * sw + (column - x)) * sc
                        let d = (row * dw + column) * dc
                        let alpha: Float = sc == 4 ? src[s + 3] : 1
                        if alpha >= 1 {
                            dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                            if dc == 4 { dst[d + 3] = 1 }
                        } else if alpha > 0 {
                            Image.paint(dst, at: d, channels: dc,
                                        color: Color(red: src[s], green: src[s + 1], blue: src[s + 2], alpha: alpha))
                        }
                    }
                }
            }
        }
    }

    /// Draws `source` scaled to `width` × `height` pixels with its top-left pixel at (`x`, `y`).
    /// Sizes below 1 draw nothing.
    public mutating func blit(_ source: Image, x: Int, y: Int, width w: Int, height h: Int, filter: ScaleFilter) {
        guard w >= 1, h >= 1, w <= Image.maxSide, h <= Image.maxSide else { return }
        if w == source.width && h == source.height {
            blit(source, x: x, y: y)
            return
        }
        switch filter {
        case .bilinear:
            blit(source.resized(width: w, height: h), x: x, y: y)
        case .nearest:
            blit(source.resizedNearest(width: w, height: h), x: x, y: y)
        }
    }

    /// Nearest-neighbour resampling: output pixel centre (i + 0.5) maps to source column
    /// floor((i + 0.5) · sourceWidth / width), likewise for rows.
    public func resizedNearest(width w: Int, height h: Int) -> Image {
        var out = Image(width: w, height: h, channels: channels, fill: 0)
        let c = channels
        let columns = (0..<w).map { min(Int((Double($0) + 0.5) * Double(width) / Double(w)), width - 1) }
        for row in 0..<h {
            let sy = min(Int((Double(row) + 0.5) * Double(height) / Double(h)), height - 1)
            for column in 0..<w {
                let s = (sy * width + columns[column]) * c, d = (row * w + column) * c
                for k in 0..<c { out.pixels[d + k] = pixels[s + k] }
            }
        }
        return out
    }
}
