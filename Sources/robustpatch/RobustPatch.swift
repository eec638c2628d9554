// robustpatch: the command-line tool. Thin commands: parse options, build config values, call
// the library, print short results. Everything that computes lives in the library targets.
import ArgumentParser
import Foundation

@main
struct RobustPatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustpatch",
        abstract: "Physical-world adversarial patches with Expectation over Transformation (EOT).",
        discussion: """
        Models: lite0, lite1, lite2 (EfficientNet-Lite), mobilenet_v2 (torchvision's ImageNet \
        weights), fetched by Scripts/fetch-models.sh into $ROBUSTPATCH_MODELS or \
        ~/.cache/robustpatch/models, or the path of a .pth/.safetensors file of either family.
        """,
        version: ToolInfo.version,
        subcommands: [Generate.self, Evaluate.self, Grid.self, Classify.self, Perturb.self, Sweep.self, DecisionMapCommand.self, CalibrationChart.self, Calibrate.self, PrintCommand.self, LinearDemo.self])

    /// ArgumentParser's main, with library errors put in the terms of the command line.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: Flags.translate(error))
        }
    }
}

enum ToolInfo {
    static let version = "0.1.0"
}
