// Bad input found by a sweep of the CLI (stop 13): each case used to be accepted silently, or
// answered with a message that did not say what was wrong. Each must now fail with a one-line
// error (exit 1 or 64, never a signal) that names the input.
import Foundation
import Testing

@Suite("robustpatch CLI: bad input refused", .serialized)
struct BadInputTests {
    /// A copy of the committed run folder (Printouts/toaster-photo-run) with its run.json edited.
    static func runFolder(in dir: URL, name: String, edit: (inout [String: Any]) -> Void) throws -> String {
        let source = CLI.root.appendingPathComponent("Printouts/toaster-photo-run")
        let copy = dir.appendingPathComponent(name)
        try FileManager.default.copyItem(at: source, to: copy)
        let recordURL = copy.appendingPathComponent("run.json")
        var record = try JSONSerialization.jsonObject(with: Data(contentsOf: recordURL)) as! [String: Any]
        edit(&record)
        try JSONSerialization.data(withJSONObject: record).write(to: recordURL)
        return copy.path
    }

    static func expectRefused(_ r: CLI.Result, _ expected: String) {
        #expect(r.refused, "status \(r.status), crashed \(r.crashed)")
        #expect((r.err + r.out).contains(expected), "output: \(r.err)\(r.out)")
    }

    @Test("generate: settings that would be ignored or are impossible", arguments: [
        // "crane" is two ImageNet classes (the bird 134 and the machine 517): the first used to win silently.
        (["--target", "crane"], "crane (517)"),
        (["--target", "toaster", "--palette", "Samples/nothing.txt"], "give --nps"),
        (["--target", "toaster", "--validate-every=-5"], "--validate-every"),
        (["--target", "toaster", "--lr=-0.1"], "--lr must be a finite number > 0"),
        (["--target", "toaster", "--lr", "0"], "--lr must be a finite number > 0"),
        (["--target", "toaster", "--lr", "nan"], "--lr must be a finite number > 0"),
        (["--target", "toaster", "--scenes", "Samples/scenes/val/raccoon.jpg"], "is a file, not a scene folder"),
        (["--target", "toaster", "--distribution", "MISSPELT"], "unknown key 'rol'"),
    ])
    func generate(_ args: [String], _ expected: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let misspelt = dir.appendingPathComponent("rol.json")
        try Data(#"{"rol": {"min": -10, "max": 10}}"#.utf8).write(to: misspelt)
        let out = dir.appendingPathComponent("run").path
        let r = try CLI.run(["generate"] + args.map { $0 == "MISSPELT" ? misspelt.path : $0 } + ["--steps", "1", "--out", out])
        Self.expectRefused(r, expected)
        #expect(!FileManager.default.fileExists(atPath: out), "a refused run left \(out) behind")
    }

    @Test("a bad --distribution file or a folder that already holds a run: exit 1, one line, no usage text (that is for a malformed command line, 64)")
    func fileProblemsAreNotUsageErrors() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let misspelt = dir.appendingPathComponent("rol.json")
        try Data(#"{"rol": {"min": -10, "max": 10}}"#.utf8).write(to: misspelt)
        let missing = dir.appendingPathComponent("missing.json").path
        // A finished run kept without its checkpoint, like the committed Printouts/ runs: a new run
        // into its folder used to overwrite its patch.
        let finished = try Self.runFolder(in: dir, name: "finished") { _ in }
        let patchURL = URL(fileURLWithPath: (finished as NSString).appendingPathComponent("patch.png"))
        let patchBefore = try Data(contentsOf: patchURL)
        // A run that can be continued (with checkpoint.json).
        let open = dir.appendingPathComponent("open").path
        let made = try CLI.run(["generate", "--target", "toaster", "--scenes", "Samples/scenes", "--steps", "2", "--batch", "1", "--texture", "16",
                                "--validation-samples", "2", "--validate-every", "0", "--out", open])
        #expect(made.status == 0, "\(made.err)")
        let cases: [([String], String)] = [
            (["generate", "--target", "toaster", "--distribution", misspelt.path, "--out", dir.appendingPathComponent("a").path], "unknown key 'rol'"),
            (["generate", "--target", "toaster", "--distribution", missing, "--out", dir.appendingPathComponent("b").path], "cannot read the distribution file \(missing)"),
            (["evaluate", "--patch", finished, "--distribution", missing], "cannot read the distribution file \(missing)"),
            (["grid", "--patch", finished, "--rows", "roll:-10..10:2", "--cols", "yaw:-10..10:2", "--distribution", misspelt.path,
              "--out", dir.appendingPathComponent("g.png").path], "unknown key 'rol'"),
            (["generate", "--target", "toaster", "--steps", "1", "--out", open], "already holds a run (checkpoint.json)"),
            (["generate", "--resume", "--scenes", "Samples/scenes/val", "--out", open], "on its own scenes"),
            (["generate", "--target", "toaster", "--steps", "1", "--out", finished], "already holds a finished run (run.json)"),
            (["generate", "--resume", "--out", finished], "nothing to continue"),
        ]
        for (args, expected) in cases {
            let r = try CLI.run(args)
            #expect(r.status == 1 && !r.crashed, "\(args): status \(r.status)")
            #expect((r.err + r.out).contains(expected), "\(args): \(r.err)\(r.out)")
            #expect(!(r.err + r.out).contains("Usage:"), "\(args): \(r.err)")
        }
        #expect(try Data(contentsOf: patchURL) == patchBefore, "the finished run's patch was overwritten")
        #expect(!FileManager.default.fileExists(atPath: (finished as NSString).appendingPathComponent("checkpoint.json")))
    }

    @Test("generate --resume refuses new settings instead of ignoring them")
    func resumeWithSettings() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try Self.runFolder(in: dir, name: "run") { _ in }
        let r = try CLI.run(["generate", "--resume", "--target", "cat", "--steps", "5", "--lr", "5", "--out", run])
        Self.expectRefused(r, "drop --target, --steps, --lr")
    }

    @Test("generate --resume: a typed default, other scenes, or a damaged checkpoint.json are refused")
    func resumeChecks() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        let made = try CLI.run(["generate", "--target", "toaster", "--scenes", "Samples/scenes", "--steps", "2", "--batch", "1", "--texture", "16",
                                "--validation-samples", "2", "--validate-every", "0", "--out", run.path])
        #expect(made.status == 0, "\(made.err)")
        // --steps 1000 is the default, yet typed it would be ignored all the same.
        Self.expectRefused(try CLI.run(["generate", "--resume", "--steps", "1000", "--out", run.path]), "drop --steps")
        Self.expectRefused(try CLI.run(["generate", "--resume", "--scenes", "Samples/scenes/val", "--out", run.path]),
                           "on its own scenes, \(CLI.root.appendingPathComponent("Samples/scenes").path)")
        // The run's own scenes, typed another way, are fine (a finished run re-validates and rewrites its files),
        // and so is resuming from another folder: the saved scene folder is absolute.
        let same = try CLI.run(["generate", "--resume", "--scenes", "./Samples/scenes/", "--out", run.path])
        #expect(same.status == 0, "\(same.err)")
        let elsewhere = try CLI.run(["generate", "--resume", "--out", run.path], cwd: dir)
        #expect(elsewhere.status == 0, "\(elsewhere.err)")
        // So is a --palette given as a relative path (read again when a run resumes).
        let paletteRun = dir.appendingPathComponent("palette-run")
        let withPalette = try CLI.run(["generate", "--target", "toaster", "--scenes", "Samples/scenes", "--steps", "2", "--batch", "1", "--texture", "16",
                                       "--validation-samples", "2", "--validate-every", "0", "--nps", "0.05",
                                       "--palette", "Sources/Attack/Resources/default_palette.txt", "--out", paletteRun.path])
        #expect(withPalette.status == 0, "\(withPalette.err)")
        let paletteResumed = try CLI.run(["generate", "--resume", "--out", paletteRun.path], cwd: dir)
        #expect(paletteResumed.status == 0, "\(paletteResumed.err)")
        let checkpointURL = run.appendingPathComponent("checkpoint.json")
        // checkpoint.json wraps the checkpoint in an envelope (its length and SHA-256); the damaged
        // checkpoints below are written plain, as before envelopes, which is still read and checked.
        let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: checkpointURL)) as! [String: Any]
        let good = try JSONSerialization.data(withJSONObject: envelope["checkpoint"] as! [String: Any])
        for (damage, expected) in [("step 99", "its step is 99, outside 0…2"), ("formatVersion 2", "another version of the tool (format 2"),
                                   ("empty", "not valid JSON"), ("batch 0", "holds settings this version refuses (batch must be"),
                                   ("texture 2", "values outside [0, 1]"), ("short adam", "does not fit its own settings"),
                                   ("checkpointEvery 0", "checkpointEvery must be ≥ 1"),
                                   ("palette [0.5]", "paletteRGB must hold")] {
            var object = try JSONSerialization.jsonObject(with: good) as! [String: Any]
            var state = object["state"] as! [String: Any], config = object["config"] as! [String: Any]
            switch damage {
            case "step 99": state["step"] = 99
            case "formatVersion 2": object["formatVersion"] = 2
            case "batch 0": config["batch"] = 0
            case "checkpointEvery 0": config["checkpointEvery"] = 0
            case "palette [0.5]": config["paletteRGB"] = [[0.5]]; config["npsWeight"] = 0.05
            case "texture 2": state["texture"] = (state["texture"] as! [Double]).map { _ in 2.0 }
            case "short adam": var adam = state["adam"] as! [String: Any]; adam["m"] = [0.0, 0.0]; state["adam"] = adam
            default: break
            }
            object["state"] = state; object["config"] = config
            try (damage == "empty" ? Data() : JSONSerialization.data(withJSONObject: object)).write(to: checkpointURL)
            let r = try CLI.run(["generate", "--resume", "--out", run.path])
            Self.expectRefused(r, expected)
            #expect(r.err.contains("checkpoint"), "\(damage): \(r.err)")
        }
    }

    @Test("evaluate --target on a run: the run's own validation (for its target) is not compared")
    func targetOverride() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let own = try CLI.run(["evaluate", "--patch", "Printouts/toaster-photo-run", "--samples", "4", "--controls", "none", "--out", dir.path])
        #expect(own.status == 0 && own.out.contains("held-out validation"), "\(own.err)\(own.out)")
        let other = try CLI.run(["evaluate", "--patch", "Printouts/toaster-photo-run", "--target", "285", "--samples", "4",
                                 "--controls", "none", "--out", dir.path])
        #expect(other.status == 0, "\(other.err)")
        #expect(!other.out.contains("held-out validation"), "\(other.out)")
    }

    @Test("evaluate: a run.json whose target is damaged is refused, not evaluated untargeted", arguments: [
        ("index 5000", "has target.index 5000; it must be an ImageNet class index 0–999"),
        ("index -1", "has target.index -1"),
        ("missing", "\"target\" is missing"),
        ("a string", "field \"target\": must be null (untargeted) or {\"index\""),
    ])
    func damagedTarget(_ damage: String, _ expected: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try Self.runFolder(in: dir, name: "run") { record in
            switch damage {
            case "index 5000": record["target"] = ["index": 5000, "label": "toaster"]
            case "index -1": record["target"] = ["index": -1, "label": "toaster"]
            case "missing": record.removeValue(forKey: "target")
            default: record["target"] = "toaster"
            }
        }
        let r = try CLI.run(["evaluate", "--patch", run, "--samples", "4", "--controls", "none", "--out", dir.appendingPathComponent("eval").path])
        Self.expectRefused(r, expected)
    }

    @Test("evaluate, grid, classify: contradictory or empty options", arguments: [
        (["evaluate", "--patch", "RUN", "--controls", "none,noise"], "cannot be combined"),
        (["evaluate", "--patch", "RUN", "--controls", "noise,noise"], "listed twice"),
        (["evaluate", "--patch", "RUN", "--control-samples", "0"], "--controls none"),
        (["evaluate", "--patch", "RUN", "--samples-file", "s.json", "--samples", "8"], "drop --samples"),
        (["classify", "Samples/cat.png", "--model", ","], "give at least one model"),
        (["classify", "Samples/cat.png", "--model", "Tests/ONNXTests/Fixtures/resnet18_w8.onnx"], "its preprocessing is not known: missing input_size (--input-size)"),
        (["classify", "Samples/cat.png", "--model", "Tests/ONNXTests/Fixtures/resnet18_w8.onnx", "--input-size", "224", "--mean", "0.5,0.5,0.5",
          "--std", "0.2,0.2,0.2", "--labels", "imagenet"], "it has 100 classes but its labels (imagenet) name 1000"),
        (["classify", "Samples/cat.png", "--model", "Tests/ONNXTests/Fixtures/resnet18_w8.onnx", "--input-size", "200", "--mean", "0.5,0.5,0.5",
          "--std", "0.2,0.2,0.2", "--labels", "imagenet"], "its input is fixed at 224×224, not 200×200"),
        (["classify", "Samples/cat.png", "--model", "Tests/ONNXTests/Fixtures/resnet18_w8.onnx", "--mean", "0.5,x,0.5"], "--mean needs three numbers"),
        (["classify", "Samples/cat.png", "--model", "Tests/ONNXTests/Fixtures/resnet18_w8.onnx", "--input-size", "224", "--mean", "0.5,0.5,0.5",
          "--std", "0.2,0,0.2", "--labels", "imagenet"], "every std > 0"),
        (["classify", "Samples/cat.png", "--model", "lite0", "--labels", "imagenet"], "are for ONNX models"),
        (["classify", "Samples/cat.png", "--model", "missing.onnx"], "missing.onnx: no such file"),
        (["grid", "--patch", "RUN", "--rows", "size:0.4..0.3:2", "--cols", "roll:0..10:2", "--out", "OUT"], "MIN 0.4 is above MAX 0.3"),
        (["grid", "--patch", "RUN", "--rows", "size:0.3..0.4:2", "--cols", "roll:0..10:2", "--model", "lite0,lite1", "--out", "OUT"], "one model"),
        (["grid", "--patch", "RUN", "--rows", "size:0.3..0.4:2", "--cols", "roll:0..10:2", "--heatmap", "--heatmap-samples", "0", "--out", "OUT"],
         "--heatmap-samples"),
    ])
    func otherCommands(_ args: [String], _ expected: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("grid.png").path
        let r = try CLI.run(args.map { $0 == "RUN" ? "Printouts/toaster-photo-run" : $0 == "OUT" ? out : $0 })
        Self.expectRefused(r, expected)
        #expect(!FileManager.default.fileExists(atPath: out), "a refused grid wrote \(out)")
    }
}
