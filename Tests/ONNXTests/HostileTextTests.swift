// Tests (issue 23): names, op types and attribute text from an .onnx file reach an error escaped and cut
// (TextSafety), and the error stays 1–3 short lines; a tensor claiming more elements than fit is refused
// before its data is read.
import Foundation
import Testing
import SwiftProtobuf
import ONNX

/// 1–3 lines, at most 300 characters besides the path and the supported-operator list, no control character
/// but the line breaks, no DEL or C1 control.
func expectTerminalSafe(_ text: String, path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count <= 3, "\(text.debugDescription)", sourceLocation: sourceLocation)
    let own = text.components(separatedBy: "\nSupported:").first ?? text
    #expect(own.count - path.count <= 300, "\(own.count) characters: \(text.debugDescription)", sourceLocation: sourceLocation)
    let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) }
    #expect(bad.isEmpty, "control characters \(bad.map { $0.value }) in \(text.debugDescription)", sourceLocation: sourceLocation)
}

let hostileName = "n\u{1B}[2J\u{1B}]0;pwned\u{07}\n\r\u{202E}" + String(repeating: "\u{85}x\u{2028}", count: 2000)

@Suite struct HostileTextTests {
    @Test func aHostileNodeNameAndOpTypeAreEscaped() throws {
        var m = tinyModel()
        m.graph.node[1].opType = hostileName
        m.graph.node[1].name = hostileName
        let path = try write(m)
        let e = try #require(refusal(path))
        expectTerminalSafe(e.description, path: path)
        #expect(e.description.contains(#"node 'n\x1B[2J\x1B]0;pwned\x07\x0A\x0D\u{202E}\u{0085}x\u{2028}"#), "\(e.description)")
    }

    @Test func aHostileTensorNameIsEscapedAndItsClaimedSizeRefusedFirst() throws {
        var m = tinyModel()
        m.graph.initializer[0].name = hostileName
        m.graph.initializer[0].dims = [1 << 20, 1 << 20]   // 2^40 floats claimed by a file of a few hundred bytes
        let path = try write(m)
        let e = try #require(refusal(path))
        guard case .tooLarge = e else { Issue.record("got \(e)"); return }
        expectTerminalSafe(e.description, path: path)
        // dims whose product overflows Int64
        var o = tinyModel()
        o.graph.initializer[0].dims = [Int64.max, Int64.max, 2]
        let e2 = try #require(refusal(try write(o)))
        guard case .tooLarge = e2 else { Issue.record("got \(e2)"); return }
    }

    @Test func aHostileStringAttributeIsEscaped() throws {
        var m = tinyModel()
        var a = Onnx_AttributeProto()
        a.name = hostileName; a.type = .graph
        m.graph.node[1].attribute.append(a)
        let path = try write(m)
        let e = try #require(refusal(path))
        expectTerminalSafe(e.description, path: path)
    }
}
