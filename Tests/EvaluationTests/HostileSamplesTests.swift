// Tests (issue 23): a samples file's hostile scene names and keys are quoted escaped and cut, and a file
// past the size bound is refused before it is read.
import Evaluation
import Foundation
import Transforms
import Testing

func expectTerminalSafe(_ text: String, path: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count <= 3, "\(text.debugDescription)", sourceLocation: sourceLocation)
    #expect(text.count - path.count <= 300, "\(text.count) characters: \(text.debugDescription)", sourceLocation: sourceLocation)
    let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) }
    #expect(bad.isEmpty, "control characters \(bad.map { $0.value }) in \(text.debugDescription)", sourceLocation: sourceLocation)
}

@Suite struct HostileSamplesTests {
    func scratch(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eval-hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    @Test func hostileSceneNamesAreEscapedAndCounted() throws {
        try scratch { dir in
            let path = dir + "/samples.json"
            let set = SampleSet(method: "file", seed: 1,
                                scenes: (0..<1000).map { "s\($0)\u{1B}[2J\n\u{202E}" + String(repeating: "x", count: 300) },
                                stratified: [], samples: [EvaluationSample(scene: 5, transform: TransformSample())])
            try set.write(to: path)
            let text = "\(#expect(throws: (any Error).self) { try SampleSet.read(from: path, sceneCount: 2) }!)"
            expectTerminalSafe(text, path: path)
            #expect(text.contains(#"s0\x1B[2J\x0A\u{202E}xx"#) && text.contains("and 997 more"), "\(text)")
        }
    }

    @Test func aHostileKeyInASamplesFileIsEscaped() throws {
        try scratch { dir in
            let path = dir + "/samples.json"
            try Data(#"{"formatVersion": 1, "method": "\u001b[2J\n", "seed": "\u001b]0;x\u0007", "scenes": [], "stratified": [], "samples": []}"#.utf8)
                .write(to: URL(fileURLWithPath: path))
            let text = "\(#expect(throws: (any Error).self) { try SampleSet.read(from: path, sceneCount: 2) }!)"
            expectTerminalSafe(text, path: path)
            #expect(text.contains("seed"), "\(text)")
        }
    }

    @Test func aSamplesFileOverOneGiBIsRefusedUnread() throws {
        try scratch { dir in
            let path = dir + "/huge.json"
            FileManager.default.createFile(atPath: path, contents: nil)
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try h.truncate(atOffset: UInt64(SampleSet.maxFileBytes) + 1)   // sparse: no disk used
            try h.close()
            let text = "\(#expect(throws: (any Error).self) { try SampleSet.read(from: path, sceneCount: 2) }!)"
            #expect(text.contains("is 1073741825 bytes; a samples file is at most 1073741824"), "\(text)")
        }
    }
}
