// Tests (issue 23): a run.json's hostile keys and values are quoted escaped and cut, and the settings that
// size what a run allocates (validation samples, palette colours, models) are refused past their bounds
// before anything is drawn; a palette file's lines are quoted escaped.
import Attack
import Foundation
import Runs
import Testing

func expectTerminalSafe(_ text: String, path: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count <= 3, "\(text.debugDescription)", sourceLocation: sourceLocation)
    #expect(text.count - path.count <= 300, "\(text.count) characters: \(text.debugDescription)", sourceLocation: sourceLocation)
    let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) }
    #expect(bad.isEmpty, "control characters \(bad.map { $0.value }) in \(text.debugDescription)", sourceLocation: sourceLocation)
}

@Suite struct HostileRecordTests {
    @Test func aRunRecordWithAHostileValueIsQuotedEscaped() throws {
        try Repo.withScratch { dir in
            let path = dir + "/run.json"
            // a hostile string where the loss name goes: the decoder's words quote it
            let value = "\\u001b[2J\\n\\u202e" + String(repeating: "\\u0085x", count: 1000)
            try Data(#"{"target": null, "config": {"loss": "\#(value)"}}"#.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: RunError.self) { try RunRecord.read(from: path) }
            let text = error?.description ?? ""
            expectTerminalSafe(text, path: path)
            #expect(text.hasPrefix(path) && text.contains("loss"), "\(text)")
        }
    }

    @Test("a validation's success rate and sample count are checked (rate × samples becomes an Int)", arguments: [
        #""final_validation": {"success": 1e300, "samples": 1000}"#,
        #""final_validation": {"success": 0.5, "samples": -4}"#,
        #""final_validation_last_iterate": {"success": 0.5, "samples": 9223372036854775807}"#,
        #""validations": [{"step": 3, "success": -1e308, "samples": 8}]"#,
    ])
    func validationRatesAreChecked(_ field: String) throws {
        try Repo.withScratch { dir in
            let path = dir + "/run.json"
            try Data(#"{"target": null, "config": {}, \#(field)}"#.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: RunError.self) { try RunRecord.read(from: path) }
            let text = error?.description ?? ""
            #expect(text.contains("a success rate is 0–1 of 0–1000000 samples"), "\(text)")
            expectTerminalSafe(text, path: path)
        }
    }

    @Test("a record's config is held to a new run's bounds", arguments: [
        (#""batch": 100000"#, "must be 1…512, got 100000"),
        (#""validationSamples": 1000000000"#, "must be 1…1000000"),
        (#""textureSide": 1000000"#, "must be 8…1024 pixels"),
        (#""learningRate": -1"#, "must be a finite number > 0"),
    ])
    func aRecordsConfigIsValidated(_ setting: String, _ expected: String) throws {
        try Repo.withScratch { dir in
            let path = dir + "/run.json"
            try Data(#"{"target": {"index": 859}, "config": {\#(setting)}}"#.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: RunError.self) { try RunRecord.read(from: path) }
            let text = error?.description ?? ""
            #expect(text.contains("impossible setting") && text.contains(expected), "\(text)")
            expectTerminalSafe(text, path: path)
        }
    }

    @Test func validationSamplesPaletteAndModelsAreBounded() throws {
        func problem(_ change: (inout GenerateConfig) -> Void) -> String {
            var c = GenerateConfig()
            change(&c)
            do { try c.validate(); return "" } catch { return "\(error)" }
        }
        #expect(problem { $0.validationSamples = 1_000_000_000 }.contains("must be 1…1000000, got 1000000000"))
        #expect(problem { $0.periodicValidationSamples = Int.max }.contains("must be 1…1000000"))
        #expect(problem { $0.validationSamples = 1_000_000 } == "")
        #expect(problem { $0.paletteRGB = Array(repeating: [0.5, 0.5, 0.5], count: 5000) }.contains("at most 4096"))
        #expect(problem { $0.models = Array(repeating: "lite0", count: 1000) }.contains("at most 32"))
    }

    @Test func aPaletteFileQuotesItsBadLineEscapedAndIsBounded() throws {
        try Repo.withScratch { dir in
            let path = dir + "/palette.txt"
            try Data(("0 0 0\n1 2 \u{1B}[2J" + String(repeating: "\u{202E}", count: 500) + "\n").utf8).write(to: URL(fileURLWithPath: path))
            let text = "\(#expect(throws: (any Error).self) { try PrintablePalette.read(from: path) }!)"
            expectTerminalSafe(text, path: path)
            #expect(text.contains(#":2: expected three numbers 0–255, got '1 2 \x1B[2J\u{202E}"#), "\(text)")
            // 5000 colours: refused at the 4097th line
            try Data(String(repeating: "1 2 3\n", count: 5000).utf8).write(to: URL(fileURLWithPath: path))
            let t2 = "\(#expect(throws: (any Error).self) { try PrintablePalette.read(from: path) }!)"
            #expect(t2.contains("more than 4096 colours"), "\(t2)")
            // 2 MiB: refused before it is read
            try Data(count: 2 << 20).write(to: URL(fileURLWithPath: path))
            let t3 = "\(#expect(throws: (any Error).self) { try PrintablePalette.read(from: path) }!)"
            #expect(t3.contains("the palette file is 2097152 bytes"), "\(t3)")
        }
    }
}
