// What `generate` prints while it runs: the run's summary, a step line at most every 2 s (and on
// every validation and the last step) with the ETA, and the result with the files written.
import Attack
import Foundation
import Networks
import ONNX
import Runs
import Statistics

final class GenerateProgressPrinter {
    /// Step lines come at most this often (seconds), so a fast run does not flood the terminal.
    static let stepLineInterval = 2.0
    private var lastPrint = Date.distantPast

    func handle(_ event: GenerationRun.Event) {
        switch event {
        case let .resumed(checkpoint, step, steps):
            print("resuming \(checkpoint) at step \(step)/\(steps)")
        case let .started(s):
            let c = s.config
            let goal = c.target.map { "target \($0) \((try? ModelLoader.labels(c.models[0], flags: c.modelFlags ?? ModelFlags()))?[$0] ?? "")" } ?? "untargeted"
            print("generate: \(goal), \(c.mesh.map { "\($0), texture" } ?? "\(c.shape) patch") \(s.textureWidth)×\(s.textureHeight), models \(s.modelNames.joined(separator: "+")), "
                  + "\(c.presetName ?? "custom") distribution, \(s.trainingScenes) training / \(s.validationScenes) held-out scenes, batch \(c.batch), seed \(c.seed)")
        case let .step(p):
            let now = Date()
            guard now.timeIntervalSince(lastPrint) >= Self.stepLineInterval || p.validation != nil || p.isLast else { return }
            let note = p.validation.map { "  held-out \($0.proportion.formatted) of \($0.samples)" } ?? ""
            print(String(format: "step %5d/%d  loss %7.4f  batch success %3.0f%%  %.2f s/step  ETA %@%@", p.step, p.steps, p.metrics.loss,
                         p.metrics.batchSuccess * 100, p.secondsPerStep, formatDuration(p.secondsLeft), note))
            fflush(nil)
            lastPrint = now
        case let .earlyStop(rate):
            print("held-out success reached \(Int(rate * 100))% (the lower end of its 95% interval): stopping early")
        }
    }

    func finish(_ r: GenerationRun.Result) {
        let untargeted = r.record.target == nil
        print(String(format: "held-out validation: %@ %@ (%d samples, %d scenes), %@ %.3f", r.final.proportion.formatted,
                     untargeted ? "untargeted flips of the clean top-1" : "targeted top-1", r.final.samples, r.validationScenes,
                     untargeted ? "mean clean-class probability" : "mean target probability", r.final.meanTargetProbability))
        if let l = r.lastIterate {
            print(String(format: "  (patch = texture averaged with decay %g; the last optimized texture: %.1f%% on the same samples)",
                         r.record.config.averageDecay ?? 0, l.success * 100))
        }
        print("wrote " + r.written.joined(separator: "\n      "))
    }
}

func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : t >= 60 ? String(format: "%dm%02ds", t / 60, t % 60) : "\(t)s"
}
