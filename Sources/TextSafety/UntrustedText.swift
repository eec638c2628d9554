// Text from files and other untrusted input, made fit for one line of an error message: what a
// terminal would interpret or hide is written as an escape, and long text is cut. It does not
// validate anything; readers decide what to refuse, this only decides how a refusal shows the text.
//
// Escaped: C0 controls (newline, ESC, NUL, ...), DEL, C1 controls, Unicode format characters
// (bidi overrides and isolates, zero-width characters, BOM), line and paragraph separators, other
// spacing characters than U+0020, private-use and unassigned scalars, the backslash itself, and,
// in raw bytes, every byte that is not part of valid UTF-8. `\xNN` is one byte (for ASCII, the
// byte is the scalar); `\u{NNNN}` is a decoded scalar outside ASCII.

/// At most this many characters of untrusted text are kept by default (then "…").
public let untrustedTextLimit = 80

/// `text`, escaped (see the file comment) and cut to at most `limit` characters of escaped text,
/// with "…" appended when cut. An escape is never split: the cut falls before it. Text whose escaped
/// form is exactly `limit` characters long is not cut. The work is bounded by `limit`, not by the
/// length of `text`.
public func untrustedText(_ text: some StringProtocol, limit: Int = untrustedTextLimit) -> String {
    var out = EscapedText(limit: limit)
    for scalar in text.unicodeScalars {
        if !out.append(scalar) { break }
    }
    return out.finished
}

/// Raw bytes (undecoded file content) the same way: valid UTF-8 is decoded and escaped like
/// `untrustedText(_:)`, every byte of an invalid sequence is written as `\xNN`.
public func untrustedText<Bytes: Collection>(bytes: Bytes, limit: Int = untrustedTextLimit) -> String where Bytes.Element == UInt8 {
    var out = EscapedText(limit: limit)
    var i = bytes.startIndex
    while i != bytes.endIndex {
        let (scalar, next) = decodeUTF8(bytes, at: i)
        if let scalar {
            if !out.append(scalar) { break }
        } else {
            if !out.append(byte: bytes[i]) { break }
        }
        i = next
    }
    return out.finished
}

extension StringProtocol {
    /// This text, escaped and cut for an error message (`untrustedText(_:)` with the default limit).
    public var terminalSafe: String { untrustedText(self) }
}

/// Whether `scalar` is written as itself (printable, and harmless on a terminal line).
@inline(__always)
func isShownAsIs(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    if v >= 0x20 && v < 0x7F { return v != 0x5C }  // printable ASCII except the backslash
    if v < 0xA0 { return false }                    // C0, DEL, C1
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator,
         .privateUse, .surrogate, .unassigned:
        return false
    default:
        return true
    }
}

/// The escaped text built so far, with its length in characters (the escapes are ASCII, and each
/// kept scalar is counted as one: combining marks then count on their own, which only cuts earlier).
private struct EscapedText {
    let limit: Int
    var text = ""
    var count = 0
    var cut = false

    init(limit: Int) { self.limit = max(limit, 0) }

    /// Appends one scalar; false (and marks the text cut) when it does not fit.
    mutating func append(_ scalar: Unicode.Scalar) -> Bool {
        if isShownAsIs(scalar) { return add(String(scalar)) }
        if scalar.value == 0x5C { return add("\\\\") }
        if scalar.value < 0x80 { return add(hexByte(UInt8(scalar.value))) }
        return add("\\u{" + hex(scalar.value, digits: 4) + "}")
    }

    mutating func append(byte: UInt8) -> Bool { add(hexByte(byte)) }

    private mutating func add(_ piece: String) -> Bool {
        let n = piece.unicodeScalars.count
        guard count + n <= limit else { cut = true; return false }
        text += piece
        count += n
        return true
    }

    var finished: String { cut ? text + "…" : text }
}

private func hexByte(_ b: UInt8) -> String { "\\x" + hex(UInt32(b), digits: 2) }

private func hex(_ v: UInt32, digits: Int) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

/// The scalar whose UTF-8 encoding starts at `i` and the index after it, or (nil, the index after
/// `i`) when the bytes there are not valid UTF-8 (a stray continuation byte, a cut sequence, an
/// overlong form, a surrogate, or a value past U+10FFFF).
private func decodeUTF8<Bytes: Collection>(_ bytes: Bytes, at i: Bytes.Index) -> (Unicode.Scalar?, Bytes.Index) where Bytes.Element == UInt8 {
    let lead = bytes[i]
    let next = bytes.index(after: i)
    if lead < 0x80 { return (Unicode.Scalar(lead), next) }
    let length: Int, initial: UInt32, minimum: UInt32
    switch lead {
    case 0xC2...0xDF: (length, initial, minimum) = (2, UInt32(lead & 0x1F), 0x80)
    case 0xE0...0xEF: (length, initial, minimum) = (3, UInt32(lead & 0x0F), 0x800)
    case 0xF0...0xF4: (length, initial, minimum) = (4, UInt32(lead & 0x07), 0x10000)
    default: return (nil, next)
    }
    var value = initial
    var j = next
    for _ in 1..<length {
        guard j != bytes.endIndex, bytes[j] & 0xC0 == 0x80 else { return (nil, next) }
        value = value << 6 | UInt32(bytes[j] & 0x3F)
        j = bytes.index(after: j)
    }
    guard value >= minimum, let scalar = Unicode.Scalar(value) else { return (nil, next) }
    return (scalar, j)
}

/// A file path for an error message: escaped like untrusted text (a file name can hold a newline or
/// ESC too) but cut only past 400 characters, so that ordinary paths show whole.
public func displayPath(_ path: some StringProtocol) -> String { untrustedText(path, limit: 400) }
