// Calibration tests: the chart (layout, colours, rendering, JSON), the least-squares fits, and the
// whole loop on synthetic photos with a known colour transform and perspective (detected and given
// corners), then the failure cases. Reports the measured errors.
import Attack
import Calibration
import Foundation
import Imaging
import Testing
import Transforms

/// The 8x8 chart at 100 dpi: small enough for fast tests, big enough to detect.
func smallLayout(rows: Int = 8, columns: Int = 8) throws -> ChartLayout {
    try ChartLayout.make(ChartOptions(dpi: 100, paper: .a4, rows: rows, columns: columns))
}

func maxAbs(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
func maxDiff(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float { let d = a - b; return max(abs(d.x), abs(d.y), abs(d.z)) }

@Suite struct ChartTests {
    @Test func layoutIsDeterministicAndWellFormed() throws {
        let a = try smallLayout(), b = try smallLayout()
        #expect(a == b)
        #expect(a.width == 827 && a.height == 1169)
        #expect(a.patches.count == 64 && a.markers.count == 4)
        try a.validate(source: "test")
        // Distinct colours, greys from black to white, every primary and secondary present.
        let colors = a.patches.map { $0.rgb }
        #expect(Set(colors).count == 64)
        #expect(colors.first == [0, 0, 0] && colors.contains([255, 255, 255]))
        for c in [[255, 0, 0], [0, 255, 0], [0, 0, 255], [0, 255, 255], [255, 0, 255], [255, 255, 0]] { #expect(colors.contains(c)) }
        // Patches do not overlap the markers or each other.
        for p in a.patches {
            for m in a.markers {
                #expect(p.x + p.width <= m.x || m.x + m.size <= p.x || p.y + p.height <= m.y || m.y + m.size <= p.y)
            }
        }
    }

    @Test func renderShowsPatchesAndMarkers() throws {
        let layout = try smallLayout()
        let image = layout.render()
        #expect(image.width == layout.width && image.height == layout.height)
        for p in layout.patches {
            let cx = p.x + p.width / 2, cy = p.y + p.height / 2
            for c in 0..<3 { #expect(image[cx, cy, c] == Float(p.rgb[c]) / 255) }
        }
        let m = layout.markers[0], module = m.size / 7
        #expect(image[m.x + 1, m.y + 1, 0] == 0)                        // frame
        #expect(image[m.x + module + 1, m.y + module + 1, 0] == 1)      // white ring
        #expect(image[Int(m.centerX), Int(m.centerY), 0] == 0)          // top-left code: centre dot
    }

    @Test func jsonRoundTripAndBadFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calib-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let layout = try smallLayout(rows: 6, columns: 6)
        try layout.write(to: dir + "/chart.json")
        #expect(try ChartLayout.read(from: dir + "/chart.json") == layout)
        try Data("{\"format\": 3}".utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        #expect(throws: CalibrationError.self) { try ChartLayout.read(from: dir + "/bad.json") }
        #expect(throws: CalibrationError.self) { try ChartLayout.read(from: dir + "/missing.json") }
        var broken = layout
        broken.patches[0].x = layout.width
        #expect(throws: CalibrationError.self) { try broken.validate(source: "broken") }
    }

    @Test func badOptions() {
        #expect(throws: CalibrationError.self) { try ChartLayout.make(ChartOptions(dpi: 10)) }
        #expect(throws: CalibrationError.self) { try ChartLayout.make(ChartOptions(rows: 2, columns: 8)) }
        #expect(throws: CalibrationError.self) { try ChartLayout.make(ChartOptions(dpi: 700)) }
        #expect(throws: CalibrationError.self) { try ChartLayout.make(ChartOptions(dpi: .nan)) }
        #expect(throws: CalibrationError.self) { try ChartLayout.make(ChartOptions(rows: 8, columns: 17)) }
        // The extremes of the allowed ranges lay out (patches of at least 6 pixels).
        #expect((try? ChartLayout.make(ChartOptions(dpi: 50, paper: .letter, rows: 16, columns: 16)))?.patches.count == 256)
        #expect(throws: CalibrationError.self) { try ChartOptions.parseGrid("8by8") }
        #expect((try? ChartOptions.parseGrid("10x6")).map { [$0.columns, $0.rows] } == [10, 6])
    }
}

@Suite struct FitTests {
    @Test func affineFitIsExactOnNoiselessPairs() throws {
        let printed = try smallLayout().patches.map(\.color)
        let m = SyntheticPhoto.matrix, b = SyntheticPhoto.bias
        let captured = printed.map { p in
            SIMD3(m[0] * p.x + m[1] * p.y + m[2] * p.z + b[0],
                  m[3] * p.x + m[4] * p.y + m[5] * p.z + b[1],
                  m[6] * p.x + m[7] * p.y + m[8] * p.z + b[2])
        }
        let fit = try ColorFit.affine(printed: printed, captured: captured)
        #expect(maxAbs(fit.matrix, m) < 1e-10 && maxAbs(fit.bias, b) < 1e-10)
    }

    @Test func singularDesignThrows() {
        let grey = [SIMD3<Double>](repeating: SIMD3(0.5, 0.5, 0.5), count: 8)
        #expect(throws: CalibrationError.self) { try ColorFit.affine(printed: grey, captured: grey) }
        #expect(throws: CalibrationError.self) { try ColorFit.perChannel(printed: grey, captured: grey) }
    }
}

@Suite struct CalibrationLoopTests {
    func run(_ photo: SyntheticPhoto, _ layout: ChartLayout, corners: [SIMD2<Double>]? = nil) throws -> Calibrator.Result {
        try Calibrator.calibrate(photo: photo.image, photoName: "synthetic", layout: layout, chartName: "test layout",
                                 corners: corners, tool: "tests", date: "2024-01-01T00:00:00Z")
    }

    @Test func recoversKnownTransformFromDetectedMarkers() throws {
        let layout = try smallLayout()
        let photo = try SyntheticPhoto.make(layout: layout)
        if let dir = ProcessInfo.processInfo.environment["CALIBRATION_TEST_OUT"] {
            try photo.image.writePNG(to: dir + "/synthetic-photo.png")
            try layout.write(to: dir + "/synthetic-chart.json")
        }
        let result = try run(photo, layout)
        let c = result.calibration
        let markerError = zip(result.detected, photo.trueMarkerCenters).map { (SIMD2($0.centerX, $0.centerY) - $1) }
            .map { ($0 * $0).sum().squareRoot() }.max() ?? .infinity
        let mErr = maxAbs(c.matrix, SyntheticPhoto.matrix), bErr = maxAbs(c.bias, SyntheticPhoto.bias)
        print(String(format: "calibration (detected): marker max error %.3f px; matrix max error %.4f; bias max error %.4f; residual RMS %.3f max %.3f (0-255)",
                     markerError, mErr, bErr, c.residualRMS, c.residualMax))
        #expect(result.detected.map(\.id) == [0, 1, 2, 3])
        #expect(markerError < 1.5)
        #expect(mErr < 0.01 && bErr < 0.005)
        #expect(c.residualRMS < 1.5)
        #expect(c.palette.count == layout.patches.count)
        #expect(c.markers.allSatisfy { $0.source == "detected" })
        // apply(printed) reproduces the measured palette.
        for (p, q) in zip(layout.patches, c.palette) {
            let a = c.apply(SIMD3<Float>(Float(p.color.x), Float(p.color.y), Float(p.color.z)))
            #expect(maxDiff(a, q) < 0.02)
        }
        // The nearly diagonal transform has a printer gain/bias, close to the diagonal.
        let gb = try #require(c.printerGainBias())
        #expect(maxAbs(gb.gain, [0.8, 0.75, 0.7]) < 0.12)
        // The palette file is what Attack's PrintablePalette reads.
        let palette = try PrintablePalette.parse(c.paletteFileText(), source: "calibration")
        #expect(palette.colors.count == layout.patches.count)
        #expect(maxDiff(palette.colors[0], c.palette[0]) <= 0.5 / 255 + 1e-6)
    }

    @Test func recoversFromARotatedPhoto() throws {
        // The chart turned 90° clockwise in the photo: its top-left lands top-right.
        let layout = try smallLayout()
        let photo = try SyntheticPhoto.make(layout: layout, width: 1100, height: 900,
                                            quad: [SIMD2(1000, 120), SIMD2(960, 800), SIMD2(90, 760), SIMD2(150, 90)], seed: 11)
        let result = try run(photo, layout)
        let markerError = zip(result.detected, photo.trueMarkerCenters).map { (SIMD2($0.centerX, $0.centerY) - $1) }
            .map { ($0 * $0).sum().squareRoot() }.max() ?? .infinity
        let mErr = maxAbs(result.calibration.matrix, SyntheticPhoto.matrix)
        print(String(format: "calibration (rotated 90°): marker max error %.3f px; matrix max error %.4f; bias max error %.4f",
                     markerError, mErr, maxAbs(result.calibration.bias, SyntheticPhoto.bias)))
        #expect(markerError < 1.5 && mErr < 0.01)
    }

    @Test func detectsSmallMarkersUnderUnevenLight() throws {
        // Markers about 23 px across (3.3 px modules), light falling 35% from left to right.
        let layout = try smallLayout()
        let photo = try SyntheticPhoto.make(layout: layout, width: 600, height: 500,
                                            quad: [SIMD2(150, 45), SIMD2(440, 75), SIMD2(470, 465), SIMD2(120, 440)],
                                            blurSigma: 0.7, noiseSigma: 0.015, shading: 0.35, seed: 5)
        let result = try run(photo, layout)
        let markerError = zip(result.detected, photo.trueMarkerCenters).map { (SIMD2($0.centerX, $0.centerY) - $1) }
            .map { ($0 * $0).sum().squareRoot() }.max() ?? .infinity
        print(String(format: "calibration (small, uneven light): marker max error %.3f px; residual RMS %.2f (the shading is not in the model)",
                     markerError, result.calibration.residualRMS))
        #expect(markerError < 1.5)
    }

    @Test func recoversWithGivenCorners() throws {
        let layout = try smallLayout()
        let photo = try SyntheticPhoto.make(layout: layout)
        // Corners as a person would click them: off by up to 1.5 px.
        let offsets = [SIMD2(1.0, -1.0), SIMD2(-1.5, 0.5), SIMD2(0.5, 1.5), SIMD2(-1.0, -0.5)]
        let corners = zip(photo.trueMarkerCenters, offsets).map { $0 + $1 }
        let text = corners.map { String(format: "%.2f,%.2f", $0.x, $0.y) }.joined(separator: ",")
        let result = try run(photo, layout, corners: try Calibrator.parseCorners(text))
        let c = result.calibration
        let mErr = maxAbs(c.matrix, SyntheticPhoto.matrix), bErr = maxAbs(c.bias, SyntheticPhoto.bias)
        print(String(format: "calibration (given corners, ±1.5 px): matrix max error %.4f; bias max error %.4f; residual RMS %.3f",
                     mErr, bErr, c.residualRMS))
        #expect(result.detected.isEmpty && c.markers.allSatisfy { $0.source == "given" })
        #expect(mErr < 0.01 && bErr < 0.005)
    }

    @Test func strongChannelMixingHasNoPerChannelModel() throws {
        let layout = try smallLayout()
        let mixing: [Double] = [0.55, 0.25, 0.05, 0.20, 0.55, 0.10, 0.05, 0.25, 0.50]
        let photo = try SyntheticPhoto.make(layout: layout, matrix: mixing, noiseSigma: 0.005)
        let c = try run(photo, layout).calibration
        print(String(format: "calibration (strong mixing): matrix max error %.4f", maxAbs(c.matrix, mixing)))
        #expect(maxAbs(c.matrix, mixing) < 0.01)
        #expect(!c.isNearlyDiagonal() && c.printerGainBias() == nil)
        #expect(c.channelResidualRMS > c.residualRMS)
    }

    // MARK: Failure cases

    @Test func photoWithoutChartSaysGiveCorners() throws {
        let layout = try smallLayout()
        let blank = Image(width: 600, height: 500, channels: 3, fill: 0.5)
        do {
            _ = try Calibrator.calibrate(photo: blank, photoName: "blank.png", layout: layout, chartName: "c", tool: "t", date: "d")
            Issue.record("expected markersNotFound")
        } catch {
            let e = error
            guard case .markersNotFound(_, let found, let missing) = e else { Issue.record("got \(e)"); return }
            #expect(found.isEmpty && missing.count == 4)
            #expect(e.description.contains("--corners"))
        }
    }

    @Test func degenerateAndBadCorners() throws {
        let layout = try smallLayout()
        let photo = try SyntheticPhoto.make(layout: layout)
        let t = photo.trueMarkerCenters
        func expectDegenerate(_ q: [SIMD2<Double>]) {
            #expect {
                _ = try run(photo, layout, corners: q)
            } throws: { e in
                if case .degenerateCorners = e as? CalibrationError { return true } else { return false }
            }
        }
        expectDegenerate([t[0], t[1], t[3], t[2]])                              // swapped: a bow tie
        expectDegenerate([SIMD2(100, 100), SIMD2(300, 100), SIMD2(500, 100), SIMD2(200, 400)])  // three collinear
        expectDegenerate([t[0], t[0] + SIMD2(3, 0), t[2], t[3]])                // two nearly equal
        expectDegenerate([t[0], t[1], SIMD2(5000, 900), t[3]])                  // outside the photo
        #expect(throws: CalibrationError.self) { try Calibrator.parseCorners("1,2,3") }
        #expect(throws: CalibrationError.self) { try Calibrator.parseCorners("1,2,3,4,5,6,7,x") }
        #expect((try? Calibrator.parseCorners("1,2, 3,4,5,6,7,8.5"))?.last == SIMD2(7, 8.5))
    }

    @Test func wrongChartLayoutIsAMismatch() throws {
        // Photo of the 8x8 chart, analysed with the 6x6 chart's layout.
        let photo = try SyntheticPhoto.make(layout: try smallLayout())
        #expect {
            _ = try run(photo, try smallLayout(rows: 6, columns: 6))
        } throws: { e in
            if case .chartMismatch = e as? CalibrationError { return true } else { return false }
        }
    }

    @Test func chartCutOffByThePhotoEdge() throws {
        let layout = try smallLayout()
        // The chart's bottom half is outside the photo; give corners so detection is not the issue.
        let photo = try SyntheticPhoto.make(layout: layout, width: 900, height: 500)
        let q = photo.trueMarkerCenters
        let inside = q.map { SIMD2(min(max($0.x, 1), 899), min(max($0.y, 1), 499)) }
        #expect(throws: CalibrationError.self) { _ = try run(photo, layout, corners: inside) }
        #expect(throws: CalibrationError.self) { _ = try run(photo, layout) }
    }

    @Test func calibrationJSONRoundTrip() throws {
        let layout = try smallLayout()
        let c = try run(try SyntheticPhoto.make(layout: layout), layout).calibration
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calib-\(UInt64.random(in: 0...UInt64.max)).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try c.write(to: path)
        #expect(try ColorCalibration.read(from: path) == c)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CalibrationError.self) { try ColorCalibration.read(from: path) }
    }
}
