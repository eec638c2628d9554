// curve.png: held-out success against wall-clock time (or steps, for records without times), one
// point per periodic check with its 95 % Wilson interval, and the final check. Drawn with the
// bundled 8×8 bitmap font at 2× so it reads at 100 %; ASCII only.
import Attack
import Drawing
import Foundation
import Imaging
import Networks
import ONNX
import Statistics

public enum ProgressPlot {
    /// One check: after `step` steps and `seconds` of wall time (nil when not recorded).
    public struct Check: Sendable, Equatable {
        public var step: Int
        public var seconds: Double?
        public var proportion: Proportion
        public init(step: Int, seconds: Double?, proportion: Proportion) {
            self.step = step; self.seconds = seconds; self.proportion = proportion
        }
    }

    static let text = 2, width = 880
    static let left = 86, right = 48, bottom = 64, plotHeight = 340
    static let periodicColor = Color(red: 0.12, green: 0.38, blue: 0.75)
    static let finalColor = Color(red: 0.80, green: 0.15, blue: 0.10)

    /// The picture. `periodic` in step order; `final` drawn apart (usually many more samples).
    /// The x axis is time when every check has one, else steps. Title, note and legend sit above
    /// the plot, so no curve runs under them.
    public static func image(title: String, note: String, periodic: [Check], final: Check?) -> Image {
        let lh = Image.lineHeight(scale: text), small = Image.lineHeight(scale: 1)
        let noteLines = Image.wrapped(Image.drawable(note), width: (width - 32) / Image.characterAdvance(scale: 1))
        let legendTop = 12 + lh + noteLines.count * small + 8
        let legendLines = (periodic.isEmpty ? 0 : 1) + (final == nil ? 0 : 1)
        let top = legendTop + legendLines * (lh + 4) + 16
        let height = top + plotHeight + bottom
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        img.drawText(Image.drawable(title), x: 16, y: 12, scale: text)
        for (k, line) in noteLines.enumerated() {
            img.drawText(line, x: 16, y: 12 + lh + k * small, scale: 1, color: Color(gray: 0.35))
        }
        let all = periodic + (final.map { [$0] } ?? [])
        let byTime = !all.isEmpty && all.allSatisfy { $0.seconds.map { $0.isFinite && $0 >= 0 } ?? false }
        let xs = all.map { byTime ? $0.seconds! : Double($0.step) }
        let xMax = niceTicks(upTo: max(xs.max() ?? 1, 1), time: byTime)
        let plotW = width - left - right, plotH = plotHeight
        func px(_ x: Double) -> Int { left + Int((x / xMax.limit * Double(plotW)).rounded()) }
        func py(_ p: Double) -> Int { top + Int(((1 - min(max(p, 0), 1)) * Double(plotH)).rounded()) }

        // Grid, axes and their labels.
        for q in stride(from: 0.0, through: 1.0, by: 0.25) {
            let y = py(q)
            img.fillRect(x: left, y: y, width: plotW, height: 1, color: Color(gray: q == 0 ? 0.2 : 0.88))
            let label = String(format: "%.0f%%", q * 100)
            img.drawText(label, x: left - 8 - Image.textWidth(label, scale: text), y: y - 8, scale: text)
        }
        for t in xMax.ticks {
            let x = px(t)
            img.fillRect(x: x, y: top, width: 1, height: plotH, color: Color(gray: t == 0 ? 0.2 : 0.88))
            let label = byTime ? clock(t) : t < 1e15 ? String(Int(t)) : String(format: "%.3g", t)  // ticks past Int.max exist
            img.drawText(label, x: x - Image.textWidth(label, scale: text) / 2, y: top + plotH + 8, scale: text)
        }
        let xTitle = byTime ? "wall-clock time (min:s)" : "step"
        img.drawText(xTitle, x: left + (plotW - Image.textWidth(xTitle, scale: text)) / 2, y: height - 26, scale: text)

        // Periodic checks: interval bars, the line through them, the points.
        let points = zip(periodic, xs).map { (c, x) in (x: px(x), c: c) }
        for p in points {
            let w = p.c.proportion.wilson()
            img.fillRect(x: p.x - 1, y: py(w.high), width: 3, height: max(py(w.low) - py(w.high), 1), color: Color(red: 0.65, green: 0.75, blue: 0.92))
        }
        for (a, b) in zip(points, points.dropFirst()) {
            img.drawLine(x0: a.x, y0: py(a.c.proportion.rate), x1: b.x, y1: py(b.c.proportion.rate), lineWidth: 2, color: periodicColor)
        }
        for p in points { img.fillRect(x: p.x - 3, y: py(p.c.proportion.rate) - 3, width: 7, height: 7, color: periodicColor) }

        // The final check, and the legend.
        var legendY = legendTop
        if let last = points.last {
            let label = "periodic check (\(last.c.proportion.trials) samples): \(percent(last.c.proportion.rate)) at step \(last.c.step)"
            img.fillRect(x: 20, y: legendY + 4, width: 7, height: 7, color: periodicColor)
            img.drawText(Image.drawable(label), x: 36, y: legendY, scale: text)
            legendY += lh + 4
        }
        if let final, let fx = xs.last {
            let x = px(fx), w = final.proportion.wilson()
            img.fillRect(x: x - 1, y: py(w.high), width: 3, height: max(py(w.low) - py(w.high), 1), color: finalColor)
            img.strokeRect(x: x - 5, y: py(final.proportion.rate) - 5, width: 11, height: 11, lineWidth: 2, color: finalColor)
            let label = "final check (\(final.proportion.trials) samples): \(percent(final.proportion.rate)) "
                + "[\(percent(w.low))-\(percent(w.high))]"
            img.strokeRect(x: 18, y: legendY + 2, width: 11, height: 11, lineWidth: 2, color: finalColor)
            img.drawText(Image.drawable(label), x: 36, y: legendY, scale: text)
        }
        return img
    }

    /// "toaster: held-out success vs time (lite0)"; untargeted runs name the metric instead.
    public static func title(config: GenerateConfig, modelNames: [String]) throws -> String {
        let what = try config.target.map { "\(try ModelLoader.labels(config.models[0], flags: config.modelFlags ?? ModelFlags())[$0])" } ?? "untargeted flips"
        return "\(what): held-out success vs time (\(modelNames.joined(separator: " + ")))"
    }

    /// The settings that make the curve readable: preset, shape, batch, steps, samples per check.
    public static func note(config: GenerateConfig) -> String {
        "\(config.presetName ?? "custom") distribution, \(config.shape.description) patch, batch \(config.batch), "
            + "\(config.steps) steps, seed \(config.seed); periodic checks on \(config.periodicValidationSamples) held-out "
            + "samples, final on \(config.validationSamples); bars: 95% Wilson intervals"
    }

    /// Axis limit and ticks: 4–8 ticks at a round interval (time: seconds in whole minutes or
    /// round seconds; steps: 1, 2, 5 × 10^k).
    static func niceTicks(upTo maxValue: Double, time: Bool) -> (limit: Double, ticks: [Double]) {
        let steps: [Double] = time ? [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800]
                                   : (0...7).flatMap { k in [1.0, 2, 5].map { $0 * pow(10, Double(k)) } }
        let interval = steps.first { maxValue / $0 <= 7 } ?? (steps.last! * (maxValue / (steps.last! * 7)).rounded(.up))
        let limit = max(interval, (maxValue / interval).rounded(.up) * interval)
        return (limit, Array(stride(from: 0, through: limit + interval / 2, by: interval)))
    }

    static func clock(_ s: Double) -> String {
        // (seconds can come from a checkpoint file: clamped, so 1e300 cannot trap the Int conversion)
        let t = Int(min(max(s, 0), 1e12).rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }

    static func percent(_ p: Double) -> String { String(format: "%.1f%%", p * 100) }
}
