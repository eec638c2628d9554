// `robustpatch sweep` and `robustpatch decision-map`: the pictures that explain whole-image
// adversarial examples (Evaluation's LinearityProbe, LogitSweep, DecisionMap). Each writes a PNG
// and the CSV of its numbers beside it.
import ArgumentParser
import Evaluation
import Foundation
import Imaging
import Networks
import ONNX

/// --image, --target/--untargeted, --model, --epsilon-max, --seed: shared by both commands.
struct ProbeOptions: ParsableArguments {
    @Option(help: "The photo (PNG or JPEG).") var image: String
    @Option(help: "Target class (index or name) the gradient's sign moves toward (default: away from the clean class).") var target: String?
    @Option(name: .customLong("epsilon-max"), parsing: .unconditional, help: "Largest ε, in 8-bit units (1–255).") var epsilonMax: Double = 32
    @Option(parsing: .unconditional, help: "Seed of the random sign direction.") var seed: UInt64 = 0
    @OptionGroup var models: ModelOption

    func validate() throws {
        guard epsilonMax.isFinite, epsilonMax >= 1, epsilonMax <= 255 else { throw ValidationError("--epsilon-max is in 8-bit units and must be 1…255, got \(epsilonMax)") }
        if let specs = models.specs, specs.count != 1 { throw ValidationError("--model: give one model (these pictures are of one model), got \(specs.count)") }
    }

    func probe() throws -> LinearityProbe {
        let spec = models.specs?.first ?? "lite0"
        let flags = try models.flags()
        let labels = try ModelLoader.labels(spec, flags: flags)
        let model = try ModelLoader.load(spec, flags: flags)
        return try LinearityProbe(image: try Image.read(from: image), model: model, labels: labels,
                                  target: try target.map { try labels.index(of: $0) }, seed: seed)
    }

    static func write(_ picture: Image, csv: String, to out: String) throws -> [String] {
        let csvPath = (out as NSString).deletingPathExtension + ".csv"
        let dir = (out as NSString).deletingLastPathComponent
        if !dir.isEmpty { try AtomicFile.createFolder(dir) }
        try picture.writePNG(to: out)
        try AtomicFile.write(csv, to: csvPath)
        return [out, csvPath]
    }
}

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plot a model's logits along ε·d for the gradient's sign d (or a random sign direction): the linearity hypothesis.",
        discussion: "The photo moves at its own resolution by ε/255·d, ε from −max to +max, and is framed as classify frames it. Writes the plot (PNG) and its numbers (CSV beside it).")

    @OptionGroup var probe: ProbeOptions
    @Option(help: "gradient-sign or random.") var direction: String = "gradient-sign"
    @Option(parsing: .unconditional, help: "Points along ε (3–1001).") var points = 65
    @Option(help: "Output PNG (the CSV goes beside it).") var out: String

    func validate() throws {
        guard SweepDirection(rawValue: direction) != nil else { throw ValidationError("--direction must be gradient-sign or random, got '\(direction)'") }
        guard (3...1001).contains(points) else { throw ValidationError("--points must be 3…1001, got \(points)") }
        guard out.lowercased().hasSuffix(".png") else { throw ValidationError("--out must name a .png file, got '\(out)'") }
    }

    func run() throws {
        let p = try probe.probe()
        let sweep = LogitSweep.run(p, direction: SweepDirection(rawValue: direction)!, epsilonMax: probe.epsilonMax, points: points)
        print("sweep: \(probe.image) on \(p.model.name), clean \(p.cleanClass) \(p.labels[p.cleanClass]), along \(direction), ε ±\(probe.epsilonMax)/255")
        // Where the top-1 changes along the sweep.
        var last = -1
        for (e, c) in zip(sweep.epsilons, sweep.top1) where c != last {
            print(String(format: "  from ε %+6.1f: top-1 %d %@", e, c, p.labels[c]))
            last = c
        }
        let written = try ProbeOptions.write(sweep.image(modelName: p.model.name, target: p.target), csv: sweep.csv, to: out)
        print("wrote " + written.joined(separator: "\n      "))
    }
}

struct DecisionMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decision-map",
        abstract: "Map the predicted class over ε₁·sign(∇) × ε₂·(a random sign direction) around a photo.",
        discussion: "One colour per class with a legend of class names; the clean photo at the centre. Writes the map (PNG) and its numbers (CSV beside it).")

    @OptionGroup var probe: ProbeOptions
    @Option(parsing: .unconditional, help: "Cells per side (odd, so the clean photo is a cell; 5–201).") var resolution = 41
    @Option(help: "Output PNG (the CSV goes beside it).") var out: String

    func validate() throws {
        guard (5...201).contains(resolution), resolution % 2 == 1 else { throw ValidationError("--resolution must be odd and 5…201, got \(resolution)") }
        guard out.lowercased().hasSuffix(".png") else { throw ValidationError("--out must name a .png file, got '\(out)'") }
    }

    func run() throws {
        let p = try probe.probe()
        let n = resolution * resolution
        print("decision-map: \(probe.image) on \(p.model.name), clean \(p.cleanClass) \(p.labels[p.cleanClass]), \(resolution)×\(resolution) over ±\(probe.epsilonMax)/255")
        let started = Date()
        var lastPrint = Date()
        let map = DecisionMap.run(p, epsilonMax: probe.epsilonMax, resolution: resolution) { done in
            if Date().timeIntervalSince(lastPrint) > 2 {
                lastPrint = Date()
                let rate = Double(done) / Date().timeIntervalSince(started)
                print(String(format: "  %d/%d  ETA %.0f s", done, n, Double(n - done) / max(rate, 1e-9)))
            }
        }
        for (c, count) in map.classesByArea.prefix(6) {
            print(String(format: "  %5.1f%%  %4d %@", Double(count) / Double(n) * 100, c, p.labels[c]))
        }
        let written = try ProbeOptions.write(map.image(modelName: p.model.name, target: p.target), csv: map.csv, to: out)
        print("wrote " + written.joined(separator: "\n      "))
    }
}
