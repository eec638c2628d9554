// ImageClassifier: photo → model input (resize + centre crop) → probabilities. Used by `classify`.
import Imaging
import Networks

public struct ImageClassifier {
    public let model: EfficientNetLite
    let runner: ModelRunner

    public init(model: EfficientNetLite) {
        self.model = model
        runner = ModelRunner(model: model)
    }

    public struct Result: Sendable {
        public var logits: [Float]
        public var probabilities: [Float]
        /// Class indices by descending probability.
        public var ranking: [Int]
        public var resized: Bool
    }

    /// Shorter side to the input size (Image.resized: triangle filter), then a centred square crop.
    public static func modelInput(_ image: Image, size: Int) -> (Image, resized: Bool) {
        (image.centerSquare(size: size), !(image.width == size && image.height == size))
    }

    public func classify(_ image: Image) -> Result {
        let (input, resized) = Self.modelInput(image, size: model.inputSize)
        let x = Tensor(shape: [1, model.inputSize, model.inputSize, 3], values: input.pixels)
        let logits = runner.forward(x)
        let p = Softmax.forward(logits).array
        let ranking = p.indices.sorted { p[$0] > p[$1] }
        return Result(logits: logits.array, probabilities: p, ranking: ranking, resized: resized)
    }
}
