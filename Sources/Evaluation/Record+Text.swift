// The terminal summary of an evaluation: one short table per patch (patch and controls per
// model), the worst factor bins, the comparison with the generation run, and a transfer matrix
// when there are several patches. Plain text; the JSON record and the HTML report are elsewhere.
import Statistics
import Foundation

extension EvaluationRecord {
    public func textSummary(timing: Bool = true) -> String {
        var out: [String] = []
        let strat = stratified.isEmpty ? "no factor varies" : "stratified over \(stratified.joined(separator: ", "))"
        out.append("\(samples) samples (\(method), \(strat)), \(scenes.count) scenes, seed \(seed)")
        for p in patches {
            let goal = p.target.map { "target \($0) \(p.targetLabel ?? "")" } ?? "untargeted (success = top-1 changed from the clean scene)"
            out.append("")
            out.append("patch \(p.patch) (\(p.textureWidth)×\(p.textureHeight), \(goal))")
            let header = pad("model", 7) + pad("texture", 10) + pad(p.target != nil ? "top-1 target [95% CI]" : "flip [95% CI]", 24)
                + pad("top-5", 8) + pad(p.target != nil ? "p(target)" : "p(clean)", 11) + "flip"
            out.append("  " + header)
            for m in p.models {
                for (k, t) in ([m.patch] + m.controls).enumerated() {
                    let n = k == 0 ? "" : (m.controlSamples < samples ? " (n=\(m.controlSamples))" : "")
                    out.append("  " + pad(k == 0 ? m.model : "", 7) + pad(t.texture, 10) + pad(t.success.formatted + n, 24)
                               + pad(t.targeted ? percent(t.top5.rate) : "-", 8) + pad(String(format: "%.3f", t.meanProbability), 11)
                               + percent(t.flip.rate))
                }
                // Categories no sample fell in (a small --samples) say nothing: left out.
                let seen = m.categories.filter { $0.success.trials > 0 }
                if !seen.isEmpty {
                    out.append("  " + pad("", 7) + "by scene category: " + seen.map { "\($0.scene) \($0.success.formatted) (n=\($0.success.trials))" }.joined(separator: "; "))
                }
                if !m.worstBins.isEmpty {
                    out.append("  " + pad("", 7) + "worst bins: " + m.worstBins.map { "\($0.label) \(percent($0.success.rate)) (n=\($0.success.trials))" }.joined(separator: "; "))
                }
            }
            if let v = p.runValidation, let ci = p.runValidationInterval {
                let verdict = p.runDistributionDiffers == true ? "under its own distribution, not this one: not compared"
                    : p.agreesWithRun.map { $0 ? "agrees (95% intervals overlap)" : "DISAGREES (95% intervals do not overlap)" } ?? "(its model was not evaluated)"
                out.append("  generation run's held-out validation: \(percent(v.success)) [\(percent(ci[0], sign: false))–\(percent(ci[1], sign: false))] of \(v.samples) samples — \(verdict)")
            }
        }
        if patches.count > 1 {
            out.append("")
            out.append("transfer (success of each patch on each model):")
            let models = patches[0].models.map(\.model)
            out.append("  " + pad("patch", 20) + models.map { pad($0, 22) }.joined())
            for p in patches {
                out.append("  " + pad(p.patch, 20) + p.models.map { pad($0.patch.success.formatted, 22) }.joined())
            }
        }
        if timing {
            out.append("")
            out.append(String(format: "%d forward passes in %.1f s (%.0f images/s, %d threads)", forwardPasses, elapsedSeconds,
                              Double(forwardPasses) / max(elapsedSeconds, 1e-9), threads))
        }
        return out.joined(separator: "\n")
    }
}

func pad(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s + " " : s + String(repeating: " ", count: width - n)
}
