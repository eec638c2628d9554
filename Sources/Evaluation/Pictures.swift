// Drawing grids and heat maps as PNG-ready Images with the bundled 8×8 bitmap font (Drawing):
// axes named with their values, a legend or colour bar, text at 2× (16 px) so it reads at 100%.
// Only ASCII is drawn (the font has nothing else). Computing the grids is in Grid.swift.
import Statistics
import Drawing
import Foundation
import Imaging
import Networks

extension Factor {
    /// Axis title with the unit, ASCII.
    public var axisTitle: String {
        switch self {
        case .roll: return "roll (deg)"
        case .yaw: return "yaw (deg)"
        case .pitch: return "pitch (deg)"
        case .size: return "size (x image side)"
        case .brightness: return "brightness"
        case .gamma: return "gamma"
        case .contrast: return "contrast"
        case .blur: return "blur (sigma px)"
        case .noise: return "noise (sigma)"
        case .azimuth: return "azimuth (deg)"
        case .elevation: return "elevation (deg)"
        case .height: return "height (x image side)"
        case .ambient: return "ambient light"
        }
    }

    /// A value on an axis, ASCII, no unit.
    public func axisValue(_ v: Double) -> String {
        let text: String
        switch self {
        case .roll, .yaw, .pitch, .azimuth, .elevation: text = abs(v - v.rounded()) < 0.05 ? String(format: "%.0f", v) : String(format: "%.1f", v)
        case .noise: text = String(format: "%.3f", v)
        case .blur: text = String(format: "%.1f", v)
        default: text = String(format: "%.2f", v)
        }
        // "-0" and "-0.00" read as a sign error.
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

public enum Pictures {
    public static let targetColor = Color(red: 0.05, green: 0.65, blue: 0.15)
    public static let otherColor = Color(red: 0.85, green: 0.1, blue: 0.1)
    public static let unchangedColor = Color(gray: 0.6)
    static let text = 2              // font scale of all labels: 16 px glyphs
    static let pad = 12

    static func percentText(_ p: Float) -> String { String(format: "%.0f%%", Double(p) * 100) }

    // MARK: Contact sheet

    /// Each cell: the model input with its top-1 label and probability in a band at the bottom,
    /// framed green (target), red (another class) or grey (the clean scene's class); axes, a
    /// title and a legend around it.
    public static func contactSheet(_ sheet: ContactSheet, labels: ClassLabels) throws -> Image {
        let s = sheet.imageSize, border = 6, gap = 8
        let cell = s + 2 * border
        let nr = sheet.rows.values.count, nc = sheet.columns.values.count
        let lh = Image.lineHeight(scale: text)
        let rowValues = sheet.rows.values.map { sheet.rows.factor.axisValue($0) }
        let colValues = sheet.columns.values.map { sheet.columns.factor.axisValue($0) }
        let left = pad + max(Image.textWidth(sheet.rows.factor.axisTitle, scale: text), rowValues.map { Image.textWidth($0, scale: text) }.max() ?? 0) + pad
        let gridWidth = nc * cell + (nc - 1) * gap
        let goal = sheet.target.map { "target \($0) \(labels[$0])" } ?? "untargeted"
        let title = Image.drawable("\(sheet.patchName) on \(sheet.modelName) - \(goal)")
        let subtitle = Image.drawable("scene \(sheet.sceneName), clean prediction: \(labels[sheet.cleanTop1])")
        let top = pad + 2 * lh + pad + lh + lh + 4           // title, subtitle, gap, column title, column values
        let legendItems: [(Color, String)] = [
            (targetColor, sheet.target.map { Image.drawable("target (\(labels[$0]))") } ?? "-"),
            (otherColor, "other class"),
            (unchangedColor, Image.drawable("unchanged (\(labels[sheet.cleanTop1]))")),
        ].filter { $0.1 != "-" }
        let legendHeight = lh + pad
        let width = max(left + gridWidth + pad, pad + Image.textWidth(title, scale: text) + pad, pad + Image.textWidth(subtitle, scale: text) + pad,
                        pad + legendItems.reduce(0) { $0 + 24 + Image.textWidth($1.1, scale: text) + 24 })
        let height = top + nr * cell + (nr - 1) * gap + pad + legendHeight + pad
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        img.drawText(title, x: pad, y: pad, scale: text)
        img.drawText(subtitle, x: pad, y: pad + lh, scale: text, color: Color(gray: 0.25))
        let colTitleY = pad + 2 * lh + pad
        let colTitle = sheet.columns.factor.axisTitle
        img.drawText(colTitle, x: left + (gridWidth - Image.textWidth(colTitle, scale: text)) / 2, y: colTitleY, scale: text)
        for (c, v) in colValues.enumerated() {
            let x = left + c * (cell + gap) + (cell - Image.textWidth(v, scale: text)) / 2
            img.drawText(v, x: x, y: colTitleY + lh + 2, scale: text, color: Color(gray: 0.2))
        }
        // Row axis title sits above the row values, right-aligned to the grid edge.
        let rowTitle = sheet.rows.factor.axisTitle
        img.drawText(rowTitle, x: left - pad - Image.textWidth(rowTitle, scale: text), y: colTitleY + lh + 2, scale: text)
        let chars = (s - 8) / Image.characterAdvance(scale: text)
        for r in 0..<nr {
            let y0 = top + r * (cell + gap)
            let v = rowValues[r]
            img.drawText(v, x: left - pad - Image.textWidth(v, scale: text), y: y0 + (cell - 16) / 2, scale: text, color: Color(gray: 0.2))
            for c in 0..<nc {
                let x0 = left + c * (cell + gap)
                let g = sheet.cells[r][c]
                let frame: Color = g.outcome == .target ? targetColor : g.outcome == .other ? otherColor : unchangedColor
                img.fillRect(x: x0, y: y0, width: cell, height: cell, color: frame)
                img.blit(try Image(width: s, height: s, channels: 3, pixels: g.pixels), x: x0 + border, y: y0 + border)
                let lines = Image.wrapped(Image.drawable(labels[g.top1]) + " " + percentText(g.probability), width: chars, maxLines: 2)
                let band = lines.count * lh + 6
                img.fillRect(x: x0 + border, y: y0 + border + s - band, width: s, height: band, color: Color(gray: 0, alpha: 0.62))
                for (k, line) in lines.enumerated() {
                    img.drawText(line, x: x0 + border + 4, y: y0 + border + s - band + 4 + k * lh, scale: text, color: .white)
                }
            }
        }
        var x = pad
        let ly = height - pad - lh
        for (color, name) in legendItems {
            img.fillRect(x: x, y: ly, width: 16, height: 16, color: color)
            x += 24
            x += img.drawText(name, x: x, y: ly, scale: text) + 24
        }
        return img
    }

    // MARK: Heat map

    /// A viridis-like ramp (5 stops of matplotlib's viridis, linearly interpolated): dark blue
    /// at 0, yellow at 1; readable in grey scale and by most colour-blind readers.
    public static func rampColor(_ t: Double) -> Color {
        let stops: [(Float, Float, Float)] = [(0.267, 0.005, 0.329), (0.229, 0.322, 0.546), (0.128, 0.567, 0.551), (0.369, 0.789, 0.383), (0.993, 0.906, 0.144)]
        let x = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = Float(x - Double(i))
        let a = stops[i], b = stops[i + 1]
        return Color(red: a.0 + (b.0 - a.0) * f, green: a.1 + (b.1 - a.1) * f, blue: a.2 + (b.2 - a.2) * f)
    }

    /// Cells coloured by success with the percentage written in each (n in small print when
    /// cells have different counts), both axes named with their values, a colour bar.
    public static func heatMap(_ map: HeatMap, title: String) throws -> Image {
        guard let rf = Factor(rawValue: map.rowFactor), let cf = Factor(rawValue: map.columnFactor) else {
            throw EvaluationError.unknownFactor(name: "\(map.rowFactor)/\(map.columnFactor)", valid: Factor.names)
        }
        let cellSize = 96, lh = Image.lineHeight(scale: text)
        let nr = map.rowValues.count, nc = map.columnValues.count
        let rowValues = map.rowValues.map { rf.axisValue($0) }, colValues = map.columnValues.map { cf.axisValue($0) }
        let left = pad + max(Image.textWidth(rf.axisTitle, scale: text), rowValues.map { Image.textWidth($0, scale: text) }.max() ?? 0) + pad
        let titleText = Image.drawable(title)
        let gridWidth = nc * cellSize
        let barX = left + gridWidth + 2 * pad
        let barLabelWidth = Image.textWidth("100%", scale: text)
        let minWidth = max(barX + 24 + 8 + barLabelWidth + pad, pad + Image.textWidth(titleText, scale: text) + pad)
        let noteLines = Image.wrapped(Image.drawable(map.note), width: max(40, (minWidth - 2 * pad) / Image.characterAdvance(scale: text)), maxLines: 4)
        let width = max(minWidth, pad + (noteLines.map { Image.textWidth($0, scale: text) }.max() ?? 0) + pad)
        let colTitleY = pad + lh * (1 + noteLines.count) + pad
        let top = colTitleY + lh + lh + 4
        let height = top + nr * cellSize + 2 * pad
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        img.drawText(titleText, x: pad, y: pad, scale: text)
        for (k, line) in noteLines.enumerated() { img.drawText(line, x: pad, y: pad + lh * (1 + k), scale: text, color: Color(gray: 0.35)) }
        img.drawText(cf.axisTitle, x: left + (gridWidth - Image.textWidth(cf.axisTitle, scale: text)) / 2, y: colTitleY, scale: text)
        for (c, v) in colValues.enumerated() {
            img.drawText(v, x: left + c * cellSize + (cellSize - Image.textWidth(v, scale: text)) / 2, y: colTitleY + lh + 2, scale: text, color: Color(gray: 0.2))
        }
        img.drawText(rf.axisTitle, x: left - pad - Image.textWidth(rf.axisTitle, scale: text), y: colTitleY + lh + 2, scale: text)
        let counts = Set(map.cells.flatMap { $0.map(\.trials) })
        for r in 0..<nr {
            let y0 = top + r * cellSize
            img.drawText(rowValues[r], x: left - pad - Image.textWidth(rowValues[r], scale: text), y: y0 + (cellSize - 16) / 2, scale: text, color: Color(gray: 0.2))
            for c in 0..<nc {
                let p = map.cells[r][c], x0 = left + c * cellSize
                let empty = p.trials == 0
                let ink = fillCell(&img, x: x0, y: y0, width: cellSize, height: cellSize, rate: empty ? nil : p.rate)
                let label = empty ? "-" : String(format: "%.0f%%", p.rate * 100)
                let showN = counts.count > 1 && !empty
                let ty = y0 + (cellSize - 16) / 2 - (showN ? 10 : 0)
                img.drawText(label, x: x0 + (cellSize - Image.textWidth(label, scale: text)) / 2, y: ty, scale: text, color: ink)
                if showN {
                    let n = "n=\(p.trials)"
                    img.drawText(n, x: x0 + (cellSize - Image.textWidth(n, scale: text)) / 2, y: ty + 20, scale: text, color: ink)
                }
            }
        }
        drawColourBar(&img, x: barX, top: top, height: nr * cellSize)
        return img
    }

    /// A cell of a heat map or matrix: filled with the ramp's colour for `rate` (light grey when
    /// nil: no samples), a white border; returns the ink that reads on it.
    static func fillCell(_ img: inout Image, x: Int, y: Int, width: Int, height: Int, rate: Double?) -> Color {
        let color = rate.map(rampColor) ?? Color(gray: 0.9)
        img.fillRect(x: x, y: y, width: width, height: height, color: color)
        img.strokeRect(x: x, y: y, width: width, height: height, lineWidth: 1, color: .white)
        let luminance = 0.2126 * color.red + 0.7152 * color.green + 0.0722 * color.blue
        return luminance > 0.5 ? .black : .white
    }

    /// The ramp's colour bar, 24 px wide: 0% at the bottom, 100% at the top, labelled at 0, 50, 100%.
    static func drawColourBar(_ img: inout Image, x barX: Int, top barTop: Int, height: Int) {
        let barHeight = max(height, 1)
        for y in 0..<barHeight {
            img.fillRect(x: barX, y: barTop + y, width: 24, height: 1, color: rampColor(1 - Double(y) / Double(max(barHeight - 1, 1))))
        }
        img.strokeRect(x: barX, y: barTop, width: 24, height: barHeight, color: Color(gray: 0.4))
        for q in [0.0, 0.5, 1.0] {
            let y = barTop + Int((1 - q) * Double(barHeight - 1))
            let label = String(format: "%.0f%%", q * 100)
            img.fillRect(x: barX + 24, y: y, width: 4, height: 1, color: .black)
            img.drawText(label, x: barX + 32, y: min(max(y - 8, barTop), barTop + barHeight - 16), scale: text)
        }
    }

    // MARK: Transfer matrix

    /// Patches (rows) × models (columns): each cell coloured by success with the percentage and
    /// its 95 % Wilson interval written in it, both axes named, a colour bar.
    public static func transferMatrix(patches: [String], models: [String], cells: [[Proportion]], title: String) -> Image {
        let cellHeight = 72, lh = Image.lineHeight(scale: text)
        // Cells as wide as the longest model name (an ONNX file's name is long), within 150–320 px;
        // a name wider than that keeps its end, after "..".
        let cellWidth = min(320, max(150, (models.map { Image.textWidth(Image.drawable($0), scale: text) }.max() ?? 0) + 12))
        func fitted(_ name: String) -> String {
            var n = Image.drawable(name)
            while n.count > 3 && Image.textWidth(n, scale: text) > cellWidth - 8 { n = ".." + n.dropFirst(3) }
            return n
        }
        let rowNames = patches.map { Image.drawable(String($0.suffix(40))) }, colNames = models.map(fitted)
        let left = pad + max(Image.textWidth("patch", scale: text), rowNames.map { Image.textWidth($0, scale: text) }.max() ?? 0) + pad
        let titleText = Image.drawable(title)
        let gridWidth = models.count * cellWidth
        let barX = left + gridWidth + 2 * pad
        let width = max(barX + 24 + 8 + Image.textWidth("100%", scale: text) + pad, pad + Image.textWidth(titleText, scale: text) + pad)
        let colTitleY = pad + lh + pad
        let top = colTitleY + 2 * lh + 4
        let height = top + patches.count * cellHeight + 2 * pad
        var img = Image(width: width, height: height, channels: 3, fill: 1)
        img.drawText(titleText, x: pad, y: pad, scale: text)
        img.drawText("model", x: left + (gridWidth - Image.textWidth("model", scale: text)) / 2, y: colTitleY, scale: text)
        for (c, name) in colNames.enumerated() {
            img.drawText(name, x: left + c * cellWidth + (cellWidth - Image.textWidth(name, scale: text)) / 2, y: colTitleY + lh + 2, scale: text, color: Color(gray: 0.2))
        }
        img.drawText("patch", x: left - pad - Image.textWidth("patch", scale: text), y: colTitleY + lh + 2, scale: text)
        for (r, name) in rowNames.enumerated() {
            let y0 = top + r * cellHeight
            img.drawText(name, x: left - pad - Image.textWidth(name, scale: text), y: y0 + (cellHeight - 16) / 2, scale: text, color: Color(gray: 0.2))
            for c in 0..<models.count {
                let x0 = left + c * cellWidth
                let p = r < cells.count && c < cells[r].count ? cells[r][c] : Proportion(successes: 0, trials: 0)
                let empty = p.trials == 0
                let ink = fillCell(&img, x: x0, y: y0, width: cellWidth, height: cellHeight, rate: empty ? nil : p.rate)
                let (lo, hi) = p.wilson()
                let lines = empty ? ["-"] : [String(format: "%.1f%%", p.rate * 100), String(format: "%.0f-%.0f", lo * 100, hi * 100)]
                for (k, line) in lines.enumerated() {
                    let ty = y0 + (cellHeight - lines.count * lh) / 2 + k * lh
                    img.drawText(line, x: x0 + (cellWidth - Image.textWidth(line, scale: text)) / 2, y: ty, scale: text, color: ink)
                }
            }
        }
        drawColourBar(&img, x: barX, top: top, height: patches.count * cellHeight)
        return img
    }
}
