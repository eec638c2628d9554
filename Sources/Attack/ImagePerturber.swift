// Whole-image adversarial examples: a perturbation δ of a photo at its own resolution, bounded
// in L∞ or L2, found by FGSM (Goodfellow et al. 2015), PGD (Madry et al. 2018) or PGD with
// Expectation over Transformation (Athalye et al. 2018). The photo reaches each model through
// the framing `classify` uses (`ModelInputOperator`: resize + centre crop, and its adjoint) or,
// for EOT, through a sampled whole-photo transformation (`ImageRenderer`: rotation, zoom,
// translation, perspective, lighting, blur, noise, JPEG), so the gradient is the photo's own.
// Deterministic for a seed and thread count: per-sample gradients are summed in sample order.
import Foundation
import Imaging
import Networks
import Transforms

public enum PerturbMethod: String, Codable, Sendable, CaseIterable {
    /// One step of ε along the gradient's sign (L∞) or direction (L2).
    case fgsm
    /// Projected gradient descent on the model's view of the photo as `classify` frames it.
    case pgd
    /// PGD's projection with Adam steps on the mean gradient over sampled transformations.
    case eot
}

public enum PerturbNorm: String, Codable, Sendable, CaseIterable {
    case linf, l2
}

/// What `perturb` does. Plain values, saved in the run record.
public struct PerturbSettings: Codable, Sendable, Equatable {
    public var method: PerturbMethod
    public var norm: PerturbNorm = .linf
    /// L∞: in 8-bit units (8 = 8/255 of the pixel range), 1…255. L2: the Euclidean norm of δ over
    /// the whole photo in [0, 1] pixel units.
    public var epsilon: Double
    /// The target class; nil = untargeted (push the clean top-1 down).
    public var target: Int?
    /// Optimisation steps (FGSM: 1).
    public var steps: Int
    /// PGD's step, in ε's units; nil: 2.5 ε / steps (Madry et al.).
    public var stepSize: Double?
    /// EOT: Adam's first learning rate, in ε's units (cosine decay to a tenth); nil: ε / 2
    /// (raccoon at 4/255: 35 % of the standard distribution at ε / 8, 48 % at ε / 4, 52 % at ε / 2 and ε).
    public var learningRate: Double?
    /// EOT: transformations per step and model.
    public var batch = 12
    /// EOT: the transformations optimised over.
    public var distribution: ImageTransformDistribution = .wide
    /// Seeds EOT's samples and PGD's random start.
    public var seed: UInt64 = 0
    /// PGD: start from a uniform random point of the ball instead of the photo.
    public var randomStart = false

    public init(method: PerturbMethod, norm: PerturbNorm = .linf, epsilon: Double, target: Int?, steps: Int? = nil) {
        self.method = method; self.norm = norm; self.epsilon = epsilon; self.target = target
        self.steps = steps ?? Self.defaultSteps(method)
    }

    public static func defaultSteps(_ method: PerturbMethod) -> Int {
        switch method { case .fgsm: 1; case .pgd: 50; case .eot: 300 }
    }

    /// ε in [0, 1] pixel units.
    public var radius: Double { norm == .linf ? epsilon / 255 : epsilon }

    public func validate() throws {
        switch norm {
        case .linf:
            guard epsilon.isFinite, epsilon >= 1, epsilon <= 255 else {
                throw AttackError.badOption("--epsilon is in 8-bit units for L∞ (8 = 8/255) and must be 1…255, got \(epsilon)"
                                            + (epsilon > 0 && epsilon < 1 ? "; less than 1 rounds to no change in an 8-bit image" : ""))
            }
        case .l2:
            guard epsilon.isFinite, epsilon > 0, epsilon <= 1e4 else {
                throw AttackError.badOption("--epsilon for L2 is the norm of the perturbation in [0, 1] pixel units over the whole photo and must be in (0, 10000], got \(epsilon)")
            }
        }
        guard (1...100_000).contains(steps) else { throw AttackError.badOption("--steps must be 1…100000, got \(steps)") }
        if method == .fgsm && steps != 1 { throw AttackError.badOption("fgsm takes one step; drop --steps or use --method pgd") }
        if let s = stepSize { guard s.isFinite, s > 0, s <= 10 else { throw AttackError.badOption("--step-size is in ε's units and must be in (0, 10], got \(s)") } }
        if let l = learningRate { guard l.isFinite, l > 0, l <= 10 else { throw AttackError.badOption("--learning-rate is in ε's units and must be in (0, 10], got \(l)") } }
        guard (1...256).contains(batch) else { throw AttackError.badOption("--batch must be 1…256, got \(batch)") }
        do { try distribution.validate() } catch { throw AttackError.badOption("whole-image distribution: \(error)") }
    }
}

/// One step's numbers (on the samples of that step: the framed photo for FGSM/PGD).
public struct PerturbStepMetrics: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Double
    /// Mean probability of the target (untargeted: of the clean class) over the step's samples.
    public var probability: Double
    /// Fraction of the step's samples whose top-1 is the target (untargeted: not the clean class).
    public var success: Double
}

public final class ImagePerturber {
    /// The smallest photo side accepted, and the largest pixel count (EOT keeps a few copies per thread).
    public static let minimumSide = 16
    public static let maximumPixels = 40_000_000

    public let settings: PerturbSettings
    /// The photo (H, W, 3) in [0, 1]: its 8-bit values / 255.
    public let original: [Float]
    public let width: Int, height: Int
    /// The clean photo's top-1 on the first model (the class an untargeted attack pushes down).
    public let cleanClass: Int
    /// The resolution the optimisation works at: the photo's own, except for EOT on a photo
    /// whose shorter side is over `workingLimit` × the largest model input: there δ is optimised
    /// on a copy whose shorter side is `workingSide` × that input (triangle-filter resize), and
    /// upsampled (bilinear, which keeps the bound) to the photo's resolution. Rendering every
    /// EOT sample from a 12-megapixel photo would cost more than the model.
    public let workWidth: Int, workHeight: Int
    public static let workingLimit = 2.5, workingSide = 2.0
    /// The photo at the working resolution (the same array as `original` when it is the photo's own).
    let workOriginal: [Float]
    /// δ at the working resolution.
    public private(set) var workDelta: [Float]
    public private(set) var stepsDone = 0
    public private(set) var curve: [PerturbStepMetrics] = []
    var adam: Adam
    var rng: SplitMix64
    let slots: [Slot]

    final class Slot {
        let model: any ImageModel
        let runner: any ModelRunning
        /// The photo's framing (FGSM, PGD), and the renderer of the working copy (EOT).
        let framing: ModelInputOperator
        let renderer: ImageRenderer
        init(model: any ImageModel, width: Int, height: Int, workWidth: Int, workHeight: Int) throws {
            self.model = model
            runner = model.makeRunner()
            framing = try ModelInputOperator(width: width, height: height, size: model.inputSize, cropFraction: model.cropFraction)
            let work = try ModelInputOperator(width: workWidth, height: workHeight, size: model.inputSize, cropFraction: model.cropFraction)
            renderer = try ImageRenderer(framing: work.imageFraming)
        }
    }

    /// - Parameter image: the photo (RGB; alpha is dropped).
    public init(image: Image, models: [any ImageModel], settings: PerturbSettings) throws {
        try settings.validate()
        guard !models.isEmpty else { throw AttackError.badOption("give at least one --model") }
        HeapTuning.keepFreedMemory()   // every step allocates its batch, gradients and renders afresh
        let rgb = image.rgb
        guard min(rgb.width, rgb.height) >= Self.minimumSide else {
            throw AttackError.badOption("the image is \(rgb.width)×\(rgb.height) px; a whole-image perturbation needs at least \(Self.minimumSide) px a side (smaller images than the model's input are upsampled as classify does)")
        }
        guard rgb.width * rgb.height <= Self.maximumPixels else {
            throw AttackError.badOption("the image is \(rgb.width)×\(rgb.height) px (\(rgb.width * rgb.height / 1_000_000) MP); perturb takes at most \(Self.maximumPixels / 1_000_000) MP: downscale it first (the model sees \(models[0].inputSize) px anyway)")
        }
        guard max(rgb.width, rgb.height) <= 8 * min(rgb.width, rgb.height) else {
            throw AttackError.badOption("the image is \(rgb.width)×\(rgb.height) px; its sides differ more than 8 times, and the model would see a thin centre strip of it: crop it first")
        }
        if let t = settings.target {
            for m in models where !(0..<m.classCount).contains(t) {
                throw AttackError.badOption("target class \(t) is not a class of \(m.name) (0…\(m.classCount - 1))")
            }
        }
        self.settings = settings
        width = rgb.width; height = rgb.height
        // The photo as its 8-bit file stores it, so the bound holds for the bytes written.
        original = rgb.pixels.map { (min(max($0, 0), 1) * 255).rounded() / 255 }
        let largest = models.map(\.inputSize).max() ?? 224, short = min(rgb.width, rgb.height)
        let photo = original
        var (ww, wh) = (rgb.width, rgb.height)
        if settings.method == .eot && Double(short) > Self.workingLimit * Double(largest) {
            let side = Int(Self.workingSide * Double(largest))
            (ww, wh) = rgb.width <= rgb.height ? (side, max(side, Int((Double(rgb.height) * Double(side) / Double(rgb.width)).rounded())))
                                               : (max(side, Int((Double(rgb.width) * Double(side) / Double(rgb.height)).rounded())), side)
            workOriginal = try Image(width: rgb.width, height: rgb.height, channels: 3, pixels: photo).resized(width: ww, height: wh).pixels
        } else {
            workOriginal = photo
        }
        (workWidth, workHeight) = (ww, wh)
        slots = try models.map { try Slot(model: $0, width: rgb.width, height: rgb.height, workWidth: ww, workHeight: wh) }
        rng = SplitMix64(seed: settings.seed)
        adam = Adam(parameterCount: workOriginal.count)
        workDelta = [Float](repeating: 0, count: workOriginal.count)
        let first = slots[0]
        let logits = first.runner.forward(Tensor(shape: [1, first.framing.size, first.framing.size, 3], values: first.framing.apply(original)))
        cleanClass = ImagePerturber.argmax(logits.array)
        if settings.method == .pgd && settings.randomStart {
            let r = Float(settings.radius)
            for i in workDelta.indices { workDelta[i] = Float(Double(rng.next() >> 11) * 0x1p-53 * 2 - 1) * r }
            if settings.norm == .l2 { Self.projectL2(&workDelta, radius: settings.radius) }
            clampToPixels()
        }
    }

    public var isFinished: Bool { stepsDone >= settings.steps }

    var objective: ClassificationObjective { settings.target.map { .targetedCrossEntropy(target: $0) } ?? .untargeted }

    /// Whether δ is optimised at a lower resolution than the photo's (EOT on a large photo).
    public var worksBelowPhotoResolution: Bool { workWidth != width || workHeight != height }

    /// δ (H, W, 3) at the photo's resolution, in [0, 1] units, inside the ball and with
    /// original + δ in [0, 1]: the working δ itself, or its bilinear upsampling.
    public var delta: [Float] {
        guard worksBelowPhotoResolution else { return workDelta }
        var up = (try? Image(width: workWidth, height: workHeight, channels: 3, pixels: workDelta))?.resized(width: width, height: height).pixels ?? []
        if settings.norm == .l2 { Self.projectL2(&up, radius: settings.radius) }
        let r = Float(settings.radius)
        for i in up.indices { up[i] = min(max(min(max(up[i], -r), r), -original[i]), 1 - original[i]) }
        return up
    }

    /// The L2 radius at the working resolution (an upsampled δ's norm grows with the pixel count).
    var workRadius: Double {
        settings.norm == .l2 && worksBelowPhotoResolution ? settings.radius * (Double(workOriginal.count) / Double(original.count)).squareRoot() : settings.radius
    }

    /// original + δ, in [0, 1].
    public var adversarial: [Float] { zip(original, delta).map { min(max($0 + $1, 0), 1) } }

    /// The working copy + the working δ, in [0, 1]: what EOT renders.
    var workAdversarial: [Float] { zip(workOriginal, workDelta).map { min(max($0 + $1, 0), 1) } }

    /// The adversarial photo as 8-bit values / 255 within the bound exactly: L∞: each value within
    /// ⌊ε⌋ of the original's byte; L2: each byte offset rounded toward zero, so the norm of the
    /// written offset is at most that of δ (≤ ε).
    public var quantizedAdversarial: [Float] {
        let limit = settings.norm == .linf ? Float(settings.epsilon.rounded(.down)) : .infinity
        return zip(original, delta).map { o, d in
            let step = settings.norm == .linf ? (d * 255).rounded() : (d * 255).rounded(.towardZero)
            let q = min(max(step, -limit), limit)
            return min(max((o * 255 + q).rounded(), 0), 255) / 255
        }
    }

    /// One step: FGSM's single step, a PGD step, or an EOT step. Returns its metrics.
    @discardableResult
    public func step() throws -> PerturbStepMetrics {
        let (gradient, metrics) = settings.method == .eot ? try eotGradient(workAdversarial) : framedGradient(adversarial)
        guard gradient.allSatisfy({ $0.isFinite }) else {
            throw AttackError.badOption("the gradient became NaN/infinite at step \(stepsDone); lower the learning rate or step size")
        }
        let r = settings.radius
        switch settings.method {
        case .fgsm:
            workDelta = settings.norm == .linf ? gradient.map { Float(-r) * Self.sign($0) } : Self.scaled(gradient, to: -r)
        case .pgd:
            let alpha = (settings.stepSize ?? 2.5 / Double(settings.steps)) * r
            if settings.norm == .linf {
                for i in workDelta.indices { workDelta[i] -= Float(alpha) * Self.sign(gradient[i]) }
            } else {
                let s = Self.scaled(gradient, to: -alpha)
                for i in workDelta.indices { workDelta[i] += s[i] }
            }
        case .eot:
            // Cosine decay of the learning rate to a tenth of its first value.
            let lr0 = (settings.learningRate ?? 0.5) * r
            let progress = Double(stepsDone) / Double(max(settings.steps - 1, 1))
            let lr = lr0 * (0.1 + 0.9 * 0.5 * (1 + cos(.pi * progress)))
            adam.update(&workDelta, gradient: gradient, learningRate: lr)
        }
        project()
        var m = metrics
        m.step = stepsDone + 1
        curve.append(m)
        stepsDone += 1
        return m
    }

    /// δ into the ε-ball, then original + δ into [0, 1].
    func project() {
        if settings.norm == .linf {
            let r = Float(settings.radius)
            for i in workDelta.indices { workDelta[i] = min(max(workDelta[i], -r), r) }
        } else {
            Self.projectL2(&workDelta, radius: workRadius)
        }
        clampToPixels()
    }

    func clampToPixels() {
        for i in workDelta.indices { workDelta[i] = min(max(workDelta[i], -workOriginal[i]), 1 - workOriginal[i]) }
    }

    static func projectL2(_ v: inout [Float], radius: Double) {
        let n = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        if n > radius { let s = Float(radius / n); for i in v.indices { v[i] *= s } }
    }

    /// g scaled to Euclidean length `length` (sign included); zero stays zero.
    static func scaled(_ g: [Float], to length: Double) -> [Float] {
        let n = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        guard n > 0 else { return g.map { _ in 0 } }
        let s = Float(length / n)
        return g.map { $0 * s }
    }

    @inline(__always) static func sign(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }

    static func argmax(_ v: [Float]) -> Int {
        var best = 0
        for j in v.indices where v[j] > v[best] { best = j }
        return best
    }

    /// d loss / d photo through each model's framing (the mean over models), and the metrics.
    func framedGradient(_ adv: [Float]) -> ([Float], PerturbStepMetrics) {
        var gradient = [Float](repeating: 0, count: adv.count)
        var loss = 0.0, prob = 0.0, wins = 0
        for slot in slots {
            let s = slot.framing.size
            let logits = slot.runner.forward(Tensor(shape: [1, s, s, 3], values: slot.framing.apply(adv)))
            var (l, _, d) = objective.evaluate(logits: logits, cleanClasses: [cleanClass])
            if slots.count > 1 { d.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] /= Float(slots.count) } } }
            let dImage = slot.runner.backward(d)
            gradient.withUnsafeMutableBufferPointer { g in slot.framing.adjoint(dImage.unsafePointer, accumulateInto: g.baseAddress!) }
            let (p, won) = Self.score(logits, target: settings.target, clean: cleanClass)
            loss += l / Double(slots.count); prob += p / Double(slots.count); wins += won
        }
        return (gradient, PerturbStepMetrics(step: stepsDone, loss: loss, probability: prob, success: Double(wins) / Double(slots.count)))
    }

    /// The loss and d loss / d photo (H, W, 3) as each model frames the photo (`classify`'s
    /// view), the mean over models: the direction FGSM and PGD step along.
    public func framedLossGradient(_ photo: [Float]) throws -> (loss: Double, gradient: [Float]) {
        try checkPhoto(photo)
        let (g, m) = framedGradient(photo)
        return (m.loss, g)
    }

    /// The loss and d loss / d photo averaged over `samples` (whole-photo transformations) and
    /// models; the photo at the working resolution (`workWidth` × `workHeight`).
    public func transformedLossGradient(_ photo: [Float], samples: [ImageSample]) throws -> (loss: Double, gradient: [Float]) {
        guard photo.count == workOriginal.count else {
            throw AttackError.badOption("a photo of \(photo.count) values for a \(workWidth)×\(workHeight) RGB working copy")
        }
        guard !samples.isEmpty else { throw AttackError.badOption("give at least one transformation") }
        let (g, m) = try eotGradient(photo, samples: samples)
        return (m.loss, g)
    }

    func checkPhoto(_ photo: [Float]) throws {
        guard photo.count == original.count else {
            throw AttackError.badOption("a photo of \(photo.count) values for a \(width)×\(height) RGB perturbation")
        }
    }

    /// The mean gradient over `batch` sampled transformations per model.
    func eotGradient(_ adv: [Float]) throws -> ([Float], PerturbStepMetrics) {
        let samples = (0..<settings.batch).map { _ in settings.distribution.sample(using: &rng) }
        return try eotGradient(adv, samples: samples)
    }

    func eotGradient(_ adv: [Float], samples: [ImageSample]) throws -> ([Float], PerturbStepMetrics) {
        let b = samples.count
        var gradient = [Float](repeating: 0, count: adv.count)
        var loss = 0.0, prob = 0.0, wins = 0
        for slot in slots {
            let s = slot.framing.size, pixels = s * s * 3
            let images = Tensor(zeros: [b, s, s, 3])
            let caches = try render(slot: slot, photo: adv, samples: samples, into: images)
            let logits = slot.runner.forward(images)
            var (l, _, d) = objective.evaluate(logits: logits, cleanClasses: Array(repeating: cleanClass, count: b))
            if slots.count > 1 { d.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] /= Float(slots.count) } } }
            let dImages = slot.runner.backward(d)
            // The renderer's backward per sample, a thread's worth at a time into its own buffer,
            // then summed in sample order.
            let group = max(1, Parallel.threadCount)
            var buffers = [[Float]](repeating: [Float](repeating: 0, count: adv.count), count: min(group, b))
            var start = 0
            while start < b {
                let count = min(group, b - start)
                var failure: (any Error)? = nil
                let lock = NSLock()
                try buffers.withUnsafeMutableBufferPointer { bufs in
                    let base = UncheckedSendable(bufs)
                    Parallel.forEachItem(count) { k in
                        let i = start + k
                        base.value[k].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
                        do {
                            try base.value[k].withUnsafeMutableBufferPointer { dp in
                                try slot.renderer.backward(dImage: UnsafeBufferPointer(start: dImages.unsafePointer + i * pixels, count: pixels),
                                                           cache: caches[i], dPhoto: dp)
                            }
                        } catch { lock.lock(); failure = failure ?? error; lock.unlock() }
                    }
                    if let failure { throw failure }
                }
                for k in 0..<count { for j in gradient.indices { gradient[j] += buffers[k][j] } }
                start += count
            }
            let logitsArray = logits.array, k = logits.shape[1]
            for i in 0..<b {
                let (p, won) = Self.score(Tensor(shape: [1, k], values: Array(logitsArray[(i * k)..<((i + 1) * k)])), target: settings.target, clean: cleanClass)
                prob += p / Double(b * slots.count); wins += won
            }
            loss += l / Double(slots.count)
        }
        return (gradient, PerturbStepMetrics(step: stepsDone, loss: loss, probability: prob, success: Double(wins) / Double(b * slots.count)))
    }

    /// Renders `photo` for every sample into `images` (parallel over samples).
    func render(slot: Slot, photo: [Float], samples: [ImageSample], into images: Tensor) throws -> [RenderCache] {
        try Self.render(photo, with: slot.renderer, samples: samples, into: images.unsafePointer)
    }

    /// Renders `photo` for every sample, one (size, size, 3) image after another from `images`,
    /// in parallel over samples (one at a time to whichever core is free); the caches in sample
    /// order. What EOT and `evaluate --image` both render with.
    public static func render(_ photo: [Float], with renderer: ImageRenderer, samples: [ImageSample],
                              into images: UnsafeMutablePointer<Float>) throws -> [RenderCache] {
        let pixels = renderer.framing.size * renderer.framing.size * 3
        var caches = [RenderCache?](repeating: nil, count: samples.count)
        var failure: (any Error)? = nil
        let lock = NSLock()
        let out = UncheckedSendable(images)
        photo.withUnsafeBufferPointer { p in
            caches.withUnsafeMutableBufferPointer { cb in
                let c = UncheckedSendable(cb)
                Parallel.forEachItem(samples.count) { i in
                    do {
                        c.value[i] = try renderer.forward(photo: p, sample: samples[i],
                                                          image: UnsafeMutableBufferPointer(start: out.value + i * pixels, count: pixels))
                    } catch { lock.lock(); failure = failure ?? error; lock.unlock() }
                }
            }
        }
        if let failure { throw AttackError.badOption("rendering a transformed photo failed: \(failure)") }
        return caches.map { $0! }
    }

    /// (probability of the target or clean class, 1 when the sample is won).
    static func score(_ logits: Tensor, target: Int?, clean: Int) -> (Double, Int) {
        let p = Softmax.forward(logits).array
        let top = argmax(logits.array)
        if let t = target { return (Double(p[t]), top == t ? 1 : 0) }
        return (Double(p[clean]), top != clean ? 1 : 0)
    }
}

extension ModelInputOperator {
    /// The same framing for the renderer (Transforms does not know `Imaging`).
    public var imageFraming: ImageFraming {
        ImageFraming(width: inputWidth, height: inputHeight, size: size, resizedWidth: resizedWidth, resizedHeight: resizedHeight, left: left, top: top)
    }
}
