// Tests (issue 23): a transform distribution's unknown keys and bad values are quoted escaped and cut
// (TextSafety); however many unknown keys a file has, the error names three and counts the rest.
import Foundation
import Testing
import Transforms

/// (The list of valid keys that an unknown-key error ends with is the tool's own text, not counted.)
func expectTerminalSafe(_ text: String, path: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count <= 3, "\(text.debugDescription)", sourceLocation: sourceLocation)
    let own = text.components(separatedBy: "; the keys are ").first ?? text
    #expect(own.count - path.count <= 300, "\(text.count) characters: \(text.debugDescription)", sourceLocation: sourceLocation)
    let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) }
    #expect(bad.isEmpty, "control characters \(bad.map { $0.value }) in \(text.debugDescription)", sourceLocation: sourceLocation)
}

/// `s` as a JSON string literal (controls as \u00XX).
func jsonString(_ s: String) -> String {
    "\"" + s.unicodeScalars.map { $0.value < 0x20 || $0 == "\"" || $0 == "\\" ? String(format: "\\u%04x", $0.value) : String($0) }.joined() + "\""
}

@Suite struct HostileJSONTests {
    func refusal(_ json: String, _ decode: (Data) throws -> Any) -> String {
        do { _ = try decode(Data(json.utf8)); Issue.record("decoded"); return "" } catch { return "\(error)" }
    }

    @Test func anUnknownKeyFullOfControlCharactersIsEscaped() {
        let key = "ro\u{1B}[2J\n\u{202E}l" + String(repeating: "\u{7F}\u{0}", count: 2000)
        let text = refusal("{\(jsonString(key)): 1, \"yaw\": {\"min\": 0, \"max\": 1}}") { try TransformDistribution.fromJSON($0) }
        expectTerminalSafe(text)
        #expect(text.contains(#"unknown key 'ro\x1B[2J\x0A\u{202E}l\x7F\x00"#), "\(text)")
        for decode: (Data) throws -> Any in [{ try ImageTransformDistribution.fromJSON($0) }] {
            expectTerminalSafe(refusal("{\(jsonString(key)): 1}", decode))
        }
    }

    @Test func tenThousandUnknownKeysAreCountedNotListed() {
        let keys = (0..<10_000).map { "\"k\($0)\\u001b\": 1" }.joined(separator: ", ")
        let text = refusal("{\(keys)}") { try TransformDistribution.fromJSON($0) }
        expectTerminalSafe(text)
        #expect(text.contains("and 9997 more"), "\(text)")
    }

    @Test func aWrongValueAndANonFiniteLineAreEscaped() {
        // a string where a range goes: the decoder's words, escaped
        let text = refusal("{\"yaw\": \(jsonString("\u{1B}[31m" + String(repeating: "z", count: 500)))}") { try TransformDistribution.fromJSON($0) }
        expectTerminalSafe(text)
        // invalid JSON: the line with NaN is quoted, escaped and cut
        let nan = "{\"yaw\": {\"min\": NaN, \"max\": 1}, \u{1B}[2J" + String(repeating: "\u{202E}", count: 300) + "\n}"
        let t2 = refusal(nan) { try TransformDistribution.fromJSON($0) }
        expectTerminalSafe(t2)
        #expect(t2.contains("non-finite number"), "\(t2)")
    }

    @Test func describeDecodingErrorEscapesDictionaryKeys() {
        struct Holder: Decodable { var values: [String: Double] }
        let key = "a\u{1B}]0;x\u{07}" + String(repeating: "\n", count: 300)
        do {
            _ = try JSONDecoder().decode(Holder.self, from: Data("{\"values\": {\(jsonString(key)): \"one\"}}".utf8))
            Issue.record("decoded")
        } catch {
            let text = describeDecodingError(error)
            expectTerminalSafe(text)
            #expect(text.contains(#"values.a\x1B]0;x\x07\x0A"#), "\(text)")
        }
    }
}
