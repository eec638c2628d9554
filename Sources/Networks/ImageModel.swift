// ImageModel: what the attack, the evaluation and `classify` need of a classifier — its input
// size and crop, its class count and names, and a runner that takes [0, 1] RGB images (N, S, S, 3)
// forward to logits and back to the input pixels. The native networks (InvertedResidualNetwork,
// run by ModelRunner) and ONNX files (the ONNX module's ONNXClassifier) both are one.
import Tensors

public protocol ImageModel: Sendable {
    /// Shown in tables and records ("lite0", a file name).
    var name: String { get }
    /// Side of the square input in pixels.
    var inputSize: Int { get }
    /// The centred square crop of a photo the model was trained on, as a fraction of its shorter
    /// side (1: the whole square; torchvision's resize-256-crop-224: 0.875).
    var cropFraction: Double { get }
    var classCount: Int { get }
    /// Its classes' names (ImageNet's 1000 for the bundled models).
    func classLabels() throws -> ClassLabels
    /// A runner with its own buffers (one per thread or per model slot).
    func makeRunner() -> any ModelRunning
}

/// Runs one model: a forward keeps what the next backward needs.
public protocol ModelRunning: AnyObject {
    /// The model's class count (the logits' width).
    var classCount: Int { get }
    /// logits (N, classes) for images (N, S, S, 3) in [0, 1].
    func forward(_ images: Tensor) -> Tensor
    /// Pointer form: writes logits (N, classes).
    func forward(_ x: UnsafePointer<Float>, n: Int, height: Int, width: Int, logits: UnsafeMutablePointer<Float>)
    /// d loss / d images through the last forward.
    func backward(_ dLogits: Tensor) -> Tensor
    /// The same, wanted only in `windows[i]` of image i (zero elsewhere); a runner may compute
    /// less outside them.
    func backward(_ dLogits: Tensor, windows: [ImageWindow]) -> Tensor
}

extension InvertedResidualNetwork: ImageModel {
    public func classLabels() throws -> ClassLabels { try ClassLabels.imageNet() }
    public func makeRunner() -> any ModelRunning { ModelRunner(model: self) }
}

extension ModelRunner: ModelRunning {
    public var classCount: Int { model.classCount }
}

/// An ONNX model's preprocessing: what its sidecar `MODEL.onnx.json` says and what the flags
/// `--input-size`, `--mean`, `--std`, `--labels`, `--crop-fraction` override (the ONNX module
/// reads, merges and checks them: `ModelSidecar`). Empty for the bundled models.
public struct ModelFlags: Sendable, Equatable, Codable {
    /// Side of the square input in pixels.
    public var inputSize: Int?
    /// Per-channel mean and standard deviation of [0, 1] RGB pixels: the model sees (x − mean) / std.
    public var mean: [Double]?
    public var std: [Double]?
    /// "imagenet", or the path of a text file with one class name per line.
    public var labels: String?
    /// The centred square crop of a photo the model was trained on, as a fraction of its shorter
    /// side (torchvision's resize-256-crop-224: 0.875); 1 when absent.
    public var cropFraction: Double?

    enum CodingKeys: String, CodingKey { case inputSize = "input_size", mean, std, labels, cropFraction = "crop_fraction" }

    public init(inputSize: Int? = nil, mean: [Double]? = nil, std: [Double]? = nil, labels: String? = nil, cropFraction: Double? = nil) {
        self.inputSize = inputSize; self.mean = mean; self.std = std; self.labels = labels; self.cropFraction = cropFraction
    }
    public var isEmpty: Bool { inputSize == nil && mean == nil && std == nil && labels == nil && cropFraction == nil }
}
