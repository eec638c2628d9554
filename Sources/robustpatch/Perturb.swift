// `robustpatch perturb`: a whole-image adversarial example (FGSM, PGD or EOT) of a photo at its
// own resolution. Flags → Runs' PerturbationRun; prints progress, the result and the files.
import ArgumentParser
import Attack
import Foundation
import Networks
import ONNX
import Runs
import Transforms

struct Perturb: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a whole-image adversarial example (an ε-bounded perturbation of a photo) with FGSM, PGD or EOT.",
        discussion: """
        The perturbation lives at the photo's own resolution and reaches the model through the \
        framing classify uses (shorter side to the input size, centre crop), so adversarial.png is \
        the full-size photo; its 8-bit pixels stay within ε of the original's in every channel. \
        --method eot optimises over rotation, zoom, translation, perspective, lighting, blur, noise \
        and JPEG (the 'wide' whole-image preset by default), so the example survives such edits; \
        check it with: robustpatch evaluate --image DIR.
        """)

    @Option(help: "The photo (PNG or JPEG).") var image: String
    @Option(help: "Target class (index or name) the model should see.") var target: String?
    @Flag(help: "Instead of a target: make the model's clean top-1 lose.") var untargeted = false
    @Option(parsing: .unconditional, help: "The bound: L-inf in 8-bit units (8 = 8/255), 1-255; L2: the norm of the perturbation in [0, 1] pixel units over the whole photo.")
    var epsilon: Double
    @Option(help: "linf or l2.") var norm: String = "linf"
    @Option(help: "fgsm, pgd or eot.") var method: String = "pgd"
    @Option(parsing: .unconditional, help: "Steps (default: fgsm 1, pgd 50, eot 300).") var steps: Int?
    @Option(name: .customLong("step-size"), parsing: .unconditional, help: "pgd: the step in units of epsilon (default 2.5 / steps).") var stepSize: Double?
    @Option(parsing: .unconditional, help: "eot: Adam's first learning rate in units of epsilon (cosine decay to a tenth; default 0.5).") var lr: Double?
    @Option(parsing: .unconditional, help: "eot: transformations per step and model.") var batch = 12
    @Option(help: "eot: whole-image preset: \(ImageTransformDistribution.presetNames.joined(separator: ", ")) (default: wide).") var preset: String?
    @Option(help: "eot: whole-image distribution JSON file (keys rotation, zoom, shift, perspective, brightness, contrast, colorCast, blurSigma, noiseSigma, jpegQuality, background; each {\"min\":…,\"max\":…}).")
    var distribution: String?
    @Flag(name: .customLong("random-start"), help: "pgd: start from a random point of the ε-ball.") var randomStart = false
    @Option(parsing: .unconditional, help: "Seed of EOT's samples and PGD's random start.") var seed: UInt64 = 0
    @OptionGroup var models: ModelOption
    @Option(help: "Output folder (adversarial.png, perturbation.png, panel.png, curve.csv, run.json).") var out: String

    func validate() throws {
        guard (target != nil) != untargeted else {
            throw ValidationError(untargeted ? "give either --target CLASS or --untargeted, not both" : "give --target CLASS (index or name) or --untargeted")
        }
        guard PerturbMethod(rawValue: method.lowercased()) != nil else { throw ValidationError("--method must be fgsm, pgd or eot, got '\(method)'") }
        guard PerturbNorm(rawValue: norm.lowercased().replacingOccurrences(of: "-", with: "")) != nil else { throw ValidationError("--norm must be linf or l2, got '\(norm)'") }
        let m = PerturbMethod(rawValue: method.lowercased())!
        if m != .eot && (preset != nil || distribution != nil) { throw ValidationError("--preset and --distribution are for --method eot") }
        if preset != nil && distribution != nil { throw ValidationError("give either --preset or --distribution, not both") }
        if m == .fgsm, let s = steps, s != 1 { throw ValidationError("fgsm takes one step; drop --steps or use --method pgd") }
    }

    func run() throws {
        let specs = models.specs ?? ["lite0"]
        guard !specs.isEmpty else { throw ValidationError("--model: give at least one model") }
        let flags = try models.flags()
        let labels = try ModelLoader.labels(specs[0], flags: flags)
        var settings = PerturbSettings(method: PerturbMethod(rawValue: method.lowercased())!,
                                       norm: PerturbNorm(rawValue: norm.lowercased().replacingOccurrences(of: "-", with: ""))!,
                                       epsilon: epsilon, target: try target.map { try labels.index(of: $0) }, steps: steps)
        settings.stepSize = stepSize; settings.learningRate = lr; settings.batch = batch
        settings.seed = seed; settings.randomStart = randomStart
        if let file = distribution {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandError("cannot read the distribution file \(file): check the path (a JSON file of whole-image transform ranges)")
            }
            do { settings.distribution = try ImageTransformDistribution.fromJSON(data) } catch { throw CommandError("\(file): \(error)") }
        } else if let name = preset {
            do { settings.distribution = try ImageTransformDistribution.preset(named: name) } catch { throw CommandError("--preset: \(error)") }
        }
        do { try settings.validate() } catch { throw CommandError("\(error)") }
        var request = PerturbationRun.Request(image: image, settings: settings, directory: out)
        request.models = specs; request.modelFlags = flags
        Interrupt.install()
        var lastPrint = Date.distantPast
        let result = try PerturbationRun(request: request, toolVersion: ToolInfo.version).run(events: { event in
            switch event {
            case let .started(w, h, ww, wh, names, clean, n):
                let goal = settings.target.map { "target \($0) \(labels[$0])" } ?? "untargeted (away from \(clean))"
                print("perturb: \(image) (\(w)×\(h)), \(settings.method.rawValue) \(settings.norm.rawValue) ε = \(Self.format(settings)), \(goal), on \(names.joined(separator: ", ")), \(n) step\(n == 1 ? "" : "s")")
                if ww != w || wh != h { print("  EOT works on a \(ww)×\(wh) copy (the model sees \(names.count == 1 ? "" : "at most ")its input size); δ is upsampled to \(w)×\(h) at the end, within the bound") }
            case let .step(m, n, left):
                if n > 1 && (Date().timeIntervalSince(lastPrint) > 2 || m.step == n) {
                    lastPrint = Date()
                    let what = settings.target == nil ? "p(clean)" : "p(target)"
                    print(String(format: "  step %4d/%d  loss %.3f  %@ %.3f  won %3.0f%%  ETA %.0f s", m.step, n, m.loss, what, m.probability, m.success * 100, left))
                }
            }
        }, shouldStop: { Interrupt.requested })
        let r = result.record
        if r.interrupted { print("interrupted after \(r.stepsDone) of \(r.settings.steps) steps: wrote the perturbation reached so far (run.json says so)") }
        for (c, a) in zip(r.clean, r.adversarial) {
            let t = r.target.map { t in a.targetProbability.map { String(format: "; p(%@) %.4f", t.label ?? "\(t.index)", $0) } ?? "" } ?? ""
            print(String(format: "  %@: clean %@ %.1f%% → adversarial %@ %.1f%%%@", c.model, c.entries[0].label, c.entries[0].probability * 100,
                         a.entries[0].label, a.entries[0].probability * 100, t))
        }
        print(String(format: "  bound: max |change| %d/255, L2 %.3f; %.1f s", r.maxAbsoluteChange, r.l2Norm, r.elapsedSeconds))
        print("wrote " + result.written.joined(separator: "\n      "))
        print("check it: robustpatch evaluate --image \(out)")
    }

    static func format(_ s: PerturbSettings) -> String {
        s.norm == .linf ? String(format: "%g/255", s.epsilon) : String(format: "%g", s.epsilon)
    }
}
