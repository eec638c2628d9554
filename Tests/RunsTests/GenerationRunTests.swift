// GenerationRun end to end on tiny settings (seconds in release): an untargeted run, an
// ensemble run, an interrupted run resumed to the same patch, and a folder that holds a run.
// Needs the lite0/lite1 weights (Scripts/fetch-models.sh; CI's set-up installs them).
import Attack
import Foundation
import Runs
import Testing

@Suite("Generation runs", .serialized)
struct GenerationRunTests {
    static func tinyConfig(models: [String] = ["lite0"], target: Int? = 859) -> GenerateConfig {
        var c = GenerateConfig()
        c.models = models; c.target = target
        c.steps = 4; c.batch = 2; c.textureSide = 16; c.validationSamples = 4; c.periodicValidationSamples = 2; c.validateEvery = 2
        c.earlyStopRate = 2  // never: these runs must reach their last step
        c.scenes = Repo.path("Samples/scenes")
        return c
    }

    static func finished(_ outcome: GenerationRun.Outcome) throws -> GenerationRun.Result {
        guard case let .finished(result) = outcome else { throw RunError.checkpoint("the run did not finish: \(outcome)") }
        return result
    }

    @Test("untargeted: flips of the clean top-1, target null in run.json, files written, the record reads back equal")
    func untargeted() throws {
        try Repo.withScratch { dir in
            var events: [String] = []
            let run = GenerationRun(directory: dir + "/run", start: .new(Self.tinyConfig(target: nil)), toolVersion: "test")
            let result = try Self.finished(try run.run(events: { e in
                switch e {
                case .started: events.append("started")
                case let .step(p): events.append("step \(p.step)\(p.validation == nil ? "" : " validated")")
                default: events.append("other")
                }
            }))
            #expect(events == ["started", "step 1", "step 2 validated", "step 3", "step 4 validated"])
            #expect(result.record.target == nil && result.record.finalValidation?.metric == "untargeted flip of the clean top-1")
            #expect(result.final.samples == 4 && result.record.validations.map(\.step) == [2, 4])
            for path in result.written { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }
            let read = try RunRecord.read(from: dir + "/run/run.json")
            #expect(read == result.record)
            #expect(read.formatVersion == RunRecord.currentFormatVersion && read.config == Self.tinyConfig(target: nil))
            let artifact = try PatchArtifact.load(dir + "/run")
            #expect(artifact.target == nil && artifact.width == 16 && artifact.runValidation == result.record.finalValidation)
        }
    }

    @Test("ensemble lite0+lite1: both models recorded with their SHA-256, losses averaged")
    func ensemble() throws {
        try Repo.withScratch { dir in
            let run = GenerationRun(directory: dir + "/run", start: .new(Self.tinyConfig(models: ["lite0", "lite1"])), toolVersion: "test")
            let result = try Self.finished(try run.run())
            #expect(result.record.models.map(\.name) == ["lite0", "lite1"])
            #expect(result.record.models.allSatisfy { $0.sha256.count == 64 })
            #expect(result.record.target?.index == 859 && result.record.target?.label == "toaster")
            #expect(result.record.stepsDone == 4 && result.final.samples == 4)
        }
    }

    @Test("stopped after step 2 and resumed: the same patch as an uninterrupted run")
    func interruptAndResume() throws {
        try Repo.withScratch { dir in
            let whole = try Self.finished(try GenerationRun(directory: dir + "/whole", start: .new(Self.tinyConfig()), toolVersion: "t").run())
            var steps = 0
            let stopped = try GenerationRun(directory: dir + "/parts", start: .new(Self.tinyConfig()), toolVersion: "t")
                .run(events: { if case .step = $0 { steps += 1 } }, shouldStop: { steps >= 2 })
            guard case let .interrupted(step, checkpoint) = stopped else { Issue.record("not interrupted: \(stopped)"); return }
            #expect(step == 2 && checkpoint == dir + "/parts/checkpoint.json")
            var resumedAt: Int?
            let resumed = try Self.finished(try GenerationRun(directory: dir + "/parts", start: .resume(scenes: nil), toolVersion: "t")
                .run(events: { if case let .resumed(_, s, _) = $0 { resumedAt = s } }))
            // The same check result; only the wall time at which it ended differs.
            var (a, b) = (resumed.final, whole.final)
            #expect(a.seconds != nil && b.seconds != nil)
            a.seconds = nil; b.seconds = nil
            #expect(resumedAt == 2 && a == b)
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/parts/patch.png")) == Data(contentsOf: URL(fileURLWithPath: dir + "/whole/patch.png")))
            // The folder now holds a finished run: a new run into it is refused, and so is resuming it with other scenes.
            #expect { try GenerationRun(directory: dir + "/parts", start: .new(Self.tinyConfig()), toolVersion: "t").run() } throws: {
                "\($0)".contains("already holds a run")
            }
            #expect { try GenerationRun(directory: dir + "/parts", start: .resume(scenes: Repo.path("Samples/scenes/val")), toolVersion: "t").run() } throws: {
                "\($0)".contains("on its own scenes")
            }
        }
    }
}
