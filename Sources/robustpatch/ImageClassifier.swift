// ImageClassifier: photo → model input (resize + centre crop) → probabilities. Used by `classify`.
import Attack
import Imaging
import Networks

struct ImageClassifier {
    let model: EfficientNetLite
    let runner: ModelRunner

    init(model: EfficientNetLite) {
        self.model = model
        runner = ModelRunner(model: model)
    }

    struct Result {
        var logits: [Float]
        var probabilities: [Float]
        /// Class indices by descending probability.
        var ranking: [Int]
        var resized: Bool
    }

    /// Shorter side to the input size (Image.resized: triangle filter), then a centred square crop.
    static func modelInput(_ image: Image, size: Int) -> (Image, resized: Bool) {
        (image.centerSquare(size: size), !(image.width == size && image.height == size))
    }

    func classify(_ image: Image) -> Result {
        let (input, resized) = Self.modelInput(image, size: model.inputSize)
        let x = Tensor(shape: [1, model.inputSize, model.inputSize, 3], values: input.pixels)
        let logits = runner.forward(x)
        let p = Softmax.forward(logits).array
        let ranking = p.indices.sorted { p[$0] > p[$1] }
        return Result(logits: logits.array, probabilities: p, ranking: ranking, resized: resized)
    }
}
