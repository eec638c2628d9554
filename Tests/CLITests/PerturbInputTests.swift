// perturb, evaluate --image, sweep and decision-map as a new user would try them: impossible
// values, both --target and --untargeted, photos too small, a 1-pixel or a strip image, a
// missing file — each refused with a short message naming it (exit 1 or 64, never a signal),
// and no run folder left behind.
import Foundation
import Imaging
import Testing

@Suite("robustpatch perturb and friends: bad input refused", .serialized)
struct PerturbInputTests {
    static func expectRefused(_ r: CLI.Result, _ expected: String) {
        #expect(r.refused, "status \(r.status), crashed \(r.crashed)")
        #expect((r.err + r.out).contains(expected), "output: \(r.err)\(r.out)")
        let errorLines = r.err.split(separator: "\n").filter { !$0.hasPrefix("Usage") && !$0.hasPrefix("  See") && !$0.isEmpty }
        #expect(errorLines.count <= 3, "error: \(r.err)")
    }

    @Test("perturb: impossible options", arguments: [
        (["--target", "guacamole", "--untargeted", "--epsilon", "8"], "not both"),
        (["--epsilon", "8"], "--untargeted"),
        (["--target", "guacamole", "--epsilon", "0"], "1…255"),
        (["--target", "guacamole", "--epsilon", "300"], "1…255"),
        (["--target", "guacamole", "--epsilon", "-2"], "1…255"),
        (["--target", "guacamole", "--epsilon", "nan"], "1…255"),
        (["--target", "guacamole", "--epsilon", "8", "--method", "cw"], "fgsm, pgd or eot"),
        (["--target", "guacamole", "--epsilon", "8", "--norm", "l1"], "linf or l2"),
        (["--target", "guacamole", "--epsilon", "8", "--method", "fgsm", "--steps", "5"], "one step"),
        (["--target", "guacamole", "--epsilon", "8", "--steps", "0"], "--steps"),
        (["--target", "guacamole", "--epsilon", "8", "--preset", "wide"], "--method eot"),
        (["--target", "guacamole", "--epsilon", "8", "--method", "eot", "--preset", "physical"], "unknown whole-image preset"),
        (["--target", "no such class", "--epsilon", "8"], "no such class"),
    ])
    func options(_ args: [String], _ expected: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run").path
        let r = try CLI.run(["perturb", "--image", "Samples/cat.png"] + args + ["--out", out])
        Self.expectRefused(r, expected)
        #expect(!FileManager.default.fileExists(atPath: out), "a refused run left \(out) behind")
    }

    @Test("perturb: a missing, 1-pixel, strip or corrupt image", arguments: ["missing", "pixel", "strip", "corrupt"])
    func images(_ kind: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("\(kind).png").path
        switch kind {
        case "pixel": try Image(width: 1, height: 1, channels: 3, fill: 0.5).writePNG(to: path)
        case "strip": try Image(width: 2000, height: 40, channels: 3, fill: 0.5).writePNG(to: path)
        case "corrupt": try Data("not a png at all".utf8).write(to: URL(fileURLWithPath: path))
        default: break
        }
        let expected = ["missing": "missing.png", "pixel": "at least 16 px", "strip": "differ more than 8 times", "corrupt": "corrupt.png"][kind]!
        let out = dir.appendingPathComponent("run").path
        let r = try CLI.run(["perturb", "--image", path, "--target", "924", "--epsilon", "8", "--out", out])
        Self.expectRefused(r, expected)
        #expect(!FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("run.json")))
    }

    @Test("evaluate --image, sweep, decision-map: impossible options", arguments: [
        (["evaluate", "--image", "Samples/cat.png"], "--target"),
        (["evaluate", "--image", "Samples/cat.png", "--patch", "x"], "not both"),
        (["evaluate", "--image", "Samples/cat.png", "--target", "924", "--epsilon", "0"], "1…255"),
        (["evaluate", "--image", "/nonexistent/adv.png", "--target", "924"], "no such file"),
        (["evaluate", "--image", "Samples/cat.png", "--target", "924", "--preset", "physical"], "unknown whole-image preset"),
        (["sweep", "--image", "Samples/cat.png", "--out", "x.png", "--epsilon-max", "0"], "--epsilon-max"),
        (["sweep", "--image", "Samples/cat.png", "--out", "x.png", "--direction", "sideways"], "--direction"),
        (["sweep", "--image", "Samples/cat.png", "--out", "x.jpg"], ".png"),
        (["decision-map", "--image", "Samples/cat.png", "--out", "x.png", "--resolution", "40"], "odd"),
        (["decision-map", "--image", "Samples/cat.png", "--out", "x.png", "--model", "lite0,lite1"], "one model"),
    ])
    func others(_ args: [String], _ expected: String) throws {
        let r = try CLI.run(args)
        Self.expectRefused(r, expected)
    }
}
