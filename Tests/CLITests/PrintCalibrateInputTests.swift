// `robustpatch print` and `calibrate` on bad input, run as a user runs them: a one-line error that
// names the option or file, a non-zero exit (no signal, so no trap), and nothing half-written.
import Foundation
import Imaging
import Testing

/// Files left in `dir` (names, sorted).
private func contents(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}

/// `result` failed cleanly: it exited (no signal, so no trap) with status 1…127, and stderr starts
/// with "Error: " and contains every one of `needles` and none of `absent`.
private func expectCleanError(_ r: CLI.Result, _ needles: [String], absent: [String] = [],
                              sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!r.crashed, "killed by signal \(r.status): \(r.err.suffix(300))", sourceLocation: sourceLocation)
    #expect(r.status != 0, "exit \(r.status): \(r.err)", sourceLocation: sourceLocation)
    let lines = r.err.split(separator: "\n").filter { !$0.isEmpty }
    #expect(lines.first?.hasPrefix("Error: ") == true, "stderr: \(r.err)", sourceLocation: sourceLocation)
    for needle in needles { #expect(r.err.contains(needle), "stderr lacks \(needle): \(r.err)", sourceLocation: sourceLocation) }
    for word in absent { #expect(!r.err.contains(word), "stderr has \(word): \(r.err)", sourceLocation: sourceLocation) }
}

@Suite("robustpatch print and calibrate: bad input", .serialized)
struct PrintCalibrateInputTests {
    static let patch = "Printouts/toaster-run"

    @Test("print: a size that rounds to 0 printer pixels is refused, not a trap", arguments: [
        ["--size", "0.001mm"], ["--size", "0.01mm", "--dpi", "300"], ["--size", "0.05mm"], ["--size", "4mm", "--dpi", "72"],
    ])
    func printTinySize(_ args: [String]) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["print", "--patch", Self.patch] + args + ["--out", dir.appendingPathComponent("p.png").path])
        expectCleanError(r, ["--size", "5 mm"])
        #expect(contents(dir).isEmpty)
    }

    @Test("print: patches that evaluate refuses (no mask.png, fully transparent, 1 × 1)")
    func printRefusesWhatEvaluateRefuses() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run_nomask")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try Image(width: 16, height: 16, channels: 3, fill: 0.3).writePNG(to: run.appendingPathComponent("patch.png").path)
        let clear = dir.appendingPathComponent("clear.png").path
        try Image(width: 16, height: 16, channels: 4, fill: 0).writePNG(to: clear)
        let one = dir.appendingPathComponent("one.png").path
        try Image(width: 1, height: 1, channels: 3, fill: 0.5).writePNG(to: one)
        let out = dir.appendingPathComponent("out/p.png").path
        for (patch, needle) in [(run.path, "missing mask.png"), (clear, "fully transparent"), (one, "is 1×1")] {
            let r = try CLI.run(["print", "--patch", patch, "--size", "5cm", "--dpi", "72", "--out", out])
            expectCleanError(r, ["patch \(patch)", needle])
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    @Test("print: --dpi, --size and --out text get messages that say what to write", arguments: [
        (["--dpi", "71.9"], ["--dpi 71.9", "whole number", "72", "1200"], ["is invalid for"]),
        (["--dpi", "nan"], ["--dpi nan", "whole number"], ["is invalid for"]),
        (["--dpi", "1e9"], ["--dpi 1e9", "whole number"], ["is invalid for"]),
        (["--size", "1e30mm"], ["--size \"1e30mm\"", "exponent", "10cm"], ["unknown unit"]),
        (["--out", "OUT/p.jpg"], ["--out", "p.jpg", "must be a .png"], ["folder"]),
    ])
    func printOptionText(_ args: [String], _ needles: [String], _ absent: [String]) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var full = ["print", "--patch", Self.patch, "--size", "5cm", "--out", dir.appendingPathComponent("p.png").path]
        // Later options win: the case's own --size/--dpi/--out replace the defaults above.
        for (i, a) in args.enumerated() where i % 2 == 0 {
            if let k = full.firstIndex(of: a) { full.remove(at: k); full.remove(at: k) }
        }
        full += args.map { $0.replacingOccurrences(of: "OUT", with: dir.path) }
        let r = try CLI.run(full)
        expectCleanError(r, needles, absent: absent)
        #expect(contents(dir).isEmpty)
    }

    static let photo = "Samples/calibration/synthetic-chart-photo.jpg"
    static let chart = "Samples/calibration/synthetic-chart.json"

    @Test("calibrate: two outputs on one file, a non-PNG --rectified-out, missing folders: refused before anything is written")
    func calibrateOutputs() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("cal.json").path
        let common = ["calibrate", "--photo", Self.photo, "--chart", Self.chart, "--out", out]
        expectCleanError(try CLI.run(common + ["--palette-out", out]), ["--out and --palette-out", "same file"])
        // An output must not overwrite an input either (a copy of the chart, in case the check fails).
        let chartCopy = dir.appendingPathComponent("chart.json")
        try FileManager.default.copyItem(at: CLI.root.appendingPathComponent(Self.chart), to: chartCopy)
        expectCleanError(try CLI.run(["calibrate", "--photo", Self.photo, "--chart", chartCopy.path, "--out", chartCopy.path]),
                         ["--chart and --out", "same file"])
        try FileManager.default.removeItem(at: chartCopy)
        expectCleanError(try CLI.run(common + ["--palette-out", dir.path + "/p.png", "--rectified-out", dir.path + "/./p.png"]),
                         ["--palette-out and --rectified-out", "same file"])
        expectCleanError(try CLI.run(common + ["--rectified-out", dir.path + "/rect.jpg"]), ["--rectified-out", ".png"])
        expectCleanError(try CLI.run(common + ["--rectified-out", out]), ["--rectified-out", ".png"])
        let missing = dir.appendingPathComponent("nodir").path
        expectCleanError(try CLI.run(["calibrate", "--photo", Self.photo, "--chart", Self.chart, "--out", missing + "/cal.json"]),
                         ["--out", "the folder \(missing) does not exist"], absent: ["doesn’t exist", "doesn't exist"])
        // The palette's folder is missing: the calibration JSON must not be written either.
        expectCleanError(try CLI.run(common + ["--palette-out", missing + "/p.txt"]),
                         ["--palette-out", "the folder \(missing) does not exist"])
        #expect(contents(dir).isEmpty, "left behind: \(contents(dir))")
        // And the same command with good paths writes all three.
        let ok = try CLI.run(common)
        #expect(ok.status == 0, "\(ok.err)")
        #expect(contents(dir) == ["cal-palette.txt", "cal-rectified.png", "cal.json"])
    }

    @Test("calibrate: a chart layout with an impossible columns or dpi field names the file and field", arguments: [
        ("columns", "0"), ("columns", "-8"), ("dpi", "0"),
    ])
    func calibrateChartFields(_ field: String, _ value: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: CLI.root.appendingPathComponent(Self.chart))) as! [String: Any]
        object[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        let chart = dir.appendingPathComponent("chart.json").path
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: chart))
        let r = try CLI.run(["calibrate", "--photo", Self.photo, "--chart", chart, "--out", dir.appendingPathComponent("cal.json").path])
        expectCleanError(r, [chart, "field \"\(field)\""])
        #expect(contents(dir) == ["chart.json"])
    }
}
