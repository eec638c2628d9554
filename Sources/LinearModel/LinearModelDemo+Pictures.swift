// The linear demo's pictures: weights.png (the ten templates on one diverging scale),
// examples.png (clean | ε·sign(∇) | sign(w_adv − w_true) | adversarial, per digit) and the
// error-vs-ε plot. Drawn with the Drawing module's 8×8 font at 2×; ASCII only.
import Drawing
import Foundation
import Imaging

extension LinearModelDemo {
    static let text = 2
    static let blue = Color(red: 0.13, green: 0.30, blue: 0.78)
    static let red = Color(red: 0.80, green: 0.10, blue: 0.12)

    /// Blue (−1) – white (0) – red (+1); values outside [−1, 1] are clamped.
    static func diverging(_ v: Double) -> Color {
        let t = Float(min(max(abs(v), 0), 1)), c = v < 0 ? blue : red
        return Color(red: 1 + (c.red - 1) * t, green: 1 + (c.green - 1) * t, blue: 1 + (c.blue - 1) * t)
    }

    /// An 8×8 tile of `values` (64, row by row) as `scale`-pixel squares with a thin grey frame.
    static func tile(_ img: inout Image, _ values: [Float], x: Int, y: Int, scale: Int, color: (Float) -> Color) {
        for i in 0..<64 {
            img.fillRect(x: x + (i % 8) * scale, y: y + (i / 8) * scale, width: scale, height: scale, color: color(values[i]))
        }
        img.strokeRect(x: x - 1, y: y - 1, width: 8 * scale + 2, height: 8 * scale + 2, color: Color(gray: 0.6))
    }

    /// Digit pixels: ink (1) dark, paper (0) white.
    static func ink(_ v: Float) -> Color { Color(gray: 1 - min(max(v, 0), 1)) }

    static func percent(_ p: Double) -> String { String(format: "%.1f%%", p * 100) }

    /// Title and wrapped note from y = 12; returns the y below them.
    static func heading(_ img: inout Image, title: String, note: String) -> Int {
        img.drawText(Image.drawable(title), x: 16, y: 12, scale: text)
        var y = 12 + Image.lineHeight(scale: text) + 2
        for line in Image.wrapped(Image.drawable(note), width: (img.width - 32) / Image.characterAdvance(scale: 1)) {
            img.drawText(line, x: 16, y: y, scale: 1, color: Color(gray: 0.3)); y += Image.lineHeight(scale: 1)
        }
        return y
    }

    static func noteHeight(_ note: String, width: Int) -> Int {
        Image.wrapped(Image.drawable(note), width: (width - 32) / Image.characterAdvance(scale: 1)).count * Image.lineHeight(scale: 1)
    }

    /// A horizontal colour bar from −`limit` to +`limit` at (x, y), labelled under it.
    static func colorBar(_ img: inout Image, x: Int, y: Int, width: Int, limit: String, caption: String) {
        for i in 0..<width {
            img.fillRect(x: x + i, y: y, width: 1, height: 16, color: diverging(Double(i) / Double(width - 1) * 2 - 1))
        }
        img.strokeRect(x: x - 1, y: y - 1, width: width + 2, height: 18, color: Color(gray: 0.6))
        let lo = "-" + limit, hi = "+" + limit
        img.drawText(lo, x: x - Image.textWidth(lo, scale: text) / 2, y: y + 24, scale: text)
        img.drawText("0", x: x + width / 2 - 8, y: y + 24, scale: text)
        img.drawText(hi, x: x + width - Image.textWidth(hi, scale: text) / 2, y: y + 24, scale: text)
        img.drawText(Image.drawable(caption), x: x + width + 40, y: y, scale: text)
    }

    // MARK: - weights.png

    /// The ten rows of W as 8×8 templates on one shared symmetric scale.
    public func weightsImage() -> Image {
        let scale = 12, side = 8 * scale, gap = 20, width = 16 + 10 * (side + gap) - gap + 16
        // One scale for all ten, saturating at the 98th percentile of |w|: a few large weights
        // (rarely inked corner pixels) would otherwise wash every template out to white.
        let magnitudes = model.weights.map { Double(abs($0)) }.sorted()
        let limit = max(magnitudes[Int(0.98 * Double(magnitudes.count - 1))], 1e-9)
        let note = "Softmax regression (logits = W x + b) trained on \(trainCount) digits, test accuracy "
            + "\(Self.percent(testAccuracy)) on \(testCount). Row k of W, shown as an 8x8 picture, is digit k's template: "
            + "ink on a red pixel raises the score of k, ink on a blue pixel lowers it. One colour scale for all ten, "
            + "saturating at +-\(String(format: "%.2f", limit)) (98th percentile of |w|; the largest is \(String(format: "%.2f", magnitudes.last ?? 0))). "
            + "FGSM's step eps*sign(grad_x loss) is the sign of a difference of two such templates (see examples.png)."
        let top = 12 + Image.lineHeight(scale: Self.text) + 2 + Self.noteHeight(note, width: width) + 16
        let height = top + 24 + side + 24 + 60
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        _ = Self.heading(&img, title: "What the linear model looks for: one weight template per digit", note: note)
        for k in 0..<10 {
            let x = 16 + k * (side + gap)
            img.drawText("\(k)", x: x + side / 2 - 8, y: top, scale: Self.text)
            Self.tile(&img, model.template(k), x: x, y: top + 24, scale: scale) { Self.diverging(Double($0) / limit) }
        }
        Self.colorBar(&img, x: 72, y: top + 24 + side + 24, width: 320, limit: String(format: "%.2f", limit),
                      caption: "weight (per pixel in [0, 1])")
        return img
    }

    // MARK: - examples.png

    /// Per example digit: clean | ε·sign(∇x loss) | sign(w_adv − w_true) | adversarial.
    public func examplesImage() -> Image {
        let scale = 16, side = 8 * scale, column = 240, left = 16 + 112
        let width = left + 4 * column
        let eps = String(format: "%.2g", settings.exampleEpsilon)
        let agree = examples.isEmpty ? 0 : Double(examples.map(\.signAgreement).reduce(0, +)) / Double(examples.count)
        let fooled = rows.first { $0.epsilon == settings.exampleEpsilon }.map { " At this eps FGSM fools the model on \(Self.percent($0.fgsmError)) of the \(testCount) test digits." } ?? ""
        let note = "FGSM on the linear model, eps = \(eps) of the pixel range (\(String(format: "%.1f", settings.exampleEpsilon * 16)) of 16 grey levels), untargeted. "
            + "For a linear model grad_x loss = W^T (p - onehot) = sum_k p_k w_k - w_true: mostly the difference of two templates, "
            + "so the step eps*sign(grad) is (up to a few pixels) sign(w_adv - w_true), the third column: on these rows they agree on "
            + String(format: "%.1f", agree) + " of 64 pixels (\(String(format: "%.1f", meanSignAgreement)) over all test digits, "
            + "against the runner-up class).\(fooled) Blue -, red +; the step is drawn before clipping to [0, 1]."
        let headers = [("clean", "prediction"), ("step:", "eps*sign(grad)"), ("sign(w_adv", " - w_true)"), ("adversarial", "prediction")]
        let lh = Image.lineHeight(scale: Self.text)
        let headerTop = 12 + lh + 2 + Self.noteHeight(note, width: width) + 16
        let rowTop = headerTop + 2 * lh + 12, rowHeight = side + 2 * lh + 16
        let height = rowTop + max(examples.count, 1) * rowHeight + 56
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        _ = Self.heading(&img, title: "Linear models are fooled too: FGSM on 8x8 digits", note: note)
        for (c, h) in headers.enumerated() {
            let x = left + c * column
            img.drawText(h.0, x: x, y: headerTop, scale: Self.text)
            img.drawText(h.1, x: x, y: headerTop + lh, scale: Self.text)
        }
        if examples.isEmpty {
            img.drawText("no correctly classified test digit to show", x: 16, y: rowTop, scale: Self.text)
        }
        for (r, e) in examples.enumerated() {
            let y = rowTop + r * rowHeight
            img.drawText("true \(e.label)", x: 16, y: y + side / 2 - 8, scale: Self.text)
            Self.tile(&img, e.clean, x: left, y: y, scale: scale, color: Self.ink)
            Self.tile(&img, e.step, x: left + column, y: y, scale: scale) { Self.diverging(Double($0) / max(settings.exampleEpsilon, 1e-12)) }
            let other = e.adversarialPrediction != e.label ? e.adversarialPrediction
                : (0..<10).filter { $0 != e.label }.max { model.probabilities(e.adversarial)[$0] < model.probabilities(e.adversarial)[$1] } ?? 0
            let difference = zip(model.template(other), model.template(e.label)).map { Float(FGSM.sign(Double($0) - Double($1))) }
            Self.tile(&img, difference, x: left + 2 * column, y: y, scale: scale) { Self.diverging(Double($0)) }
            Self.tile(&img, e.adversarial, x: left + 3 * column, y: y, scale: scale, color: Self.ink)
            let cy = y + side + 8
            img.drawText("\(e.cleanPrediction): \(Self.percent(e.cleanProbability))", x: left, y: cy, scale: Self.text)
            img.drawText("eps = \(eps)", x: left + column, y: cy, scale: Self.text)
            img.drawText("w_\(other) - w_\(e.label)", x: left + 2 * column, y: cy, scale: Self.text)
            img.drawText("agrees \(e.signAgreement)/64", x: left + 2 * column, y: cy + lh, scale: Self.text, color: Color(gray: 0.3))
            let wrong = e.adversarialPrediction != e.label
            img.drawText("\(e.adversarialPrediction): \(Self.percent(e.adversarialProbability))", x: left + 3 * column, y: cy,
                         scale: Self.text, color: wrong ? Self.red : .black)
            img.drawText(wrong ? "fooled" : "not fooled", x: left + 3 * column, y: cy + lh, scale: Self.text,
                         color: wrong ? Self.red : Color(gray: 0.3))
        }
        Self.colorBar(&img, x: left + column, y: height - 48, width: 2 * column - 120, limit: "1", caption: "sign (step: x eps)")
        return img
    }

    // MARK: - error_vs_epsilon.png

    /// Test error against ε: FGSM and the random-sign control; the clean error as a rule.
    public func errorPlot() -> LinePlot {
        let clean = 1 - testAccuracy
        var plot = LinePlot(
            title: "Linear model on 8x8 digits: test error vs FGSM eps",
            note: "Softmax regression, \(trainCount) training / \(testCount) test digits (stratified, seed \(settings.seed)), "
                + "clean test accuracy \(Self.percent(testAccuracy)). eps in units of the pixel range [0, 1] (1 = 16 grey levels). "
                + "FGSM: x + eps*sign(grad_x loss), untargeted; control: the same eps with random signs. Both clipped to [0, 1].",
            xLabel: "eps (fraction of the pixel range)", yLabel: "test error",
            series: [
                .init(name: "FGSM: eps*sign(grad)", color: Self.red, x: rows.map(\.epsilon), y: rows.map(\.fgsmError)),
                .init(name: "random signs, same eps", color: LinePlot.palette[0], x: rows.map(\.epsilon), y: rows.map(\.randomSignError), dashed: true),
            ],
            yRange: 0...1,
            horizontalLines: [.init(at: clean, label: "clean error \(Self.percent(clean))")])
        plot.yFormat = .percent
        if let lo = rows.first?.epsilon, let hi = rows.last?.epsilon, hi > lo { plot.xRange = lo...hi }
        return plot
    }
}
