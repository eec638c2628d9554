// Damaged checkpoints: each save keeps the one before as checkpoint.prev.json; a checkpoint.json
// cut short at any length, with a changed byte or extra bytes is refused in at most 3 lines that
// name that backup, and `.resume(fromBackup: true)` continues from it to the same patch and
// texture as an uninterrupted run. Tiny runs (5 steps, 16-pixel texture): seconds in release.
import Attack
import Foundation
import Runs
import Testing

@Suite("Checkpoint faults", .serialized)
struct CheckpointFaultTests {
    /// 5 steps, a checkpoint every 2: saves at steps 2, 4 and 5, so checkpoint.prev.json is step 4.
    static func config() -> GenerateConfig {
        var c = GenerationRunTests.tinyConfig()
        c.steps = 5; c.checkpointEvery = 2
        return c
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// The message of `body`'s error (empty when it does not throw).
    static func refusal(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test("a truncated, changed or lengthened checkpoint.json is refused naming the good backup; --from-backup ends on the same patch")
    func damagedCheckpointFallsBackToTheBackup() throws {
        try Repo.withScratch { dir in
            let whole = RunFiles(directory: dir + "/whole"), parts = RunFiles(directory: dir + "/parts")
            _ = try GenerationRunTests.finished(try GenerationRun(directory: whole.directory, start: .new(Self.config()), toolVersion: "t").run())
            _ = try GenerationRunTests.finished(try GenerationRun(directory: parts.directory, start: .new(Self.config()), toolVersion: "t").run())
            #expect(try parts.loadCheckpoint().state.step == 5)
            #expect(Self.refusal { _ = try parts.loadCheckpoint(fromBackup: true) }.contains("is whole and newer than its backup"))
            let good = try Self.bytes(parts.checkpointPath)
            #expect(good.starts(with: Data(#"{"format":"robustpatch-checkpoint","bytes":"#.utf8)) && good.last == UInt8(ascii: "\n"))

            func flipped(_ offset: Int) -> Data { var d = good; d[offset] ^= 0x01; return d }
            let headerEnd = good.range(of: Data(#""checkpoint":"#.utf8))!.upperBound
            let hashAt = good.range(of: Data(#""sha256":""#.utf8))!.upperBound
            let lengthAt = good.range(of: Data(#""bytes":"#.utf8))!.upperBound
            let damages: [(String, Data, String)] = [
                ("empty", Data(), "not valid JSON"),
                ("1 byte", good.prefix(1), "truncated: 1 bytes, cut inside its header"),
                ("inside the header", good.prefix(30), "truncated: 30 bytes, cut inside its header"),
                ("after the header", good.prefix(headerEnd + 10), "truncated: \(headerEnd + 10) bytes of the \(good.count)"),
                ("half", good.prefix(good.count / 2), "truncated: \(good.count / 2) bytes of the \(good.count)"),
                ("without its closing brace", good.prefix(good.count - 2), "truncated: \(good.count - 2) bytes of the \(good.count)"),
                ("a changed byte in the texture", flipped(headerEnd + (good.count - headerEnd) / 2), "do not match their SHA-256"),
                ("a changed byte in the SHA-256", flipped(hashAt + 5), "do not match their SHA-256"),
                ("a changed digit of the length", flipped(lengthAt), "its header announces"),
                ("a changed byte in the format name", flipped(5), "cannot be read as a checkpoint (field"),
                ("extra bytes", good + Data("{}\n".utf8), "3 bytes more than its header announces"),
            ]
            for (name, data, expected) in damages {
                try data.write(to: URL(fileURLWithPath: parts.checkpointPath))
                let message = Self.refusal { _ = try parts.loadCheckpoint() }
                #expect(message.contains(expected), "\(name): \(message)")
                #expect(message.hasPrefix("\(parts.checkpointPath) is damaged: "), "\(name): \(message)")
                #expect(message.contains("The last good checkpoint is its backup \(parts.backupCheckpointPath) (step 4 of 5)")
                        && message.contains("--resume --from-backup"), "\(name): \(message)")
                #expect((1...3).contains(message.split(separator: "\n").count), "\(name): \(message)")
                // GenerationRun refuses the same way, before it writes anything.
                let run = Self.refusal { _ = try GenerationRun(directory: parts.directory, start: .resume(scenes: nil), toolVersion: "t").run() }
                #expect(run == message, "\(name)")
                #expect(try Self.bytes(parts.checkpointPath) == data && Self.bytes(parts.backupCheckpointPath).count > 0)
            }
            // Only the final newline missing: nothing of the checkpoint is lost, so it loads.
            try good.prefix(good.count - 1).write(to: URL(fileURLWithPath: parts.checkpointPath))
            #expect(try parts.loadCheckpoint().state.step == 5)

            // Resuming from the backup (step 4) ends where the uninterrupted run ended, bit for bit.
            try good.prefix(good.count / 3).write(to: URL(fileURLWithPath: parts.checkpointPath))
            let backup = try Self.bytes(parts.backupCheckpointPath)
            var resumedFrom: String?
            let resumed = try GenerationRunTests.finished(try GenerationRun(directory: parts.directory, start: .resume(scenes: nil, fromBackup: true), toolVersion: "t")
                .run(events: { if case let .resumed(checkpoint, step, _) = $0 { resumedFrom = "\(checkpoint) \(step)" } }))
            #expect(resumedFrom == "\(parts.backupCheckpointPath) 4")
            #expect(resumed.record.stepsDone == 5)
            #expect(try Self.bytes(parts.texturePath) == Self.bytes(whole.texturePath))
            #expect(try parts.loadCheckpoint().state.texture == whole.loadCheckpoint().state.texture)
            #expect(try parts.loadCheckpoint().state.adam == whole.loadCheckpoint().state.adam)
            // The damaged file is kept aside, not rotated into the backup.
            #expect(try Self.bytes(parts.damagedCheckpointPath) == good.prefix(good.count / 3))
            #expect(try Self.bytes(parts.backupCheckpointPath) == backup)
        }
    }

    @Test("a damaged checkpoint.json without a good backup says there is none, or that it is damaged too")
    func noGoodBackup() throws {
        try Repo.withScratch { dir in
            var c = Self.config(); c.steps = 2; c.checkpointEvery = 25  // one save: no backup
            let files = RunFiles(directory: dir + "/run")
            _ = try GenerationRunTests.finished(try GenerationRun(directory: files.directory, start: .new(c), toolVersion: "t").run())
            #expect(!FileManager.default.fileExists(atPath: files.backupCheckpointPath))
            let good = try Self.bytes(files.checkpointPath)
            try good.prefix(100).write(to: URL(fileURLWithPath: files.checkpointPath))
            let none = Self.refusal { _ = try files.loadCheckpoint() }
            #expect(none.contains("is damaged: it is truncated") && none.contains("there is no earlier checkpoint (checkpoint.prev.json)"), "\(none)")
            let noBackup = Self.refusal { _ = try files.loadCheckpoint(fromBackup: true) }
            #expect(noBackup.contains("holds no backup checkpoint"), "\(noBackup)")
            try good.prefix(200).write(to: URL(fileURLWithPath: files.backupCheckpointPath))
            let both = Self.refusal { _ = try files.loadCheckpoint() }
            #expect(both.contains("its backup cannot stand in: \(files.backupCheckpointPath) is damaged: it is truncated: 200 bytes"), "\(both)")
            // A missing checkpoint.json with a good backup points to it.
            try good.write(to: URL(fileURLWithPath: files.backupCheckpointPath))
            try FileManager.default.removeItem(atPath: files.checkpointPath)
            let missing = Self.refusal { _ = try files.loadCheckpoint() }
            #expect(missing.contains("is missing, but its backup") && missing.contains("--from-backup"), "\(missing)")
            // And a new run into the folder is refused: the backup is a run that can be continued.
            #expect(Self.refusal { _ = try GenerationRun(directory: files.directory, start: .new(c), toolVersion: "t").run() }
                .contains("already holds a run (checkpoint.prev.json)"))
        }
    }

    @Test("a checkpoint written before checksums (plain JSON) still loads")
    func plainJSONCheckpointLoads() throws {
        try Repo.withScratch { dir in
            var c = Self.config(); c.steps = 2
            let files = RunFiles(directory: dir + "/run")
            _ = try GenerationRunTests.finished(try GenerationRun(directory: files.directory, start: .new(c), toolVersion: "t").run())
            let saved = try files.loadCheckpoint()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(saved).write(to: URL(fileURLWithPath: files.checkpointPath))
            let read = try files.loadCheckpoint()
            #expect(read.state == saved.state && read.config == saved.config)
        }
    }
}
