// Evaluator: renders a patch (and its control patches) into scenes for a list of samples, runs the
// model on batches, and scores each sample (targeted top-1/top-5, target probability, flip of the
// scene's clean prediction). Summaries (intervals, factor bins, transfer) are in Results.swift.
import Attack
import Foundation
import Imaging
import Networks
import Transforms

/// What one rendered sample scored.
public struct SampleOutcome: Codable, Sendable, Equatable {
    /// The model's top-1 class.
    public var top1: Int
    /// Softmax probability of the target (of the clean class when untargeted).
    public var probability: Float
    /// Softmax probability of the top-1 class.
    public var top1Probability: Float
    /// The target is among the top 5 (false when untargeted).
    public var inTop5: Bool
    /// top-1 differs from the scene's clean top-1.
    public var flipped: Bool
}

/// One model with its scenes at its input size, their clean predictions, and reusable buffers.
/// Not thread-safe (it owns a ModelRunner): use one per thread of work.
public final class ModelBench {
    public let model: any ImageModel
    public let runner: any ModelRunning
    /// (scene, size·size·3) 8-bit, at the model's input size.
    public let scenes: [[UInt8]]
    /// Top-1 of each clean scene.
    public let cleanTop1: [Int]
    public let batch: Int
    var images: Tensor          // (batch, S, S, 3)
    var logits: Tensor          // (batch, classes)
    var renderers: [String: Renderer] = [:]

    public var inputSize: Int { model.inputSize }

    public init(model: any ImageModel, scenes: SceneSet, batch: Int = 32) throws {
        guard batch >= 1, batch <= 256 else { throw EvaluationError.badOption("batch must be 1…256, got \(batch)") }
        self.model = model
        self.batch = batch
        runner = model.makeRunner()
        let s = model.inputSize
        self.scenes = try scenes.squares(size: s)
        let images = Tensor(zeros: [batch, s, s, 3]), logits = Tensor(zeros: [batch, model.classCount])
        self.images = images
        self.logits = logits
        cleanTop1 = SceneSet.cleanTop1(self.scenes, runner: runner, size: s, batch: batch)
    }

    func renderer(width: Int, height: Int, mesh: MeshSurface? = nil) throws -> Renderer {
        if let mesh { return try Renderer(textureWidth: width, textureHeight: height, sceneWidth: inputSize, sceneHeight: inputSize, mesh: mesh) }
        let key = "\(width)x\(height)"
        if let r = renderers[key] { return r }
        let r = try Renderer(textureWidth: width, textureHeight: height, sceneWidth: inputSize, sceneHeight: inputSize)
        renderers[key] = r
        return r
    }

    /// Renders `texture` with `mask` for each of `samples` (in parallel over samples) into the
    /// batch buffer, `batch` at a time, runs the model and scores every sample. `target` nil =
    /// untargeted (probability is then the clean class's). `onBatch` receives the number done.
    public func score(texture: [Float], mask: Mask, mesh: MeshSurface? = nil, samples: ArraySlice<EvaluationSample>, target: Int?,
                      onBatch: ((Int) -> Void)? = nil) throws -> [SampleOutcome] {
        var none: [[Float]]? = nil
        return try score(texture: texture, mask: mask, mesh: mesh, samples: samples, target: target, keep: &none, onBatch: onBatch)
    }

    /// As `score`, and appends every rendered model input (S, S, 3) to `keep` when it is not nil.
    /// `mesh`: the 3D object the texture covers (the samples then pose it); nil for a patch.
    public func score(texture: [Float], mask: Mask, mesh: MeshSurface? = nil, samples: ArraySlice<EvaluationSample>, target: Int?,
                      keep: inout [[Float]]?, onBatch: ((Int) -> Void)? = nil) throws -> [SampleOutcome] {
        let r = try renderer(width: mask.width, height: mask.height, mesh: mesh)
        guard texture.count == mask.width * mask.height * 3 else {
            throw EvaluationError.badPatch("texture has \(texture.count) values, expected \(mask.width)×\(mask.height)×3")
        }
        let s = inputSize, pixels = s * s * 3, k = model.classCount
        var outcomes: [SampleOutcome] = []
        outcomes.reserveCapacity(samples.count)
        var start = samples.startIndex
        while start < samples.endIndex {
            let chunk = samples[start..<min(start + batch, samples.endIndex)]
            try render(renderer: r, texture: texture, mask: mask, samples: chunk, pixels: pixels)
            runner.forward(images.unsafePointer, n: chunk.count, height: s, width: s, logits: logits.unsafePointer)
            for (i, sample) in chunk.enumerated() {
                let row = UnsafePointer(logits.unsafePointer + i * k)
                let clean = cleanTop1[sample.scene]
                outcomes.append(Self.outcome(row, k, target: target, clean: clean))
                if keep != nil { keep?.append(Array(UnsafeBufferPointer(start: images.unsafePointer + i * pixels, count: pixels))) }
            }
            start = chunk.endIndex
            onBatch?(start - samples.startIndex)
        }
        return outcomes
    }

    func render(renderer r: Renderer, texture: [Float], mask: Mask, samples: ArraySlice<EvaluationSample>, pixels: Int) throws {
        var failure: (any Error)? = nil
        let lock = NSLock()
        let out = UncheckedSendable(images.unsafePointer)
        let list = Array(samples)
        let sceneList = scenes
        texture.withUnsafeBufferPointer { t in
            mask.alpha.withUnsafeBufferPointer { m in
                Parallel.forEachItem(list.count) { i in
                    do {
                        _ = try sceneList[list[i].scene].withUnsafeBufferPointer { sc in
                            try r.forward(texture: t, mask: m, sceneBytes: sc, sample: list[i].transform,
                                          image: UnsafeMutableBufferPointer(start: out.value + i * pixels, count: pixels))
                        }
                    } catch { lock.lock(); failure = failure ?? error; lock.unlock() }
                }
            }
        }
        if let failure { throw EvaluationError.badSamples("rendering a sample failed: \(failure)") }
    }

    /// Scores one logits row: softmax of the target, its rank, the top-1.
    static func outcome(_ row: UnsafePointer<Float>, _ k: Int, target: Int?, clean: Int) -> SampleOutcome {
        var best = 0, m = row[0]
        for j in 1..<k where row[j] > m { m = row[j]; best = j }
        var z = 0.0
        for j in 0..<k { z += Foundation.exp(Double(row[j] - m)) }
        let cls = target ?? clean
        let p = Float(Foundation.exp(Double(row[cls] - m)) / z)
        var above = 0
        if let t = target { for j in 0..<k where row[j] > row[t] { above += 1 } }
        return SampleOutcome(top1: best, probability: p, top1Probability: Float(1 / z), inTop5: target != nil && above < 5, flipped: best != clean)
    }
}
