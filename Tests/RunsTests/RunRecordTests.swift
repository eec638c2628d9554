// RunRecord: every run.json committed in this repository reads (format 1, written before the
// type existed), and a record survives encode → decode unchanged; damaged targets are refused.
import Attack
import Foundation
import Runs
import Testing
import Transforms

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// A scratch folder removed after `body`.
    static func withScratch(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runs-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }
}

@Suite("Run records")
struct RunRecordTests {
    static let committed = ["Printouts/toaster-run/run.json", "Printouts/toaster-photo-run/run.json",
                            "Printouts/toaster-physical-run/run.json", "Tests/EvaluationTests/Fixtures/toaster_run/run.json"]

    @Test("every committed run.json reads, and round-trips through encode/decode", arguments: committed)
    func committedRecordsRoundTrip(_ relative: String) throws {
        let record = try RunRecord.read(from: Repo.path(relative))
        // Written before RunRecord existed (format 1), except the physical run (format 2).
        #expect(record.formatVersion == (relative.contains("physical") ? 2 : 1))
        #expect(record.target?.index == 859 && record.target?.label == "toaster")
        #expect(record.models.first?.sha256.hasPrefix("579344248a93") == true)
        #expect(record.finalValidation?.samples ?? 0 > 0)
        let again = try JSONDecoder().decode(RunRecord.self, from: try record.jsonData())
        #expect(again == record)
        // The settings the old records hold are read, not replaced by defaults.
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Repo.path(relative)))) as! [String: Any]
        let config = raw["config"] as! [String: Any]
        #expect(record.config.seed == config["seed"] as! UInt64)
        if let steps = config["steps"] as? Int { #expect(record.config.steps == steps) }
        if let d = config["averageDecay"] as? Double { #expect(record.config.averageDecay == d) }
    }

    @Test("the photo run's settings are read in full: calibration palette, averaging, preset")
    func photoRunSettings() throws {
        let r = try RunRecord.read(from: Repo.path("Printouts/toaster-photo-run/run.json"))
        #expect(r.config.averageDecay == 0.99 && r.config.presetName == "photo" && r.config.loss == .crossEntropy)
        #expect((r.config.paletteRGB?.count ?? 0) > 10 && r.config.npsWeight == 0.05)
        #expect(r.config.distribution.printerChannelGain?.count == 3)
        #expect(r.finalValidationLastIterate != nil && r.validations.count > 10)
    }

    @Test("a new record writes format 2 with target null when untargeted, and reads back equal")
    func untargetedRoundTrip() throws {
        var config = GenerateConfig()
        config.target = nil
        let record = RunRecord(version: "test", created: "2026-12-03T00:00:00Z",
                               models: [.init(spec: "lite0", name: "lite0", path: "/x", sha256: "abc")], target: nil, config: config,
                               stepsDone: 3, earlyStopped: false, elapsedSeconds: 1.5, threads: 2, texture: .init(width: 64, height: 64),
                               scenes: .init(train: ["a.jpg"], validation: ["b.jpg"]),
                               finalValidation: RunValidation(success: 0.5, samples: 8, meanTargetProbability: 0.25, metric: "untargeted flip of the clean top-1"),
                               validations: [.init(step: 3, success: 0.5, samples: 8)], finalValidationLastIterate: nil)
        let data = try record.jsonData()
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(object["target"] is NSNull && object["format_version"] as? Int == 2)
        #expect((object["config"] as! [String: Any])["loss"] as? String == "ce")
        #expect(try JSONDecoder().decode(RunRecord.self, from: data) == record)
    }

    @Test("a damaged target is refused, naming the file", arguments: [
        (#"{"index": 5000, "label": "toaster"}"#, "has target.index 5000"),
        (#""toaster""#, "field \"target\": must be null"),
        ("MISSING", "field \"target\" is missing"),
    ])
    func damagedTarget(_ target: String, _ expected: String) throws {
        try Repo.withScratch { dir in
            let path = dir + "/run.json"
            let body = target == "MISSING" ? #"{"config": {}}"# : #"{"config": {}, "target": \#(target)}"#
            try Data(body.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: RunError.self) { try RunRecord.read(from: path) }
            #expect(error?.description.contains(path) == true && error?.description.contains(expected) == true, "\(String(describing: error))")
        }
    }

    @Test("a record from a newer format is refused")
    func newerFormat() throws {
        try Repo.withScratch { dir in
            let path = dir + "/run.json"
            try Data(#"{"format_version": 99, "target": null}"#.utf8).write(to: URL(fileURLWithPath: path))
            #expect { try RunRecord.read(from: path) } throws: { "\($0)".contains("newer version") }
        }
    }
}
