// MobileNetV2 (torchvision's ImageNet weights, the zoo's `mobilenet_v2`) against PyTorch: logits
// and the input gradient of cross-entropy on a real photo, and top-5 of every bundled photo
// through `classify`'s own preprocessing, from golden values made by
// Scripts/make_golden_mobilenet.py (torchvision 0.14's MobileNetV2 in plain torch 1.13). Needs the
// weights: Scripts/fetch-models.sh mobilenet_v2 (CI's setup runs it).
import Foundation
import Imaging
import Networks
import Testing

@Suite("MobileNetV2 vs PyTorch golden values", .serialized)
struct MobileNetV2Tests {
    struct GoldenRecord: Decodable {
        struct CE: Decodable { var loss: Double; var gradient_file: String }
        var input: String
        var size: Int
        var logits: [Float]
        var top5: [Int]
        var ce859: CE
        var samples_top5: [String: [Int]]
    }

    static func golden() throws -> GoldenRecord { try Golden.json("golden_mobilenet_v2.json", as: GoldenRecord.self) }

    @Test("the zoo's mobilenet_v2 is torchvision's architecture with its preprocessing")
    func architecture() throws {
        let model = try Golden.model("mobilenet_v2")
        #expect(model.family == .mobileNetV2 && model.inputSize == 224 && model.cropFraction == 0.875)
        #expect(model.blocks.count == 17 && model.classCount == 1000)
        #expect(model.blocks.filter(\.residual).count == 10)
        // About 300 M multiply-adds at 224, as the MobileNetV2 paper states.
        #expect((295_000_000...310_000_000).contains(model.multiplyAdds(size: 224)), "\(model.multiplyAdds(size: 224)) multiply-adds")
    }

    @Test("logits match PyTorch (max |Δ| ≤ 1e-3) with identical top-5")
    func logits() throws {
        let golden = try Self.golden()
        let model = try Golden.model("mobilenet_v2")
        let logits = ModelRunner(model: model).forward(try Golden.image(golden.input)).array
        let diff = zip(logits, golden.logits).map { abs($0 - $1) }.max() ?? .infinity
        print("mobilenet_v2: max |Δ logit| vs PyTorch = \(diff)")
        #expect(diff <= 1e-3, "max |Δ logit| = \(diff)")
        #expect(Golden.top(logits, 5) == golden.top5)
        #expect((281...285).contains(Golden.top(logits, 1)[0]), "top-1 is \(Golden.top(logits, 1)[0])")
    }

    @Test("input gradient of cross-entropy matches PyTorch (cosine ≥ 0.9999)")
    func inputGradient() throws {
        let golden = try Self.golden()
        let (loss, cosine, relativeL2) = try Golden.compareGradient(model: "mobilenet_v2", input: golden.input, file: golden.ce859.gradient_file)
        print("mobilenet_v2 CE(859) loss \(loss) vs PyTorch \(golden.ce859.loss); gradient cosine \(cosine), relative L2 error \(relativeL2)")
        #expect(abs(loss - golden.ce859.loss) < 1e-3)
        #expect(cosine >= 0.9999)
    }

    @Test("classify's preprocessing (shorter side to 256, centre 224) gives torchvision's top-5 on every bundled photo")
    func bundledPhotos() throws {
        let golden = try Self.golden()
        let model = try Golden.model("mobilenet_v2")
        let runner = ModelRunner(model: model)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        #expect(golden.samples_top5.count >= 9)
        for (path, top5) in golden.samples_top5.sorted(by: { $0.key < $1.key }) {
            let image = try Image.read(from: root.appendingPathComponent(path).path)
            // What `classify` (ImageClassifier.modelInput) feeds the model.
            let input = image.centerSquare(size: model.inputSize, cropFraction: model.cropFraction)
            let ours = Golden.top(runner.forward(Tensor(shape: [1, 224, 224, 3], values: input.pixels)).array, 5)
            #expect(ours == top5, "\(path): ours \(ours), torchvision \(top5)")
        }
    }
}
