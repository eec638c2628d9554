// robustpatch-bench: throughput of the engine (not a timed test). Prints samples/s for
// forward-only and forward + backward-to-input at batch 1 and 16, and a JSON line for scripts.
// Scripts/bench.sh runs it next to PyTorch (Scripts/bench_torch.py) in one go.
import Attack
import Foundation
import Networks
import Transforms

struct Options {
    var model = "lite0"
    var seconds = 5.0
    var batches = [1, 16]
    var eot = false
    var scenes = "Samples/scenes"
    var preset = "digital"
    init(_ args: [String]) throws {
        var it = args.dropFirst().makeIterator()
        while let a = it.next() {
            switch a {
            case "--model": model = it.next() ?? model
            case "--seconds": seconds = Double(it.next() ?? "") ?? seconds
            case "--batches": batches = (it.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--eot": eot = true
            case "--scenes": scenes = it.next() ?? scenes
            case "--preset": preset = it.next() ?? preset
            case "-h", "--help":
                print("usage: robustpatch-bench [--model lite0] [--seconds 5] [--batches 1,16] [--eot [--scenes DIR] [--preset digital|photo|…]]"); exit(0)
            default: throw ModelError.badInput("unknown option \(a); see --help")
            }
        }
    }
}

func measure(seconds: Double, _ body: () -> Void) -> (iterations: Int, elapsed: Double) {
    body()  // warm-up: allocates the workspace
    body()
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
    var results: [[String: Any]] = []
    let distribution = try TransformDistribution.preset(named: opts.preset)
    print("EOT step, \(model.name), \(opts.preset) preset, 64×64 circle, threads \(Parallel.threadCount)")
    print("batch   s/step   samples/s")
    for batch in opts.batches {
        var c = GenerateConfig()
        c.batch = batch; c.steps = 1_000_000; c.validationSamples = 1
        c.presetName = opts.preset; c.distribution = distribution
        let trainer = try PatchTrainer(config: c, models: [model], train: train, validation: val)
        let r = measure(seconds: opts.seconds) { _ = try? trainer.step() }
        let perStep = r.elapsed / Double(r.iterations)
        print(String(format: "%5d  %7.3f  %10.1f", batch, perStep, Double(batch) / perStep))
        results.append(["batch": batch, "seconds_per_step": perStep, "samples_per_s": Double(batch) / perStep])
    }
    if Profiler.shared.enabled { print(Profiler.shared.report()) }
    let data = try JSONSerialization.data(withJSONObject: ["engine": "robustpatch", "mode": "eot", "results": results], options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

do {
    let opts = try Options(CommandLine.arguments)
    if opts.eot { try benchmarkEOT(opts); exit(0) }
    let model = try ModelZoo.load(opts.model)
    let s = model.inputSize
    let runner = ModelRunner(model: model)
    let gflop = 2 * Double(model.multiplyAdds(size: s)) / 1e9
    print("model \(model.name) \(s)×\(s), \(String(format: "%.3f", gflop)) GFLOP per forward, threads \(Parallel.threadCount)")
    print("batch  mode              samples/s   ms/batch   GFLOP/s")
    var results: [[String: Any]] = []
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
            print(String(format: "%5d  %-16@  %9.1f  %9.1f  %8.1f", batch, mode, sps, 1000 * r.elapsed / Double(r.iterations), sps * gflop * factor))
            results.append(["batch": batch, "mode": mode, "samples_per_s": sps])
        }
    }
    if Profiler.shared.enabled { print(Profiler.shared.report()) }
    let data = try JSONSerialization.data(withJSONObject: ["engine": "robustpatch", "model": model.name, "results": results], options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
