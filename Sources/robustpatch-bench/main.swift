// robustpatch-bench: throughput of the engine (not a timed test). Prints samples/s for
// forward-only and forward + backward-to-input at batch 1 and 16, and a JSON line for scripts;
// --eot times whole PatchTrainer steps, --renderer the differentiable renderer alone.
// Scripts/bench.sh runs it next to PyTorch (Scripts/bench_torch.py) in one go.
import Attack
import Foundation
import Networks
import ONNX
import Tensors
import Transforms

struct Options {
    var model = "lite0"
    var seconds = 5.0
    var batches = [1, 16]
    var eot = false
    var renderer = false
    var layers = false
    var cold = false
    var scenes = "Samples/scenes"
    /// nil: each mode's default (digital for --eot, tabletop for --renderer).
    var preset: String?
    /// An .onnx file: forward and forward + backward-to-input of the mapped graph.
    var onnx: String?
    var inputSize = 224
    init(_ args: [String]) throws {
        var it = args.dropFirst().makeIterator()
        while let a = it.next() {
            switch a {
            case "--model": model = it.next() ?? model
            case "--seconds": seconds = Double(it.next() ?? "") ?? .nan    // checked below
            case "--batches": batches = (it.next() ?? "").split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
            case "--eot": eot = true
            case "--renderer": renderer = true
            case "--layers": layers = true
            case "--cold": cold = true
            case "--scenes": scenes = it.next() ?? scenes
            case "--preset": preset = it.next() ?? preset
            case "--onnx": onnx = it.next()
            case "--input-size": inputSize = Int(it.next() ?? "") ?? 0
            case "-h", "--help":
                print("usage: robustpatch-bench [--model lite0] [--seconds 5] [--batches 1,16] [--eot [--scenes DIR] [--preset digital|photo|…]]")
                print("       robustpatch-bench --renderer [--seconds 5] [--preset tabletop|digital|photo|identity]")
                print("       robustpatch-bench --onnx FILE [--input-size 224] [--batches 1,16] [--seconds 5]   (an ONNX classifier on the engine)")
                print("       robustpatch-bench --layers [--model lite0] [--batches 16] [--cold]   (each distinct layer alone, fastest of repeats;")
                print("                                                     --cold: 128 MiB written by both threads before each run, caches cold)"); exit(0)
            default: throw ModelError.badInput("unknown option \(a); see --help")
            }
        }
        guard !batches.isEmpty, batches.allSatisfy({ (1...256).contains($0) }) else {
            throw ModelError.badInput("--batches needs comma-separated batch sizes from 1 to 256, e.g. 1,16")
        }
        guard seconds.isFinite, seconds > 0, seconds <= 3600 else {
            throw ModelError.badInput("--seconds needs a duration above 0 and at most 3600")
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

/// An ONNX classifier mapped onto the engine: samples/s of the forward pass and of forward +
/// backward to the input (dLogits: a one-hot row per sample), on a fixed pseudo-random image.
func benchmarkONNX(_ opts: Options, path: String) throws {
    let net = try ONNXNetwork(try ONNXModel.load(path: path), inputSize: opts.inputSize)
    print("ONNX \((path as NSString).lastPathComponent), \(opts.inputSize)×\(opts.inputSize), \(net.classCount) classes, threads \(Parallel.threadCount)")
    print("batch  mode                 samples/s")
    var results: [BenchLine.Result] = []
    for batch in opts.batches {
        var state: UInt32 = 12345
        let x = Tensor(shape: [batch, opts.inputSize, opts.inputSize, 3], values: (0..<(batch * opts.inputSize * opts.inputSize * 3)).map { _ in
            state = state &* 1664525 &+ 1013904223; return Float(state >> 8) / Float(1 << 24)
        })
        var d = [Float](repeating: 0, count: batch * net.classCount)
        for i in 0..<batch { d[i * net.classCount + (859 % net.classCount)] = 1 }
        let dLogits = Tensor(shape: [batch, net.classCount], values: d)
        let spaces = (0..<Parallel.threadCount).map { _ in Workspace() }   // as ONNXRunner keeps them
        for (mode, body) in [("forward", { _ = net.record(x, workspaces: spaces) }),
                             ("forward+backward", { _ = net.backward(dLogits, tape: net.record(x, workspaces: spaces), workspaces: spaces) })] as [(String, () -> Void)] {
            let r = measure(seconds: opts.seconds, body)
            let rate = Double(batch * r.iterations) / r.elapsed
            print(String(format: "%5d  ", batch) + mode.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %10.1f", rate))
            results.append(.init(batch: batch, mode: mode, samplesPerS: rate))
        }
    }
    try BenchLine(mode: "onnx", model: (path as NSString).lastPathComponent, results: results).print()
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
        if Profiler.shared.enabled { printStages(stepSeconds: perStep); print(Profiler.shared.report()) }
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

/// Each distinct layer of the model alone (expand, depthwise, project, stem, head at their input
/// sizes), forward and backward to the input, on random activations: the fastest of several
/// repeats (robust to a noisy machine), with the time's share of one forward + backward.
func benchmarkLayers(_ opts: Options) throws {
    let model = try ModelZoo.load(opts.model)
    let batch = opts.batches.last ?? 16
    let ws = Workspace()
    // --cold: both threads write 128 MiB before each timed run, so the layer's data comes from DRAM.
    let flushCount = opts.cold ? 32 << 20 : 0
    let flush = UnsafeMutablePointer<Float>.allocate(capacity: max(flushCount, 1))
    flush.initialize(repeating: 0, count: max(flushCount, 1))
    defer { flush.deallocate() }
    let cold = opts.cold
    func fastest(_ body: () -> Void) -> Double {
        body()
        var best = Double.infinity, total = 0.0
        for _ in 0..<7 where total < 1.5 {
            if cold { Parallel.forEachChunk(2, work: Int.max) { r in for c in r { let lo = flushCount / 2 * c; for i in stride(from: lo, to: lo + flushCount / 2, by: 16) { flush[i] += 1 } } } }
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = min(best, dt); total += dt
        }
        return best
    }
    func buffer(_ count: Int, _ seed: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { p[i] = Float((i &* 7919 &+ seed) % 1000) / 1000 * 4 - 1 }
        return p
    }
    struct Row { var name: String; var count: Int; var forward: Double; var backward: Double }
    var rows: [Row] = []
    var seen: [String: Int] = [:]
    func add(_ name: String, _ f: Double, _ b: Double) {
        if let i = seen[name] { rows[i].count += 1 } else { seen[name] = rows.count; rows.append(Row(name: name, count: 1, forward: f, backward: b)) }
    }
    func conv(_ label: String, _ c: Conv2D, _ h: Int) {
        let name = "\(label) \(c.inputChannels)→\(c.outputChannels) @\(h)"
        if seen[name] != nil { add(name, 0, 0); return }
        let g = c.geometry(inputHeight: h, inputWidth: h)
        let x = buffer(batch * h * h * c.inputChannels, 1), y = buffer(batch * g.outputHeight * g.outputWidth * c.outputChannels, 2)
        let dy = buffer(batch * g.outputHeight * g.outputWidth * c.outputChannels, 3), dx = buffer(batch * h * h * c.inputChannels, 4)
        let f = fastest { c.forward(x, n: batch, height: h, width: h, into: y, workspace: ws) }
        let b = fastest { c.backward(dy: dy, y: y, n: batch, height: h, width: h, into: dx, workspace: ws) }
        for p in [x, y, dy, dx] { p.deallocate() }
        add(name, f, b)
    }
    var h = model.inputSize
    conv("stem", model.stem, h)
    h = model.stem.geometry(inputHeight: h, inputWidth: h).outputHeight
    for block in model.blocks {
        if let e = block.expand { conv("expand", e, h) }
        let d = block.depthwise, g = d.geometry(inputHeight: h, inputWidth: h)
        let name = "dw k\(d.kernelSize) s\(d.stride) c\(d.channels) @\(h)"
        if seen[name] != nil { add(name, 0, 0) } else {
            let x = buffer(batch * h * h * d.channels, 5), y = buffer(batch * g.outputHeight * g.outputWidth * d.channels, 6)
            let dy = buffer(batch * g.outputHeight * g.outputWidth * d.channels, 7), dx = buffer(batch * h * h * d.channels, 8)
            let f = fastest { d.forward(x, n: batch, height: h, width: h, into: y) }
            let b = fastest { d.backward(dy: dy, y: y, n: batch, height: h, width: h, into: dx) }
            for p in [x, y, dy, dx] { p.deallocate() }
            add(name, f, b)
        }
        h = g.outputHeight
        conv("project", block.project, h)
    }
    conv("head", model.head, h)
    let total = rows.reduce(0.0) { $0 + Double($1.count) * ($1.forward + $1.backward) }
    print("\(model.name), batch \(batch), each layer alone, fastest of up to 7 runs, threads \(Parallel.threadCount)")
    print("layer                          ×   fwd ms   bwd ms   share of fwd+bwd")
    for r in rows {
        print(r.name.padding(toLength: 30, withPad: " ", startingAt: 0)
              + String(format: " %2d %8.2f %8.2f   %5.1f %%", r.count, r.forward * 1000, r.backward * 1000, 100 * Double(r.count) * (r.forward + r.backward) / total))
    }
    let fwd = rows.reduce(0.0) { $0 + Double($1.count) * $1.forward }
    print(String(format: "sum: forward %.1f ms, backward %.1f ms per batch of %d", fwd * 1000, (total - fwd) * 1000, batch))
}

do {
    let opts = try Options(CommandLine.arguments)
    if opts.layers { try benchmarkLayers(opts); exit(0) }
    if opts.renderer { try benchmarkRenderer(opts); exit(0) }
    if opts.eot { try benchmarkEOT(opts); exit(0) }
    if let path = opts.onnx { try benchmarkONNX(opts, path: path); exit(0) }
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
        let x = Tensor(shape: [batch, s, s, 3], values: (0..<(batch * s * s * 3)).map { Float(($0 &* 2_654_435_761) % 997) / 997 })   // a fixed pseudo-random image
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
