// PatchTrainer: the EOT optimisation loop (Athalye et al. 2018; patch: Brown et al. 2017).
// One step: sample B (scene, transform) pairs → render the texture into each scene → model
// forward/backward to the pixels → renderer backward to the texture → + TV/NPS → Adam → clamp.
// Deterministic for a seed and thread count: per-sample gradients are summed in sample order.
import Foundation
import Imaging
import Meshes
import Networks
import Transforms

/// Everything that changes during a run; saved in checkpoints.
public struct TrainingState: Codable, Sendable, Equatable {
    public var step = 0
    /// (Th, Tw, 3) in [0, 1]
    public var texture: [Float]
    public var adam: Adam
    public var rng: SplitMix64
    public var curve: [CurvePoint] = []
    public var validations: [ValidationPoint] = []
    public var elapsedSeconds = 0.0
    /// Exponential moving average of `texture` (GenerateConfig.averageDecay); nil when off.
    public var averageTexture: [Float]? = nil
    /// The levels Adam steps when `GenerateConfig.pyramidLevels` > 1 (`texture` is then their
    /// clamped sum); nil when off.
    public var pyramid: [Float]? = nil
}

public struct CurvePoint: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Double
    public var classLoss: Double
    public var tv: Double
    public var nps: Double
    public var batchSuccess: Double
    public var learningRate: Double
}

public struct ValidationPoint: Codable, Sendable, Equatable {
    public var step: Int
    public var success: Double
    public var meanTargetProbability: Double
    public var samples: Int
    /// Wall-clock seconds of the run when the check ended (its own time included); nil in
    /// checkpoints written before it was recorded.
    public var seconds: Double? = nil
}

/// One model of the (possibly ensemble) attack with its buffers.
final class ModelSlot {
    let model: any ImageModel
    let runner: any ModelRunning
    let renderer: Renderer
    /// (size, size, 3) 8-bit scenes at the model's input size.
    let trainScenes: [[UInt8]]
    let validationScenes: [[UInt8]]
    let cleanTrain: [Int]
    let cleanValidation: [Int]
    var batchImages: Tensor
    var caches: [RenderCache?]

    init(model: any ImageModel, textureWidth: Int, textureHeight: Int, mesh: MeshSurface?, train: SceneSet, validation: SceneSet, batch: Int, augment: Bool) throws {
        self.model = model
        runner = model.makeRunner()
        let s = model.inputSize
        renderer = try Renderer(textureWidth: textureWidth, textureHeight: textureHeight, sceneWidth: s, sceneHeight: s, mesh: mesh)
        trainScenes = augment ? try train.augmentedSquares(size: s) : try train.squares(size: s)
        validationScenes = try validation.squares(size: s)
        batchImages = Tensor(zeros: [batch, s, s, 3])
        caches = Array(repeating: nil, count: batch)
        cleanTrain = SceneSet.cleanTop1(trainScenes, runner: runner, size: s, batch: batch)
        cleanValidation = SceneSet.cleanTop1(validationScenes, runner: runner, size: s, batch: batch)
    }
}

public struct StepMetrics: Sendable {
    public var loss: Double, classLoss: Double, tv: Double, nps: Double, batchSuccess: Double
}

public final class PatchTrainer {
    public let config: GenerateConfig
    public private(set) var state: TrainingState
    public let mask: Mask
    public let textureWidth: Int, textureHeight: Int
    /// The 3D object the texture covers (`GenerateConfig.mesh`); nil for a patch.
    public let meshSurface: MeshSurface?
    let slots: [ModelSlot]
    let palette: PrintablePalette?
    /// The multi-scale parameterisation (GenerateConfig.pyramidLevels > 1); nil when off.
    let pyramid: TexturePyramid?
    /// Fixed held-out set: (validation scene index, transform), drawn once from the seed.
    public let validationSet: [(scene: Int, sample: TransformSample)]
    let trainCount: Int

    /// Builds a trainer; `resume` continues a saved state (its config must match).
    public init(config: GenerateConfig, models: [any ImageModel], train: SceneSet, validation: SceneSet, resume: TrainingState? = nil) throws {
        try config.validate()
        self.config = config
        let mesh: Mesh?
        do { mesh = try config.mesh?.load() } catch { throw AttackError.invalidSetting(.mesh, "\(config.mesh!): \(error)") }
        let (tw, th) = try config.textureSize(mesh: mesh)
        // evaluate and print take textures of Image.patchTextureSides; so does generate.
        guard min(tw, th) >= Image.patchTextureSides.lowerBound else {
            let what = config.mesh.map { "the \($0)" } ?? "\(config.shape)"
            throw AttackError.invalidSetting(config.mesh == nil ? .shape : .textureSide, "\(what) with a texture side of \(config.textureSide) gives a \(tw)×\(th) texture, and a patch needs at least \(Image.patchTextureSides.lowerBound) texels a side; "
                                        + "raise the texture side to \(Int((Double(config.textureSide) * Double(Image.patchTextureSides.lowerBound) / Double(min(tw, th))).rounded(.up)))" + (config.mesh == nil ? " or use a less elongated shape" : ""))
        }
        textureWidth = tw; textureHeight = th
        var surface: MeshSurface? = nil
        if let mesh {
            mask = try Mask.full(width: tw, height: th)
            do { surface = try MeshSurface(mesh: mesh, textureWidth: tw, textureHeight: th) } catch {
                throw AttackError.invalidSetting(.mesh, "\(config.mesh!): \(error)")
            }
        } else {
            mask = try config.shape.mask(width: tw, height: th)
        }
        meshSurface = surface
        let levels = config.pyramidLevels ?? 1
        let pyr = levels > 1 ? try TexturePyramid(width: tw, height: th, levels: levels) : nil
        pyramid = pyr
        for m in models where m.inputSize < 32 { throw AttackError.badOption("model \(m.name) input \(m.inputSize) is too small") }
        slots = try models.map { try ModelSlot(model: $0, textureWidth: tw, textureHeight: th, mesh: surface, train: train, validation: validation, batch: config.batch, augment: config.augmentScenes) }
        if config.npsWeight > 0 {
            if let rgb = config.paletteRGB {
                palette = try PrintablePalette(colors: rgb.map { SIMD3($0[0], $0[1], $0[2]) })
            } else {
                palette = try config.palettePath.map { try PrintablePalette.read(from: $0) } ?? PrintablePalette.defaultPalette()
            }
        } else {
            palette = nil
        }
        trainCount = slots[0].trainScenes.count

        var vrng = SplitMix64(seed: config.seed ^ SeedSalt.validationSet)
        let s0 = models[0].inputSize
        validationSet = (0..<config.validationSamples).map { i in
            (i % validation.count, config.distribution.sample(imageWidth: s0, imageHeight: s0, patchAspect: Double(th) / Double(tw), using: &vrng))
        }
        if let r = resume {
            guard r.texture.count == tw * th * 3, r.adam.m.count == pyr?.parameterCount ?? r.texture.count, r.adam.v.count == r.adam.m.count,
                  r.averageTexture == nil || r.averageTexture?.count == r.texture.count,
                  r.pyramid?.count == pyr?.parameterCount else {
                throw AttackError.checkpoint("the checkpoint is damaged: its texture, optimizer or pyramid state does not fit its own settings (a \(tw)×\(th) texture, \(levels) pyramid level(s)); start a new run in an empty folder")
            }
            state = r
        } else {
            var rng = SplitMix64(seed: config.seed)
            let tex = try Self.initialTexture(config: config, width: tw, height: th, rng: &rng)
            state = TrainingState(texture: tex, adam: Adam(parameterCount: pyr?.parameterCount ?? tex.count), rng: rng)
            state.pyramid = pyr?.parameters(forTexture: tex)
            if config.averageDecay != nil { state.averageTexture = tex }
        }
        if config.averageDecay != nil, state.averageTexture?.count != state.texture.count {
            throw AttackError.checkpoint("the checkpoint is damaged: it has no averaged texture although the run averages (--average); start a new run in an empty folder")
        }
    }

    public var isFinished: Bool { state.step >= config.steps }

    /// The texture a run starts from: `initTexturePath` resized to the texture (values clamped to
    /// [0, 1]), else uniform noise drawn from `rng` (seeded with the run's seed, which the noise
    /// draws advance in either case).
    public static func initialTexture(config: GenerateConfig, width tw: Int, height th: Int, rng: inout SplitMix64) throws -> [Float] {
        var tex = (0..<(tw * th * 3)).map { _ in Float.random(in: 0...1, using: &rng) }
        if let path = config.initTexturePath {
            let img = try Image.read(from: path).rgb
            tex = img.resized(width: tw, height: th).pixels.map { min(max($0, 0), 1) }
        }
        return tex
    }

    /// The run's starting texture, as `initialTexture` with the run's seed.
    public static func initialTexture(config: GenerateConfig, width: Int, height: Int) throws -> [Float] {
        var rng = SplitMix64(seed: config.seed)
        return try initialTexture(config: config, width: width, height: height, rng: &rng)
    }

    /// One optimisation step. Returns its metrics (also appended to the curve).
    @discardableResult
    public func step() throws -> StepMetrics {
        let b = config.batch
        let tcount = textureWidth * textureHeight * 3
        var gradient = [Float](repeating: 0, count: tcount)
        var classLoss = 0.0, successes = 0
        // Sample the batch once for all models: same scenes and transforms in every model's frame.
        let aspect = Double(textureHeight) / Double(textureWidth)
        var picks: [(Int, TransformSample)] = []
        for _ in 0..<b {
            let scene = Int(state.rng.next() % UInt64(trainCount))
            let s0 = slots[0].model.inputSize
            picks.append((scene, config.distribution.sample(imageWidth: s0, imageHeight: s0, patchAspect: aspect, using: &state.rng)))
        }
        let objective = config.objective()
        let texture = trainingTexture  // quantised once per step, shared by every model
        for slot in slots {
            let s = slot.model.inputSize
            let pixels = s * s * 3
            try Profiler.shared.measure("eot render") { try render(slot: slot, picks: picks, texture: texture) }
            let logits = Profiler.shared.measure("eot model forward") { slot.runner.forward(slot.batchImages) }
            let clean = picks.map { slot.cleanTrain[$0.0] }
            var (loss, _, dLogits) = objective.evaluate(logits: logits, cleanClasses: clean)
            classLoss += loss / Double(slots.count)
            if slots.count > 1 { dLogits.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] /= Float(slots.count) } } }
            successes += Self.successes(logits: logits, objective: objective, clean: clean)
            // The renderer reads the image gradient only around the patch: the model's backward
            // computes it there only.
            let windows = (0..<b).map { i in
                let w = slot.renderer.gradientWindow(cache: slot.caches[i]!)
                return ImageWindow(rows: w.rows, columns: w.columns)
            }
            let dImages = Profiler.shared.measure("eot model backward") { slot.runner.backward(dLogits, windows: windows) }
            // Renderer backward per sample into its own buffer, then a fixed-order sum.
            var perSample = [Float](repeating: 0, count: b * tcount)
            var failure: (any Error)? = nil
            let lock = NSLock()
            Profiler.shared.measure("eot render backward") { perSample.withUnsafeMutableBufferPointer { ps in
                let base = UncheckedSendable(ps.baseAddress!)
                Parallel.forEachItem(b) { i in
                    do {
                        try slot.renderer.backward(dImage: UnsafeBufferPointer(start: dImages.unsafePointer + i * pixels, count: pixels),
                                                   cache: slot.caches[i]!, dTexture: UnsafeMutableBufferPointer(start: base.value + i * tcount, count: tcount))
                    } catch { lock.lock(); failure = failure ?? error; lock.unlock() }
                }
            } }
            if let failure { throw failure }
            for i in 0..<b { for j in 0..<tcount { gradient[j] += perSample[i * tcount + j] } }
        }
        let tv = config.tvWeight > 0 ? TotalVariation.loss(texture: state.texture, width: textureWidth, height: textureHeight, weight: config.tvWeight, gradient: &gradient) : 0
        let nps = palette.map { NonPrintability.loss(texture: state.texture, mask: mask.alpha, palette: $0, weight: config.npsWeight, gradient: &gradient) } ?? 0
        guard gradient.allSatisfy({ $0.isFinite }) else {
            throw AttackError.badOption("the gradient became NaN/infinite at step \(state.step); lower the learning rate or check the distribution")
        }
        let lr = config.learningRate(at: state.step)
        if let pyramid, var levels = state.pyramid {
            // Adam steps the levels; the texture is their sum clamped to [0, 1], and level 0
            // (the full-resolution one, an identity upsampling) absorbs the clamp, so the levels
            // keep summing to the texture.
            state.adam.update(&levels, gradient: pyramid.gradient(fromTextureGradient: gradient), learningRate: lr)
            let sum = pyramid.texture(from: levels)
            for i in sum.indices {
                state.texture[i] = min(max(sum[i], 0), 1)
                levels[i] += state.texture[i] - sum[i]
            }
            state.pyramid = levels
        } else {
            state.adam.update(&state.texture, gradient: gradient, learningRate: lr)
            for i in state.texture.indices { state.texture[i] = min(max(state.texture[i], 0), 1) }
        }
        if let d = config.averageDecay(at: state.step), state.averageTexture != nil {
            let df = Float(d)
            for i in state.texture.indices { state.averageTexture![i] = df * state.averageTexture![i] + (1 - df) * state.texture[i] }
        }
        let metrics = StepMetrics(loss: classLoss + config.tvWeight * tv + config.npsWeight * nps, classLoss: classLoss, tv: tv, nps: nps,
                                  batchSuccess: Double(successes) / Double(b * slots.count))
        state.curve.append(CurvePoint(step: state.step + 1, loss: metrics.loss, classLoss: classLoss, tv: tv, nps: nps,
                                      batchSuccess: metrics.batchSuccess, learningRate: lr))
        state.step += 1
        return metrics
    }

    /// The texture as the renderer sees it during optimisation: quantised to 8 bits when
    /// `quantize8Bit` (the gradient passes straight through).
    public var trainingTexture: [Float] { quantized(state.texture) }

    /// The patch: the averaged texture when averaging, else the optimized one, quantised like
    /// the training texture; exactly what patch.png stores and what validation measures.
    public var renderedTexture: [Float] { quantized(state.averageTexture ?? state.texture) }

    func quantized(_ t: [Float]) -> [Float] { config.quantize8Bit ? t.map { ($0 * 255).rounded() / 255 } : t }

    /// Renders `texture` into every picked scene of `slot` (parallel over samples).
    func render(slot: ModelSlot, picks: [(Int, TransformSample)], texture: [Float]? = nil, scenes: [[UInt8]]? = nil) throws {
        let s = slot.model.inputSize, pixels = s * s * 3
        let tex = texture ?? renderedTexture
        let sceneList = scenes ?? slot.trainScenes
        var failure: (any Error)? = nil
        let lock = NSLock()
        let images = UncheckedSendable(slot.batchImages.unsafePointer)
        slot.caches = Array(repeating: nil, count: slot.caches.count)
        try slot.caches.withUnsafeMutableBufferPointer { cachesBuffer in
            let caches = UncheckedSendable(cachesBuffer)
            tex.withUnsafeBufferPointer { t in mask.alpha.withUnsafeBufferPointer { m in
                // One sample at a time to whichever core is free: photo-like samples differ in
                // cost (motion blur, resampling, JPEG or not), and equal halves left a core idle.
                Parallel.forEachItem(picks.count) { i in
                    do {
                        let cache = try sceneList[picks[i].0].withUnsafeBufferPointer { sc in
                            try slot.renderer.forward(texture: t, mask: m, sceneBytes: sc, sample: picks[i].1,
                                                      image: UnsafeMutableBufferPointer(start: images.value + i * pixels, count: pixels))
                        }
                        caches.value[i] = cache
                    } catch { lock.lock(); failure = failure ?? error; lock.unlock() }
                }
            } }
            if let failure { throw failure }
        }
    }

    static func successes(logits: Tensor, objective: ClassificationObjective, clean: [Int]) -> Int {
        let (n, k) = (logits.shape[0], logits.shape[1])
        var count = 0
        for i in 0..<n {
            var arg = 0
            for j in 1..<k where logits[flat: i * k + j] > logits[flat: i * k + arg] { arg = j }
            if let t = objective.targetClass { count += arg == t ? 1 : 0 } else { count += arg != clean[i] ? 1 : 0 }
        }
        return count
    }

    /// Success rate on the fixed held-out validation set (first model; targeted top-1, or
    /// untargeted flip of the clean prediction).
    public func validate(texture: [Float]? = nil, limit: Int? = nil) throws -> ValidationPoint {
        let slot = slots[0]
        let objective = config.objective()
        let b = config.batch
        let total = min(limit ?? validationSet.count, validationSet.count)
        let tex = texture ?? renderedTexture
        var successes = 0, probSum = 0.0
        var start = 0
        while start < total {
            let chunk = Array(validationSet[start..<min(start + b, total)])
            try render(slot: slot, picks: chunk.map { ($0.scene, $0.sample) }, texture: tex, scenes: slot.validationScenes)
            let s = slot.model.inputSize
            let view = Tensor(shape: [chunk.count, s, s, 3], values: Array(UnsafeBufferPointer(start: slot.batchImages.unsafePointer, count: chunk.count * s * s * 3)))
            let logits = slot.runner.forward(view)
            let clean = chunk.map { slot.cleanValidation[$0.scene] }
            successes += Self.successes(logits: logits, objective: objective, clean: clean)
            let p = Softmax.forward(logits)
            for i in 0..<chunk.count {
                let cls = objective.targetClass ?? clean[i]
                probSum += Double(p[flat: i * logits.shape[1] + cls])
            }
            start += b
        }
        let point = ValidationPoint(step: state.step, success: Double(successes) / Double(total),
                                    meanTargetProbability: probSum / Double(total), samples: total)
        return point
    }

    public func recordValidation(_ v: ValidationPoint) { state.validations.append(v) }
    public func addElapsed(_ seconds: Double) { state.elapsedSeconds += seconds }
    /// Wall time of this process already added to `elapsedSeconds` (so saves don't double-count).
    public private(set) var stateElapsedMark = 0.0
    public func markElapsed(_ t: Double) { stateElapsedMark = t }

    /// The first `count` validation samples as the model sees them, side by side with a white
    /// gap of `gap` pixels: the run's preview.png.
    public func validationPreview(count requested: Int = 8, gap: Int = 4) throws -> Image {
        let s = slots[0].model.inputSize
        let count = min(requested, validationSet.count)
        let width = s * count + gap * (count - 1)
        var pixels = [Float](repeating: 1, count: s * width * 3)
        for i in 0..<count {
            let img = try renderValidationSample(i)
            for y in 0..<s { for x in 0..<s { for c in 0..<3 { pixels[(y * width + i * (s + gap) + x) * 3 + c] = img[(y * s + x) * 3 + c] } } }
        }
        return try Image(width: width, height: s, channels: 3, pixels: pixels)
    }

    /// The model's input rendered for one validation sample (for pictures).
    public func renderValidationSample(_ index: Int) throws -> [Float] {
        let slot = slots[0]
        let v = validationSet[index % validationSet.count]
        try render(slot: slot, picks: [(v.scene, v.sample)], scenes: slot.validationScenes)
        let s = slot.model.inputSize
        return Array(UnsafeBufferPointer(start: slot.batchImages.unsafePointer, count: s * s * 3))
    }
}
