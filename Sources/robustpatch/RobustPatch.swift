// robustpatch: the command-line tool. Thin commands: parse options, build config values, call
// the library, print short results. Everything that computes lives in the library targets.
import ArgumentParser
import Foundation
import Transforms

@main
struct RobustPatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustpatch",
        abstract: "Physical-world adversarial patches with Expectation over Transformation (EOT).",
        discussion: """
        Models: lite0, lite1, lite2 (EfficientNet-Lite, fetched by Scripts/fetch-models.sh into \
        $ROBUSTPATCH_MODELS or ~/.cache/robustpatch/models) or the path of a .pth/.safetensors file.
        """,
        version: ToolInfo.version,
        subcommands: [Generate.self, Evaluate.self, Grid.self, Classify.self, CalibrationChart.self, Calibrate.self, PrintCommand.self])
}

/// A problem found while running (a file that cannot be read or is invalid, a run's own scenes),
/// not in the command line's syntax: printed as one line "Error: …", exit status 1,
/// without the usage text that ValidationError (exit 64) adds.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A transform distribution JSON file (--distribution of generate, evaluate and grid).
enum DistributionFile {
    static func read(_ file: String) throws -> TransformDistribution {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandError("cannot read the distribution file \(file): check the path (a JSON file of transform ranges; see the README's Presets)")
        }
        do { return try TransformDistribution.fromJSON(data) } catch { throw CommandError("\(file): \(error)") }
    }
}

enum ToolInfo {
    static let version = "0.1.0"
}
