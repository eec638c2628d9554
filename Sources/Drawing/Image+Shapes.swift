// Filled and stroked rectangles, lines (Bresenham) and single pixels drawn into an `Image`.
// Everything is clipped to the image; coordinates are integer pixels, (0, 0) the top-left pixel.
// Not anti-aliased and not a vector renderer.
import Imaging

extension Image {
    /// Paints pixel (`x`, `y`) with `color`; outside the image it does nothing.
    /// Alpha 1 overwrites (RGBA images get alpha 1); lower alpha blends "over" the pixel.
    public mutating func setPixel(x: Int, y: Int, color: Color) {
        guard x >= 0, x < width, y >= 0, y < height, color.alpha > 0 else { return }
        let i = (y * width + x) * channels
        Self.paint(&pixels, at: i, channels: channels, color: color)
    }

    /// Fills the rectangle with top-left pixel (`x`, `y`) and the given size (clipped).
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: Color) {
        let x0 = max(x, 0), y0 = max(y, 0)
        let x1 = min(x + w, width), y1 = min(y + h, height)
        guard x0 < x1, y0 < y1, color.alpha > 0 else { return }
        let c = channels, imageWidth = width
        pixels.withUnsafeMutableBufferPointer { buffer in
            for row in y0..<y1 {
                var i = (row * imageWidth + x0) * c
                for _ in x0..<x1 {
                    Self.paint(buffer, at: i, channels: c, color: color)
                    i += c
                }
            }
        }
    }

    /// Strokes the outline of a rectangle: `lineWidth` pixels wide, drawn INSIDE the rectangle
    /// (the outer edge is the rectangle's edge), so a stroked box never grows.
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, lineWidth: Int = 1, color: Color) {
        guard w > 0, h > 0, lineWidth > 0 else { return }
        let t = min(lineWidth, (min(w, h) + 1) / 2)
        fillRect(x: x, y: y, width: w, height: t, color: color)                 // top
        fillRect(x: x, y: y + h - t, width: w, height: t, color: color)         // bottom
        fillRect(x: x, y: y + t, width: t, height: h - 2 * t, color: color)     // left
        fillRect(x: x + w - t, y: y + t, width: t, height: h - 2 * t, color: color)  // right
    }

    /// A line from pixel (`x0`, `y0`) to pixel (`x1`, `y1`), both ends included.
    ///
    /// Axis-aligned lines are exact rectangles `lineWidth` thick, extending right of / below the
    /// given pixels for even widths (centred for odd ones). Other lines use Bresenham's algorithm
    /// and stamp a `lineWidth` × `lineWidth` square at each step.
    public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, lineWidth: Int = 1, color: Color) {
        guard lineWidth > 0 else { return }
        let before = (lineWidth - 1) / 2
        if y0 == y1 {
            fillRect(x: min(x0, x1), y: y0 - before, width: abs(x1 - x0) + 1, height: lineWidth, color: color)
            return
        }
        if x0 == x1 {
            fillRect(x: x0 - before, y: min(y0, y1), width: lineWidth, height: abs(y1 - y0) + 1, color: color)
            return
        }
        // Bresenham (all octants): error term e = dx + dy with dy negative.
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var x = x0, y = y0, e = dx + dy
        while true {
            if lineWidth == 1 {
                setPixel(x: x, y: y, color: color)
            } else {
                fillRect(x: x - before, y: y - before, width: lineWidth, height: lineWidth, color: color)
            }
            if x == x1 && y == y1 { break }
            let e2 = 2 * e
            if e2 >= dy { e += dy; x += sx }
            if e2 <= dx { e += dx; y += sy }
        }
    }

    /// Writes `color` at sample index `i` (the pixel's first channel): overwrite when opaque,
    /// otherwise straight-alpha "over" compositing.
    @inline(__always)
    static func paint(_ p: UnsafeMutableBufferPointer<Float>, at i: Int, channels: Int, color: Color) {
        if color.alpha >= 1 {
            p[i] = color.red; p[i + 1] = color.green; p[i + 2] = color.blue
            if channels == 4 { p[i + 3] = 1 }
            return
        }
        let a = max(color.alpha, 0)
        let below = channels == 4 ? p[i + 3] : 1
        let outAlpha = a + below * (1 - a)
        guard outAlpha > 0 else { return }
        let keep = below * (1 - a) / outAlpha, take = a / outAlpha
        p[i] = color.red * take + p[i] * keep
        p[i + 1] = color.green * take + p[i + 1] * keep
        p[i + 2] = color.blue * take + p[i + 2] * keep
        if channels == 4 { p[i + 3] = outAlpha }
    }

    static func paint(_ pixels: inout [Float], at i: Int, channels: Int, color: Color) {
        pixels.withUnsafeMutableBufferPointer { paint($0, at: i, channels: channels, color: color) }
    }
}
