// Faults during a long run, through the built binary on a small run (60 steps, batch 2, 16-pixel
// texture, checkpoints at steps 25 and 50): SIGTERM and SIGINT save a checkpoint and exit 143 and
// 130; a write that fails (injected with ROBUSTPATCH_FAIL_WRITES_AFTER, a full 192 KiB tmpfs, a
// read-only folder) stops the run with a 1–3 line error that names the file and what to do, and
// leaves the last checkpoint whole; a damaged checkpoint.json is refused naming its backup. After
// each, `--resume` (or `--resume --from-backup`) ends on exactly the uninterrupted run's patch.png,
// curve.csv and final texture. The tmpfs cases need `mount` (root) and are skipped only without it.
import Foundation
import Testing

enum FaultRun {
    static let settings = ["--target", "toaster", "--scenes", "Samples/scenes", "--steps", "60", "--batch", "2", "--texture", "16",
                           "--validation-samples", "4", "--validate-every", "10", "--seed", "3"]

    /// One uninterrupted run, made once for the suite; the other runs end on its files. Its folder,
    /// rp-fault-reference-PID, is removed at exit; one left by a test process that died is removed
    /// by the next.
    static let reference: Result<String, any Error> = Result {
        let tmp = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? [] where name.hasPrefix("rp-fault-reference-") {
            if let pid = Int32(name.dropFirst("rp-fault-reference-".count)), kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
            }
        }
        let dir = tmp.appendingPathComponent("rp-fault-reference-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("rp-fault-reference-\(getpid())")) }
        let out = dir.appendingPathComponent("reference").path
        let r = try CLI.run(["generate"] + settings + ["--out", out])
        guard r.status == 0 else { throw CLIError("the reference run failed: \(r.err)") }
        return out
    }

    struct CLIError: Error, CustomStringConvertible { var description: String; init(_ s: String) { description = s } }

    static func file(_ dir: String, _ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// The step and texture saved in a checkpoint file (the `checkpoint` inside its envelope).
    static func checkpoint(_ path: String) throws -> (step: Int, texture: [Double]) {
        let object = try JSONSerialization.jsonObject(with: bytes(path)) as? [String: Any]
        let state = (object?["checkpoint"] as? [String: Any])?["state"] as? [String: Any]
        guard let step = state?["step"] as? Int, let texture = state?["texture"] as? [Double] else { throw CLIError("\(path) holds no checkpoint state") }
        return (step, texture)
    }

    /// Names of temporary files (AtomicFile's `NAME.tmp-XXXXXX`) left in `dir`.
    static func leftovers(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-") || $0.hasPrefix(".robustpatch-probe") }
    }

    /// Every file in `dir` with its bytes.
    static func snapshot(_ dir: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) { files[name] = try bytes(file(dir, name)) }
        return files
    }

    /// The run in `dir` ended exactly where the reference run did: patch.png, curve.csv and the final texture.
    static func expectSameEnd(_ dir: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try FaultRun.reference.get()
        for name in ["patch.png", "patch_rgba.png", "curve.csv"] {
            #expect(try bytes(file(dir, name)) == bytes(file(reference, name)), "\(what): \(name) differs from the uninterrupted run's", sourceLocation: sourceLocation)
        }
        let (a, b) = (try checkpoint(file(dir, "checkpoint.json")), try checkpoint(file(reference, "checkpoint.json")))
        #expect(a.step == 60 && a.step == b.step && a.texture == b.texture, "\(what): the final texture differs", sourceLocation: sourceLocation)
    }

    /// The error's lines (ArgumentParser's "Error: " first), at most 3 of them.
    static func expectShort(_ err: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = err.split(separator: "\n", omittingEmptySubsequences: true)
        #expect((1...3).contains(lines.count), "\(what): \(lines.count) lines: \(err)", sourceLocation: sourceLocation)
    }
}

/// A tmpfs for one test (root only), unmounted when `body` returns.
enum Tmpfs {
    @discardableResult
    static func run(_ args: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Whether this process can mount a tmpfs (tried once on a scratch folder).
    static let available: Bool = {
        guard let dir = try? CLI.tempDir() else { return false }
        defer { try? FileManager.default.removeItem(at: dir) }
        guard run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path]) else { return false }
        return run(["umount", dir.path])
    }()

    static func with(size: String, _ body: (String) throws -> Void) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mount = dir.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try #require(run(["mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mount]))
        defer { run(["umount", mount]) }
        try body(mount)
    }
}

@Suite("robustpatch generate under faults", .serialized)
struct FaultTests {
    @Test("SIGTERM and SIGINT after the first checkpoint: checkpoint saved, exit 128 + signal; --resume ends on the same patch and texture",
          arguments: [SIGTERM, SIGINT])
    func stopBySignal(_ signal: Int32) throws {
        _ = try FaultRun.reference.get()
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("cut").path, log = dir.appendingPathComponent("log.txt")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = CLI.executable
        p.arguments = ["generate"] + FaultRun.settings + ["--out", out]
        p.currentDirectoryURL = CLI.root
        let logHandle = try FileHandle(forWritingTo: log)
        p.standardOutput = logHandle; p.standardError = logHandle
        let started = Date()
        try p.run()
        // The signal goes once the first checkpoint (step 25) is on disk.
        while !FileManager.default.fileExists(atPath: FaultRun.file(out, "checkpoint.json")) && p.isRunning && Date().timeIntervalSince(started) < 300 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let firstCheckpoint = Date().timeIntervalSince(started)
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        try logHandle.close()
        let output = try String(contentsOf: log, encoding: .utf8)
        let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
        #expect(p.terminationReason == .exit && p.terminationStatus == 128 + signal, "\(name): exit \(p.terminationStatus) (\(p.terminationReason)): \(output.suffix(400))")
        #expect(output.contains("\(name)") && output.contains("checkpoint saved to \(FaultRun.file(out, "checkpoint.json"))")
                && output.contains("robustpatch generate --resume --out \(out)"), "\(output.suffix(400))")
        // The checkpoint it stopped on, and the one before it (step 25) kept as the backup.
        let stopped = try FaultRun.checkpoint(FaultRun.file(out, "checkpoint.json"))
        #expect((25..<60).contains(stopped.step), "stopped at step \(stopped.step)")
        #expect(try FaultRun.checkpoint(FaultRun.file(out, "checkpoint.prev.json")).step == 25)
        #expect(FaultRun.leftovers(out).isEmpty, "\(FaultRun.leftovers(out))")
        let resumed = try CLI.run(["generate", "--resume", "--out", out])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.out.contains("at step \(stopped.step)/60"), "\(resumed.out.prefix(300))")
        try FaultRun.expectSameEnd(out, name)
        print("\(name): first checkpoint after \(String(format: "%.1f", firstCheckpoint)) s, stopped at step \(stopped.step), whole test \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    @Test("a write that fails (injected full disk) stops the run naming the file; the last checkpoint resumes to the same patch",
          arguments: [(3, "curve.png", 25), (6, "checkpoint.json", 25), (12, "curve.csv", 60)])
    func injectedWriteFailure(_ after: Int, _ failing: String, _ intact: Int) throws {
        _ = try FaultRun.reference.get()
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run").path
        // Writes in order: curve.png at steps 10, 20; checkpoint 25; curve.png 30, 40, 50; checkpoint 50;
        // curve.png 60; the final checkpoint; patch.png, patch_rgba.png, mask.png, curve.csv, …
        let r = try CLI.run(["generate"] + FaultRun.settings + ["--out", out], environment: ["ROBUSTPATCH_FAIL_WRITES_AFTER": "\(after)"])
        #expect(r.status == 1 && !r.crashed, "write \(after + 1) failing: status \(r.status)")
        FaultRun.expectShort(r.err, failing)
        #expect(r.err.contains("cannot write \(FaultRun.file(out, failing)): the disk is full (No space left on device); free some space"), "\(r.err)")
        #expect(r.err.contains("The checkpoint of step \(intact) in \(out) is intact (checkpoint.json)")
                && r.err.contains("robustpatch generate --resume --out \(out)"), "\(r.err)")
        #expect(FaultRun.leftovers(out).isEmpty, "\(FaultRun.leftovers(out))")
        #expect(try FaultRun.checkpoint(FaultRun.file(out, "checkpoint.json")).step == intact)
        let resumed = try CLI.run(["generate", "--resume", "--out", out])
        #expect(resumed.status == 0, "\(resumed.err)")
        try FaultRun.expectSameEnd(out, "after \(failing) failed")
    }

    @Test("a truncated checkpoint.json is refused naming checkpoint.prev.json; --resume --from-backup ends on the same patch")
    func damagedCheckpoint() throws {
        let reference = try FaultRun.reference.get()
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run").path
        try FileManager.default.copyItem(atPath: reference, toPath: out)
        let checkpoint = FaultRun.file(out, "checkpoint.json"), backup = FaultRun.file(out, "checkpoint.prev.json")
        let whole = try FaultRun.bytes(checkpoint)
        for (damage, data) in [("truncated", whole.prefix(whole.count / 2)), ("a changed byte", { var d = whole; d[whole.count - 100] ^= 4; return d }())] {
            try data.write(to: URL(fileURLWithPath: checkpoint))
            let before = try FaultRun.snapshot(out)
            let r = try CLI.run(["generate", "--resume", "--out", out])
            #expect(r.status == 1 && !r.crashed, "\(damage): status \(r.status)")
            FaultRun.expectShort(r.err, damage)
            #expect(r.err.contains("\(checkpoint) is damaged") && r.err.contains("The last good checkpoint is its backup \(backup) (step 50 of 60)")
                    && r.err.contains("robustpatch generate --resume --from-backup --out \(out)"), "\(damage): \(r.err)")
            #expect(try FaultRun.snapshot(out) == before, "\(damage): the refused resume changed the folder")
        }
        let alone = try CLI.run(["generate", "--from-backup", "--out", out])
        #expect(alone.refused && alone.err.contains("give --resume too"), "\(alone.err)")
        let resumed = try CLI.run(["generate", "--resume", "--from-backup", "--out", out])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.out.contains("\(backup) at step 50/60"), "\(resumed.out.prefix(300))")
        try FaultRun.expectSameEnd(out, "resumed from the backup")
        #expect(FileManager.default.fileExists(atPath: FaultRun.file(out, "checkpoint.damaged.json")))
    }

    @Test("a read-only run folder: --resume is refused naming the folder, nothing changes; writable again, it resumes")
    func readOnlyFolder() throws {
        let reference = try FaultRun.reference.get()
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // chmod 0555 stops a normal user; root ignores file modes, so for root a read-only tmpfs,
        // and where root cannot mount either, writes that fail with EROFS (injected).
        let how = getuid() != 0 ? "chmod" : Tmpfs.available ? "tmpfs" : "injected"
        func check(_ parent: String, makeReadOnly: () -> Void, makeWritable: () -> Void) throws {
            let out = FaultRun.file(parent, "run")
            try FileManager.default.copyItem(atPath: reference, toPath: out)
            try Data(FaultRun.bytes(FaultRun.file(out, "checkpoint.prev.json"))).write(to: URL(fileURLWithPath: FaultRun.file(out, "checkpoint.json")))
            let before = try FaultRun.snapshot(out)
            makeReadOnly()
            let env = how == "injected" ? ["ROBUSTPATCH_FAIL_WRITES_AFTER": "0:EROFS"] : [:]
            let r = try CLI.run(["generate", "--resume", "--out", out], environment: env)
            #expect(r.status == 1 && !r.crashed, "\(how): status \(r.status)")
            FaultRun.expectShort(r.err, how)
            #expect(r.err.contains("cannot write \(out)") && (r.err.contains("read-only") || r.err.contains("not writable")), "\(how): \(r.err)")
            if how != "injected" {
                // A new run into the read-only folder is refused too, before its work.
                let fresh = try CLI.run(["generate"] + FaultRun.settings + ["--out", FaultRun.file(out, "new")])
                #expect(fresh.status == 1 && fresh.err.contains("cannot write \(FaultRun.file(out, "new")): \(out) is "), "\(fresh.err)")
            }
            makeWritable()
            #expect(try FaultRun.snapshot(out) == before, "\(how): the refused run changed the folder")
            let resumed = try CLI.run(["generate", "--resume", "--out", out])
            #expect(resumed.status == 0, "\(resumed.err)")
            try FaultRun.expectSameEnd(out, "\(how), writable again")
        }
        switch how {
        case "chmod":
            try check(dir.path, makeReadOnly: { chmod(FaultRun.file(dir.path, "run"), 0o555) }, makeWritable: { chmod(FaultRun.file(dir.path, "run"), 0o755) })
        case "tmpfs":
            try Tmpfs.with(size: "4m") { mount in
                try check(mount, makeReadOnly: { Tmpfs.run(["mount", "-o", "remount,ro", mount]) }, makeWritable: { Tmpfs.run(["mount", "-o", "remount,rw", mount]) })
            }
        default:
            try check(dir.path, makeReadOnly: {}, makeWritable: {})
        }
    }

    @Test("a full disk (192 KiB tmpfs): the run stops naming the file, the checkpoint stays whole; with room again it resumes to the same patch",
          .enabled(if: Tmpfs.available, "needs mount -t tmpfs (root)"))
    func fullDisk() throws {
        _ = try FaultRun.reference.get()
        try Tmpfs.with(size: "192k") { mount in
            let out = FaultRun.file(mount, "run")
            let r = try CLI.run(["generate"] + FaultRun.settings + ["--out", out])
            #expect(r.status == 1 && !r.crashed, "status \(r.status): the run did not fill 192 KiB? \(r.out.suffix(300))")
            FaultRun.expectShort(r.err, "full disk")
            #expect(r.err.contains("the disk is full (No space left on device)") && r.err.contains("is intact (checkpoint.json)"), "\(r.err)")
            #expect(FaultRun.leftovers(out).isEmpty, "\(FaultRun.leftovers(out))")
            let saved = try FaultRun.checkpoint(FaultRun.file(out, "checkpoint.json")).step
            #expect(r.err.contains("The checkpoint of step \(saved) "), "\(r.err)")
            try #require(Tmpfs.run(["mount", "-o", "remount,size=8m", mount]))
            let resumed = try CLI.run(["generate", "--resume", "--out", out])
            #expect(resumed.status == 0, "\(resumed.err)")
            try FaultRun.expectSameEnd(out, "full disk, room again")
        }
    }
}
