// The pictures of a perturbation run: the perturbation amplified for viewing (mid-grey = no
// change, the gain written in the picture), and the classic three-panel figure — original with
// the model's top-5 | + perturbation | = adversarial with its top-5 (Goodfellow et al. 2015).
// Bitmap font, ASCII only.
import Attack
import Drawing
import Foundation
import Imaging

public enum PerturbationPictures {
    static let targetColor = Color(red: 0.80, green: 0.15, blue: 0.10)
    static let barColor = Color(red: 0.55, green: 0.65, blue: 0.85)
    static let targetBarColor = Color(red: 0.95, green: 0.62, blue: 0.55)

    /// (adversarial − original) in 8-bit units times the largest whole gain that keeps it inside
    /// [0, 255] around mid-grey, with "x<gain>" written in the top-left corner. Returns the gain.
    public static func perturbation(original: Image, adversarial: Image) -> (Image, Int) {
        var largest = 0
        let d = zip(adversarial.pixels, original.pixels).map { a, o -> Int in
            let v = Int((a * 255).rounded()) - Int((o * 255).rounded())
            largest = max(largest, abs(v))
            return v
        }
        let gain = largest == 0 ? 1 : max(1, 127 / largest)
        var img = Image(width: original.width, height: original.height, channels: 3, fill: 0.5)
        img.pixels = d.map { min(max(0.5 + Float($0 * gain) / 255, 0), 1) }
        let scale = max(1, min(original.width, original.height) / 220)
        let text = largest == 0 ? "no change" : "x\(gain) (grey = 0)"
        let w = Image.textWidth(text, scale: scale) + 8 * scale, h = Image.lineHeight(scale: scale) + 6 * scale
        img.fillRect(x: 0, y: 0, width: w, height: h, color: .white)
        img.drawText(text, x: 4 * scale, y: 4 * scale, scale: scale)
        return (img, gain)
    }

    /// original | + perturbation | = adversarial, each above the model's top-5 as bars.
    public static func panel(original: Image, perturbation: Image, adversarial: Image, gain: Int, clean: Top5, attacked: Top5,
                             settings: PerturbSettings, targetLabel: String?, maxChange: Int, l2: Double) -> Image {
        let boxW = 360, boxH = 300, margin = 16, gap = 44, text = 2
        let scale = min(Double(boxW) / Double(original.width), Double(boxH) / Double(original.height))
        let w = max(1, Int((Double(original.width) * scale).rounded())), h = max(1, Int((Double(original.height) * scale).rounded()))
        let lh = Image.lineHeight(scale: text), small = Image.lineHeight(scale: 1)
        let titleTop = margin, imageTop = titleTop + lh + 8
        let barsTop = imageTop + boxH + 12, barRow = 22
        let captionTop = barsTop + 5 * barRow + small + 12
        let width = margin * 2 + boxW * 3 + gap * 2
        let height = captionTop + 2 * small + margin
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        let eps = settings.norm == .linf ? "\(Int(settings.epsilon.rounded(.down)))/255" : String(format: "%g (L2)", settings.epsilon)
        let titles = ["original", "perturbation x\(gain)", "adversarial"]
        for (k, picture) in [original, perturbation, adversarial].enumerated() {
            let x0 = margin + k * (boxW + gap)
            img.drawText(Image.drawable(titles[k]), x: x0, y: titleTop, scale: text)
            img.blit(picture, x: x0 + (boxW - w) / 2, y: imageTop + (boxH - h) / 2, width: w, height: h, filter: .bilinear)
            if k == 1 {
                img.drawText("|d| <= \(eps)", x: x0, y: barsTop, scale: text)
                img.drawText(Image.drawable("\(settings.method.rawValue), \(settings.norm == .linf ? "Linf" : "L2")"), x: x0, y: barsTop + lh + 4, scale: text)
                img.drawText("max change \(maxChange)/255", x: x0, y: barsTop + 2 * (lh + 4), scale: 1)
                img.drawText(String(format: "L2 norm %.3f", l2), x: x0, y: barsTop + 2 * (lh + 4) + small, scale: 1)
            } else {
                drawBars(&img, k == 0 ? clean : attacked, target: settings.target, x: x0, y: barsTop, width: boxW, row: barRow)
            }
        }
        // "+" and "=" between the pictures.
        let signY = imageTop + boxH / 2 - 12
        img.drawText("+", x: margin + boxW + gap / 2 - 12, y: signY, scale: 3)
        img.drawText("=", x: margin + 2 * boxW + gap + gap / 2 - 12, y: signY, scale: 3)
        let goal = settings.target.map { "target \($0) \(targetLabel ?? "")" } ?? "untargeted"
        let caption = "\(settings.method.rawValue.uppercased()) on \(clean.model), \(goal), \(settings.steps) step\(settings.steps == 1 ? "" : "s"); "
            + "top-5 as the model frames the photo (classify). Perturbation shown x\(gain): grey = no change."
        for (i, line) in Image.wrapped(Image.drawable(caption), width: (width - 2 * margin) / Image.characterAdvance(scale: 1)).prefix(2).enumerated() {
            img.drawText(line, x: margin, y: captionTop + i * small, scale: 1, color: Color(gray: 0.25))
        }
        return img
    }

    /// Five bars of probability with "NN.N% label" on each; the target's in red.
    static func drawBars(_ img: inout Image, _ top: Top5, target: Int?, x: Int, y: Int, width: Int, row: Int) {
        for (i, e) in top.entries.prefix(5).enumerated() {
            let yy = y + i * row
            let isTarget = e.index == target
            let bar = max(1, Int((Double(width) * e.probability).rounded()))
            img.fillRect(x: x, y: yy, width: width, height: row - 4, color: Color(gray: 0.94))
            img.fillRect(x: x, y: yy, width: bar, height: row - 4, color: isTarget ? targetBarColor : barColor)
            let label = String(format: "%5.1f%% ", e.probability * 100) + Image.drawable(e.label)
            let maxChars = width / Image.characterAdvance(scale: 1) - 1
            let shown = label.count > maxChars ? String(label.prefix(maxChars - 1)) + "~" : label
            img.drawText(shown, x: x + 4, y: yy + (row - 4 - 8) / 2, scale: 1, color: isTarget ? targetColor : .black)
        }
        if let t = target, !top.entries.prefix(5).contains(where: { $0.index == t }), let p = top.targetProbability {
            img.drawText(String(format: "target: %.2f%%", p * 100), x: x, y: y + 5 * row, scale: 1, color: targetColor)
        }
    }
}
