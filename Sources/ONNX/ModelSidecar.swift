// What an ONNX file does not say about its model: the input size, the per-channel normalisation
// of [0, 1] RGB pixels and the class names. Read from `MODEL.onnx.json` beside the file
// ({"input_size": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
// "labels": "imagenet"}), each field overridable by a command-line flag.
import Foundation
import Networks

/// The sidecar's fields are ModelFlags' (the flags override them field by field).
public typealias ModelSidecar = ModelFlags

extension ModelFlags {
    /// Largest sidecar read (it is a few lines).
    static let maxBytes = 64 * 1024

    /// The sidecar of `modelPath` (`modelPath + ".json"`), nil when there is none.
    public static func read(forModel modelPath: String) throws(ONNXError) -> ModelSidecar? {
        let path = modelPath + ".json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { throw .unreadable(path: path, reason: "cannot read it") }
        guard data.count <= maxBytes else { throw .tooLarge(path: path, what: "the sidecar", size: "\(data.count) bytes", limit: "\(maxBytes) bytes") }
        do {
            var s = try JSONDecoder().decode(ModelSidecar.self, from: data)
            if let l = s.labels, l != "imagenet", !l.hasPrefix("/") {
                s.labels = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(l).path
            }
            return s
        } catch {
            throw .graph(path: path, reason: "not a model sidecar: give {\"input_size\": 224, \"mean\": [r, g, b], \"std\": [r, g, b], \"labels\": \"imagenet\" or a file of class names} (\(untrusted(String(describing: error))))")
        }
    }

    /// `self` with every field `flags` sets replacing it.
    public func overridden(by flags: ModelSidecar) -> ModelSidecar {
        ModelSidecar(inputSize: flags.inputSize ?? inputSize, mean: flags.mean ?? mean, std: flags.std ?? std, labels: flags.labels ?? labels,
                     cropFraction: flags.cropFraction ?? cropFraction)
    }

    /// The complete, checked preprocessing, or an error saying what is missing or wrong and where
    /// to give it (`model` names the model file).
    public func resolved(model: String) throws(ONNXError) -> (inputSize: Int, mean: SIMD3<Float>, std: SIMD3<Float>, labels: String, cropFraction: Double) {
        var missing: [String] = []
        if inputSize == nil { missing.append("input_size (--input-size)") }
        if mean == nil { missing.append("mean (--mean)") }
        if std == nil { missing.append("std (--std)") }
        if labels == nil { missing.append("labels (--labels)") }
        guard missing.isEmpty, let size = inputSize, let mean, let std, let labels else {
            throw .graph(path: model, reason: "its preprocessing is not known: missing \(missing.joined(separator: ", ")). Put them in \((model as NSString).lastPathComponent).json beside it, e.g. {\"input_size\": 224, \"mean\": [0.485, 0.456, 0.406], \"std\": [0.229, 0.224, 0.225], \"labels\": \"imagenet\"}, or give the flags")
        }
        guard (16...2048).contains(size) else { throw .graph(path: model, reason: "input_size \(size) is outside 16–2048 pixels") }
        guard mean.count == 3, std.count == 3, mean.allSatisfy({ $0.isFinite && abs($0) <= 1000 }),
              std.allSatisfy({ $0.isFinite && $0 > 1e-6 && $0 <= 1000 }) else {
            throw .graph(path: model, reason: "mean and std must be three finite numbers each (RGB, for pixels in [0, 1]) with every std > 0; got mean \(mean), std \(std)")
        }
        let crop = cropFraction ?? 1
        guard crop.isFinite, crop >= 0.1, crop <= 1 else { throw .graph(path: model, reason: "crop_fraction \(crop) is outside 0.1–1 (the share of a photo's shorter side the model sees)") }
        return (size, SIMD3(Float(mean[0]), Float(mean[1]), Float(mean[2])), SIMD3(Float(std[0]), Float(std[1]), Float(std[2])), labels, crop)
    }
}
