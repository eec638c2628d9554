// Bad input for Calibration, found by a sweep of the CLI: chart layouts with impossible grid or
// DPI fields, calibration files with gains/biases no printer gives (or the wrong number of them),
// and output paths that collide or lie in missing folders. Each error names the file or option,
// the field, and what is allowed.
import Calibration
import Foundation
import Testing

/// A fresh folder under the temp directory, removed afterwards.
private func withScratchFolder<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("calib-bad-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The description of the `CalibrationError` that `body` throws ("" when it throws none).
private func message(_ body: () throws -> Void) -> String {
    do { try body(); return "" } catch { return "\(error)" }
}

@Suite struct ChartLayoutFieldTests {
    /// The 6x6 test chart as a JSON object, with `change` applied, written to a file and read back.
    func read(_ change: (inout [String: Any]) -> Void) throws -> String {
        try withScratchFolder { folder in
            let path = folder + "/chart.json"
            try smallLayout(rows: 6, columns: 6).write(to: path)
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            change(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
            return message { _ = try ChartLayout.read(from: path) }.replacingOccurrences(of: path, with: "CHART")
        }
    }

    /// `value` is JSON text.
    @Test(arguments: [("columns", "0", "3–16"), ("columns", "-8", "3–16"), ("rows", "17", "3–16"), ("dpi", "0", "50–600"),
                      ("dpi", "1e9", "50–600"), ("paper", "\"a5\"", "a4, letter")])
    func outOfRangeFieldIsNamed(field: String, value: String, allowed: String) throws {
        let json = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        let text = try read { $0[field] = json }
        #expect(text.hasPrefix("CHART: field \"\(field)\""), "\(text)")
        #expect(text.contains(allowed), "\(text)")
    }

    @Test func gridMustMatchThePatches() throws {
        // 6x6 patches but the header says 8x8: both in range, so the count must be checked.
        let text = try read { $0["columns"] = 8; $0["rows"] = 8 }
        #expect(text.hasPrefix("CHART: field \"patches\" has 36 entries"), "\(text)")
        let row = try read { object in
            var patches = object["patches"] as! [[String: Any]]
            patches[0]["row"] = 6
            object["patches"] = patches
        }
        #expect(row.hasPrefix("CHART: patch 0: row 6"), "\(row)")
    }

    /// Issue 23: positions near Int.max must not trap (x + size overflows), and text from the file is escaped.
    @Test func hugeNumbersAndHostileTextAreRefusedByName() throws {
        let marker = try read { object in
            var markers = object["markers"] as! [[String: Any]]
            markers[1]["x"] = Int.max - 2
            object["markers"] = markers
        }
        #expect(marker.contains("lies outside the"), "\(marker)")
        let patch = try read { object in
            var patches = object["patches"] as! [[String: Any]]
            patches[3]["x"] = 5; patches[3]["width"] = Int.max
            object["patches"] = patches
        }
        #expect(patch.hasPrefix("CHART: patch 3 lies outside"), "\(patch)")
        let hostile = "\u{1B}[2J\n\u{202E}" + String(repeating: "\u{85}", count: 400)
        for field in ["format", "paper"] {
            let text = try read { $0[field] = hostile }
            #expect(text.split(separator: "\n").count == 1 && text.count < 400, "\(text.debugDescription)")
            #expect(text.contains(#"\x1B[2J\x0A\u{202E}\u{0085}"#) && !text.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) },
                    "\(text.debugDescription)")
        }
    }

    @Test func missingFieldIsNamed() throws {
        let text = try read { $0["columns"] = nil }
        #expect(text.hasPrefix("CHART: not a chart layout JSON (field \"columns\" is missing)"), "\(text)")
    }
}

@Suite struct CalibrationFileTests {
    /// A real calibration, from the synthetic photo of the test chart.
    static let calibration: ColorCalibration = {
        let layout = try! smallLayout()
        return try! Calibrator.calibrate(photo: SyntheticPhoto.make(layout: layout).image, photoName: "synthetic",
                                         layout: layout, chartName: "test layout", tool: "tests",
                                         date: "2024-01-01T00:00:00Z").calibration
    }()

    @Test func aFittedCalibrationIsValid() throws {
        #expect(Self.calibration.validationProblem() == nil)
        try Self.calibration.validate(source: "fitted")
    }

    @Test(arguments: [
        ("channelGain", [0.0, 0, 0], "field \"channelGain\"[0] is 0.0; it must be in (0, 4]"),
        ("channelGain", [1e300, 1, 1], "field \"channelGain\"[0] is 1e+300; it must be in (0, 4]"),
        ("channelGain", [1, -0.5, 1], "field \"channelGain\"[1] is -0.5; it must be in (0, 4]"),
        ("channelGain", [1, 1], "field \"channelGain\" has 2 numbers; it must have 3"),
        ("channelBias", [-5, 5, 0], "field \"channelBias\"[0] is -5.0; it must be in [-1, 1]"),
        ("bias", [0, 0, 2], "field \"bias\"[2] is 2.0; it must be in [-1, 1]"),
        ("bias", [0, 0, 0, 0], "field \"bias\" has 4 numbers; it must have 3"),
        ("matrix", [1, 0, 0, 0, 1, 0, 0, 0], "field \"matrix\" has 8 numbers; it must have 9"),
        ("matrix", [1, 0, 0, 0, 1e6, 0, 0, 0, 1], "field \"matrix\"[4] is 1000000.0; it must be in [-4, 4]"),
    ])
    func outOfRangeFieldIsNamedWithItsRange(field: String, values: [Double], expected: String) throws {
        var c = Self.calibration
        switch field {
        case "channelGain": c.channelGain = values
        case "channelBias": c.channelBias = values
        case "bias": c.bias = values
        default: c.matrix = values
        }
        #expect(c.validationProblem()?.hasPrefix(expected) == true, "\(c.validationProblem() ?? "nil")")
        // Read from a file: the error names the file.
        try withScratchFolder { folder in
            let path = folder + "/cal.json"
            let encoder = JSONEncoder()
            try encoder.encode(c).write(to: URL(fileURLWithPath: path))
            let text = message { _ = try ColorCalibration.read(from: path) }
            #expect(text.hasPrefix("\(path): \(expected)"), "\(text)")
        }
    }

    @Test func emptyOrOutOfRangePaletteIsRefused() {
        var c = Self.calibration
        c.palette = []
        #expect(c.validationProblem()?.hasPrefix("field \"palette\" is empty") == true)
        c.palette = [SIMD3(0.5, 0.5, 1.5)]
        #expect(c.validationProblem()?.hasPrefix("field \"palette\"[0]") == true)
    }

    @Test func missingFieldIsNamed() throws {
        try withScratchFolder { folder in
            let path = folder + "/cal.json"
            try JSONEncoder().encode(Self.calibration).write(to: URL(fileURLWithPath: path))
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            object["channelGain"] = nil
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
            let text = message { _ = try ColorCalibration.read(from: path) }
            #expect(text.hasPrefix("\(path): not a calibration JSON (field \"channelGain\" is missing)"), "\(text)")
        }
    }

    @Test func writeIntoAMissingFolderSaysTheFolderIsMissing() throws {
        try withScratchFolder { folder in
            let text = message { try Self.calibration.write(to: folder + "/nodir/cal.json") }
            #expect(text.contains("the folder \(folder)/nodir does not exist"), "\(text)")
        }
    }
}

@Suite struct CalibrationOutputsTests {
    @Test func defaultsSitBesideOut() throws {
        try withScratchFolder { folder in
            let o = try CalibrationOutputs(out: folder + "/cal.json")
            #expect(o.palette == folder + "/cal-palette.txt" && o.rectified == folder + "/cal-rectified.png")
        }
    }

    @Test func twoOutputsOnOneFileAreRefused() throws {
        try withScratchFolder { folder in
            let out = folder + "/cal.json"
            let both = message { _ = try CalibrationOutputs(out: out, paletteOut: out) }
            #expect(both.hasPrefix("--out and --palette-out are the same file"), "\(both)")
            // Another spelling of the same path.
            let dotted = message { _ = try CalibrationOutputs(out: out, paletteOut: folder + "/./sub/../cal.json") }
            #expect(dotted.hasPrefix("--out and --palette-out are the same file"), "\(dotted)")
            let rect = message { _ = try CalibrationOutputs(out: out, paletteOut: folder + "/r.png", rectifiedOut: folder + "/r.png") }
            #expect(rect.hasPrefix("--palette-out and --rectified-out are the same file"), "\(rect)")
            // A given path on another output's default.
            let onDefault = message { _ = try CalibrationOutputs(out: out, paletteOut: folder + "/cal-rectified.png") }
            #expect(onDefault.hasPrefix("--palette-out and --rectified-out (its default) are the same file"), "\(onDefault)")
        }
    }

    @Test func rectifiedImageMustBeAPNG() throws {
        try withScratchFolder { folder in
            for name in ["rect.jpg", "rect.json", "rect"] {
                let text = message { _ = try CalibrationOutputs(out: folder + "/cal.json", rectifiedOut: folder + "/" + name) }
                #expect(text.hasPrefix("--rectified-out \(folder)/\(name):") && text.contains(".png"), "\(text)")
            }
        }
    }

    @Test func everyOutputFolderIsCheckedFirst() throws {
        try withScratchFolder { folder in
            let out = message { _ = try CalibrationOutputs(out: folder + "/nodir/cal.json") }
            #expect(out.hasPrefix("--out \(folder)/nodir/cal.json: the folder \(folder)/nodir does not exist"), "\(out)")
            let palette = message { _ = try CalibrationOutputs(out: folder + "/cal.json", paletteOut: folder + "/nodir/p.txt") }
            #expect(palette.hasPrefix("--palette-out \(folder)/nodir/p.txt: the folder \(folder)/nodir does not exist"), "\(palette)")
            let proc = message { _ = try CalibrationOutputs(out: "/proc/x/cal.json") }
            #expect(proc.contains("the folder /proc/x does not exist"), "\(proc)")
            try Data().write(to: URL(fileURLWithPath: folder + "/file"))
            let notFolder = message { _ = try CalibrationOutputs(out: folder + "/file/cal.json") }
            #expect(notFolder.contains("is a file, not a folder"), "\(notFolder)")
            try FileManager.default.createDirectory(atPath: folder + "/d.json", withIntermediateDirectories: false)
            let isFolder = message { _ = try CalibrationOutputs(out: folder + "/d.json") }
            #expect(isFolder.contains("this is a folder"), "\(isFolder)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["d.json", "file"])
        }
    }
}
