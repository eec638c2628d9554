// Text drawn into an `Image` with a `BitmapFont` (by default the bundled public-domain 8×8 font),
// magnified by an integer factor so strokes stay crisp. ASCII 32–126 render; other characters
// render as '?'; "\n" starts a new line. Not a text shaper: no kerning, no Unicode; `wrapped`
// splits a paragraph into lines by words.
import Imaging

extension Image {
    /// `s` with every character the 8×8 font cannot draw (outside ASCII 32–126) replaced by "?".
    public static func drawable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { (32...126).contains($0.value) ? $0 : "?" }))
    }

    /// Splits `text` into at most `maxLines` lines of at most `width` characters (word wrap,
    /// hard cut for long words, "." marks a truncation).
    public static func wrapped(_ text: String, width: Int, maxLines: Int = .max) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ").map(String.init) {
            var w = word
            while w.count > width {          // a word longer than a line is cut
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(w.prefix(width)))
                w = String(w.dropFirst(width))
            }
            if w.isEmpty { continue }
            if current.isEmpty { current = w } else if current.count + 1 + w.count <= width { current += " " + w } else { lines.append(current); current = w }
        }
        if !current.isEmpty { lines.append(current) }
        if lines.count > maxLines {
            lines = Array(lines.prefix(maxLines))
            lines[maxLines - 1] = String(lines[maxLines - 1].prefix(width - 1)) + "."
        }
        return lines
    }

    /// Pixels one character advances: 8 × `scale`.
    public static func characterAdvance(scale: Int) -> Int { BitmapFont.glyphWidth * max(scale, 1) }

    /// Pixels from one line's top to the next: 10 × `scale` (8 for the glyph, 2 of leading).
    public static func lineHeight(scale: Int) -> Int { (BitmapFont.glyphHeight + 2) * max(scale, 1) }

    /// Width in pixels of the widest line of `text` at `scale` (every character, even a missing
    /// one, is 8 × `scale` wide).
    public static func textWidth(_ text: String, scale: Int = 1) -> Int {
        let longest = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.unicodeScalars.count }.max() ?? 0
        return longest * characterAdvance(scale: scale)
    }

    /// Height in pixels of `text` at `scale`: 8 × `scale` for one line, plus `lineHeight` per extra line.
    public static func textHeight(_ text: String, scale: Int = 1) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        return (lines - 1) * lineHeight(scale: scale) + BitmapFont.glyphHeight * max(scale, 1)
    }

    /// Draws `text` with its first glyph's top-left corner at (`x`, `y`); each font pixel becomes a
    /// `scale` × `scale` square (scale 2 gives 16-pixel text). Only ink is drawn: the background
    /// shows through. Clipped to the image. Returns the width drawn (as `textWidth`).
    @discardableResult
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: Color = .black,
                                  font: BitmapFont = .basic8x8) -> Int {
        let s = max(scale, 1)
        var lineTop = y
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var left = x
            for scalar in line.unicodeScalars {
                let rows = font.rows(for: scalar)
                for (r, bits) in rows.enumerated() where bits != 0 {
                    for column in 0..<BitmapFont.glyphWidth where bits & (1 << UInt8(column)) != 0 {
                        fillRect(x: left + column * s, y: lineTop + r * s, width: s, height: s, color: color)
                    }
                }
                left += Self.characterAdvance(scale: s)
            }
            lineTop += Self.lineHeight(scale: s)
        }
        return Self.textWidth(text, scale: s)
    }
}
