// The pictures that explain whole-image adversarial examples (Goodfellow et al. 2015;
// Warde-Farley & Goodfellow 2016): the model's logits along ε·d for the gradient's sign d (or a
// random sign direction) — almost straight lines, the linearity hypothesis — and the map of the
// predicted class over ε₁·sign(∇) + ε₂·(a random sign direction). The photo is perturbed at its
// own resolution and framed as `classify` frames it; ε in 8-bit units.
import Attack
import Drawing
import Foundation
import Imaging
import Networks
import Runs
import Statistics
import Tensors
import Transforms

public enum SweepDirection: String, Sendable, CaseIterable, Codable {
    case gradientSign = "gradient-sign"
    case random
}

/// A photo, one model and the directions to move the photo along.
public struct LinearityProbe {
    public let model: any ImageModel
    public let labels: ClassLabels
    public let photo: [Float]
    public let width: Int, height: Int
    /// The target the gradient's sign moves toward; nil: away from the clean class.
    public let target: Int?
    public let cleanClass: Int
    /// −sign(∇ loss) at the clean photo (the FGSM direction), and a seeded random ±1 direction.
    public let gradientSign: [Float]
    public let random: [Float]
    let framing: ModelInputOperator
    let runner: any ModelRunning

    public init(image: Image, model: any ImageModel, labels: ClassLabels, target: Int?, seed: UInt64 = 0) throws {
        let perturber = try ImagePerturber(image: image, models: [model], settings: PerturbSettings(method: .fgsm, epsilon: 1, target: target))
        self.model = model; self.labels = labels; self.target = target
        photo = perturber.original; width = perturber.width; height = perturber.height
        cleanClass = perturber.cleanClass
        gradientSign = try perturber.framedLossGradient(photo).gradient.map { $0 > 0 ? -1 : ($0 < 0 ? 1 : 0) }
        var rng = SplitMix64(seed: seed ^ 0x5A4D_D1CE)
        random = photo.map { _ in rng.next() & 1 == 0 ? -1 : 1 }
        framing = try ModelInputOperator(width: width, height: height, size: model.inputSize, cropFraction: model.cropFraction)
        runner = model.makeRunner()
    }

    public func direction(_ d: SweepDirection) -> [Float] { d == .gradientSign ? gradientSign : random }

    /// Logits (points, classes) of the photo moved by a·u + b·v (8-bit units) for each (a, b).
    public func logits(_ u: [Float], _ v: [Float], at points: [(Double, Double)], progress: ((Int) -> Void)? = nil) -> [[Float]] {
        let s = model.inputSize, pixels = s * s * 3, k = model.classCount, batch = 32
        var out: [[Float]] = []
        out.reserveCapacity(points.count)
        let images = Tensor(zeros: [batch, s, s, 3]), logits = Tensor(zeros: [batch, k])
        var start = 0
        while start < points.count {
            let n = min(batch, points.count - start)
            let dst = UncheckedSendable(images.unsafePointer)
            let (photo, framing) = (self.photo, self.framing)
            Parallel.forEachItem(n) { i in
                let (a, b) = points[start + i]
                let fa = Float(a / 255), fb = Float(b / 255)
                var moved = [Float](repeating: 0, count: photo.count)
                for j in moved.indices { moved[j] = min(max(photo[j] + fa * u[j] + fb * v[j], 0), 1) }
                moved.withUnsafeBufferPointer { framing.apply($0.baseAddress!, into: dst.value + i * pixels) }
            }
            runner.forward(images.unsafePointer, n: n, height: s, width: s, logits: logits.unsafePointer)
            for i in 0..<n { out.append(Array(UnsafeBufferPointer(start: logits.unsafePointer + i * k, count: k))) }
            start += n
            progress?(start)
        }
        return out
    }
}

/// `sweep`: logits of a few classes along ε·d, ε in [−max, max].
public struct LogitSweep: Sendable {
    public var direction: SweepDirection
    public var epsilons: [Double]
    /// The classes drawn: the clean top-3, the target, and any class that is top-1 somewhere.
    public var classes: [Int]
    public var labels: [String]
    /// (ε, class) logits, in `classes` order.
    public var logits: [[Double]]
    /// The top-1 class at each ε.
    public var top1: [Int]

    public static func run(_ probe: LinearityProbe, direction: SweepDirection, epsilonMax: Double, points: Int) -> LogitSweep {
        let eps = (0..<points).map { -epsilonMax + 2 * epsilonMax * Double($0) / Double(points - 1) }
        let zero = [Float](repeating: 0, count: probe.photo.count)
        let all = probe.logits(probe.direction(direction), zero, at: eps.map { ($0, 0) })
        let top1 = all.map { row in row.indices.max { row[$0] < row[$1] } ?? 0 }
        let clean = probe.logits(zero, zero, at: [(0, 0)])[0]
        var classes = Array(clean.indices.sorted { clean[$0] > clean[$1] }.prefix(3))
        if let t = probe.target, !classes.contains(t) { classes.append(t) }
        for c in top1 where !classes.contains(c) && classes.count < 10 { classes.append(c) }
        return LogitSweep(direction: direction, epsilons: eps, classes: classes, labels: classes.map { probe.labels[$0] },
                          logits: all.map { row in classes.map { Double(row[$0]) } }, top1: top1)
    }

    public var csv: String {
        var s = "epsilon_255," + zip(classes, labels).map { "\"logit \($0) \($1.replacingOccurrences(of: "\"", with: "'"))\"" }.joined(separator: ",") + ",top1\n"
        for (i, e) in epsilons.enumerated() {
            s += String(format: "%.4f,", e) + logits[i].map { String(format: "%.5f", $0) }.joined(separator: ",") + ",\(top1[i])\n"
        }
        return s
    }

    public func image(modelName: String, target: Int?) -> Image {
        let series = classes.enumerated().map { k, c in
            LinePlot.Series(name: Image.drawable("\(c) \(labels[k])") + (c == target ? " (target)" : ""), color: LinePlot.palette[k % LinePlot.palette.count],
                            x: epsilons, y: logits.map { $0[k] }, dashed: c == target)
        }
        let what = direction == .gradientSign ? "the gradient's sign (FGSM direction\(target.map { " toward class \($0)" } ?? ", away from the clean class"))" : "a random sign direction"
        return LinePlot(title: "Logits along epsilon * d, d = \(direction.rawValue)",
                        note: "\(modelName): the photo moved by epsilon/255 along \(what) at its own resolution, framed as classify frames it. The linearity hypothesis (Goodfellow et al. 2015) predicts straight lines; how straight they are is this model's answer.",
                        xLabel: "epsilon (8-bit units)", yLabel: "logit", series: series,
                        verticalLines: [LinePlot.Rule(at: 0, label: "clean")]).image()
    }
}

/// `decision-map`: the top-1 class over ε₁ (gradient sign, x) × ε₂ (random sign, y).
public struct DecisionMap: Sendable {
    public var epsilonMax: Double
    public var resolution: Int
    /// (row, column) top-1 classes; row 0 is ε₂ = +max (top of the picture), column 0 ε₁ = −max.
    public var classes: [[Int]]
    public var cleanClass: Int
    public var labels: [Int: String]

    public static func run(_ probe: LinearityProbe, epsilonMax: Double, resolution: Int, progress: ((Int) -> Void)? = nil) -> DecisionMap {
        let r = resolution
        let axis = (0..<r).map { -epsilonMax + 2 * epsilonMax * Double($0) / Double(r - 1) }
        var points: [(Double, Double)] = []
        for row in 0..<r { for col in 0..<r { points.append((axis[col], axis[r - 1 - row])) } }
        let logits = probe.logits(probe.gradientSign, probe.random, at: points, progress: progress)
        let top = logits.map { row in row.indices.max { row[$0] < row[$1] } ?? 0 }
        let grid = (0..<r).map { Array(top[($0 * r)..<(($0 + 1) * r)]) }
        var names: [Int: String] = [:]
        for c in Set(top).union([probe.cleanClass]) { names[c] = probe.labels[c] }
        return DecisionMap(epsilonMax: epsilonMax, resolution: r, classes: grid, cleanClass: probe.cleanClass, labels: names)
    }

    /// Classes by the area they cover, largest first.
    public var classesByArea: [(Int, Int)] {
        var count: [Int: Int] = [:]
        for row in classes { for c in row { count[c, default: 0] += 1 } }
        return count.sorted { ($0.value, -$0.key) > ($1.value, -$1.key) }.map { ($0.key, $0.value) }
    }

    public var csv: String {
        var s = "epsilon1_gradient_sign,epsilon2_random,class,label\n"
        let r = resolution
        for row in 0..<r { for col in 0..<r {
            let e1 = -epsilonMax + 2 * epsilonMax * Double(col) / Double(r - 1), e2 = epsilonMax - 2 * epsilonMax * Double(row) / Double(r - 1)
            let c = classes[row][col]
            s += String(format: "%.4f,%.4f,%d,\"%@\"\n", e1, e2, c, (labels[c] ?? "").replacingOccurrences(of: "\"", with: "'"))
        } }
        return s
    }

    /// The map (one colour per class, the clean class's a light grey-blue), axes with ticks, a
    /// cross at the clean photo, and a legend of class names with the share of the map each covers.
    public func image(modelName: String, target: Int?) -> Image {
        let text = 2, lh = Image.lineHeight(scale: text), small = Image.lineHeight(scale: 1)
        let cell = max(4, 480 / resolution), side = cell * resolution
        let left = 90, top = 16 + lh + 3 * small + 30, legendX = left + side + 32
        let ranked = classesByArea
        let legendRows = min(ranked.count, 16)
        let width = legendX + 330, height = max(top + side + 70, top + legendRows * (lh + 6) + 40)
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        img.drawText("Predicted class around the photo", x: 16, y: 16, scale: text)
        let note = "\(modelName): the photo + e1/255 * sign of the gradient (x) + e2/255 * a random sign direction (y), each pixel of the photo at its own resolution. Where the model is locally linear the class boundaries run across the adversarial axis and the random axis barely moves the prediction (Warde-Farley & Goodfellow 2016)."
        for (i, line) in Image.wrapped(Image.drawable(note), width: (width - 32) / Image.characterAdvance(scale: 1)).prefix(3).enumerated() {
            img.drawText(line, x: 16, y: 16 + lh + 4 + i * small, scale: 1, color: Color(gray: 0.3))
        }
        var colors: [Int: Color] = [:]
        var k = 0
        for (c, _) in ranked {
            if c == cleanClass { colors[c] = Color(red: 0.78, green: 0.84, blue: 0.92); continue }
            colors[c] = ranked.count - 1 > LinePlot.palette.count && k >= LinePlot.palette.count - 1 ? Color(gray: 0.35) : LinePlot.palette[k % LinePlot.palette.count]
            k += 1
        }
        for row in 0..<resolution { for col in 0..<resolution {
            img.fillRect(x: left + col * cell, y: top + row * cell, width: cell, height: cell, color: colors[classes[row][col]] ?? .gray)
        } }
        img.strokeRect(x: left - 1, y: top - 1, width: side + 2, height: side + 2, color: .black)
        // Cross at the clean photo.
        let cx = left + side / 2, cy = top + side / 2
        img.drawLine(x0: cx - 8, y0: cy, x1: cx + 8, y1: cy, lineWidth: 2, color: .black)
        img.drawLine(x0: cx, y0: cy - 8, x1: cx, y1: cy + 8, lineWidth: 2, color: .black)
        // Ticks.
        let axis = LinePlot.niceAxis(-epsilonMax, epsilonMax, count: 4, fixed: true)
        for t in axis.ticks {
            let f = (t + epsilonMax) / (2 * epsilonMax)
            let x = left + Int(f * Double(side)), y = top + side - Int(f * Double(side))
            let label = LinePlot.tickLabel(t, step: axis.step)
            img.drawLine(x0: x, y0: top + side, x1: x, y1: top + side + 5, color: .black)
            img.drawText(label, x: x - Image.textWidth(label, scale: 1) / 2, y: top + side + 8, scale: 1)
            img.drawLine(x0: left - 5, y0: y, x1: left, y1: y, color: .black)
            img.drawText(label, x: left - 8 - Image.textWidth(label, scale: 1), y: y - 4, scale: 1)
        }
        img.drawText("e1: gradient sign (8-bit units)", x: left, y: top + side + 22, scale: 1)
        img.drawText("e2: random", x: 8, y: top - 12, scale: 1)
        // Legend.
        let total = Double(resolution * resolution)
        for (i, (c, n)) in ranked.prefix(legendRows).enumerated() {
            let y = top + i * (lh + 6)
            img.fillRect(x: legendX, y: y, width: lh, height: lh, color: colors[c] ?? .gray)
            var name = "\(c) \(labels[c] ?? "")"
            if name.count > 22 { name = String(name.prefix(21)) + "~" }
            let tag = c == cleanClass ? " (clean)" : (c == target ? " (target)" : "")
            img.drawText(Image.drawable(name), x: legendX + lh + 8, y: y, scale: 1)
            img.drawText(String(format: "%.0f%%", Double(n) / total * 100) + tag, x: legendX + lh + 8, y: y + small, scale: 1, color: Color(gray: 0.35))
        }
        if ranked.count > legendRows { img.drawText("+ \(ranked.count - legendRows) more classes", x: legendX, y: top + legendRows * (lh + 6), scale: 1) }
        return img
    }
}
