// ModelZoo: where model files live and how `--model lite0|lite1|lite2|PATH` becomes a loaded
// network. Weights are fetched by Scripts/fetch-models.sh (never at run time) and pinned by SHA-256.
import Foundation
import Checkpoints

/// A model file the user asked for, resolved to a path and an input size.
public struct ModelReference: Sendable, Equatable {
    public var name: String
    public var path: String
    public var inputSize: Int?
    /// SHA-256 the file must have (known variants), nil for user files.
    public var expectedSHA256: String?
}

public enum ModelZoo {
    /// The bundled models: name, file in the cache folder, native input size, pinned SHA-256
    /// (the same pins as Scripts/models.tsv, which the fetch script reads).
    public static let variants: [(name: String, file: String, inputSize: Int, sha256: String)] = [
        ("lite0", "efficientnet-lite0.pth", 224, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        ("lite1", "efficientnet-lite1.pth", 240, "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
        ("lite2", "efficientnet-lite2.pth", 260, "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
        ("mobilenet_v2", "mobilenet_v2-b0353104.pth", 224, "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"),
    ]

    /// `$ROBUSTPATCH_MODELS`, else `~/.cache/robustpatch/models`.
    public static var cacheDirectory: String {
        if let d = ProcessInfo.processInfo.environment["ROBUSTPATCH_MODELS"], !d.isEmpty { return d }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/robustpatch/models").path
    }

    public static func resolve(_ spec: String) throws -> ModelReference {
        let key = spec.lowercased().replacingOccurrences(of: "efficientnet-", with: "").replacingOccurrences(of: "mobilenetv2", with: "mobilenet_v2")
        if let v = variants.first(where: { $0.name == key }) {
            let path = (cacheDirectory as NSString).appendingPathComponent(v.file)
            guard FileManager.default.fileExists(atPath: path) else { throw ModelError.modelNotFound(name: v.name, path: path) }
            return ModelReference(name: v.name, path: path, inputSize: v.inputSize, expectedSHA256: v.sha256)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory), !isDirectory.boolValue {
            return ModelReference(name: (spec as NSString).lastPathComponent, path: spec, inputSize: nil, expectedSHA256: nil)
        }
        if spec.contains("/") || spec.hasSuffix(".pth") || spec.hasSuffix(".safetensors") {
            throw ModelError.badInput("model file \(spec) does not exist (or is a folder). Give lite0, lite1, lite2, mobilenet_v2 or the path of a .pth/.safetensors file.")
        }
        throw ModelError.unknownModel(spec)
    }

    /// Loads and builds the network. Known variants are checked against their pinned SHA-256 and
    /// cached per process: an ensemble or a repeated call does not read the file twice.
    public static func load(_ spec: String) throws -> InvertedResidualNetwork {
        let ref = try resolve(spec)
        return try cache.withLock { models in
            if let m = models[ref.path] { return m }
            let m = try load(ref)
            models[ref.path] = m
            return m
        }
    }

    public static func load(_ ref: ModelReference) throws -> InvertedResidualNetwork {
        if let expected = ref.expectedSHA256 {
            let actual = try sha256Hex(ofFileAt: ref.path)
            guard actual == expected else {
                throw ModelError.badInput("\(ref.path): SHA-256 is \(actual), expected \(expected) for \(ref.name). The file is damaged or not the published one; delete it and run Scripts/fetch-models.sh \(ref.name).")
            }
        }
        if ref.path.lowercased().hasSuffix(".onnx") {
            // The commands load models through the ONNX module's ModelLoader, which takes .onnx files
            // itself; only a direct call of the zoo (robustpatch-bench --model) gets here.
            throw ModelError.badInput("\(ref.path): an ONNX model; the zoo builds \(variants.map(\.name).joined(separator: ", ")) and PyTorch state dicts (.pth/.safetensors). Load ONNX files with ModelLoader (robustpatch's --model does), or robustpatch-bench --onnx FILE.")
        }
        let checkpoint = try Checkpoint.load(path: ref.path)
        var weights: [String: WeightTensor] = [:]
        for (k, t) in checkpoint.tensors { weights[k] = WeightTensor(shape: t.shape, values: t.floats) }
        let size = ref.inputSize ?? inferInputSize(weights)
        return try InvertedResidualNetwork(name: ref.name, inputSize: size, source: ref.path, weights: weights)
    }

    /// SHA-256 of the model file (the pin for known variants, which `load` has verified).
    public static func sha256(of ref: ModelReference) throws -> String {
        if let s = ref.expectedSHA256 { return s }
        return try sha256Hex(ofFileAt: ref.path)
    }

    /// Native input size from the architecture: lite0 has 16 blocks; lite1 and lite2 have 21 and
    /// differ in width (stage 3 outputs 40 vs 48 channels); MobileNetV2 and unknown layouts: 224.
    static func inferInputSize(_ w: [String: WeightTensor]) -> Int {
        var blocks = 0
        while w["_blocks.\(blocks)._depthwise_conv.weight"] != nil { blocks += 1 }
        if blocks == 16 { return 224 }
        if blocks == 21, let p = w["_blocks.6._project_conv.weight"] { return p.shape.first == 48 ? 260 : 240 }
        return 224
    }

    private static let cache = LockedModels()
}

/// A lock-protected dictionary of loaded models (the models themselves are immutable values).
final class LockedModels: @unchecked Sendable {
    private var models: [String: InvertedResidualNetwork] = [:]
    private let lock = NSLock()
    func withLock<R>(_ body: (inout [String: InvertedResidualNetwork]) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&models)
    }
}
