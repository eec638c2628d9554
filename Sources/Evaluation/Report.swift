// report.html: a self-contained page (images as base64 data URIs, no scripts from elsewhere)
// summarising an evaluation — patch, success table with intervals, controls, factor bins, heat
// map, contact sheet, transfer, settings. Also writes the heat map and grid PNGs beside it.
import Statistics
import Runs
import Foundation
import Imaging
import Networks
import Transforms

public enum ReportWriter {
    /// Writes report.html (and evaluation_heatmap.png / evaluation_grid.png, one pair per patch)
    /// into `directory`; returns the paths written.
    public static func write(record: EvaluationRecord, patches: [PatchArtifact], samples: SampleSet, benches: [ModelBench], labels: ClassLabels,
                             distribution: TransformDistribution, directory: String, seed: UInt64) throws -> [String] {
        var written: [String] = []
        var sections: [String] = []
        for (k, (patch, result)) in zip(patches, record.patches).enumerated() {
            let suffix = patches.count == 1 ? "" : "_\(k + 1)"
            var pictures: [(title: String, png: Data, caption: String)] = []
            if let first = result.models.first, let bench = benches.first {
                let success = first.outcomes.map { o in patch.target.map { o.top1 == $0 } ?? o.flipped }
                let varying = Factor.allCases.filter { f in
                    let v = samples.samples.map { f.value(of: $0.transform) }
                    return (v.max() ?? 0) > (v.min() ?? 0)
                }
                let pair = PatchEvaluator.mostTellingFactors(first.bins)
                    ?? (varying.count == 1 ? (varying[0], Factor.allCases.first { $0 != varying[0] } ?? .size) : nil)
                if let (rows, cols) = pair {
                    let map = HeatMap.fromSamples(samples.samples, success: success, rows: rows, columns: cols, bins: 5)
                    let goal = patch.target.map { "targeted top-1 \(labels[$0])" } ?? "top-1 changed"
                    let heat = try Pictures.heatMap(map, title: "success (\(goal)) on \(first.model)")
                    let heatPath = (directory as NSString).appendingPathComponent("evaluation\(suffix)_heatmap.png")
                    try heat.writePNG(to: heatPath)
                    written.append(heatPath)
                    pictures.append(("Heat map: \(rows.rawValue) × \(cols.rawValue)", try Data(contentsOf: URL(fileURLWithPath: heatPath)), map.note))
                    // Contact sheet over the same factors, 4 values across the sampled range, first scene.
                    func axis(_ f: Factor) -> GridAxis {
                        let v = samples.samples.map { f.value(of: $0.transform) }
                        let lo = v.min() ?? 0, hi = v.max() ?? 0
                        return GridAxis(factor: f, values: hi > lo ? (0..<4).map { lo + (hi - lo) * Double($0) / 3 } : [lo])
                    }
                    let base = GridMaker.baseSample(distribution: distribution, imageSize: bench.inputSize, patchAspect: patch.aspect)
                    let sheet = try GridMaker.contactSheet(patch: patch, bench: bench, scene: 0, sceneName: samples.scenes.first ?? "scene 0",
                                                           rows: axis(rows), columns: axis(cols), base: base)
                    let gridPath = (directory as NSString).appendingPathComponent("evaluation\(suffix)_grid.png")
                    try Pictures.contactSheet(sheet, labels: labels).writePNG(to: gridPath)
                    written.append(gridPath)
                    pictures.append(("Contact sheet: \(rows.rawValue) × \(cols.rawValue)", try Data(contentsOf: URL(fileURLWithPath: gridPath)),
                                     "the model's input at each grid point (other factors at the middle of their range, patch centred); frame: green = target, red = another class, grey = the clean scene's class"))
                }
            }
            sections.append(try patchSection(patch: patch, result: result, record: record, pictures: pictures))
        }
        if record.patches.count > 1 || (record.patches.first?.models.count ?? 0) > 1 {
            let matrix = Pictures.transferMatrix(patches: record.patches.map(\.patch), models: record.patches.first?.models.map(\.model) ?? [],
                                                 cells: record.transfer, title: "transfer: success of each patch on each model (95% interval)")
            let matrixPath = (directory as NSString).appendingPathComponent("evaluation_transfer.png")
            try matrix.writePNG(to: matrixPath)
            written.append(matrixPath)
            sections.append(transferSection(record, picture: try Data(contentsOf: URL(fileURLWithPath: matrixPath))))
        }
        sections.append(settingsSection(record))
        let html = page(title: "RobustPatch evaluation: \(record.patches.map(\.patch).joined(separator: ", "))", body: sections.joined(separator: "\n"))
        let path = (directory as NSString).appendingPathComponent("report.html")
        do { try AtomicFile.write(html, to: path) } catch { throw EvaluationError.write(path: path, reason: error.reason) }
        return [path] + written
    }

    // MARK: Pieces

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func dataURI(_ png: Data) -> String { "data:image/png;base64," + png.base64EncodedString() }

    static func pngData(_ image: Image) throws -> Data { try image.pngData() }

    static func interval(_ p: Proportion) -> String {
        let (lo, hi) = p.wilson()
        return "<b>\(percent(p.rate))</b> <span class=ci>[\(percent(lo, sign: false))–\(percent(hi, sign: false))]</span>"
    }

    static func bar(_ rate: Double) -> String {
        "<span class=bar><span style=\"width:\(Int((rate * 100).rounded()))%\"></span></span>"
    }

    static func patchSection(patch: PatchArtifact, result: PatchEvaluation, record: EvaluationRecord,
                             pictures: [(title: String, png: Data, caption: String)]) throws -> String {
        var h: [String] = []
        let goal = result.target.map { "target <b>\($0) \(escape(result.targetLabel ?? ""))</b>" } ?? "untargeted (success = the top-1 changes from the clean scene's)"
        h.append("<section><h2>Patch \(escape(result.patch))</h2>")
        h.append("<div class=patch><img alt=\"patch\" class=pixelated width=192 height=\(192 * patch.height / max(patch.width, 1)) src=\"\(dataURI(try pngData(patch.rgbaImage)))\">")
        h.append("<p>\(escape(result.source))<br>\(result.textureWidth)×\(result.textureHeight) texels, \(goal)</p></div>")
        h.append("<table><thead><tr><th>model</th><th>texture</th><th>\(result.target != nil ? "top-1 target" : "flip") [Wilson 95%]</th><th>top-5</th><th>\(result.target != nil ? "mean p(target)" : "mean p(clean)")</th><th>flip</th><th>n</th></tr></thead><tbody>")
        for m in result.models {
            for (k, t) in ([m.patch] + m.controls).enumerated() {
                h.append("<tr class=\"\(k == 0 ? "main" : "control")\"><td>\(k == 0 ? escape(m.model) : "")</td><td>\(k == 0 ? "patch" : "control: " + t.texture)</td><td>\(interval(t.success)) \(bar(t.success.rate))</td><td>\(t.targeted ? percent(t.top5.rate) : "–")</td><td>\(String(format: "%.3f", t.meanProbability))</td><td>\(percent(t.flip.rate))</td><td>\(t.top1.trials)</td></tr>")
            }
        }
        h.append("</tbody></table>")
        h.append("<p class=note>Controls use the patch's mask with uniform noise, mid-grey, or the patch's own texels shuffled, on the same samples: they separate the pattern's effect from plain occlusion.</p>")
        if let v = result.runValidation, let ci = result.runValidationInterval {
            let verdict = result.runDistributionDiffers == true ? "measured under its own distribution, not this one: not compared"
                : result.agreesWithRun.map { $0 ? "<span class=ok>agrees</span> (the 95% intervals overlap)" : "<span class=bad>disagrees</span> (the 95% intervals do not overlap)" } ?? "(its model was not evaluated)"
            h.append("<p>Generation run's own held-out validation: <b>\(percent(v.success))</b> <span class=ci>[\(percent(ci[0], sign: false))–\(percent(ci[1], sign: false))]</span> of \(v.samples) samples — \(verdict).</p>")
        }
        for m in result.models {
            if !m.worstBins.isEmpty {
                h.append("<p>Worst bins on \(escape(m.model)): " + m.worstBins.map { "\(escape($0.label)) \(percent($0.success.rate)) (n=\($0.success.trials))" }.joined(separator: "; ") + "</p>")
            }
        }
        if let m = result.models.first, !m.bins.isEmpty {
            h.append("<h3>Success by factor (\(escape(m.model)))</h3><table class=bins><thead><tr><th>factor</th><th>bin</th><th>success [95%]</th><th>n</th></tr></thead><tbody>")
            var last = ""
            for b in m.bins {
                let f = Factor(rawValue: b.factor)
                let range = f.map { "\($0.format(b.low)) … \($0.format(b.high))" } ?? "\(b.low) … \(b.high)"
                h.append("<tr\(b.factor != last ? " class=first" : "")><td>\(b.factor != last ? escape(b.factor) : "")</td><td>\(escape(range))</td><td>\(interval(b.success)) \(bar(b.success.rate))</td><td>\(b.success.trials)</td></tr>")
                last = b.factor
            }
            h.append("</tbody></table>")
            h.append("<h3>Success by scene (\(escape(m.model)))</h3><table><thead><tr><th>scene</th><th>success [95%]</th><th>n</th></tr></thead><tbody>")
            for s in m.scenes { h.append("<tr><td>\(escape(s.scene))</td><td>\(interval(s.success)) \(bar(s.success.rate))</td><td>\(s.success.trials)</td></tr>") }
            h.append("</tbody></table>")
        }
        for p in pictures {
            h.append("<figure><figcaption><b>\(escape(p.title))</b> — \(escape(p.caption))</figcaption><img alt=\"\(escape(p.title))\" src=\"\(dataURI(p.png))\"></figure>")
        }
        h.append("</section>")
        return h.joined(separator: "\n")
    }

    static func transferSection(_ record: EvaluationRecord, picture: Data? = nil) -> String {
        var h = ["<section><h2>Transfer</h2><p>Success of each patch (rows) on each model (columns): targeted top-1, or the flip rate for an untargeted patch.</p>"]
        if let picture { h.append("<figure><img alt=\"transfer matrix\" src=\"\(dataURI(picture))\"></figure>") }
        h.append("<table><thead><tr><th>patch</th>")
        for m in record.patches.first?.models ?? [] { h.append("<th>\(escape(m.model))</th>") }
        h.append("</tr></thead><tbody>")
        for p in record.patches {
            h.append("<tr><td>\(escape(p.patch))</td>" + p.models.map { "<td>\(interval($0.patch.success))</td>" }.joined() + "</tr>")
        }
        h.append("</tbody></table></section>")
        return h.joined(separator: "\n")
    }

    static func settingsSection(_ r: EvaluationRecord) -> String {
        let dist = (try? r.distribution.map { d -> String in
            let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: try e.encode(d), as: UTF8.self)
        }) ?? nil
        return """
        <section><h2>Settings</h2><ul>
        <li>\(r.samples) samples (\(escape(r.method)); stratified over \(escape(r.stratified.joined(separator: ", ")))), seed \(r.seed); scenes round-robin: \(escape(r.scenes.joined(separator: ", ")))</li>
        <li>controls: \(escape(r.controls.isEmpty ? "none" : r.controls.joined(separator: ", ")))</li>
        <li>\(r.forwardPasses) forward passes in \(String(format: "%.1f", r.elapsedSeconds)) s on \(r.threads) threads; \(escape(r.tool)) \(escape(r.version)), \(escape(r.created))</li>
        </ul>\(dist.map { "<details><summary>transform distribution</summary><pre>\(escape($0))</pre></details>" } ?? "")</section>
        """
    }

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}
        h1{font-size:22px}h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:16px}
        table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #eee}
        th{background:#f4f4f4}tr.main td{background:#f9fbff}tr.control td{color:#555}tr.first td{border-top:1px solid #ccc}
        .ci{color:#666;font-size:13px}.note{color:#555;font-size:13px}
        .bar{display:inline-block;width:80px;height:8px;background:#eee;margin-left:6px;vertical-align:middle}
        .bar span{display:block;height:8px;background:#2a7}
        .patch{display:flex;gap:16px;align-items:center}.pixelated{image-rendering:pixelated;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px}
        figure{margin:16px 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{margin-bottom:6px}
        .ok{color:#176b2c;font-weight:bold}.bad{color:#b00;font-weight:bold}pre{background:#f6f6f6;padding:8px;font-size:12px}
        </style></head><body>
        <h1>\(escape(title))</h1>
        \(body)
        <p id="self-check" class=note></p>
        <script>
        // Self-check for headless tests: counts images that failed to decode.
        window.addEventListener("load", function () {
          var broken = 0, imgs = document.images;
          for (var i = 0; i < imgs.length; i++) if (!imgs[i].complete || imgs[i].naturalWidth === 0) broken++;
          document.body.setAttribute("data-images", imgs.length);
          document.body.setAttribute("data-broken-images", broken);
          document.getElementById("self-check").textContent = imgs.length + " images, " + broken + " broken";
        });
        </script>
        </body></html>
        """
    }
}
