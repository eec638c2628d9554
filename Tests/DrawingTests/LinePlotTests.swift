// Tests for LinePlot: round ticks and their labels, degenerate inputs (empty, single point,
// constant, NaN/inf, huge values) that must draw without crashing, and the pixels of a known
// series landing where the frame says.
import Drawing
import Foundation
import Imaging
import Testing

/// Whether pixel (x, y) of `image` is `color` (RGB, exact).
private func isColor(_ image: Image, _ x: Int, _ y: Int, _ color: Color) -> Bool {
    image[x, y, 0] == color.red && image[x, y, 1] == color.green && image[x, y, 2] == color.blue
}

/// How many pixels of `image` are `color`.
private func count(_ image: Image, _ color: Color) -> Int {
    var n = 0
    for y in 0..<image.height { for x in 0..<image.width where isColor(image, x, y, color) { n += 1 } }
    return n
}

@Suite struct LinePlotTickTests {
    @Test func niceAxisRoundsOutward() {
        let a = LinePlot.niceAxis(0.03, 0.97, count: 5)
        #expect(a.step == 0.2)
        #expect(a.lower == 0 && a.upper == 1)
        #expect(a.ticks.count == 6)
        let b = LinePlot.niceAxis(-3.2, 11.5, count: 5)
        #expect(b.step == 5 && b.lower == -5 && b.upper == 15)
        #expect(b.ticks == [-5, 0, 5, 10, 15])
        let c = LinePlot.niceAxis(0, 0.5, count: 10)
        #expect(c.step == 0.05 && c.ticks.count == 11)
        #expect(abs(c.ticks[3] - 0.15) < 1e-15)
        let d = LinePlot.niceAxis(120, 1880, count: 4)
        #expect(d.step == 500 && d.lower == 0 && d.upper == 2000)
    }

    @Test func fixedAxisKeepsLimitsAndListsTicksInside() {
        let a = LinePlot.niceAxis(0, 1, count: 4, fixed: true)
        #expect(a.lower == 0 && a.upper == 1 && a.step == 0.25)
        #expect(a.ticks == [0, 0.25, 0.5, 0.75, 1])
        let b = LinePlot.niceAxis(0.1, 0.9, count: 4, fixed: true)
        #expect(b.lower == 0.1 && b.upper == 0.9 && b.step == 0.2)
        #expect(b.ticks.count == 4 && abs(b.ticks[0] - 0.2) < 1e-12 && abs(b.ticks[3] - 0.8) < 1e-12)
    }

    @Test func degenerateRanges() {
        let zero = LinePlot.niceAxis(0, 0)
        #expect(zero.lower < 0 && zero.upper > 0 && zero.ticks.contains(0))
        let five = LinePlot.niceAxis(5, 5)
        #expect(five.lower < 5 && five.upper > 5 && five.ticks.count >= 2)
        let bad = LinePlot.niceAxis(.nan, 3)
        #expect(bad.lower == 0 && bad.upper == 1)
        let reversed = LinePlot.niceAxis(3, 1)
        #expect(reversed.lower == 0 && reversed.upper == 1)
        let huge = LinePlot.niceAxis(-Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude)
        #expect(huge.lower == 0 && huge.upper == 1)
        let tiny = LinePlot.niceAxis(1e-9, 3e-9)
        #expect(tiny.ticks.count >= 2 && tiny.step > 0)
    }

    @Test func tickLabels() {
        #expect(LinePlot.tickLabel(0.15, step: 0.05) == "0.15")
        #expect(LinePlot.tickLabel(0.2, step: 0.05) == "0.20")
        #expect(LinePlot.tickLabel(10, step: 5) == "10")
        #expect(LinePlot.tickLabel(2.5, step: 2.5) == "2.5")
        #expect(LinePlot.tickLabel(0, step: 0.1) == "0")
        #expect(LinePlot.tickLabel(-0.0000000001, step: 0.5) == "0.0")
        #expect(LinePlot.tickLabel(0.25, step: 0.25, format: .percent) == "25%")
        #expect(LinePlot.tickLabel(0.125, step: 0.025, format: .percent) == "12.5%")
        #expect(LinePlot.tickLabel(-20, step: 10) == "-20")
        #expect(LinePlot.tickLabel(3e7, step: 1e7) == "3e+07")
    }

    @Test func paletteIsTenDistinctColours() {
        #expect(LinePlot.palette.count == 10)
        for (i, a) in LinePlot.palette.enumerated() {
            for b in LinePlot.palette[(i + 1)...] {
                let d = abs(a.red - b.red) + abs(a.green - b.green) + abs(a.blue - b.blue)
                #expect(d > 0.25)
            }
        }
    }
}

@Suite struct LinePlotDrawingTests {
    static let colour = Color(red: 0.8, green: 0.1, blue: 0.3)

    @Test func knownSeriesLandsOnItsPixels() {
        let plot = LinePlot(title: "known", xLabel: "x", yLabel: "y",
                            series: [.init(name: "line", color: Self.colour, points: [SIMD2(0, 0), SIMD2(1, 1), SIMD2(2, 0.5)])],
                            xRange: 0...2, yRange: 0...1)
        let image = plot.image()
        let f = plot.frame()
        #expect(image.width == f.imageWidth && image.height == f.imageHeight)
        // The ends of the axes are the corners of the plot area.
        #expect(f.pixel(SIMD2(0, 0))! == (f.left, f.top + f.height - 1))
        #expect(f.pixel(SIMD2(2, 1))! == (f.left + f.width - 1, f.top))
        // Every point has its marker; the middle of each segment is on the line.
        for p in [SIMD2(0.0, 0.0), SIMD2(1, 1), SIMD2(2, 0.5), SIMD2(0.5, 0.5), SIMD2(1.5, 0.75)] {
            let q = f.pixel(p)!
            #expect(isColor(image, q.x, q.y, Self.colour), "\(p) at \(q)")
        }
        // Away from the line there is none of its colour (inside the plot area).
        let away = f.pixel(SIMD2(1.5, 0.1))!
        #expect(!isColor(image, away.x, away.y, Self.colour))
        // The legend sample sits above the plot area.
        var above = 0
        for y in 0..<f.top { for x in 0..<image.width where isColor(image, x, y, Self.colour) { above += 1 } }
        #expect(above > 0)
    }

    @Test func fittedRangeContainsTheData() {
        let points = (0..<20).map { SIMD2(Double($0) * 0.37 - 2, sin(Double($0)) * 13) }
        let plot = LinePlot(title: "fitted", xLabel: "", yLabel: "", series: [.init(name: "s", color: Self.colour, points: points)])
        let f = plot.frame()
        for p in points { #expect(f.pixel(p) != nil) }
        #expect(f.y.ticks.contains(0) && f.x.ticks.contains(0))
        let image = plot.image()
        for p in points { let q = f.pixel(p)!; #expect(isColor(image, q.x, q.y, Self.colour)) }
    }

    @Test func outOfRangePointsAreClippedToThePlotArea() {
        let plot = LinePlot(title: "clipped", xLabel: "x", yLabel: "y",
                            series: [.init(name: "", color: Self.colour, points: [SIMD2(-5, -5), SIMD2(0.5, 0.5), SIMD2(5, 20)], markers: false)],
                            xRange: 0...1, yRange: 0...1)
        let image = plot.image(), f = plot.frame()
        for y in 0..<image.height {
            for x in 0..<image.width where isColor(image, x, y, Self.colour) {
                #expect(x >= f.left - 1 && x <= f.left + f.width && y >= f.top - 1 && y <= f.top + f.height, "\(x), \(y)")
            }
        }
        #expect(count(image, Self.colour) > 100)
    }

    @Test func degenerateInputsDrawWithoutCrashing() {
        let cases: [[SIMD2<Double>]] = [
            [],
            [SIMD2(3, 7)],
            [SIMD2(0, 2), SIMD2(1, 2), SIMD2(2, 2)],
            [SIMD2(1, 1), SIMD2(1, 1)],
            [SIMD2(.nan, 1), SIMD2(2, .infinity), SIMD2(-.infinity, 0)],
            [SIMD2(0, 1), SIMD2(1, .nan), SIMD2(2, 3), SIMD2(3, 4)],
            [SIMD2(0, 1e300), SIMD2(1, -1e300)],
            [SIMD2(0, 1e-12), SIMD2(1, 2e-12)],
        ]
        for points in cases {
            for dashed in [false, true] {
                let plot = LinePlot(title: "degenerate", note: "a note", xLabel: "x", yLabel: "y",
                                    series: [.init(name: "s", color: Self.colour, points: points, dashed: dashed, markers: false)])
                let image = plot.image()
                #expect(image.width >= 320 && image.height > 340)
                for p in points where p.x.isFinite && p.y.isFinite && !dashed {
                    let f = plot.frame()
                    if let q = f.pixel(p) { #expect(isColor(image, q.x, q.y, Self.colour), "\(points)") }
                }
            }
        }
        // No series at all, a fixed range with nothing in it, a tiny width.
        _ = LinePlot(title: "", xLabel: "", yLabel: "").image()
        _ = LinePlot(title: "t", xLabel: "x", yLabel: "y", xRange: 5...5, yRange: 0...(.infinity)).image(width: 10, plotHeight: 1)
    }

    @Test func aLonePointGetsAMarkerAndNaNBreaksTheLine() {
        // (2, 3) sits between two NaNs: without a marker it would not show.
        let plot = LinePlot(title: "t", xLabel: "x", yLabel: "y",
                            series: [.init(name: "s", color: Self.colour,
                                           points: [SIMD2(0, 0), SIMD2(1, .nan), SIMD2(2, 3), SIMD2(3, .nan), SIMD2(4, 0)], markers: false)],
                            xRange: 0...4, yRange: 0...4)
        let image = plot.image(), f = plot.frame()
        let lone = f.pixel(SIMD2(2, 3))!
        #expect(isColor(image, lone.x, lone.y, Self.colour))
        // Nothing joins (0, 0) to (2, 3): the midpoint stays clear.
        let mid = f.pixel(SIMD2(1, 1.5))!
        #expect(!isColor(image, mid.x, mid.y, Self.colour))
    }

    @Test func rulesAreDrawnAndLegendWraps() {
        let rule = Color(red: 0.1, green: 0.5, blue: 0.2)
        let many = (0..<10).map { LinePlot.Series(name: "class \($0) logit", color: LinePlot.palette[$0], points: [SIMD2(0, Double($0)), SIMD2(1, Double(-$0))]) }
        let plot = LinePlot(title: "many", xLabel: "x", yLabel: "y", series: many,
                            verticalLines: [.init(at: 0.5, label: "eps = 0.5", color: rule)],
                            horizontalLines: [.init(at: 2, label: "", color: rule)])
        let f = plot.frame(), one = LinePlot(title: "many", xLabel: "x", yLabel: "y", series: [many[0]]).frame()
        #expect(f.top > one.top + 40)  // the legend takes several rows
        let image = plot.image()
        let c = Int(f.column(0.5).rounded()), r = Int(f.row(2).rounded())
        var onVertical = 0, onHorizontal = 0
        for y in f.top..<(f.top + f.height) where isColor(image, c, y, rule) { onVertical += 1 }
        for x in f.left..<(f.left + f.width) where isColor(image, x, r, rule) { onHorizontal += 1 }
        #expect(onVertical > f.height / 3 && onVertical < f.height)  // dashed: gaps
        #expect(onHorizontal > f.width / 4)
    }
}
