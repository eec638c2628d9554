// `robustpatch classify`: what the model sees in any photo (e.g. of the printed patch).
import ArgumentParser
import Foundation
import Imaging
import Networks

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify photos with an ImageNet model and print the top classes.",
        discussion: """
        An image of the model's input size (224/240/260 px square for lite0/1/2) is used as is. \
        Any other image is resized so its shorter side equals the input size (triangle filter, \
        antialiased when shrinking), then centre-cropped to a square. Alpha is ignored.
        """)

    @Argument(help: "PNG or JPEG files.")
    var images: [String]

    @Option(help: "lite0, lite1, lite2, a comma-separated list of them, or a .pth/.safetensors path.")
    var model = "lite0"

    @Option(parsing: .unconditional, help: "How many classes to show per image.")
    var top = 5

    @Flag(help: "Print one JSON object per image and model (JSON Lines) with all 1000 logits.")
    var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        guard (1...1000).contains(top) else { throw ValidationError("--top must be between 1 and 1000, got \(top)") }
        guard !modelSpecs.isEmpty else { throw ValidationError("--model: give at least one model (lite0, lite1, lite2 or a weights file), got '\(model)'") }
    }

    /// The --model list, blanks dropped.
    var modelSpecs: [String] {
        model.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        let labels = try ClassLabels.imageNet()
        for spec in modelSpecs {
            let network = try ModelZoo.load(spec)
            let classifier = ImageClassifier(model: network)
            for path in images {
                let image = try Image.read(from: path)
                let result = classifier.classify(image)
                if json {
                    print(jsonLine(path: path, model: network.name, result: result, labels: labels))
                } else {
                    let note = result.resized ? " (resized from \(image.width)×\(image.height), centre crop)" : ""
                    print("\(path) — \(network.name) at \(network.inputSize)×\(network.inputSize)\(note)")
                    for idx in result.ranking.prefix(top) {
                        let p = result.probabilities[idx]
                        print(String(format: "  %6.2f%%  %4d  %@", Double(p) * 100, idx, labels[idx]))
                    }
                }
            }
        }
    }

    func jsonLine(path: String, model: String, result: ImageClassifier.Result, labels: ClassLabels) -> String {
        let topItems = result.ranking.prefix(top).map { i -> [String: Any] in
            ["index": i, "label": labels[i], "probability": Double(result.probabilities[i])]
        }
        let object: [String: Any] = ["image": path, "model": model, "top": topItems, "logits": result.logits.map(Double.init)]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
