// ImageClassifier: photo → model input (resize + centre crop) → probabilities. Used by `classify`.
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
        let rgb = image.rgb
        if rgb.width == size && rgb.height == size { return (rgb, false) }
        let scale = Double(size) / Double(min(rgb.width, rgb.height))
        let w = max(size, Int((Double(rgb.width) * scale).rounded())), h = max(size, Int((Double(rgb.height) * scale).rounded()))
        let r = rgb.resized(width: w, height: h)
        return (r.cropped(x: (w - size) / 2, y: (h - size) / 2, width: size, height: size), true)
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
