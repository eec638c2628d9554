// `robustpatch linear-demo`: trains softmax regression on scikit-learn's 8×8 digits and shows
// that FGSM fools a linear model too, with the perturbation the sign of a weight difference.
// Thin: options → LinearModelDemo.Settings → LinearModel library; prints a table and the files.
import ArgumentParser
import Foundation
import LinearModel

struct LinearDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear-demo",
        abstract: "Show that a linear model is fooled too: FGSM on softmax regression over 8x8 digits.",
        discussion: """
        Trains softmax regression (10x64 weights + bias) on scikit-learn's 8x8 digits \
        (Scripts/fetch-digits.sh fetches them), attacks the held-out digits with FGSM, \
        x + eps*sign(grad_x loss), for each eps, and writes into --out: weights.png (the ten \
        weight templates), examples.png (clean | step | sign of a weight difference | adversarial), \
        error_vs_epsilon.png (test error against eps, with a random-sign control), their CSV/JSON \
        data and run.json. eps is in units of the pixel range [0, 1] (0.1 = 1.6 of 16 grey levels).
        """)

    @Option(help: "Output folder (created if needed).")
    var out: String

    @Option(help: "Seed of the train/test split (and of the random-sign control).")
    var seed: UInt64 = 0

    @Option(help: "The digits CSV (64 pixel values 0..16 and the digit per line). (default: \(DigitsDataset.defaultPath), installed by Scripts/fetch-digits.sh)")
    var data: String?

    @Option(help: "Comma-separated eps values in [0, 1] for the error table. (default: 0,0.05,...,0.5)")
    var epsilons: String?

    @Option(name: .customLong("example-epsilon"), help: "eps of examples.png, in [0, 1].")
    var exampleEpsilon: Double = 0.2

    func validate() throws {
        _ = try parsedEpsilons()
        guard exampleEpsilon.isFinite, (0...1).contains(exampleEpsilon) else {
            throw ValidationError("--example-epsilon must be in [0, 1] (units of the pixel range), got \(exampleEpsilon)")
        }
    }

    func parsedEpsilons() throws -> [Double] {
        guard let epsilons else { return LinearModelDemo.Settings.defaultEpsilons }
        let fields = epsilons.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Double] = []
        for f in fields {
            guard let v = Double(f), v.isFinite, (0...1).contains(v) else {
                throw ValidationError("--epsilons takes comma-separated numbers in [0, 1], e.g. 0,0.05,0.1; '\(f)' is not one")
            }
            values.append(v)
        }
        guard values.count <= 100 else { throw ValidationError("--epsilons: at most 100 values, got \(values.count)") }
        return values
    }

    func run() throws {
        var settings = LinearModelDemo.Settings()
        settings.seed = seed
        settings.epsilons = try parsedEpsilons()
        settings.exampleEpsilon = exampleEpsilon
        let demo = try LinearModelDemo.run(dataPath: data ?? DigitsDataset.defaultPath, settings: settings)
        let files = try demo.write(to: out, toolVersion: ToolInfo.version)
        print("Softmax regression on \(demo.trainCount) digits (seed \(seed)): train accuracy \(pct(demo.trainAccuracy)), "
            + "test accuracy \(pct(demo.testAccuracy)) on \(demo.testCount)")
        print("  eps   FGSM error   random-sign error")
        for r in demo.rows {
            print("  " + String(format: "%.2f", r.epsilon) + pad(pct(r.fgsmError), 11) + pad(pct(r.randomSignError), 20))
        }
        print(String(format: "sign(grad) = sign(w_runner-up - w_true) on %.1f of 64 pixels (mean over the test digits)", demo.meanSignAgreement))
        print("Wrote:")
        for f in files { print("  \(f)") }
    }

    private func pct(_ p: Double) -> String { String(format: "%.1f%%", p * 100) }
    private func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(width - s.count, 1)) + s }
}
