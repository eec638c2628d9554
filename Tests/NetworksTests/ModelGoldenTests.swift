// EfficientNet-Lite against PyTorch: logits of lite0/1/2 on a real photo and the lite0 input
// gradient of cross-entropy, from golden values made by Scripts/make_golden.py (torch 1.13,
// Scripts/reference_model.py). Needs the weights: Scripts/fetch-models.sh (CI's setup runs it).
import Foundation
import Imaging
import Networks
import Testing

enum Golden {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    struct Logits: Decodable {
        var model: String
        var input: String
        var size: Int
        var logits: [Float]
        var top5: [Int]
    }

    static func json<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    static func image(_ name: String) throws -> Tensor {
        let img = try Image.read(from: fixtures.appendingPathComponent(name).path)
        return Tensor(shape: [1, img.height, img.width, 3], values: img.rgb.pixels)
    }

    /// Loads a model or fails with the command that fetches it.
    static func model(_ name: String) throws -> InvertedResidualNetwork {
        do { return try ModelZoo.load(name) } catch {
            Issue.record("\(error) — the model tests need the weights: run Scripts/fetch-models.sh")
            throw error
        }
    }

    static func top(_ l: [Float], _ k: Int) -> [Int] { Array(l.indices.sorted { l[$0] > l[$1] }.prefix(k)) }

    /// A 224 × 224 image mirrored left to right.
    static func flipped(_ image: Tensor) -> [Float] {
        var out = [Float](repeating: 0, count: image.count)
        for y in 0..<224 { for x in 0..<224 { for c in 0..<3 { out[(y * 224 + x) * 3 + c] = image[flat: (y * 224 + 223 - x) * 3 + c] } } }
        return out
    }

    /// The CE(859) input gradient of `model` on the fixture `input` against the raw float32
    /// gradient in `file`: our loss, the cosine and the relative L2 error.
    static func compareGradient(model: String, input: String, file: String) throws -> (loss: Double, cosine: Double, relativeL2: Double) {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(file))
        let reference = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let (loss, _, grad) = ModelRunner(model: try Golden.model(model)).crossEntropyGradient(try image(input), targets: [859])
        #expect(reference.count == grad.count)
        var dot = 0.0, a2 = 0.0, b2 = 0.0, d2 = 0.0
        for i in 0..<min(reference.count, grad.count) {
            let a = Double(grad[flat: i]), b = Double(reference[i])
            dot += a * b; a2 += a * a; b2 += b * b; d2 += (a - b) * (a - b)
        }
        return (loss, dot / (a2.squareRoot() * b2.squareRoot()), (d2 / b2).squareRoot())
    }
}

@Suite("EfficientNet-Lite vs PyTorch golden values", .serialized)
struct ModelGoldenTests {
    @Test("logits match PyTorch (max |Δ| ≤ 1e-3) with identical top-5", arguments: ["lite0", "lite1", "lite2"])
    func logits(_ name: String) throws {
        let golden = try Golden.json("golden_\(name).json", as: Golden.Logits.self)
        let model = try Golden.model(name)
        #expect(model.inputSize == golden.size, "\(name): input size \(model.inputSize), PyTorch reference uses \(golden.size)")
        let x = try Golden.image(golden.input)
        let logits = ModelRunner(model: model).forward(x).array
        let diff = zip(logits, golden.logits).map { abs($0 - $1) }.max() ?? .infinity
        print("\(name): max |Δ logit| vs PyTorch = \(diff)")
        #expect(diff <= 1e-3, "\(name): max |Δ logit| = \(diff)")
        #expect(Golden.top(logits, 5) == golden.top5)
        // The bundled photo is a cat: top-1 must be one of ImageNet's cat classes (281–285).
        #expect((281...285).contains(Golden.top(logits, 1)[0]), "\(name) top-1 is \(Golden.top(logits, 1)[0])")
    }

    @Test("batch of two gives each image's own logits")
    func batch() throws {
        struct Batch: Decodable { var logits: [[Float]]; var top5: [[Int]] }
        let golden = try Golden.json("golden_lite0_batch2.json", as: Batch.self)
        let cat = try Golden.image("cat_224.png")
        let flipped = Golden.flipped(cat)
        let both = Tensor(shape: [2, 224, 224, 3], values: cat.array + flipped)
        let logits = ModelRunner(model: try Golden.model("lite0")).forward(both).array
        for k in 0..<2 {
            let row = Array(logits[(k * 1000)..<((k + 1) * 1000)])
            let diff = zip(row, golden.logits[k]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff <= 1e-3, "image \(k): max |Δ| = \(diff)")
            #expect(Golden.top(row, 5) == golden.top5[k])
        }
    }

    @Test("input gradient of cross-entropy matches PyTorch (cosine ≥ 0.9999)")
    func inputGradient() throws {
        struct CE: Decodable { var loss: Double; var gradient_file: String }
        struct G: Decodable { var ce859: CE }
        let golden = try Golden.json("golden_lite0.json", as: G.self)
        let (loss, cosine, relativeL2) = try Golden.compareGradient(model: "lite0", input: "cat_224.png", file: golden.ce859.gradient_file)
        print("lite0 CE(859) loss \(loss) vs PyTorch \(golden.ce859.loss); gradient cosine \(cosine), relative L2 error \(relativeL2)")
        #expect(abs(loss - golden.ce859.loss) < 1e-3)
        #expect(cosine >= 0.9999)
    }

    @Test("a backward pass after a different batch size uses that batch's activations")
    func batchSizeChange() throws {
        let model = try Golden.model("lite0")
        let runner = ModelRunner(model: model)
        let cat = try Golden.image("cat_224.png")
        let single = runner.crossEntropyGradient(cat, targets: [859])
        _ = runner.crossEntropyGradient(Tensor(zeros: [3, 224, 224, 3]), targets: [1, 2, 3])
        let again = runner.crossEntropyGradient(cat, targets: [859])
        #expect(single.gradient.maxAbsDifference(again.gradient) == 0)
        #expect(single.loss == again.loss)
    }

    @Test("a batch split over the cores gives each image what it gets alone, forward and backward")
    func splitBatchMatchesWholeBatch() throws {
        let model = try Golden.model("lite0")
        let cat = try Golden.image("cat_224.png")
        // Three images (an odd count: parts of 1 and 2 on two cores): the cat, a flipped cat, grey.
        let flipped = Golden.flipped(cat)
        let batch = Tensor(shape: [3, 224, 224, 3], values: cat.array + flipped + [Float](repeating: 0.5, count: cat.count))
        let targets = [859, 1, 954]
        let split = ModelRunner(model: model), whole = ModelRunner(model: model, splitsBatch: false)
        let a = split.crossEntropyGradient(batch, targets: targets), b = whole.crossEntropyGradient(batch, targets: targets)
        let dl = a.logits.maxAbsDifference(b.logits), dg = a.gradient.maxAbsDifference(b.gradient)
        let scale = b.gradient.array.map { abs($0) }.max() ?? 1
        print("split vs whole batch: logits max |Δ| \(dl), gradient max |Δ| \(dg) (gradient max \(scale))")
        #expect(dl <= 1e-5 && dg <= 1e-5 * scale)
        // And again after a different batch size (the parts' buffers resize).
        let one = split.crossEntropyGradient(cat, targets: [859]), oneWhole = whole.crossEntropyGradient(cat, targets: [859])
        #expect(one.gradient.maxAbsDifference(oneWhole.gradient) == 0)
        let again = split.crossEntropyGradient(batch, targets: targets)
        #expect(again.gradient.maxAbsDifference(a.gradient) == 0)
    }

    @Test("a backward in a window of each image gives the window's gradient, zero elsewhere")
    func backwardInWindows() throws {
        let model = try Golden.model("lite0")
        let cat = try Golden.image("cat_224.png")
        let flipped = Golden.flipped(cat)
        let images = [cat.array, flipped, [Float](repeating: 0.5, count: cat.count), flipped.reversed()]
        let targets = [859, 1, 954, 22]
        // A box in the middle, a band at the top edge, nothing, a corner; the whole image, one
        // pixel, a column band, an empty column range.
        let windows: [[ImageWindow]] = [
            [ImageWindow(rows: 61..<150, columns: 70..<171), ImageWindow(rows: 0..<37, columns: 0..<224), ImageWindow(rows: 0..<0, columns: 0..<0),
             ImageWindow(rows: 201..<224, columns: 180..<224)],
            [ImageWindow(rows: 0..<224, columns: 0..<224), ImageWindow(rows: 100..<101, columns: 7..<8), ImageWindow(rows: 0..<224, columns: 13..<90),
             ImageWindow(rows: 5..<50, columns: 9..<9)]]
        for splits in [true, false] {
            let runner = ModelRunner(model: model, splitsBatch: splits)
            for wins in windows {
                let batch = Tensor(shape: [4, 224, 224, 3], values: Array(images.joined()))
                let full = runner.crossEntropyGradient(batch, targets: targets).gradient
                let dLogits = CrossEntropy.backward(probabilities: CrossEntropy.forward(logits: runner.forward(batch), targets: targets).probabilities, targets: targets)
                let windowed = runner.backward(dLogits, windows: wins)
                let scale = full.array.map { abs($0) }.max() ?? 1
                var inside = 0.0, outside: Float = 0
                for b in 0..<4 { for y in 0..<224 { for x in 0..<224 { for c in 0..<3 {
                    let i = ((b * 224 + y) * 224 + x) * 3 + c
                    if wins[b].rows.contains(y) && wins[b].columns.contains(x) { inside = max(inside, Double(abs(windowed[flat: i] - full[flat: i]))) }
                    else { outside = max(outside, abs(windowed[flat: i])) }
                } } } }
                print("windows \(wins.map { "\($0.rows)×\($0.columns)" }) split \(splits): max |windowed − full| \(inside) inside (gradient max \(scale)), \(outside) outside")
                #expect(inside <= 1e-5 * Double(scale), "the windows differ from the full backward by \(inside)")
                #expect(outside == 0, "outside the windows the gradient is zero")
                // Every image whole: the plain backward, bit for bit.
                let all = runner.backward(dLogits, windows: Array(repeating: ImageWindow(rows: 0..<224, columns: 0..<224), count: 4))
                #expect(all.maxAbsDifference(full) == 0)
            }
        }
    }
}
