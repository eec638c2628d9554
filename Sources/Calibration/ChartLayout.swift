// The colour-calibration chart: its options, its layout (four fiducial corner markers and a grid
// of colour patches, in chart pixels) as a Codable sidecar, the patch colours, and its rendering.
// Not the detector (MarkerDetector.swift) and not the fit (ColorCalibration.swift).
import Foundation
import TextSafety
import Transforms
import Imaging

/// What `ChartLayout.make` lays out: paper, resolution, patch grid.
public struct ChartOptions: Sendable, Equatable {
    public var dpi: Double
    public var paper: Paper
    public var rows: Int
    public var columns: Int

    public init(dpi: Double = 300, paper: Paper = .a4, rows: Int = 8, columns: Int = 8) {
        self.dpi = dpi; self.paper = paper; self.rows = rows; self.columns = columns
    }

    /// The papers a chart can be laid out on (portrait; Imaging's `Paper`).
    public static let papers: [Paper] = [.a4, .letter]
    public static let dpiRange: ClosedRange<Double> = 50...600
    public static let gridRange: ClosedRange<Int> = 3...16

    public func validate() throws(CalibrationError) {
        guard Self.papers.contains(paper) else {
            throw .badChartOptions(reason: "paper must be one of \(Self.papers.map(\.rawValue).joined(separator: ", ")), got \(paper.rawValue)")
        }
        guard dpi.isFinite, Self.dpiRange.contains(dpi) else {
            throw .badChartOptions(reason: "dpi must be \(Int(Self.dpiRange.lowerBound))–\(Int(Self.dpiRange.upperBound)), got \(dpi)")
        }
        guard Self.gridRange.contains(rows), Self.gridRange.contains(columns) else {
            throw .badChartOptions(reason: "the patch grid must be \(Self.gridRange.lowerBound)–\(Self.gridRange.upperBound) "
                + "rows and columns, got \(columns)x\(rows)")
        }
    }

    /// Parses "8x8" or "10x6" (columns × rows).
    public static func parseGrid(_ text: String) throws(CalibrationError) -> (columns: Int, rows: Int) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let c = Int(parts[0]), let r = Int(parts[1]) else {
            throw .badChartOptions(reason: "--patches '\(text)' is not COLUMNSxROWS, e.g. 8x8")
        }
        return (c, r)
    }
}

/// A chart's geometry and colours, in chart pixels: (x, y) from the top-left corner of the
/// top-left pixel, pixel centres at +0.5. This is the sidecar JSON written beside the chart PNG.
public struct ChartLayout: Codable, Sendable, Equatable {
    public static let formatName = "robustpatch-calibration-chart"
    public static let formatVersion = 1
    /// A marker is `markerModules` × `markerModules` modules: a one-module black frame, a
    /// one-module white ring, and a 3 × 3 code in the middle.
    public static let markerModules = 7
    /// Marker names in `markers` order: the chart's corners clockwise from top-left.
    public static let markerNames = ["top-left", "top-right", "bottom-right", "bottom-left"]

    public struct Marker: Codable, Sendable, Equatable {
        public var name: String
        /// Top-left corner of the marker square, and its side, in chart pixels.
        public var x: Int
        public var y: Int
        public var size: Int
        /// The 3 × 3 code, row-major, 1 = black.
        public var code: [Int]
        /// Centre of the square (x + size / 2, y + size / 2): the point the homography uses.
        public var centerX: Double
        public var centerY: Double
    }

    public struct Patch: Codable, Sendable, Equatable {
        public var row: Int
        public var column: Int
        /// Rectangle in chart pixels.
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int
        /// The colour printed, 0–255 (exactly what the 8-bit PNG holds).
        public var rgb: [Int]
        /// `rgb` / 255.
        public var color: SIMD3<Double> { SIMD3(Double(rgb[0]), Double(rgb[1]), Double(rgb[2])) / 255 }
    }

    public var format: String
    public var version: Int
    public var width: Int
    public var height: Int
    public var dpi: Double
    public var paper: String
    public var columns: Int
    public var rows: Int
    /// top-left, top-right, bottom-right, bottom-left.
    public var markers: [Marker]
    /// Row-major.
    public var patches: [Patch]

    /// Marker centres in chart pixels, in `markers` order.
    public var markerCenters: [SIMD2<Double>] { markers.map { SIMD2($0.centerX, $0.centerY) } }

    /// The chart for `options`. Deterministic: the same options give the same layout and colours.
    public static func make(_ options: ChartOptions) throws(CalibrationError) -> ChartLayout {
        try options.validate()
        let perMM = options.dpi / 25.4
        let mm = options.paper.millimetres ?? (210, 297)  // validate() allows only papers with a size (A4, Letter)
        let width = Int((mm.width * perMM).rounded()), height = Int((mm.height * perMM).rounded())
        let margin = Int((12 * perMM).rounded())
        let module = max(3, Int((16 * perMM / Double(markerModules)).rounded()))
        let side = module * markerModules
        let corners = [(margin, margin), (width - margin - side, margin),
                       (width - margin - side, height - margin - side), (margin, height - margin - side)]
        let markers = (0..<4).map { i in
            Marker(name: markerNames[i], x: corners[i].0, y: corners[i].1, size: side, code: MarkerCode.codes[i],
                   centerX: Double(corners[i].0) + Double(side) / 2, centerY: Double(corners[i].1) + Double(side) / 2)
        }
        // Patches fill the band between the marker rows, as large squares as fit.
        let gap = Int((5 * perMM).rounded())
        let regionX = margin, regionW = width - 2 * margin
        let regionY = margin + side + gap, regionH = height - 2 * (margin + side + gap)
        let pitch = min(regionW / options.columns, regionH / options.rows)
        let spacing = max(2, Int((Double(pitch) * 0.15).rounded()))
        guard pitch - spacing >= 6 else {
            throw .badChartOptions(reason: "at \(options.dpi) dpi the patches of a \(options.columns)x\(options.rows) "
                + "grid would be under 6 pixels; raise --dpi or use fewer patches")
        }
        let x0 = regionX + (regionW - options.columns * pitch) / 2 + spacing / 2
        let y0 = regionY + (regionH - options.rows * pitch) / 2 + spacing / 2
        let colors = ChartColors.make(count: options.rows * options.columns)
        var patches: [Patch] = []
        for r in 0..<options.rows {
            for c in 0..<options.columns {
                let rgb = colors[r * options.columns + c]
                patches.append(Patch(row: r, column: c, x: x0 + c * pitch, y: y0 + r * pitch,
                                     width: pitch - spacing, height: pitch - spacing, rgb: [rgb.x, rgb.y, rgb.z]))
            }
        }
        return ChartLayout(format: formatName, version: formatVersion, width: width, height: height, dpi: options.dpi,
                           paper: options.paper.rawValue, columns: options.columns, rows: options.rows,
                           markers: markers, patches: patches)
    }

    /// The chart as an RGB image, white paper, `width` × `height`.
    public func render() -> Image {
        var image = Image(width: width, height: height, channels: 3, fill: 1)
        func fill(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ rgb: [Float]) {
            for yy in max(0, y)..<min(height, y + h) {
                for xx in max(0, x)..<min(width, x + w) {
                    let i = (yy * width + xx) * 3
                    image.pixels[i] = rgb[0]; image.pixels[i + 1] = rgb[1]; image.pixels[i + 2] = rgb[2]
                }
            }
        }
        // A light hairline just outside each patch, so white and pale patches show on the paper
        // (outside the rectangle: the sampled centre stays the pure colour).
        let line = max(1, Int((0.25 * dpi / 25.4).rounded()))
        for p in patches {
            fill(p.x - line, p.y - line, p.width + 2 * line, p.height + 2 * line, [0.75, 0.75, 0.75])
            fill(p.x, p.y, p.width, p.height, p.rgb.map { Float($0) / 255 })
        }
        for m in markers {
            let module = m.size / Self.markerModules
            for my in 0..<Self.markerModules {
                for mx in 0..<Self.markerModules where MarkerCode.isDark(code: m.code, mx: mx, my: my) {
                    fill(m.x + mx * module, m.y + my * module, module, module, [0, 0, 0])
                }
            }
        }
        return image
    }

    /// Throws `chartMismatch` naming `source` when the layout is not one this version can use.
    public func validate(source: String) throws(CalibrationError) {
        func bad(_ reason: String) -> CalibrationError { .chartMismatch(source: source, reason: reason + " Use the .json written beside the chart PNG by `robustpatch calibration-chart`.") }
        guard format == Self.formatName else { throw bad("not a calibration chart layout (format '\(untrustedText(format))').") }
        guard version == Self.formatVersion else { throw bad("chart layout version \(version); this tool reads version \(Self.formatVersion).") }
        guard width >= 16, height >= 16, width <= Image.maxSide, height <= Image.maxSide else { throw bad("chart size \(width) × \(height) is impossible.") }
        // The layout fields calibration-chart writes from its options, in the ranges it accepts.
        let dpis = ChartOptions.dpiRange, grid = ChartOptions.gridRange
        guard dpi.isFinite, dpis.contains(dpi) else {
            throw bad("field \"dpi\" is \(dpi); it must be \(Int(dpis.lowerBound))–\(Int(dpis.upperBound)).")
        }
        guard let p = Paper(rawValue: paper), ChartOptions.papers.contains(p) else {
            throw bad("field \"paper\" is '\(untrustedText(paper))'; it must be one of \(ChartOptions.papers.map(\.rawValue).joined(separator: ", ")).")
        }
        guard grid.contains(columns) else {
            throw bad("field \"columns\" is \(columns); it must be \(grid.lowerBound)–\(grid.upperBound).")
        }
        guard grid.contains(rows) else {
            throw bad("field \"rows\" is \(rows); it must be \(grid.lowerBound)–\(grid.upperBound).")
        }
        guard markers.count == 4 else { throw bad("needs 4 markers, has \(markers.count).") }
        for (i, m) in markers.enumerated() {
            guard m.code == MarkerCode.codes[i] else { throw bad("marker \(i) (\(untrustedText(m.name))) has an unknown code.") }
            // (written as size ≤ width − x: the file's numbers may be near Int.max, and x + size must not trap)
            guard m.size >= Self.markerModules, (0...width).contains(m.x), (0...height).contains(m.y),
                  m.size <= width - m.x, m.size <= height - m.y else {
                throw bad("marker \(untrustedText(m.name)) lies outside the \(width) × \(height) chart.")
            }
            guard m.centerX == Double(m.x) + Double(m.size) / 2, m.centerY == Double(m.y) + Double(m.size) / 2 else {
                throw bad("marker \(untrustedText(m.name)): centre (\(m.centerX), \(m.centerY)) is not the centre of its square.")
            }
        }
        guard patches.count >= 4 else { throw bad("needs at least 4 patches, has \(patches.count).") }
        guard patches.count == columns * rows else {
            throw bad("field \"patches\" has \(patches.count) entries, but \"columns\" × \"rows\" is \(columns) × \(rows) = \(columns * rows).")
        }
        for (i, p) in patches.enumerated() {
            guard (0..<rows).contains(p.row), (0..<columns).contains(p.column) else {
                throw bad("patch \(i): row \(p.row), column \(p.column) is outside the \(columns)x\(rows) grid (rows and columns count from 0).")
            }
            guard p.rgb.count == 3, p.rgb.allSatisfy({ (0...255).contains($0) }) else { throw bad("patch \(i): rgb must be three numbers 0–255.") }
            guard p.width >= 2, p.height >= 2, (0...width).contains(p.x), (0...height).contains(p.y),
                  p.width <= width - p.x, p.height <= height - p.y else {
                throw bad("patch \(i) lies outside the \(width) × \(height) chart.")
            }
        }
    }

    /// Reads and validates a chart layout JSON.
    public static func read(from path: String) throws(CalibrationError) -> ChartLayout {
        let layout = try readJSONFile(ChartLayout.self, at: path, what: "chart layout",
                                      hint: readHint) { .chartMismatch(source: path, reason: $0) }
        try layout.validate(source: path)
        return layout
    }

    /// `read(from:)` for bytes already in memory (e.g. a fuzzer's input); errors name `source`.
    public static func decode(_ data: Data, source: String) throws(CalibrationError) -> ChartLayout {
        let layout = try decodeJSONData(ChartLayout.self, data, what: "chart layout", hint: readHint) { .chartMismatch(source: source, reason: $0) }
        try layout.validate(source: source)
        return layout
    }

    private static let readHint = "Use the .json written beside the chart PNG."

    /// Writes the layout as pretty JSON, atomically.
    public func write(to path: String) throws(CalibrationError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw .calibrationFile(path: path, reason: "could not encode the chart layout (\(error)).") }
        do { try AtomicFile.write(data, to: path) } catch { throw .calibrationFile(path: path, reason: "cannot write the chart layout: \(error.reason).") }
    }
}

/// The patch colours: a grey ramp, then colours picked by farthest-point sampling of a 9-level
/// RGB grid (primaries and secondaries first, then ever finer fills), so any count is well spread.
public enum ChartColors {
    /// `count` colours 0–255: greys dark→light, then the others ordered by hue and value.
    public static func make(count: Int) -> [SIMD3<Int>] {
        let greyCount = min(count, max(4, count / 6))
        var chosen: [SIMD3<Int>] = (0..<greyCount).map { i in
            let v = Int((255 * Double(i) / Double(max(1, greyCount - 1))).rounded())
            return SIMD3(v, v, v)
        }
        let levels = (0...8).map { Int((255 * Double($0) / 8).rounded()) }
        var candidates: [SIMD3<Int>] = []
        for r in levels { for g in levels { for b in levels where !(r == g && g == b) { candidates.append(SIMD3(r, g, b)) } } }
        func d2(_ a: SIMD3<Int>, _ b: SIMD3<Int>) -> Int { let d = a &- b; return (d &* d).wrappedSum() }
        var nearest = candidates.map { c in chosen.map { d2($0, c) }.min() ?? Int.max }
        var picked: [SIMD3<Int>] = []
        while picked.count < count - greyCount {
            var best = 0
            for i in candidates.indices where nearest[i] > nearest[best] { best = i }
            let c = candidates[best]
            picked.append(c)
            for i in candidates.indices { nearest[i] = min(nearest[i], d2(candidates[i], c)) }
        }
        picked.sort { hueKey($0) < hueKey($1) }
        chosen.append(contentsOf: picked)
        return chosen
    }

    /// (hue sector 0..<12, value) for a pleasant, stable order.
    private static func hueKey(_ c: SIMD3<Int>) -> Int {
        let r = Double(c.x), g = Double(c.y), b = Double(c.z)
        let mx = max(r, g, b), mn = min(r, g, b)
        var h = 0.0
        if mx > mn {
            if mx == r { h = (g - b) / (mx - mn) } else if mx == g { h = 2 + (b - r) / (mx - mn) } else { h = 4 + (r - g) / (mx - mn) }
            h = (h * 60 + 360).truncatingRemainder(dividingBy: 360)
        }
        return Int(h / 30) * 1000 + Int(mx)
    }
}
