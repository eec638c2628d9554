// ImageClassifier: photo → model input (resize + centre crop) → probabilities. Used by `classify`.
import Imaging
import Networks

public struct ImageClassifier {
    public let model: any ImageModel
    let runner: any ModelRunning

    public init(model: any ImageModel) {
        self.model = model
        runner = model.makeRunner()
    }

    public struct Result: Sendable {
        public var logits: [Float]
        public var probabilities: [Float]
        /// Class indices by descending probability.
        public var ranking: [Int]
        public var resized: Bool
    }

    /// Shorter side to the input size (Image.resized: triangle filter), or to size / cropFraction
    /// for models trained on a centre crop (MobileNetV2: 256 for 224), then a centred square crop.
    /// An image of exactly the input size is taken as it is.
    public static func modelInput(_ image: Image, size: Int, cropFraction: Double = 1) -> (Image, resized: Bool) {
        (image.centerSquare(size: size, cropFraction: cropFraction), !(image.width == size && image.height == size))
    }

    public func classify(_ image: Image) -> Result {
        let (input, resized) = Self.modelInput(image, size: model.inputSize, cropFraction: model.cropFraction)
        let x = Tensor(shape: [1, model.inputSize, model.inputSize, 3], values: input.pixels)
        let logits = runner.forward(x)
        let p = Softmax.forward(logits).array
        let ranking = p.indices.sorted { p[$0] > p[$1] }
        return Result(logits: logits.array, probabilities: p, ranking: ranking, resized: resized)
    }
}
