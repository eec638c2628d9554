// `BitmapFont`: an 8×8 monochrome bitmap font read from a small text resource, and the bundled
// public-domain `font8x8_basic` (printable ASCII; see Resources/FONT-LICENSE.md). No system fonts,
// no anti-aliasing, no kerning: every glyph advances by the same width.
import Foundation

/// A fixed-width bitmap font whose glyphs are 8 × 8 pixels.
///
/// File format (one glyph per line, `#` starts a comment): the code point in hex, then 8 hex
/// bytes, the top row first; bit n (value `1 << n`) of a row byte is pixel column n from the left.
public struct BitmapFont: Sendable {
    public static let glyphWidth = 8
    public static let glyphHeight = 8

    /// Row bytes by code point, 8 per glyph.
    private let glyphs: [UInt32: [UInt8]]
    private let fallback: [UInt8]

    /// Parses the text format above. Throws when a line is malformed or there is no '?' glyph.
    public init(parsing text: String) throws(DrawingError) {
        var glyphs: [UInt32: [UInt8]] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            let shown = String(rawLine.prefix(60))
            guard fields.count == 9 else {
                throw .badFontLine(line: index + 1, text: shown, reason: "expected 9 fields, got \(fields.count)")
            }
            guard let code = UInt32(fields[0], radix: 16) else {
                throw .badFontLine(line: index + 1, text: shown, reason: "\"\(fields[0])\" is not a hex code point")
            }
            var rows: [UInt8] = []
            for field in fields.dropFirst() {
                guard let byte = UInt8(field, radix: 16) else {
                    throw .badFontLine(line: index + 1, text: shown, reason: "\"\(field)\" is not a hex byte")
                }
                rows.append(byte)
            }
            glyphs[code] = rows
        }
        guard let fallback = glyphs[0x3F] else { throw .missingFallbackGlyph }
        self.glyphs = glyphs
        self.fallback = fallback
    }

    /// The bundled `font8x8_basic` (Daniel Hepper, public domain): ASCII 32–126.
    public static let basic8x8: BitmapFont = {
        // A missing or damaged resource is a packaging bug, not a user error.
        guard let url = Bundle.module.url(forResource: "font8x8_basic", withExtension: "txt"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            preconditionFailure("Drawing: the bundled font8x8_basic.txt resource is missing; rebuild the package")
        }
        do {
            return try BitmapFont(parsing: text)
        } catch {
            preconditionFailure("Drawing: the bundled font8x8_basic.txt is damaged: \(error)")
        }
    }()

    /// Whether the font has its own glyph for `scalar` (otherwise '?' is drawn).
    public func hasGlyph(_ scalar: Unicode.Scalar) -> Bool { glyphs[scalar.value] != nil }

    /// The 8 row bytes drawn for `scalar`: its glyph, or '?' when the font lacks it.
    public func rows(for scalar: Unicode.Scalar) -> [UInt8] { glyphs[scalar.value] ?? fallback }

    /// Whether pixel (`column`, `row`) of the glyph drawn for `scalar` is ink.
    public func isInk(_ scalar: Unicode.Scalar, column: Int, row: Int) -> Bool {
        guard column >= 0, column < Self.glyphWidth, row >= 0, row < Self.glyphHeight else { return false }
        return rows(for: scalar)[row] & (1 << UInt8(column)) != 0
    }
}
