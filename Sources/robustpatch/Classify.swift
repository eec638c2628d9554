// `robustpatch classify`: what the model sees in any photo (e.g. of the printed patch).
import ArgumentParser
import Evaluation
import Foundation
import Imaging
import Networks
import ONNX

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify photos with a model (ImageNet's, or an ONNX file's own classes) and print the top classes.",
        discussion: """
        An image of the model's input size (224/240/260 px square for lite0/1/2) is used as is. \
        Any other image is resized so its shorter side equals the input size (triangle filter, \
        antialiased when shrinking), then centre-cropped to a square. Alpha is ignored.
        """)

    @Argument(help: "PNG or JPEG files.")
    var images: [String]

    @OptionGroup var models: ModelOption

    @Option(parsing: .unconditional, help: "How many classes to show per image.")
    var top = 5

    @Flag(help: "Print one JSON object per image and model (JSON Lines) with all its logits.")
    var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
        guard !modelSpecs.isEmpty else { throw ValidationError("--model: give at least one model (lite0, lite1, lite2, mobilenet_v2 or a weights file), got '\(models.model ?? "")'") }
    }

    /// The --model list, blanks dropped; lite0 when not given.
    var modelSpecs: [String] { models.specs ?? ["lite0"] }

    func run() throws {
        let flags = try models.flags()
        for spec in modelSpecs {
            let network = try ModelLoader.load(spec, flags: flags)
            let labels = try network.classLabels()
            let classifier = ImageClassifier(model: network)
            for path in images {
                let image = try Image.read(from: path)
                let result = classifier.classify(image)
                if json {
                    print(jsonLine(path: path, model: network.name, result: result, labels: labels))
                } else {
                    let side = Image.shorterSide(forCrop: network.inputSize, cropFraction: network.cropFraction)
                    let crop = side != network.inputSize ? "shorter side to \(side), centre crop" : "centre crop"
                    let note = result.resized ? " (resized from \(image.width)×\(image.height), \(crop))" : ""
                    print("\(path) — \(network.name) at \(network.inputSize)×\(network.inputSize)\(note)")
                    for idx in result.ranking.prefix(top) {
                        let p = result.probabilities[idx]
                        print(String(format: "  %6.2f%%  %4d  %@", Double(p) * 100, idx, labels[idx]))
                    }
                }
            }
        }
    }

    /// One JSON Lines record of `--json`.
    struct JSONLine: Encodable {
        struct Top: Encodable { var index: Int; var label: String; var probability: Double }
        var image: String, model: String, top: [Top], logits: [Double]
    }

    func jsonLine(path: String, model: String, result: ImageClassifier.Result, labels: ClassLabels) -> String {
        let top = result.ranking.prefix(top).map { JSONLine.Top(index: $0, label: labels[$0], probability: Double(result.probabilities[$0])) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONLine(image: path, model: model, top: top, logits: result.logits.map(Double.init)))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
