// Command-line options shared by several commands (@OptionGroup), each stated once with its
// default, and the translation of library errors into the flags a user typed.
import ArgumentParser
import Attack
import Foundation
import Networks
import Transforms

/// --model: one model or a comma-separated list.
struct ModelOption: ParsableArguments {
    @Option(help: "Model(s): lite0, lite1, lite2, mobilenet_v2, a .pth/.safetensors file or an .onnx file; comma-separated for several (generate: an ensemble, the losses averaged; evaluate: one row each, transfer). (default: the run's models, else lite0)")
    var model: String?

    @Option(name: .customLong("input-size"), help: "ONNX models: the input side in pixels (overrides MODEL.onnx.json's input_size).")
    var inputSize: Int?

    @Option(help: "ONNX models: per-channel mean of [0, 1] RGB pixels, 'r,g,b' (e.g. 0.485,0.456,0.406; overrides the sidecar).")
    var mean: String?

    @Option(help: "ONNX models: per-channel standard deviation, 'r,g,b' (e.g. 0.229,0.224,0.225; overrides the sidecar).")
    var std: String?

    @Option(help: "ONNX models: imagenet, or a text file with one class name per line (overrides the sidecar).")
    var labels: String?

    @Option(name: .customLong("crop-fraction"), help: "ONNX models: the centred crop of a photo's shorter side the model was trained on (torchvision's 256→224: 0.875; default 1, or the sidecar's crop_fraction).")
    var cropFraction: Double?

    /// The list as given (blanks dropped), or nil when --model was not given.
    var specs: [String]? {
        model.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    /// The ONNX preprocessing flags as given (empty when none was).
    func flags() throws -> ModelFlags {
        func triple(_ s: String?, _ name: String) throws -> [Double]? {
            guard let s else { return nil }
            let v = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 3, v.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw ValidationError("--\(name) needs three numbers 'r,g,b' for [0, 1] pixels, e.g. \(name == "mean" ? "0.485,0.456,0.406" : "0.229,0.224,0.225"); got '\(s)'")
            }
            return v.map { $0! }
        }
        return ModelFlags(inputSize: inputSize, mean: try triple(mean, "mean"), std: try triple(std, "std"), labels: labels, cropFraction: cropFraction)
    }
}

/// --scenes: a scene folder.
struct SceneOption: ParsableArguments {
    @Option(help: "Scene folder: with train/ and val/ subfolders (generate trains on train/ and validates on val/; evaluate and grid use val/), or any folder of PNG/JPEG photos (generate holds out every 4th). (default: the scene library, \(SceneLibrary.directory), installed by Scripts/fetch-scenes.sh; else \(SceneLibrary.bundledFolder); generate --resume: the run's)")
    var scenes: String?

    /// The folder given, else the scene library, else the bundled photos with a one-line notice
    /// on stderr saying why.
    func folder() -> String {
        if let scenes { return scenes }
        let (folder, notice) = SceneLibrary.defaultFolder()
        if let notice { FileHandle.standardError.write(Data("notice: \(notice)\n".utf8)) }
        return folder
    }

    /// The folder whose held-out scenes evaluate and grid use.
    func heldOutFolder() -> String { SceneSet.heldOutFolder(of: folder()) }
}

/// --preset / --distribution: the transform distribution.
struct DistributionOptions: ParsableArguments {
    @Option(help: "Transform distribution preset: \(TransformDistribution.presetNames.joined(separator: ", ")). (default: generate: physical; evaluate, grid: the run's distribution, else physical)")
    var preset: String?

    @Option(help: "Transform distribution JSON file (instead of --preset); any field of a preset.")
    var distribution: String?

    func validate() throws {
        if preset != nil && distribution != nil { throw ValidationError("give either --preset or --distribution, not both") }
    }

    /// The distribution asked for and its name for messages, or nil when neither option was given.
    func resolved() throws -> (name: String, value: TransformDistribution)? {
        if let file = distribution { return (file, try DistributionFile.read(file)) }
        if let name = preset { return (name, try TransformDistribution.preset(named: name)) }
        return nil
    }
}

/// --mask / --shape: the outline of a bare RGB patch PNG.
struct PatchOutlineOptions: ParsableArguments {
    @Option(help: "Mask PNG for an RGB patch PNG: its alpha if it has one, else white = patch (the rule for every mask).")
    var mask: String?

    @Option(help: "Outline for an RGB patch PNG instead of --mask: circle, square or rect:WxH.")
    var shape: String?
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

/// A problem found while running (a file that cannot be read or is invalid, a run's own scenes),
/// not in the command line's syntax: printed as one line "Error: …", exit status 1,
/// without the usage text that ValidationError (exit 64) adds.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension LossKind: ExpressibleByArgument {}

enum Flags {
    /// The generate flag of each library setting, for library errors that name a setting.
    static func name(of setting: GenerateSetting) -> String {
        switch setting {
        case .models: return "--model"
        case .steps: return "--steps"
        case .batch: return "--batch"
        case .textureSide: return "--texture"
        case .tvWeight: return "--tv"
        case .npsWeight: return "--nps"
        case .learningRate: return "--lr"
        case .loss: return "--loss"
        case .probabilityFloor: return "--floor"
        case .focalGamma: return "--gamma"
        case .target: return "--target"
        case .averageDecay: return "--average"
        case .pyramidLevels: return "--pyramid"
        case .validationSamples: return "--validation-samples"
        case .validateEvery: return "--validate-every"
        case .palettePath: return "--palette"
        case .paletteRGB: return "--calibration"
        case .shape: return "--shape"
        case .mesh: return "--mesh"
        case .finalLearningRateFraction, .marginKappa, .checkpointEvery, .periodicValidationSamples: return setting.rawValue
        }
    }

    /// A library error as the user should read it: settings named by their flags.
    static func translate(_ error: any Error) -> any Error {
        if case let AttackError.invalidSetting(setting, problem) = error {
            return CommandError("\(name(of: setting)) \(GenerateSetting.rename(problem, name(of:)))")
        }
        return error
    }
}
