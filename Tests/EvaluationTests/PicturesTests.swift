// Grid axes, contact sheets and heat maps (sizes, frames, text present), and report.html opened
// in a real headless browser (Chromium from apt: Scripts/setup.sh installs it). Needs lite0.
import Runs
import Attack
import Drawing
import Foundation
import Imaging
import Networks
import Testing
import Transforms
import Evaluation

@Suite("Grids and heat maps", .serialized)
struct GridTests {
    @Test func axesParseAndBadAxesAreClearErrors() throws {
        let a = try GridAxis.parse("roll:-45..45:5")
        #expect(a.factor == .roll && a.values == [-45, -22.5, 0, 22.5, 45])
        #expect(try GridAxis.parse("size:0.3..0.5:1").values == [0.3])
        #expect { try GridAxis.parse("wobble:0..1:3") } throws: { "\($0)".contains("valid factors: roll, yaw, pitch, size") }
        #expect { try GridAxis.parse("roll:0..10") } throws: { "\($0)".contains("FACTOR:MIN..MAX:N") }
        #expect { try GridAxis.parse("yaw:-100..100:3") } throws: { "\($0)".contains("must stay within") }
        #expect { try GridAxis.parse("size:0.9..2:2") } throws: { "\($0)".contains("bigger than the scene") }
        #expect { try GridAxis.parse("size:0..0.5:2") } throws: { "\($0)".contains("must stay within") }
        #expect { try GridAxis.parse("roll:0..10:0") } throws: { "\($0)".contains("1…16") }
        #expect { try GridAxis.parse("roll:10..0:3") } throws: { $0 is EvaluationError }
    }

    @Test func contactSheetAndHeatMapPictures() throws {
        let patch = try PatchArtifact.load(Fixture.run)
        let scenes = try Fixture.sceneSet()
        let model = try PatchEvaluator.loadModels(["lite0"])[0]
        let bench = try ModelBench(model: model, scenes: scenes, batch: 16)
        let labels = try ClassLabels.imageNet()
        let rows = try GridAxis.parse("roll:-30..30:2"), cols = try GridAxis.parse("size:0.1..0.4:3")
        let base = GridMaker.baseSample(distribution: .digital, imageSize: 224, patchAspect: 1)
        #expect(base.centerX == 0.5 && base.roll == 0 && abs(base.size - 0.36) < 1e-12)
        let sheet = try GridMaker.contactSheet(patch: patch, bench: bench, scene: 0, sceneName: "ascent.png", rows: rows, columns: cols, base: base)
        #expect(sheet.cells.count == 2 && sheet.cells.allSatisfy { $0.count == 3 })
        #expect(sheet.cells[0][2].outcome == .target, "a big upright toaster patch should read as toaster")
        #expect(sheet.cells[0][0].outcome != .target, "a 0.1-wide patch should not")
        #expect { try GridMaker.contactSheet(patch: patch, bench: bench, scene: 0, sceneName: "", rows: rows, columns: rows, base: base) } throws: { "\($0)".contains("two different factors") }

        let img = try Pictures.contactSheet(sheet, labels: labels)
        // 3 columns and 2 rows of (224 + 2·6) px cells with 8 px gaps, plus margins.
        #expect(img.width > 3 * 236 + 2 * 8 && img.width < 3 * 236 + 2 * 8 + 400)
        #expect(img.height > 2 * 236 + 8 && img.height < 2 * 236 + 8 + 300)
        // Each cell's frame has its outcome's colour; its label band has white text.
        let (left, top) = try locateFirstFrame(img)
        for r in 0..<2 {
            for c in 0..<3 {
                let x0 = left + c * 244, y0 = top + r * 244
                let expected = sheet.cells[r][c].outcome == .target ? Pictures.targetColor : sheet.cells[r][c].outcome == .other ? Pictures.otherColor : Pictures.unchangedColor
                #expect(abs(img[x0 + 2, y0 + 2, 0] - expected.red) < 0.01 && abs(img[x0 + 2, y0 + 2, 1] - expected.green) < 0.01)
                var white = 0
                for y in (y0 + 200)..<(y0 + 230) { for x in (x0 + 6)..<(x0 + 230) where img[x, y, 0] > 0.99 && img[x, y, 2] > 0.99 { white += 1 } }
                #expect(white > 100, "cell (\(r), \(c)) has no label text")
            }
        }

        let map = try GridMaker.heatMap(patch: patch, bench: bench, rows: rows, columns: cols, distribution: .digital, samplesPerCell: 4, seed: 1)
        #expect(map.cells.count == 2 && map.cells[0].count == 3 && map.cells.allSatisfy { $0.allSatisfy { $0.trials == 4 } })
        #expect(map.cells[0][0].rate < map.cells[0][2].rate)
        let again = try GridMaker.heatMap(patch: patch, bench: bench, rows: rows, columns: cols, distribution: .digital, samplesPerCell: 4, seed: 1)
        #expect(again == map)
        let heat = try Pictures.heatMap(map, title: "test")
        #expect(heat.width > 3 * 96 && heat.height > 2 * 96)
    }

    /// The top-left corner of the first cell: the first non-white, non-text pixel run of frame colour.
    func locateFirstFrame(_ img: Image) throws -> (Int, Int) {
        for y in 0..<img.height {
            for x in 0..<img.width {
                let r = img[x, y, 0], g = img[x, y, 1], b = img[x, y, 2]
                let frames: [Color] = [Pictures.targetColor, Pictures.otherColor, Pictures.unchangedColor]
                let isFrame = frames.contains { (f: Color) -> Bool in
                    let d: Float = abs(f.red - r) + abs(f.green - g) + abs(f.blue - b)
                    return d < 0.03
                }
                // A frame pixel with 30 more of the same colour to its right and below it.
                if isFrame && x + 30 < img.width && y + 30 < img.height && img[x + 30, y, 0] == r && img[x, y + 30, 1] == g {
                    return (x, y)
                }
            }
        }
        throw EvaluationError.badOption("no cell frame found")
    }
}

@Suite("HTML report", .serialized)
struct ReportTests {
    static func browser() -> String? {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
                let p = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }

    static func run(_ exe: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func reportIsSelfContainedAndRendersInAHeadlessBrowser() throws {
        let patch = try PatchArtifact.load(Fixture.run)
        let scenes = try Fixture.sceneSet()
        let names = scenes.paths.map { ($0 as NSString).lastPathComponent }
        let bench = try ModelBench(model: try PatchEvaluator.loadModels(["lite0"])[0], scenes: scenes, batch: 16)
        let samples = try SampleSet.latinHypercube(distribution: .digital, count: 24, scenes: names, imageSize: 224, patchAspect: 1, seed: 2)
        var settings = EvaluationSettings()
        settings.controlSamples = 8
        let labels = try ClassLabels.imageNet()
        let record = try PatchEvaluator.evaluate(patches: [patch], benches: [bench], samples: samples, settings: settings, labels: labels,
                                                 distribution: .digital, version: "test")
        let dir = Fixture.temporary("report-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let written = try ReportWriter.write(record: record, patches: [patch], samples: samples, benches: [bench], labels: labels,
                                             distribution: .digital, directory: dir, seed: 0)
        let html = try String(contentsOfFile: (dir as NSString).appendingPathComponent("report.html"), encoding: .utf8)
        #expect(written.count == 3)
        #expect(html.contains("Patch toaster_run") && html.contains("control: shuffled") && html.contains("Heat map") && html.contains("Contact sheet"))
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == 3)
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"), "the report must not load anything from elsewhere")

        guard let chromium = Self.browser() else {
            Issue.record("no headless browser: install Chromium (apt-get install chromium; Scripts/setup.sh does) to check that report.html renders")
            return
        }
        let page = URL(fileURLWithPath: dir).appendingPathComponent("report.html").absoluteString
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--user-data-dir=\(dir)/chromium-profile"]
        let dom = try Self.run(chromium, common + ["--dump-dom", page])
        #expect(dom.status == 0)
        #expect(dom.output.contains("data-images=\"3\""), "the page's self-check did not run or found no images")
        #expect(dom.output.contains("data-broken-images=\"0\""), "an embedded image failed to decode")
        let shot = (dir as NSString).appendingPathComponent("screenshot.png")
        let s = try Self.run(chromium, common + ["--hide-scrollbars", "--window-size=1200,1600", "--screenshot=\(shot)", page])
        #expect(s.status == 0)
        let img = try Image.read(from: shot)
        #expect(img.width == 1200 && img.height == 1600)
        // Not blank: the page has dark text and coloured pictures.
        #expect(img.pixels.contains { $0 < 0.2 })
        try? FileManager.default.removeItem(atPath: dir)
    }
}
