// 3D objects through the CLI (issue 22): generate --mesh, then evaluate (controls: the base
// texture, noise, grey), grid over azimuth × elevation, print as a wrap-around label; and the
// bad input a new user would try (an unknown mesh, a malformed size, a size without a mesh, a
// flat patch's options with a mesh, a patch preset, missing and broken OBJ files), each refused
// in one to three lines with no run folder left behind.
import Foundation
import Testing

@Suite("robustpatch generate --mesh", .serialized)
struct MeshCLITests {
    @Test("bad mesh options are refused by name", arguments: [
        (["--mesh", "teapot"], "not a mesh"),
        (["--mesh", "cylinder", "--mesh-size", "66x"], "diameter x height"),
        (["--mesh", "box", "--mesh-size", "10x20"], "width x height x depth"),
        (["--mesh", "sphere", "--mesh-size", "-3"], "a diameter"),
        (["--mesh", "cylinder", "--mesh-size", "0x115"], "(0, 10000]"),
        (["--mesh-size", "66x115"], "--mesh-size is the size of --mesh"),
        (["--mesh", "cylinder", "--shape", "circle"], "drop --shape"),
        (["--mesh", "cylinder", "--size", "0.3"], "drop --size"),
        (["--mesh", "cylinder", "--preset", "physical"], "must pose it"),
        (["--preset", "object"], "--mesh"),
        (["--mesh", "/nonexistent/can.obj"], "can.obj"),
        (["--mesh", "BROKEN"], ":2:"),
        (["--mesh", "TILED"], "outside [0, 1]"),
        (["--mesh", "cylinder", "--texture", "4"], "--texture"),
    ])
    func refusals(_ args: [String], _ expected: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.obj"), tiled = dir.appendingPathComponent("tiled.obj")
        try Data("v 0 0 0\nv 1 0 zero\n".utf8).write(to: broken)
        try Data("v 0 0 0\nv 10 0 0\nv 0 10 0\nvt 0 0\nvt 3 0\nvt 0 1\nf 1/1 2/2 3/3\n".utf8).write(to: tiled)
        let resolved = args.map { $0 == "BROKEN" ? broken.path : $0 == "TILED" ? tiled.path : $0 }
        let out = dir.appendingPathComponent("run").path
        let r = try CLI.run(["generate", "--target", "toaster", "--steps", "1", "--batch", "1", "--validation-samples", "1",
                             "--scenes", "Samples/scenes"] + resolved + ["--out", out])
        PerturbInputTests.expectRefused(r, expected)
        #expect(!FileManager.default.fileExists(atPath: out), "a refused run left \(out) behind")
    }

    @Test("a can label end to end: generate, evaluate with the base control, grid around the can, print the label, classify a cell")
    func canEndToEnd() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("can").path
        let g = try CLI.run(["generate", "--mesh", "cylinder", "--target", "toaster", "--steps", "2", "--batch", "2", "--texture", "32",
                             "--validation-samples", "4", "--scenes", "Samples/scenes", "--out", run])
        #expect(g.status == 0, "\(g.err)")
        #expect(g.out.contains("cylinder 66 × 115 mm, texture 32×18"), "\(g.out)")
        let record = try String(contentsOfFile: run + "/run.json", encoding: .utf8)
        #expect(record.contains("\"cylinder\"") && record.contains("\"textured_area_mm2\"") && record.contains("\"object\""))

        let eval = dir.appendingPathComponent("eval").path
        let e = try CLI.run(["evaluate", "--patch", run, "--samples", "12", "--scenes", "Samples/scenes", "--out", eval])
        #expect(e.status == 0, "\(e.err)")
        #expect(e.out.contains("base") && e.out.contains("noise") && e.out.contains("grey") && !e.out.contains("shuffled"), "\(e.out)")
        #expect(e.out.contains("azimuth"), "no azimuth bins: \(e.out)")

        let grid = dir.appendingPathComponent("grid.png").path
        let gr = try CLI.run(["grid", "--patch", run, "--rows", "elevation:0..30:2", "--cols", "azimuth:0..270:4", "--scenes", "Samples/scenes", "--out", grid])
        #expect(gr.status == 0 && FileManager.default.fileExists(atPath: grid), "\(gr.err)")
        // An object factor on a flat patch's grid is refused.
        let flat = dir.appendingPathComponent("flat").path
        #expect(try CLI.run(["generate", "--target", "toaster", "--steps", "1", "--batch", "1", "--validation-samples", "1", "--scenes", "Samples/scenes", "--out", flat]).status == 0)
        let bad = try CLI.run(["grid", "--patch", flat, "--rows", "azimuth:0..90:2", "--cols", "roll:0..10:2", "--scenes", "Samples/scenes", "--out", grid])
        PerturbInputTests.expectRefused(bad, "azimuth")
    }
}
