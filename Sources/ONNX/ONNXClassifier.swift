// ONNXClassifier: an .onnx file with its preprocessing (sidecar `MODEL.onnx.json`, overridden by
// flags) as an ImageModel: [0, 1] RGB in, the per-channel normalisation, the mapped graph, logits
// out, and the backward to the pixels. ModelLoader: `--model` for every command — .onnx files
// here, everything else from the ModelZoo.
import Foundation
import Networks
import Tensors

public struct ONNXClassifier: ImageModel {
    public let name: String
    public let path: String
    public let network: ONNXNetwork
    public let normalization: AffineNormalization
    /// "imagenet" or the path of the class-name file.
    public let labels: String
    public var inputSize: Int { network.inputSize }
    public let cropFraction: Double
    public var classCount: Int { network.classCount }

    /// Loads `path` with its sidecar overridden by `flags`; every refusal names the file.
    public init(path: String, flags: ModelFlags = ModelFlags()) throws(ONNXError) {
        let model = try ONNXModel.load(path: path)
        let p = try (ModelSidecar.read(forModel: path) ?? ModelSidecar()).overridden(by: flags).resolved(model: path)
        network = try ONNXNetwork(model, inputSize: p.inputSize)
        normalization = AffineNormalization(mean: p.mean, std: p.std)
        labels = p.labels
        cropFraction = p.cropFraction
        self.path = path
        name = (path as NSString).lastPathComponent
        // The class names must be readable and as many as the model's outputs.
        let names = try Self.readLabels(labels, model: path)
        guard names.names.count == network.classCount else {
            throw .graph(path: path, reason: "it has \(network.classCount) classes but its labels (\(labels == "imagenet" ? "imagenet" : untrusted(labels))) name \(names.names.count); give --labels a file with one class name per line")
        }
    }

    public func classLabels() throws -> ClassLabels { try Self.readLabels(labels, model: path) }

    /// Largest labels file read.
    static let maxLabelBytes = 4 << 20

    static func readLabels(_ labels: String, model: String) throws(ONNXError) -> ClassLabels {
        if labels.lowercased() == "imagenet" {
            do { return try ClassLabels.imageNet() } catch { throw .graph(path: model, reason: "the bundled ImageNet labels are missing (a damaged install)") }
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: labels)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue, (attributes?[.type] as? FileAttributeType) == .typeRegular else {
            throw .unreadable(path: labels, reason: "no such labels file (for \((model as NSString).lastPathComponent)); give a text file with one class name per line, or imagenet")
        }
        guard size <= maxLabelBytes else { throw .tooLarge(path: labels, what: "the labels file", size: "\(size) bytes", limit: "\(maxLabelBytes) bytes") }
        guard let data = FileManager.default.contents(atPath: labels), let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path: labels, reason: "not UTF-8 text; give one class name per line")
        }
        let names = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let trimmed = Array(names.reversed().drop { $0.isEmpty }.reversed())
        guard !trimmed.isEmpty, trimmed.allSatisfy({ !$0.isEmpty }) else {
            throw .unreadable(path: labels, reason: "it needs one class name on every line (no blank lines between names)")
        }
        return ClassLabels(names: trimmed.map { untrusted($0) })
    }

    public func makeRunner() -> any ModelRunning { ONNXRunner(self) }
}

/// Runs an ONNXClassifier; keeps the last forward's tape for the backward.
public final class ONNXRunner: ModelRunning {
    let model: ONNXClassifier
    private var tape: ONNXNetwork.Tape?
    /// One per part of a batch: the convolutions' scratch, kept from step to step.
    private let workspaces = (0..<Parallel.threadCount).map { _ in Workspace() }

    init(_ model: ONNXClassifier) { self.model = model }
    public var classCount: Int { model.classCount }

    public func forward(_ images: Tensor) -> Tensor {
        let n = images.shape[0], s = model.inputSize
        precondition(images.shape == [n, s, s, 3], "ONNXRunner: images must be (N, \(s), \(s), 3), got \(images.shape)")
        let x = Tensor(uninitialized: images.shape)
        model.normalization.forward(images.unsafePointer, into: x.unsafePointer, count: images.count)
        let t = model.network.record(x, workspaces: workspaces)
        tape = t
        return t.logits
    }

    public func forward(_ x: UnsafePointer<Float>, n: Int, height: Int, width: Int, logits: UnsafeMutablePointer<Float>) {
        let images = Tensor(uninitialized: [n, height, width, 3])
        images.unsafePointer.update(from: x, count: images.count)
        let y = forward(images)
        logits.update(from: y.unsafePointer, count: y.count)
    }

    public func backward(_ dLogits: Tensor) -> Tensor {
        guard let tape else { preconditionFailure("ONNXRunner.backward needs a forward first") }
        let d = model.network.backward(dLogits, tape: tape, workspaces: workspaces)
        let dx = Tensor(uninitialized: d.shape)
        model.normalization.backward(dy: d.unsafePointer, into: dx.unsafePointer, count: d.count)
        return dx
    }

    /// The whole gradient, zeroed outside each image's window (the contract of ModelRunning).
    public func backward(_ dLogits: Tensor, windows: [ImageWindow]) -> Tensor {
        let dx = backward(dLogits)
        let s = model.inputSize, p = dx.unsafePointer
        precondition(windows.count == dx.shape[0], "ONNXRunner.backward: \(windows.count) windows for a batch of \(dx.shape[0])")
        for (i, w) in windows.enumerated() {
            for y in 0..<s {
                let row = p + (i * s + y) * s * 3
                if !w.rows.contains(y) { row.update(repeating: 0, count: s * 3); continue }
                row.update(repeating: 0, count: max(0, min(w.columns.lowerBound, s)) * 3)
                if w.columns.upperBound < s { (row + w.columns.upperBound * 3).update(repeating: 0, count: (s - w.columns.upperBound) * 3) }
            }
        }
        return dx
    }
}

/// `--model` for every command: an .onnx file (with its sidecar and `flags`), else the model zoo
/// (lite0, lite1, lite2, mobilenet_v2, or a PyTorch state dict).
public enum ModelLoader {
    public static func isONNX(_ spec: String) -> Bool { spec.lowercased().hasSuffix(".onnx") }

    public static func load(_ spec: String, flags: ModelFlags = ModelFlags()) throws -> any ImageModel {
        if isONNX(spec) {
            guard FileManager.default.fileExists(atPath: spec) else {
                throw ONNXError.unreadable(path: spec, reason: "no such file")
            }
            return try ONNXClassifier(path: spec, flags: flags)
        }
        if !flags.isEmpty {
            throw ModelError.badInput("--input-size, --mean, --std and --labels are for ONNX models; \(spec) brings its own preprocessing and labels")
        }
        return try ModelZoo.load(spec)
    }

    /// The class names `--target` refers to: the first model's (ImageNet for the bundled ones),
    /// read without loading the model's weights.
    public static func labels(_ spec: String, flags: ModelFlags = ModelFlags()) throws -> ClassLabels {
        guard isONNX(spec) else { return try ClassLabels.imageNet() }
        let sidecar = (try ModelSidecar.read(forModel: spec) ?? ModelSidecar()).overridden(by: flags)
        guard let labels = sidecar.labels else {
            throw ONNXError.graph(path: spec, reason: "its class names are not known: give --labels imagenet or a file with one name per line (or \"labels\" in \((spec as NSString).lastPathComponent).json)")
        }
        return try ONNXClassifier.readLabels(labels, model: spec)
    }
}
