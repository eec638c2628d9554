// Tests (issue 23): OBJ text quoted in an error is escaped and cut (TextSafety), every error stays one
// short line, and a statement too long to be real is refused before it is split into words.
import Foundation
import Meshes
import Testing

func expectTerminalSafe(_ text: String, path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count <= 3, "\(text.debugDescription)", sourceLocation: sourceLocation)
    #expect(text.count - path.count <= 300, "\(text.count) characters: \(text.debugDescription)", sourceLocation: sourceLocation)
    let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) }
    #expect(bad.isEmpty, "control characters \(bad.map { $0.value }) in \(text.debugDescription)", sourceLocation: sourceLocation)
}

@Suite("Meshes: hostile OBJ text and sizes")
struct HostileOBJTests {
    func refusal(_ text: String, name: String = "m.obj") -> String {
        do { _ = try OBJReader.parse(Data(text.utf8), name: name); Issue.record("parsed"); return "" } catch { return error.description }
    }

    @Test("an unknown keyword of ESC, bidi and 1000 characters is escaped and cut")
    func hostileKeyword() {
        let text = refusal("v 0 0 0\n\u{1B}[2J\u{202E}\u{85}" + String(repeating: "x", count: 1000) + " 1 2\n")
        expectTerminalSafe(text, path: "m.obj")
        #expect(text.hasPrefix(#"m.obj:2: '\x1B[2J\u{202E}\u{0085}xxx"#), "\(text)")
        #expect(text.contains("…"))
    }

    @Test("a number or face corner of control characters is escaped")
    func hostileNumbers() {
        expectTerminalSafe(refusal("v 0 0 \u{1B}]0;title\u{07}" + String(repeating: "\u{2028}", count: 500)), path: "m.obj")
        expectTerminalSafe(refusal("v 0 0 0\nvt 0 0\nf 1/1 1/1 \u{1B}[31m" + String(repeating: "9", count: 900) + "/1"), path: "m.obj")
    }

    @Test("a file name with a newline and ESC is escaped in the error")
    func hostileFileName() {
        let name = "/tmp/a\n\u{1B}[2Jb.obj"
        let text = refusal("l 1 2", name: name)
        #expect(text.hasPrefix(#"/tmp/a\x0A\x1B[2Jb.obj:1:"#), "\(text)")
        expectTerminalSafe(text, path: name)
    }

    @Test("a statement of 10 MB is refused before it is split into its 5 million words")
    func longStatement() {
        let text = refusal("v" + String(repeating: " 1", count: 5_000_000))
        #expect(text.contains("a statement of 10000001 bytes") && text.contains("at most \(OBJReader.maxStatementLength)"), "\(text)")
        expectTerminalSafe(text, path: "m.obj")
        // a long comment is no statement
        let ok = "# " + String(repeating: "c", count: 100_000) + "\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nf 1/1 2/2 3/3\n"
        #expect((try? OBJReader.parse(Data(ok.utf8)))?.triangles.count == 1)
    }

    @Test("lines end at LF or CRLF, and line numbers count both")
    func lineEndings() {
        let text = refusal("v 0 0 0\r\nv 1 0 0\r\n\r\nbad 1\r\n")
        #expect(text.hasPrefix("m.obj:4: 'bad'"), "\(text)")
    }

    /// Found by fuzzing (Tests/FuzzCorpus/obj/regressions/vertex-1e308.obj): a vertex at 1e308
    /// made the texture aspect NaN and converting it to a texture size trapped.
    @Test("a vertex beyond a kilometre is refused, naming it")
    func farVertex() {
        let quad = "v 0 0 0\nv 100 0 0\nv 100 100 0\nv 0 100 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nf 1/1 2/2 3/3 4/4\n"
        #expect((try? OBJReader.parse(Data(quad.utf8)))?.triangles.count == 2)
        for far in ["1e308", "-2e6", "1000001"] {
            let text = refusal(quad.replacingOccurrences(of: "v 100 0 0", with: "v \(far) 0 0"))
            #expect(text.contains("vertex 2") && text.contains("1000000 mm"), "\(text)")
            expectTerminalSafe(text, path: "m.obj")
        }
    }
}
