// `LinePlot`: a general line chart drawn into an `Image` with the bundled 8×8 bitmap font at 2×
// (title, note, a legend above the plot so no curve runs under it, round "nice" ticks, axis
// labels, optional reference lines). Not a plotting library: no log axes, no subplots, no
// anti-aliasing. Points that are NaN or infinite are skipped and break the line there.
import Foundation
import Imaging

/// A line chart of one or more series, rendered by `image(width:plotHeight:)`.
///
///     var plot = LinePlot(title: "test error vs epsilon", xLabel: "epsilon", yLabel: "test error")
///     plot.series = [.init(name: "FGSM", color: LinePlot.palette[0], x: eps, y: errors)]
///     plot.yRange = 0...1; plot.yFormat = .percent
///     try plot.image().writePNG(to: "error.png")
///
/// Axes: each range is `xRange`/`yRange` when given (ticks inside it), else the data's finite
/// extent (plus the reference lines) widened to round tick values. A single value or a constant
/// series gets a small range around it; no finite data at all gets 0...1.
public struct LinePlot: Sendable {
    /// One curve: points joined in the given order.
    public struct Series: Sendable {
        /// The legend's text; an empty name keeps the series out of the legend.
        public var name: String
        public var color: Color
        /// (x, y) in data units; NaN or infinite coordinates are skipped and break the line.
        public var points: [SIMD2<Double>]
        public var dashed: Bool
        /// A filled square at each point (a lone point always gets one, else it would not show).
        public var markers: Bool
        /// Line width in pixels.
        public var lineWidth: Int

        public init(name: String, color: Color, points: [SIMD2<Double>], dashed: Bool = false,
                    markers: Bool = true, lineWidth: Int = 2) {
            self.name = name; self.color = color; self.points = points
            self.dashed = dashed; self.markers = markers; self.lineWidth = lineWidth
        }

        /// Points from parallel `x` and `y` arrays (the shorter one sets the count).
        public init(name: String, color: Color, x: [Double], y: [Double], dashed: Bool = false,
                    markers: Bool = true, lineWidth: Int = 2) {
            self.init(name: name, color: color, points: zip(x, y).map { SIMD2($0, $1) },
                      dashed: dashed, markers: markers, lineWidth: lineWidth)
        }
    }

    /// A reference line across the whole plot at `value` (vertical at an x, or horizontal at a
    /// y), dashed, listed in the legend under `label` (not listed when the label is empty).
    public struct Rule: Sendable {
        public var value: Double
        public var label: String
        public var color: Color
        public init(at value: Double, label: String, color: Color = Color(gray: 0.45)) {
            self.value = value; self.label = label; self.color = color
        }
    }

    /// How tick values are written.
    public enum TickFormat: Sendable {
        /// Plain decimals, as many places as the tick step needs (e.g. 0.05 → "0.15").
        case number
        /// Fractions as percentages: 0.25 → "25%".
        case percent
    }

    public var title: String
    /// Smaller grey text under the title (settings, sources); wrapped to the width.
    public var note: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Fixed axis ranges; nil: fitted to the data with round ends.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    public var xFormat: TickFormat = .number
    public var yFormat: TickFormat = .number
    /// Vertical reference lines (at x values) and horizontal ones (at y values).
    public var verticalLines: [Rule]
    public var horizontalLines: [Rule]

    public init(title: String, note: String = "", xLabel: String, yLabel: String, series: [Series] = [],
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                verticalLines: [Rule] = [], horizontalLines: [Rule] = []) {
        self.title = title; self.note = note; self.xLabel = xLabel; self.yLabel = yLabel
        self.series = series; self.xRange = xRange; self.yRange = yRange
        self.verticalLines = verticalLines; self.horizontalLines = horizontalLines
    }

    /// Ten well-separated colours (Tableau 10: blue, orange, green, red, purple, brown, pink,
    /// grey, olive, cyan), for series in order.
    public static let palette: [Color] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map { (rgb: Int) in
        Color(red: Float((rgb >> 16) & 0xFF) / 255, green: Float((rgb >> 8) & 0xFF) / 255, blue: Float(rgb & 0xFF) / 255)
    }

    // MARK: - Ticks

    /// An axis: its limits and the tick values from `lower` to `upper` every `step`.
    public struct Axis: Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var step: Double
        public var ticks: [Double]
    }

    /// Round ticks ("nice numbers", Heckbert 1990): a step of 1, 2, 2.5 or 5 × 10^k giving about
    /// `count` intervals. With `fixed` false the limits widen to multiples of the step around
    /// `lower...upper`; with `fixed` true they stay and only ticks inside are listed.
    /// Non-finite or reversed input falls back to 0...1; a zero-width range is widened first.
    public static func niceAxis(_ lower: Double, _ upper: Double, count: Int = 5, fixed: Bool = false) -> Axis {
        var lo = lower, hi = upper
        if !lo.isFinite || !hi.isFinite || lo > hi || !(hi - lo).isFinite { (lo, hi) = (0, 1) }
        if hi - lo <= Swift.max(abs(lo), abs(hi)) * 1e-12 {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let raw = (hi - lo) / Double(Swift.max(count, 1))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = ([1.0, 2, 2.5, 5, 10].first { raw / magnitude <= $0 * (1 + 1e-9) } ?? 10) * magnitude
        let first = fixed ? (lo / step - 1e-9).rounded(.up) : (lo / step + 1e-9).rounded(.down)
        let last = fixed ? (hi / step + 1e-9).rounded(.down) : (hi / step - 1e-9).rounded(.up)
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step == 0 ? 0 : $0 * step }
        return fixed ? Axis(lower: lo, upper: hi, step: step, ticks: ticks)
                     : Axis(lower: first * step, upper: last * step, step: step, ticks: ticks)
    }

    /// A tick value as text, with the decimals its axis step needs ("0.15", "2.5", "25%").
    public static func tickLabel(_ value: Double, step: Double, format: TickFormat = .number) -> String {
        let scaled = format == .percent ? value * 100 : value, scaledStep = format == .percent ? step * 100 : step
        let suffix = format == .percent ? "%" : ""
        if scaled == 0 { return "0" + suffix }
        if abs(scaled) >= 1e6 || abs(scaledStep) < 1e-4 { return String(format: "%.3g", scaled) + suffix }
        var decimals = 0
        while decimals < 6, abs(scaledStep * pow(10, Double(decimals)) - (scaledStep * pow(10, Double(decimals))).rounded()) > 1e-6 * abs(scaledStep) * pow(10, Double(decimals)) {
            decimals += 1
        }
        let text = String(format: "%.\(decimals)f", scaled)
        return (text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text) + suffix
    }

    // MARK: - Layout

    /// Where the plot area is in the picture and how data maps onto it (for drawing and tests).
    public struct Frame: Sendable, Equatable {
        /// Plot area: its top-left pixel and size; the x axis is its bottom row, the y axis its left column.
        public var left: Int, top: Int, width: Int, height: Int
        public var x: Axis, y: Axis
        /// The whole picture's size.
        public var imageWidth: Int, imageHeight: Int

        /// Pixel column of data value `x` (the lower limit is column `left`, the upper `left + width - 1`).
        public func column(_ value: Double) -> Double {
            Double(left) + (value - x.lower) / (x.upper - x.lower) * Double(width - 1)
        }

        /// Pixel row of data value `y` (the lower limit is the bottom row, the upper the top row).
        public func row(_ value: Double) -> Double {
            Double(top) + (1 - (value - y.lower) / (y.upper - y.lower)) * Double(height - 1)
        }

        /// The pixel of a data point, or nil when it is not finite or lies outside the axes.
        public func pixel(_ p: SIMD2<Double>) -> (x: Int, y: Int)? {
            guard p.x.isFinite, p.y.isFinite, p.x >= x.lower, p.x <= x.upper, p.y >= y.lower, p.y <= y.upper else { return nil }
            return (Int(column(p.x).rounded()), Int(row(p.y).rounded()))
        }
    }

    static let text = 2
    static let margin = 16

    /// The legend entries: named series, then labelled rules.
    private var legendEntries: [(name: String, color: Color, dashed: Bool, marker: Bool)] {
        series.filter { !$0.name.isEmpty }.map { ($0.name, $0.color, $0.dashed, $0.markers) }
            + (verticalLines + horizontalLines).filter { !$0.label.isEmpty }.map { ($0.label, $0.color, true, false) }
    }

    /// Legend entries placed left to right, wrapping: (entry index, x, row).
    private func legendPlacement(width: Int) -> [(index: Int, x: Int, row: Int)] {
        var out: [(Int, Int, Int)] = [], x = Self.margin, row = 0
        for (i, entry) in legendEntries.enumerated() {
            let w = 40 + Image.textWidth(Image.drawable(entry.name), scale: Self.text)
            if x > Self.margin && x + w > width - Self.margin { x = Self.margin; row += 1 }
            out.append((i, x, row))
            x += w + 28
        }
        return out
    }

    private func noteLines(width: Int) -> [String] {
        note.isEmpty ? [] : Image.wrapped(Image.drawable(note), width: (width - 2 * Self.margin) / Image.characterAdvance(scale: 1))
    }

    private func titleLines(width: Int) -> [String] {
        title.isEmpty ? [] : Image.wrapped(Image.drawable(title), width: (width - 2 * Self.margin) / Image.characterAdvance(scale: Self.text))
    }

    /// Sizes of the picture `image(width:plotHeight:)` draws and the mapping of its plot area.
    public func frame(width requestedWidth: Int = 880, plotHeight requestedHeight: Int = 340) -> Frame {
        let width = Swift.min(Swift.max(requestedWidth, 320), 8000), plotHeight = Swift.min(Swift.max(requestedHeight, 80), 8000)
        let lh = Image.lineHeight(scale: Self.text)
        let legendRows = legendPlacement(width: width).map(\.row).max().map { $0 + 1 } ?? 0
        let top = 12 + titleLines(width: width).count * lh + noteLines(width: width).count * Image.lineHeight(scale: 1)
            + (legendRows > 0 ? 10 + legendRows * (lh + 4) : 0) + 18

        // Data extents: every finite point, plus the rules (so a rule is never off the plot).
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = finite.map(\.x) + verticalLines.map(\.value).filter(\.isFinite)
        let ys = finite.map(\.y) + horizontalLines.map(\.value).filter(\.isFinite)
        func axis(_ values: [Double], _ fixed: ClosedRange<Double>?, count: Int) -> Axis {
            if let fixed, fixed.lowerBound.isFinite, fixed.upperBound.isFinite, fixed.upperBound > fixed.lowerBound {
                return Self.niceAxis(fixed.lowerBound, fixed.upperBound, count: count, fixed: true)
            }
            guard let lo = values.min(), let hi = values.max() else { return Self.niceAxis(0, 1, count: count) }
            return Self.niceAxis(lo, hi, count: count)
        }
        let yAxis = axis(ys, yRange, count: Swift.max(2, Swift.min(8, plotHeight / 60)))
        let yLabelWidth = yAxis.ticks.map { Image.textWidth(Self.tickLabel($0, step: yAxis.step, format: yFormat), scale: Self.text) }.max() ?? 0
        let left = Self.margin + (yLabel.isEmpty ? 0 : Image.lineHeight(scale: Self.text)) + yLabelWidth + 12
        let right = 40
        let plotWidth = Swift.max(width - left - right, 40)
        // x ticks: as many as fit their widest label with room between.
        var xAxis = axis(xs, xRange, count: Swift.max(2, Swift.min(10, plotWidth / 90)))
        let xLabelWidth = xAxis.ticks.map { Image.textWidth(Self.tickLabel($0, step: xAxis.step, format: xFormat), scale: Self.text) }.max() ?? 0
        if xAxis.ticks.count > 1, Double(plotWidth) / Double(xAxis.ticks.count - 1) < Double(xLabelWidth + 16) {
            xAxis = axis(xs, xRange, count: Swift.max(1, plotWidth / (xLabelWidth + 16)))
        }
        let bottom = 8 + 16 + (xLabel.isEmpty ? 0 : 10 + lh) + 12
        return Frame(left: left, top: top, width: plotWidth, height: plotHeight, x: xAxis, y: yAxis,
                     imageWidth: left + plotWidth + right, imageHeight: top + plotHeight + bottom)
    }

    // MARK: - Drawing

    /// The chart as an RGB image `width` pixels wide (at least 320) with a plot area
    /// `plotHeight` pixels high; the height follows from the title, note and legend.
    public func image(width: Int = 880, plotHeight: Int = 340) -> Image {
        let f = frame(width: width, plotHeight: plotHeight)
        var img = Image(width: f.imageWidth, height: f.imageHeight, channels: 3, fill: 1)
        let lh = Image.lineHeight(scale: Self.text)
        var y = 12
        for line in titleLines(width: f.imageWidth) {
            img.drawText(line, x: Self.margin, y: y, scale: Self.text); y += lh
        }
        for line in noteLines(width: f.imageWidth) {
            img.drawText(line, x: Self.margin, y: y, scale: 1, color: Color(gray: 0.35)); y += Image.lineHeight(scale: 1)
        }
        let legendTop = y + 10, entries = legendEntries
        for place in legendPlacement(width: f.imageWidth) {
            let e = entries[place.index], ly = legendTop + place.row * (lh + 4)
            Self.stroke(&img, from: SIMD2(Double(place.x), Double(ly + 7)), to: SIMD2(Double(place.x + 30), Double(ly + 7)),
                        width: 2, color: e.color, dashed: e.dashed)
            if e.marker { img.fillRect(x: place.x + 12, y: ly + 4, width: 7, height: 7, color: e.color) }
            img.drawText(Image.drawable(e.name), x: place.x + 40, y: ly, scale: Self.text)
        }

        // Grid, zero line, axes, tick labels, axis labels.
        let grid = Color(gray: 0.88), axisColor = Color(gray: 0.2)
        for t in f.y.ticks {
            let r = Int(f.row(t).rounded())
            img.fillRect(x: f.left, y: r, width: f.width, height: 1, color: t == 0 ? Color(gray: 0.6) : grid)
            let label = Self.tickLabel(t, step: f.y.step, format: yFormat)
            img.drawText(label, x: f.left - 8 - Image.textWidth(label, scale: Self.text), y: r - 8, scale: Self.text)
        }
        for t in f.x.ticks {
            let c = Int(f.column(t).rounded())
            img.fillRect(x: c, y: f.top, width: 1, height: f.height, color: t == 0 ? Color(gray: 0.6) : grid)
            img.fillRect(x: c, y: f.top + f.height, width: 1, height: 5, color: axisColor)
            let label = Self.tickLabel(t, step: f.x.step, format: xFormat)
            let lx = Swift.min(Swift.max(c - Image.textWidth(label, scale: Self.text) / 2, 0), f.imageWidth - Image.textWidth(label, scale: Self.text))
            img.drawText(label, x: lx, y: f.top + f.height + 8, scale: Self.text)
        }
        img.fillRect(x: f.left, y: f.top + f.height - 1, width: f.width, height: 1, color: axisColor)
        img.fillRect(x: f.left, y: f.top, width: 1, height: f.height, color: axisColor)
        if !xLabel.isEmpty {
            let label = Image.drawable(xLabel)
            img.drawText(label, x: f.left + (f.width - Image.textWidth(label, scale: Self.text)) / 2,
                         y: f.top + f.height + 8 + 16 + 10, scale: Self.text)
        }
        if !yLabel.isEmpty {
            let label = Self.rotatedText(Image.drawable(yLabel), scale: Self.text)
            img.blit(label, x: Self.margin, y: Swift.max(f.top + (f.height - label.height) / 2, f.top))
        }

        // Reference lines, then the series on top, clipped to the plot area.
        let plotArea = (lo: SIMD2(Double(f.left), Double(f.top)), hi: SIMD2(Double(f.left + f.width - 1), Double(f.top + f.height - 1)))
        for rule in verticalLines where rule.value.isFinite {
            let c = f.column(rule.value)
            if let seg = Self.clip(SIMD2(c, plotArea.lo.y), SIMD2(c, plotArea.hi.y), plotArea.lo, plotArea.hi) {
                Self.stroke(&img, from: seg.0, to: seg.1, width: 2, color: rule.color, dashed: true)
            }
        }
        for rule in horizontalLines where rule.value.isFinite {
            let r = f.row(rule.value)
            if let seg = Self.clip(SIMD2(plotArea.lo.x, r), SIMD2(plotArea.hi.x, r), plotArea.lo, plotArea.hi) {
                Self.stroke(&img, from: seg.0, to: seg.1, width: 2, color: rule.color, dashed: true)
            }
        }
        for s in series {
            let pixels = s.points.map { p -> SIMD2<Double>? in
                p.x.isFinite && p.y.isFinite ? SIMD2(f.column(p.x), f.row(p.y)) : nil
            }
            var phase = 0.0
            for (a, b) in zip(pixels, pixels.dropFirst()) {
                guard let a, let b else { phase = 0; continue }
                if let seg = Self.clip(a, b, plotArea.lo, plotArea.hi) {
                    phase = Self.stroke(&img, from: seg.0, to: seg.1, width: s.lineWidth, color: s.color, dashed: s.dashed, phase: phase)
                }
            }
            for (i, p) in s.points.enumerated() {
                let alone = (i == 0 || pixels[i - 1] == nil) && (i + 1 == pixels.count || pixels[i + 1] == nil)
                guard s.markers || alone, let q = f.pixel(p) else { continue }
                img.fillRect(x: q.x - 3, y: q.y - 3, width: 7, height: 7, color: s.color)
            }
        }
        return img
    }

    /// Draws a line between two pixel positions (rounded); dashed lines alternate 8 pixels on,
    /// 6 off, continuing the pattern from `phase` (the distance already walked). Returns the new phase.
    @discardableResult
    static func stroke(_ img: inout Image, from a: SIMD2<Double>, to b: SIMD2<Double>, width: Int, color: Color,
                       dashed: Bool, phase: Double = 0) -> Double {
        func line(_ p: SIMD2<Double>, _ q: SIMD2<Double>) {
            img.drawLine(x0: Int(p.x.rounded()), y0: Int(p.y.rounded()), x1: Int(q.x.rounded()), y1: Int(q.y.rounded()),
                         lineWidth: width, color: color)
        }
        let d = b - a, length = (d * d).sum().squareRoot()
        guard dashed else { line(a, b); return phase + length }
        guard length > 0 else { line(a, a); return phase }
        let on = 8.0, period = 14.0
        var t = 0.0
        while t < length {
            let inPeriod = (phase + t).truncatingRemainder(dividingBy: period)
            let segmentEnd = Swift.min(length, t + (inPeriod < on ? on - inPeriod : period - inPeriod))
            if inPeriod < on { line(a + d * (t / length), a + d * (Swift.max(segmentEnd - 1, t) / length)) }
            t = segmentEnd
        }
        return phase + length
    }

    /// The part of segment a–b inside the box lo...hi (Liang–Barsky), or nil when none is.
    static func clip(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ lo: SIMD2<Double>, _ hi: SIMD2<Double>) -> (SIMD2<Double>, SIMD2<Double>)? {
        var t0 = 0.0, t1 = 1.0
        let d = b - a
        for (p, q) in [(-d.x, a.x - lo.x), (d.x, hi.x - a.x), (-d.y, a.y - lo.y), (d.y, hi.y - a.y)] {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let r = q / p
                if p < 0 { t0 = Swift.max(t0, r) } else { t1 = Swift.min(t1, r) }
                if t0 > t1 { return nil }
            }
        }
        return (a + d * t0, a + d * t1)
    }

    /// `text` drawn black on transparency and turned a quarter to the left (reads bottom to top).
    static func rotatedText(_ text: String, scale: Int) -> Image {
        let w = Swift.max(Image.textWidth(text, scale: scale), 1), h = Image.textHeight(text, scale: scale)
        var flat = Image(width: w, height: h, channels: 4, fill: 0)
        flat.drawText(text, x: 0, y: 0, scale: scale)
        var turned = Image(width: h, height: w, channels: 4, fill: 0)
        for y in 0..<w {
            for x in 0..<h {
                let src = (x * w + (w - 1 - y)) * 4, dst = (y * h + x) * 4
                for c in 0..<4 { turned.pixels[dst + c] = flat.pixels[src + c] }
            }
        }
        return turned
    }
}
