// Tests: untrusted text is escaped (controls, ESC sequences, invalid UTF-8, bidi and format
// characters, line separators, the backslash) and cut at the limit with "…", never past it.
import Testing
import TextSafety

@Suite("Untrusted text: escaped and cut for error messages")
struct UntrustedTextTests {
    @Test("printable text, accents and CJK pass unchanged")
    func printablePassesUnchanged() {
        #expect(untrustedText("conv1.weight") == "conv1.weight")
        #expect(untrustedText("crème brûlée 猫 ü") == "crème brûlée 猫 ü")
        #expect(untrustedText("") == "")
        #expect("layer.0".terminalSafe == "layer.0")
    }

    @Test("C0 controls, DEL and C1 controls are escaped")
    func controls() {
        #expect(untrustedText("a\nb\rc\td\0e") == #"a\x0Ab\x0Dc\x09d\x00e"#)
        #expect(untrustedText("x\u{7F}y") == #"x\x7Fy"#)
        #expect(untrustedText("x\u{85}y\u{9B}z") == #"x\u{0085}y\u{009B}z"#)
    }

    @Test("an ESC sequence (colour, clear screen, title) shows as text")
    func escapeSequences() {
        let hostile = "\u{1B}[31mred\u{1B}[2J\u{1B}]0;title\u{07}"
        let shown = untrustedText(hostile)
        #expect(shown == #"\x1B[31mred\x1B[2J\x1B]0;title\x07"#)
        #expect(!shown.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    @Test("the backslash is escaped, so an escape in the text cannot pass for ours")
    func backslash() {
        #expect(untrustedText(#"a\x1Bb"#) == #"a\\x1Bb"#)
    }

    @Test("bidi overrides and isolates, zero-width characters, BOM and line separators are escaped")
    func formatCharacters() {
        #expect(untrustedText("abc\u{202E}fdp.exe") == #"abc\u{202E}fdp.exe"#)
        #expect(untrustedText("\u{2066}x\u{2069}") == #"\u{2066}x\u{2069}"#)
        #expect(untrustedText("a\u{200B}b\u{FEFF}c") == #"a\u{200B}b\u{FEFF}c"#)
        #expect(untrustedText("a\u{2028}b\u{2029}c") == #"a\u{2028}b\u{2029}c"#)
        #expect(untrustedText("a\u{00A0}b") == #"a\u{00A0}b"#)
        #expect(untrustedText("\u{E000}\u{10FFFD}") == #"\u{E000}\u{10FFFD}"#)
    }

    @Test("raw bytes: valid UTF-8 decoded, invalid bytes as \\xNN")
    func rawBytes() {
        #expect(untrustedText(bytes: Array("ok é".utf8)) == "ok é")
        // stray continuation, cut sequence, overlong "/", a UTF-16 surrogate, past U+10FFFF, 0xFF
        #expect(untrustedText(bytes: [0x61, 0x80, 0x62]) == #"a\x80b"#)
        #expect(untrustedText(bytes: [0x61, 0xE2, 0x82]) == #"a\xE2\x82"#)
        #expect(untrustedText(bytes: [0xC0, 0xAF]) == #"\xC0\xAF"#)
        #expect(untrustedText(bytes: [0xED, 0xA0, 0x80]) == #"\xED\xA0\x80"#)
        #expect(untrustedText(bytes: [0xF4, 0x90, 0x80, 0x80]) == #"\xF4\x90\x80\x80"#)
        #expect(untrustedText(bytes: [0xFF, 0x1B, 0x0A]) == #"\xFF\x1B\x0A"#)
        // a slice works too, and a decoded bidi override is escaped as a scalar
        let bytes: [UInt8] = [0x00] + Array("x\u{202E}y".utf8) + [0x00]
        #expect(untrustedText(bytes: bytes[1..<(bytes.count - 1)]) == #"x\u{202E}y"#)
    }

    @Test("long text is cut to the limit with …; text of exactly the limit is not cut")
    func cutting() {
        let exact = String(repeating: "a", count: untrustedTextLimit)
        #expect(untrustedText(exact) == exact)
        let over = exact + "b"
        #expect(untrustedText(over) == exact + "…")
        #expect(untrustedText(String(repeating: "é", count: 5000)).count == untrustedTextLimit + 1)
        #expect(untrustedText("abcdef", limit: 3) == "abc…")
        #expect(untrustedText("abc", limit: 3) == "abc")
        #expect(untrustedText("abc", limit: 0) == "…")
        #expect(untrustedText("", limit: 0) == "")
    }

    @Test("an escape is never split by the cut; escaped text of exactly the limit is not cut")
    func cuttingEscapes() {
        #expect(untrustedText("ab\n", limit: 5) == "ab…")   // "\x0A" (4) does not fit after "ab"
        #expect(untrustedText("a\n", limit: 5) == #"a\x0A"#) // exactly 5
        #expect(untrustedText(bytes: [0x61, 0xFF, 0xFF], limit: 6) == #"a\xFF…"#)
    }

    @Test("5000 bytes of binary with newlines and ESC: one line of at most limit + 1 characters")
    func hostileBinary() {
        var rng = SplitMix64(seed: 3)
        let bytes = (0..<5000).map { k -> UInt8 in k % 7 == 0 ? 0x0A : k % 11 == 0 ? 0x1B : UInt8(truncatingIfNeeded: rng.next()) }
        let shown = untrustedText(bytes: bytes)
        #expect(shown.count <= untrustedTextLimit + 1)
        #expect(shown.hasSuffix("…"))
        #expect(!shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
        let decoded = untrustedText(String(decoding: bytes, as: UTF8.self))
        #expect(decoded.count <= untrustedTextLimit + 1)
        #expect(!decoded.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
