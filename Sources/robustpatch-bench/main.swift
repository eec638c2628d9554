// robustpatch-bench: throughput of the engine (not a timed test). Prints samples/s for
// forward-only and forward + backward-to-input at batch 1 and 16, and a JSON line for scripts;
// --eot times whole PatchTrainer steps, --renderer the differentiable renderer alone.
// Scripts/bench.sh runs it next to PyTorch (Scripts/bench_torch.py) in one go.
import Attack
import Foundation
import Networks
import Tensors
import Transforms

struct Options {
    var model = "lite0"
    var seconds = 5.0
    var batches = [1, 16]
    var eot = false
    var renderer = false
    var scenes = "Samples/scenes"
    /// nil: each mode's default (digital for --eot, tabletop for --renderer).
    var preset: String?
    init(_ args: [String]) throws {
        var it = args.dropFirst().makeIterator()
        while let a = it.next() {
            switch a {
            case "--model": model = it.next() ?? model
            case "--seconds": seconds = Double(it.next() ?? "") ?? seconds
            case "--batches": batches = (it.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--eot": eot = true
            case "--renderer": renderer = true
            case "--scenes": scenes = it.next() ?? scenes
            case "--preset": preset = it.next() ?? preset
            case "-h", "--help":
                print("usage: robustpatch-bench [--model lite0] [--seconds 5] [--batches 1,16] [--eot [--scenes DIR] [--preset digital|photo|…]]")
                print("       robustpatch-bench --renderer [--seconds 5] [--preset tabletop|digital|photo|identity]"); exit(0)
            default: throw ModelError.badInput("unknown option \(a); see --help")
            }
        }
    }
}

/// The JSON line for scripts (Scripts/bench.sh), keys in snake_case and sorted.
struct BenchLine: Encodable {
    struct Result: Encodable {
        var batch: Int; var mode: String?; var secondsPerStep: Double?; var samplesPerS: Double; var percentOfPeak: Double? = nil
    }
    var engine = "robustpatch"
    var mode: String?
    var model: String?
    var preset: String?
    var samples: Int?
    var forwardMs: Double?
    var backwardMs: Double?
    var results: [Result]?
    var peakGflops: Double?
    var kernel: String?

    func print() throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        Swift.print(String(decoding: try e.encode(self), as: UTF8.self))
    }
}

func measure(seconds: Double, warmUp: Bool = true, _ body: () -> Void) -> (iterations: Int, elapsed: Double) {
    if warmUp { body(); body() }  // allocates the workspace
    let start = DispatchTime.now().uptimeNanoseconds
    var n = 0
    var elapsed = 0.0
    repeat {
        body(); n += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < seconds
    return (n, elapsed)
}

/// EOT step throughput: PatchTrainer steps (sampling, rendering, model forward + backward,
/// renderer backward, TV, Adam) on a preset (--preset, default digital), 64×64 circle texture,
/// batch from --batches.
func benchmarkEOT(_ opts: Options) throws {
    let model = try ModelZoo.load(opts.model)
    let (train, val) = try SceneSet.trainValidation(directory: opts.scenes)
    var results: [BenchLine.Result] = []
    let presetName = opts.preset ?? "digital"
    let distribution = try TransformDistribution.preset(named: presetName)
    print("EOT step, \(model.name), \(presetName) preset, 64×64 circle, threads \(Parallel.threadCount)")
    print("batch   s/step   samples/s")
    for batch in opts.batches {
        var c = GenerateConfig()
        c.batch = batch; c.steps = 1_000_000; c.validationSamples = 1
        c.presetName = presetName; c.distribution = distribution
        let trainer = try PatchTrainer(config: c, models: [model], train: train, validation: val)
        // Two warm-up steps (workspace allocation), then the profile counts only timed steps.
        for _ in 0..<2 { _ = try? trainer.step() }
        Profiler.shared.reset()
        let r = measure(seconds: opts.seconds, warmUp: false) { _ = try? trainer.step() }
        let perStep = r.elapsed / Double(r.iterations)
        print(String(format: "%5d  %7.3f  %10.1f", batch, perStep, Double(batch) / perStep))
        results.append(.init(batch: batch, secondsPerStep: perStep, samplesPerS: Double(batch) / perStep))
        if Profiler.shared.enabled { printStages(stepSeconds: perStep) }
    }
    try BenchLine(mode: "eot", results: results).print()
}

/// Where one EOT step's time goes (ROBUSTPATCH_PROFILE=1): the trainer's top-level stages per
/// step (their totals over the timed steps, over their call counts) and
/// the rest of the step (sampling, loss, TV, Adam, thread hand-offs) as the difference.
func printStages(stepSeconds: Double) {
    let stages = [("eot render", "render (printer, warp, lighting, camera effects)"), ("eot model forward", "model forward"),
                  ("eot model backward", "model backward to the input"), ("eot render backward", "render backward to the texture")]
    let totals = Profiler.shared.snapshot()
    print("       stage                                               ms/step   % of step")
    var accounted = 0.0
    for (key, label) in stages {
        guard let t = totals[key], t.calls > 0 else { continue }
        let perStep = t.seconds / Double(t.calls)
        accounted += perStep
        print("       " + label.padding(toLength: 50, withPad: " ", startingAt: 0) + String(format: "  %8.1f  %9.1f", perStep * 1000, 100 * perStep / stepSeconds))
    }
    let rest = max(stepSeconds - accounted, 0)
    print("       " + "rest (sampling, loss, TV, Adam)".padding(toLength: 50, withPad: " ", startingAt: 0)
          + String(format: "  %8.1f  %9.1f", rest * 1000, 100 * rest / stepSeconds))
}

/// Renderer throughput, one sample at a time (single-threaded, as PatchTrainer calls it per
/// sample): forward (printer, mip pyramid, warp, lighting, composite, camera effects) and backward
/// to the texture, 224×224 scene, 96×96 circle texture, samples cycled from 256 seeded draws of a
/// preset (--preset, default tabletop). Random texture, scene and d image: the cost does not
/// depend on the values.
func benchmarkRenderer(_ opts: Options) throws {
    let (tw, sw) = (96, 224)
    let presetName = opts.preset ?? "tabletop"
    let distribution = try TransformDistribution.preset(named: presetName)
    let r = try Renderer(textureWidth: tw, textureHeight: tw, sceneWidth: sw, sceneHeight: sw)
    var rng = SplitMix64(seed: 1)
    func uniform(_ n: Int, _ lo: Float, _ hi: Float) -> [Float] {
        (0..<n).map { _ in lo + (hi - lo) * Float(Double(rng.next() >> 11) * 0x1p-53) }
    }
    let texture = uniform(tw * tw * 3, 0, 1), scene = uniform(sw * sw * 3, 0, 1)  // (96, 96, 3), (224, 224, 3)
    let dImage = uniform(sw * sw * 3, -1, 1)                                        // (224, 224, 3)
    let mask = try Mask.circle(width: tw, height: tw).alpha                          // (96, 96)
    let samples = (0..<256).map { _ in distribution.sample(imageWidth: sw, imageHeight: sw, using: &rng) }
    var image = [Float](repeating: 0, count: sw * sw * 3), dTexture = [Float](repeating: 0, count: tw * tw * 3)
    let clock = ContinuousClock()
    var forward = Duration.zero, backward = Duration.zero, n = 0
    func one(_ s: TransformSample) throws -> (Duration, Duration) {
        var cache: RenderCache?
        let f = try clock.measure {
            cache = try texture.withUnsafeBufferPointer { t in try mask.withUnsafeBufferPointer { m in try scene.withUnsafeBufferPointer { sc in
                try image.withUnsafeMutableBufferPointer { i in try r.forward(texture: t, mask: m, scene: sc, sample: s, image: i) } } } }
        }
        guard let cache else { return (f, .zero) }
        let b = try clock.measure { try r.backward(dImage: dImage, cache: cache, dTexture: &dTexture) }
        return (f, b)
    }
    for s in samples.prefix(8) { _ = try one(s) }  // warm-up
    let start = clock.now
    repeat {
        let (f, b) = try one(samples[n % samples.count])
        forward += f; backward += b; n += 1
    } while clock.now - start < .seconds(opts.seconds) || n < samples.count
    func ms(_ d: Duration) -> Double {
        let c = d.components
        return (Double(c.seconds) * 1e3 + Double(c.attoseconds) * 1e-15) / Double(n)
    }
    print("Renderer, \(presetName) preset, \(sw)×\(sw) scene, \(tw)×\(tw) circle texture, \(n) samples (single-threaded)")
    print(String(format: "forward %.3f ms, backward %.3f ms per sample", ms(forward), ms(backward)))
    try BenchLine(mode: "renderer", preset: presetName, samples: n, forwardMs: ms(forward), backwardMs: ms(backward)).print()
}

do {
    let opts = try Options(CommandLine.arguments)
    if opts.renderer { try benchmarkRenderer(opts); exit(0) }
    if opts.eot { try benchmarkEOT(opts); exit(0) }
    let model = try ModelZoo.load(opts.model)
    let s = model.inputSize
    let runner = ModelRunner(model: model)
    let gflop = 2 * Double(model.multiplyAdds(size: s)) / 1e9
    print("model \(model.name) \(s)×\(s), \(String(format: "%.3f", gflop)) GFLOP per forward, threads \(Parallel.threadCount), "
          + "pointwise GEMM: \(Gemm.usesAVX512 ? "AVX-512 packed kernel (ROBUSTPATCH_KERNELS=avx512)" : "OpenBLAS")")
    let peak = Peak.measure(seconds: 1)
    if let peak {
        print(String(format: "peak: %.0f GFLOP/s fp32 (%@ FMA loop, %d threads)", peak.gflops, peak.instructions, peak.threads))
    }
    print("batch  mode              samples/s   ms/batch   GFLOP/s  % of peak")
    var results: [BenchLine.Result] = []
    for batch in opts.batches {
        let x = Tensor(zeros: [batch, s, s, 3])
        let logits = Tensor(zeros: [batch, model.classCount])
        let dLogits = Tensor(shape: [batch, model.classCount], values: (0..<(batch * model.classCount)).map { Float($0 % 7) * 1e-3 })
        let dx = Tensor(zeros: [batch, s, s, 3])
        for (mode, factor) in [("forward", 1.0), ("forward+backward", 2.0)] {
            let r = measure(seconds: opts.seconds) {
                runner.forward(x.unsafePointer, n: batch, height: s, width: s, logits: logits.unsafePointer)
                if factor > 1 { runner.backward(dLogits.unsafePointer, into: dx.unsafePointer) }
            }
            let sps = Double(r.iterations * batch) / r.elapsed
            let rate = sps * gflop * factor
            print(String(format: "%5d  %-16@  %9.1f  %9.1f  %8.1f  %8@", batch, mode, sps, 1000 * r.elapsed / Double(r.iterations), rate,
                         peak.map { String(format: "%.1f %%", 100 * rate / $0.gflops) } ?? "-"))
            results.append(.init(batch: batch, mode: mode, samplesPerS: sps, percentOfPeak: peak.map { 100 * rate / $0.gflops }))
        }
    }
    if Profiler.shared.enabled { print(Profiler.shared.report()) }
    try BenchLine(model: model.name, results: results, peakGflops: peak?.gflops, kernel: Gemm.usesAVX512 ? "avx512" : "openblas").print()
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
