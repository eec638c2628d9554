// curve.png: the periodic checks as points with interval bars, the final check apart, time or
// step axis. Checked on the pixels: the colours are where the values put them.
import Drawing
import Foundation
import Imaging
import Runs
import Statistics
import Testing

@Suite struct ProgressPlotTests {
    private func count(_ img: Image, near c: (Float, Float, Float), in xs: Range<Int>? = nil) -> Int {
        var n = 0
        for y in 0..<img.height {
            for x in xs ?? 0..<img.width {
                let o = (y * img.width + x) * 3
                if abs(img.pixels[o] - c.0) < 0.02 && abs(img.pixels[o + 1] - c.1) < 0.02 && abs(img.pixels[o + 2] - c.2) < 0.02 { n += 1 }
            }
        }
        return n
    }

    private let blue: (Float, Float, Float) = (0.12, 0.38, 0.75), red: (Float, Float, Float) = (0.80, 0.15, 0.10)

    /// Issue 23: times and steps from a damaged checkpoint (1e300 seconds, Int.max steps) draw, never trap.
    @Test func hugeTimesAndStepsDoNotTrap() {
        let p = Proportion(successes: 1, trials: 2)
        let byTime = ProgressPlot.image(title: "t", note: "", periodic: [.init(step: 1, seconds: 1e300, proportion: p)], final: nil)
        let bySteps = ProgressPlot.image(title: "t", note: "", periodic: [.init(step: Int.max, seconds: nil, proportion: p)], final: nil)
        #expect(byTime.width > 0 && bySteps.width > 0)
    }

    @Test func pointsAndFinalAreDrawnWhereTheyBelong() {
        let periodic = (1...4).map { k in
            ProgressPlot.Check(step: 50 * k, seconds: 20 * Double(k), proportion: Proportion(successes: 20 * k, trials: 128))
        }
        let final = ProgressPlot.Check(step: 200, seconds: 95, proportion: Proportion(successes: 400, trials: 512))
        let img = ProgressPlot.image(title: "toaster: held-out success vs time (lite0)", note: "a note", periodic: periodic, final: final)
        #expect(img.width > 400 && img.height > 300 && img.channels == 3)
        #expect(count(img, near: blue) > 100, "periodic points and line")
        #expect(count(img, near: red) > 30, "the final check")
        let plot = ProgressPlot.image(title: "t", note: "n", periodic: [periodic[0]], final: nil)
        #expect(count(plot, near: red) == 0, "no final check, no red")
    }

    @Test func withoutTimesTheAxisIsSteps() {
        let periodic = [ProgressPlot.Check(step: 100, seconds: nil, proportion: Proportion(successes: 64, trials: 128))]
        let a = ProgressPlot.image(title: "t", note: "n", periodic: periodic, final: nil)
        var timed = periodic
        timed[0].seconds = 30
        let b = ProgressPlot.image(title: "t", note: "n", periodic: timed, final: nil)
        #expect(a.pixels != b.pixels, "the axis labels and the point's place differ")
        // No checks at all still draws the axes (an interrupted run before its first check).
        let empty = ProgressPlot.image(title: "t", note: "n", periodic: [], final: nil)
        #expect(empty.pixels.contains { $0 < 0.5 })
    }
}
