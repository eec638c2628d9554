// PatchArtifact: one loader and one mask rule for every command. A run folder, its RGBA
// patch_rgba.png, and its RGB patch.png with mask.png give the same texture and mask; a mask
// image's alpha wins over its colour; bad patches are refused with the file named.
import Attack
import Foundation
import Imaging
import Runs
import Testing
import Transforms

@Suite("Patch artifacts")
struct PatchArtifactTests {
    /// A finished-looking run folder written by RunFiles: a 40×24 texture with a soft elliptic mask.
    static func makeRun(in dir: String, target: Int? = 859) throws -> String {
        let run = dir + "/run"
        let files = RunFiles(directory: run)
        try files.createDirectory()
        let (w, h) = (40, 24)
        let texture = (0..<(w * h * 3)).map { Float(($0 * 37) % 251) / 250 }
        var alpha = [Float](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w {
            let dx = (Double(x) + 0.5 - 20) / 18, dy = (Double(y) + 0.5 - 12) / 10
            alpha[y * w + x] = Float(min(max(1.5 - (dx * dx + dy * dy), 0), 1))
        } }
        try files.writeImages(texture: texture, mask: try Mask(alpha: alpha, width: w, height: h), width: w, height: h)
        var config = GenerateConfig()
        config.target = target
        let record = RunRecord(version: "test", created: "2026-12-03T00:00:00Z", models: [.init(spec: "lite0", name: "lite0", path: nil, sha256: "x")],
                               target: target.map { .init(index: $0, label: "toaster") }, config: config, stepsDone: 1, earlyStopped: nil,
                               elapsedSeconds: nil, threads: nil, texture: .init(width: w, height: h), scenes: nil,
                               finalValidation: RunValidation(success: 0.5, samples: 4, meanTargetProbability: 0.4, metric: "targeted top-1"),
                               validations: [], finalValidationLastIterate: nil)
        try files.writeRecord(record)
        return run
    }

    @Test("a run folder, its RGBA PNG and its RGB PNG + mask PNG give the same texture and mask")
    func oneMaskRule() throws {
        try Repo.withScratch { dir in
            let run = try Self.makeRun(in: dir)
            let folder = try PatchArtifact.load(run)
            let rgba = try PatchArtifact.load(run + "/patch_rgba.png")
            let rgbAndMask = try PatchArtifact.load(run + "/patch.png", maskPath: run + "/mask.png")
            #expect(folder.mask == rgba.mask && folder.mask == rgbAndMask.mask)
            #expect(folder.texture == rgba.texture && folder.texture == rgbAndMask.texture)
            #expect(folder.mask.alpha.contains { $0 > 0 && $0 < 1 })  // soft edges survive
            #expect(folder.target == 859 && folder.record?.config.target == 859 && folder.runValidation?.samples == 4)
            #expect(rgba.target == nil && rgba.record == nil)
        }
    }

    @Test("a mask PNG: alpha when it has one, else luminance; resized to the texture")
    func maskImageRule() throws {
        try Repo.withScratch { dir in
            let run = try Self.makeRun(in: dir)
            // Alpha wins: colour says "nothing", alpha says "everything".
            try Image(width: 40, height: 24, channels: 4, pixels: [Float](repeating: 0, count: 40 * 24 * 4).enumerated().map { $0.offset % 4 == 3 ? 1 : 0 })
                .writePNG(to: dir + "/alpha-mask.png")
            let a = try PatchArtifact.load(run + "/patch.png", maskPath: dir + "/alpha-mask.png")
            #expect(a.mask.alpha.allSatisfy { $0 == 1 })
            // Without alpha, luminance: pure green (0.7152) marks, pure blue (0.0722) does not.
            var rgb = Image(width: 20, height: 12, channels: 3, fill: 0)
            for y in 0..<12 { for x in 0..<20 { rgb[x, y, x < 10 ? 1 : 2] = 1 } }
            try rgb.writePNG(to: dir + "/colour-mask.png")
            let b = try PatchArtifact.load(run + "/patch.png", maskPath: dir + "/colour-mask.png")  // 20×12 → 40×24
            #expect(abs(b.mask.alpha[12 * 40 + 2] - 0.7152) < 0.01 && abs(b.mask.alpha[12 * 40 + 37] - 0.0722) < 0.01)
            // The same rule for generate's --shape FILE.png.
            #expect(try PatchShape.maskFile(path: dir + "/colour-mask.png").mask(width: 40, height: 24) == b.mask)
        }
    }

    @Test("bad patches are refused, naming the file and what to do", arguments: [
        ("no mask.png", "missing mask.png"), ("blank mask", "marks no pixel"), ("clear RGBA", "fully transparent"),
        ("tiny", "8…2048"), ("RGB alone", "outline is unknown"), ("damaged run.json", "is not a generate run record"),
        ("missing", "does not exist"), ("mask and shape", "not both"),
    ])
    func refusals(_ damage: String, _ expected: String) throws {
        try Repo.withScratch { dir in
            let run = try Self.makeRun(in: dir)
            var path = run, mask: String? = nil, shape: String? = nil
            switch damage {
            case "no mask.png": try FileManager.default.removeItem(atPath: run + "/mask.png")
            case "blank mask": try Image(width: 40, height: 24, channels: 3, fill: 0).writePNG(to: run + "/mask.png")
            case "clear RGBA": path = dir + "/clear.png"; try Image(width: 16, height: 16, channels: 4, fill: 0).writePNG(to: path)
            case "tiny": path = dir + "/tiny.png"; try Image(width: 7, height: 64, channels: 4, fill: 1).writePNG(to: path)
            case "RGB alone": path = run + "/patch.png"
            case "damaged run.json": try Data("not json".utf8).write(to: URL(fileURLWithPath: run + "/run.json"))
            case "missing": path = dir + "/nothing.png"
            default: path = run + "/patch.png"; mask = run + "/mask.png"; shape = "circle"
            }
            let error = #expect(throws: RunError.self) { try PatchArtifact.load(path, maskPath: mask, shape: shape) }
            let text = error?.description ?? ""
            #expect(text.contains(expected), "\(damage): \(text)")
            #expect(text.contains(dir), "\(damage): the message must name the file: \(text)")
            #expect(!text.contains("\n"), "one line: \(text)")
        }
    }
}
