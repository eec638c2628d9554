// `DrawingError`: what can go wrong when loading a bitmap font. Drawing itself never throws:
// shapes are clipped to the image, and characters the font lacks render as '?'.

/// A bitmap font file could not be parsed.
public enum DrawingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `line` is 1-based; `reason` says what was expected.
    case badFontLine(line: Int, text: String, reason: String)
    /// The font has no '?' glyph, which stands in for every missing character.
    case missingFallbackGlyph

    public var description: String {
        switch self {
        case .badFontLine(let line, let text, let reason):
            return "bitmap font, line \(line) \"\(text)\": \(reason). Each glyph line is a hex code point "
                + "and 8 hex row bytes, e.g. \"0041 0C 1E 33 33 3F 33 33 00\"."
        case .missingFallbackGlyph:
            return "bitmap font: no glyph for '?' (U+003F), which is drawn for characters the font lacks. Add one."
        }
    }
}
