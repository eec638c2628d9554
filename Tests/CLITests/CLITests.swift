// The robustpatch executable as a user runs it: help text, classify on the bundled cat with all
// three models, JSON output, and one-line errors with a non-zero exit for bad files.
import Foundation
import Imaging
import Testing

enum CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built executable next to the test bundle (.build/<triple>/<config>/robustpatch).
    static var executable: URL {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("robustpatch")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return root.appendingPathComponent(".build/release/robustpatch")
    }

    /// `status` is the exit code, or the signal number when `crashed` (a trap is SIGILL/SIGTRAP, status 4/5, not 128 + n).
    struct Result {
        var status: Int32; var out: String; var err: String; var crashed = false
        /// Refused the way a user should see it: a non-zero exit, not a signal.
        var refused: Bool { !crashed && status != 0 }
    }

    /// - Parameter environment: variables added to this process's environment for the run.
    static func run(_ args: [String], cwd: URL = root, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.currentDirectoryURL = cwd
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let o = Pipe(), e = Pipe()
        p.standardOutput = o; p.standardError = e
        try p.run()
        let out = o.fileHandleForReading.readDataToEndOfFile(), err = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self),
                      crashed: p.terminationReason == .uncaughtSignal)
    }

    /// classes.txt in `dir`: "class number 0" … "class number 99", the ONNX fixtures' 100 classes.
    static func classNames(in dir: URL) throws -> URL {
        let labels = dir.appendingPathComponent("classes.txt")
        try (0..<100).map { "class number \($0)" }.joined(separator: "\n").write(to: labels, atomically: true, encoding: .utf8)
        return labels
    }

    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("rp-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}

@Suite("robustpatch CLI", .serialized)
struct CLITests {
    @Test("classify runs an ONNX model with its preprocessing flags and its own class names")
    func classifyONNX() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = try CLI.classNames(in: dir)
        let model = "Tests/ONNXTests/Fixtures/mobilenet_v3_small_w50.onnx"
        let r = try CLI.run(["classify", "Samples/cat.png", "--model", model, "--input-size", "224", "--mean", "0.485,0.456,0.406",
                             "--std", "0.229,0.224,0.225", "--labels", labels.path, "--top", "3", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let line = try #require(r.out.split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let top = try #require(object["top"] as? [[String: Any]])
        #expect(object["model"] as? String == "mobilenet_v3_small_w50.onnx")
        #expect((object["logits"] as? [Double])?.count == 100)
        #expect(top.count == 3 && top.allSatisfy { ($0["label"] as? String)?.hasPrefix("class number ") == true })
        // A sidecar beside the model gives the same, flags overriding it.
        let copy = dir.appendingPathComponent("net.onnx")
        try FileManager.default.copyItem(atPath: CLI.root.appendingPathComponent(model).path, toPath: copy.path)
        try Data(#"{"input_size": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "labels": "classes.txt"}"#.utf8)
            .write(to: URL(fileURLWithPath: copy.path + ".json"))
        let s = try CLI.run(["classify", "Samples/cat.png", "--model", copy.path, "--top", "3", "--json"])
        #expect(s.status == 0, "\(s.err)")
        let sideTop = (try JSONSerialization.jsonObject(with: Data((s.out.split(separator: "\n").first ?? "").utf8)) as? [String: Any])?["top"] as? [[String: Any]]
        #expect(sideTop?.map { $0["index"] as? Int } == top.map { $0["index"] as? Int })
    }

    @Test("generate, evaluate and grid attack an ONNX model: its flags travel in the run, targets name its classes")
    func generateAndEvaluateONNX() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = try CLI.classNames(in: dir)
        let flags = ["--model", "Tests/ONNXTests/Fixtures/mobilenet_v3_small_w50.onnx", "--input-size", "224", "--mean", "0.485,0.456,0.406",
                     "--std", "0.229,0.224,0.225", "--labels", labels.path]
        let run = dir.appendingPathComponent("run").path
        let g = try CLI.run(["generate", "--target", "class number 7", "--steps", "2", "--batch", "4", "--validation-samples", "8",
                             "--scenes", "Samples/scenes", "--preset", "digital", "--out", run] + flags)
        #expect(g.status == 0, "\(g.err)")
        let record = try String(contentsOfFile: run + "/run.json", encoding: .utf8)
        #expect(record.contains("class number 7") && record.contains("mobilenet_v3_small_w50.onnx") && record.contains("\"modelFlags\""))
        let e = try CLI.run(["evaluate", "--patch", run, "--samples", "8", "--controls", "none", "--scenes", "Samples/scenes", "--out", dir.appendingPathComponent("eval").path] + flags)
        #expect(e.status == 0, "\(e.err)")
        #expect(e.out.contains("target 7 class number 7") && e.out.contains("mobilenet_v3_small_w50.onnx"), "\(e.out)")
        // Without the flags: those the run was generated with.
        let again = try CLI.run(["evaluate", "--patch", run, "--samples", "8", "--controls", "none", "--scenes", "Samples/scenes", "--out", dir.appendingPathComponent("eval2").path])
        #expect(again.status == 0 && again.out.contains("class number 7"), "\(again.err)")
        let grid = dir.appendingPathComponent("grid.png").path
        let gr = try CLI.run(["grid", "--patch", run, "--rows", "size:0.3..0.4:2", "--cols", "roll:0..10:2", "--scenes", "Samples/scenes", "--out", grid] + flags)
        #expect(gr.status == 0 && FileManager.default.fileExists(atPath: grid), "\(gr.err)")
    }

    @Test("help lists all eleven subcommands; each one's --help exits 0 and names its key options")
    func help() throws {
        let top = try CLI.run(["--help"])
        #expect(top.status == 0, "robustpatch --help exited \(top.status): \(top.err)")
        // The SUBCOMMANDS section up to its first blank line: one "  name   abstract" line per
        // subcommand (RobustPatch.configuration.subcommands), wrapped abstracts indented further.
        let section = top.out.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first?.components(separatedBy: "\n\n").first ?? ""
        let listed = Set(section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first else { return nil }
            return String(word)
        })
        // Options that stay whatever else changes in each command (a few per command, not all).
        let keyOptions: [(command: String, options: [String])] = [
            ("generate", ["--target", "--model", "--steps", "--seed", "--out", "--resume"]),
            ("evaluate", ["--patch", "--image", "--samples", "--seed", "--model"]),
            ("grid", ["--patch", "--rows", "--cols", "--out"]),
            ("classify", ["--model", "--top", "--json"]),
            ("calibration-chart", ["--out"]),
            ("calibrate", ["--photo", "--chart", "--out"]),
            ("print", ["--patch", "--size", "--paper", "--dpi"]),
            ("perturb", ["--image", "--target", "--untargeted", "--epsilon", "--norm", "--method", "--steps", "--out"]),
            ("sweep", ["--image", "--direction", "--epsilon-max", "--out"]),
            ("decision-map", ["--image", "--epsilon-max", "--resolution", "--out"]),
            ("linear-demo", ["--out", "--seed", "--data", "--epsilons"]),
        ]
        for (command, options) in keyOptions {
            #expect(listed.contains(command), "robustpatch --help does not list \(command); it lists \(listed.sorted())")
            let h = try CLI.run([command, "--help"])
            #expect(h.status == 0 && !h.crashed, "robustpatch \(command) --help exited \(h.status): \(h.err)")
            #expect(h.out.contains("USAGE: robustpatch \(command)"), "robustpatch \(command) --help shows no usage line")
            for option in options {
                // The option as a whole word: "--out" must not be satisfied by "--output".
                let named = h.out.ranges(of: option).contains { r in
                    r.upperBound == h.out.endIndex || !(h.out[r.upperBound].isLetter || h.out[r.upperBound].isNumber || h.out[r.upperBound] == "-")
                }
                #expect(named, "robustpatch \(command) --help does not mention \(option)")
            }
        }
        #expect(listed.count == keyOptions.count, "robustpatch --help lists \(listed.sorted()); this test knows \(keyOptions.map(\.command))")
        // classify's help says how images are prepared.
        #expect(try CLI.run(["classify", "--help"]).out.contains("centre-cropped"))
    }

    @Test("classify: the bundled cat is a cat class top-1 for lite0, lite1 and lite2")
    func classifyCat() throws {
        let r = try CLI.run(["classify", "Samples/cat.png", "--model", "lite0,lite1,lite2", "--json", "--top", "5"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 3)
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let top = obj["top"] as! [[String: Any]]
            let first = top[0]["index"] as! Int
            #expect((281...285).contains(first), "\(obj["model"]!): top-1 \(first) \(top[0]["label"]!)")
            #expect((obj["logits"] as! [Double]).count == 1000)
            #expect(top.count == 5)
        }
        let table = try CLI.run(["classify", "Samples/cat.png"])
        #expect(table.status == 0 && table.out.contains("resized from") && table.out.contains("%"))
    }

    @Test("bad files: one-line error naming the file, non-zero exit, no crash", arguments: ["corrupt.png", "truncated.jpg", "text.png", "evil.pth"])
    func badFiles(_ name: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        switch name {
        case "corrupt.png":
            var bytes = [UInt8](try Data(contentsOf: CLI.root.appendingPathComponent("Samples/cat.png")))
            for i in stride(from: 200, to: min(bytes.count, 4000), by: 7) { bytes[i] ^= 0x5A }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        case "truncated.jpg":
            let img = try Image.read(from: CLI.root.appendingPathComponent("Samples/cat.png").path)
            _ = img
            let jpgs = try FileManager.default.contentsOfDirectory(atPath: CLI.root.appendingPathComponent("Samples/scenes/train").path).filter { $0.hasSuffix(".jpg") }
            let full = try Data(contentsOf: CLI.root.appendingPathComponent("Samples/scenes/train/\(jpgs[0])"))
            try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: path))
        case "text.png":
            try Data("This is not an image.\n".utf8).write(to: URL(fileURLWithPath: path))
        default:
            // A pickle naming os.system (protocol 2): PROTO 2, GLOBAL 'os system', string, TUPLE1, REDUCE, STOP.
            var p: [UInt8] = [0x80, 0x02]
            p += Array("cos\nsystem\n".utf8)
            p += [0x58] + withUnsafeBytes(of: UInt32(9).littleEndian, Array.init) + Array("touch /x".utf8) + [0x20]
            p += [0x85, 0x52, 0x2E]
            try Data(p).write(to: URL(fileURLWithPath: path))
        }
        let args = name.hasSuffix(".pth") ? ["classify", "Samples/cat.png", "--model", path] : ["classify", path]
        let r = try CLI.run(args)
        #expect(r.refused, "status \(r.status), killed by a signal: \(r.crashed)")
        let lines = r.err.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "stderr: \(r.err)")
        #expect(r.err.contains(name), "error does not name the file: \(r.err)")
        if name.hasSuffix(".pth") { #expect(r.err.contains("os.system")) }
    }

    @Test("generate: bad input gets a clear error and writes nothing", arguments: [
        (["--target", "toastr"], "did you mean"),
        (["--target", "toaster", "--size", "1.5"], "bigger than the scene"),
        (["--target", "toaster", "--scenes", "/nonexistent/scenes"], "does not exist"),
        (["--target", "toaster", "--shape", "MASK"], "no opaque pixel"),
        (["--target", "toaster", "--distribution", "NAN"], "pitch"),
        (["--target", "toaster", "--steps", "0"], "--steps"),
    ])
    func generateBadInput(_ args: [String], _ expected: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mask = dir.appendingPathComponent("clear.png").path
        try Image(width: 8, height: 8, channels: 4, fill: 0).writePNG(to: mask)
        let nanFile = dir.appendingPathComponent("nan.json").path
        try Data(#"{"pitch": {"min": -10, "max": "nan"}}"#.utf8).write(to: URL(fileURLWithPath: nanFile))
        let out = dir.appendingPathComponent("run").path
        let a = args.map { $0 == "MASK" ? mask : $0 == "NAN" ? nanFile : $0 }
        let r = try CLI.run(["generate"] + a + ["--out", out])
        #expect(r.refused, "status \(r.status), crashed \(r.crashed)")
        #expect((r.err + r.out).contains(expected), "output: \(r.err)\(r.out)")
        #expect(!FileManager.default.fileExists(atPath: out), "a failed run left \(out) behind")
    }

    @Test("generate end to end: a short run writes its files; a new run into its folder is refused")
    func generateRun() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run").path
        let common = ["--steps", "4", "--batch", "2", "--texture", "16", "--validation-samples", "4", "--validate-every", "2", "--out", out]
        let r = try CLI.run(["generate", "--target", "toaster"] + common)
        #expect(r.status == 0, "\(r.err)")
        for f in ["patch.png", "patch_rgba.png", "mask.png", "preview.png", "run.json", "curve.csv", "curve.png", "checkpoint.json"] {
            #expect(FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent(f)), "missing \(f)")
        }
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: (out as NSString).appendingPathComponent("run.json")))) as! [String: Any]
        #expect(record["steps_done"] as? Int == 4)
        // Each periodic check records the run's wall time, in order (curve.png's x axis).
        let seconds = (record["validations"] as! [[String: Any]]).compactMap { $0["seconds"] as? Double }
        #expect(seconds.count == 2 && seconds == seconds.sorted() && seconds.allSatisfy { $0 > 0 }, "\(seconds)")
        #expect(((record["models"] as! [[String: Any]])[0]["sha256"] as! String).hasPrefix("579344248a93"))
        let again = try CLI.run(["generate", "--target", "toaster"] + common)
        #expect(again.status != 0 && again.err.contains("--resume"))
    }
}
