// `LinearModelDemo`: the lecture's point that linear models are fooled too (Goodfellow et al. 2015):
// train softmax regression on 8×8 digits, attack it with FGSM over a range of ε, and collect what
// the pictures and the run record show. The pictures are in LinearModelDemo+Pictures.swift; the
// command is `robustpatch linear-demo`. Not a benchmark of attacks or defences.
import Checkpoints
import Foundation
import Imaging

public struct LinearModelDemo: Sendable {
    public struct Settings: Sendable, Equatable, Codable {
        public var seed: UInt64 = 0
        /// Test images held out (stratified); the rest train.
        public var testCount = 450
        /// ε values of the error table, in units of the pixel range [0, 1] (sorted, distinct).
        public var epsilons: [Double] = Self.defaultEpsilons
        /// ε of examples.png.
        public var exampleEpsilon = 0.2
        /// Rows of examples.png (one digit each).
        public var exampleCount = 6
        public var training = SoftmaxRegression.Training()

        public static let defaultEpsilons: [Double] = (0...10).map { Double($0 * 5) / 100 }   // 0, 0.05, ..., 0.5

        public init() {}

        /// Throws `badEpsilon` unless every ε (and the example ε) is a number in [0, 1] and
        /// there are 1–100 of them.
        public func validate() throws(LinearModelError) {
            guard !epsilons.isEmpty, epsilons.count <= 100 else { throw .badEpsilon("give 1 to 100 values, got \(epsilons.count)") }
            for e in epsilons + [exampleEpsilon] where !(e.isFinite && e >= 0 && e <= 1) {
                throw .badEpsilon("\(e) is outside [0, 1] (units of the pixel range: 0.1 is 1.6 of the digits' 16 grey levels)")
            }
        }
    }

    /// One row of the error table.
    public struct Row: Sendable, Equatable, Codable {
        public var epsilon: Double
        /// Test error after FGSM with this ε (ε = 0: the clean error).
        public var fgsmError: Double
        /// Test error after random ±ε signs (the control: same size, no direction).
        public var randomSignError: Double
        enum CodingKeys: String, CodingKey { case epsilon, fgsmError = "fgsm_error", randomSignError = "random_sign_error" }
    }

    /// One row of examples.png.
    public struct Example: Sendable, Equatable, Codable {
        public var testIndex: Int
        public var label: Int
        public var clean: [Float]               // (64)
        public var cleanPrediction: Int
        public var cleanProbability: Double
        public var step: [Float]                // (64) ε·sign(∇x loss), before clipping
        public var adversarial: [Float]         // (64)
        public var adversarialPrediction: Int
        public var adversarialProbability: Double
        /// Pixels (of 64) where sign(∇x loss) = sign(w_adversarialPrediction − w_label).
        public var signAgreement: Int
        enum CodingKeys: String, CodingKey {
            case testIndex = "test_index", label, clean, cleanPrediction = "clean_prediction", cleanProbability = "clean_probability"
            case step, adversarial, adversarialPrediction = "adversarial_prediction", adversarialProbability = "adversarial_probability"
            case signAgreement = "sign_agreement"
        }
    }

    public var settings: Settings
    public var dataPath: String
    public var datasetSHA256: String
    public var datasetCount: Int
    public var trainCount: Int
    public var testCount: Int
    public var model: SoftmaxRegression
    public var trainingLosses: [Double]
    public var trainAccuracy: Double
    public var testAccuracy: Double
    public var rows: [Row]
    public var examples: [Example]
    /// Over the test set: mean pixels (of 64) where sign(∇x loss) = sign(w_runner-up − w_label),
    /// the runner-up being the clean image's second most likely digit.
    public var meanSignAgreement: Double
    public var trainingSeconds: Double

    /// Loads the CSV at `dataPath`, splits, trains, attacks. Deterministic for the settings.
    public static func run(dataPath: String, settings: Settings) throws -> LinearModelDemo {
        try settings.validate()
        let data = try DigitsDataset(contentsOf: dataPath)
        let sha: String
        do { sha = try sha256Hex(ofFileAt: dataPath) } catch { throw LinearModelError.unreadable(path: dataPath, reason: "\(error)") }
        let (train, test) = data.split(testCount: settings.testCount, seed: settings.seed)
        let start = Date()
        let (model, losses) = SoftmaxRegression.train(on: train, settings.training)
        let seconds = Date().timeIntervalSince(start)
        let epsilons = Array(Set(settings.epsilons)).sorted()
        let rows = epsilons.enumerated().map { (k, e) in
            Row(epsilon: e, fgsmError: FGSM.error(on: test, model: model, epsilon: e),
                randomSignError: FGSM.randomSignError(on: test, model: model, epsilon: e, seed: settings.seed &+ UInt64(k) &* 0x9E37_79B9))
        }
        var agreement = 0
        for i in 0..<test.count {
            let x = test.image(i), y = test.labels[i], p = model.probabilities(x)
            let runnerUp = p.indices.filter { $0 != y }.max { p[$0] < p[$1] } ?? (y + 1) % 10
            agreement += FGSM.signAgreement(x, label: y, other: runnerUp, model: model)
        }
        return LinearModelDemo(settings: settings, dataPath: dataPath, datasetSHA256: sha, datasetCount: data.count,
                          trainCount: train.count, testCount: test.count, model: model, trainingLosses: losses,
                          trainAccuracy: model.accuracy(on: train), testAccuracy: model.accuracy(on: test), rows: rows,
                          examples: examples(test: test, model: model, epsilon: settings.exampleEpsilon, count: settings.exampleCount),
                          meanSignAgreement: test.count > 0 ? Double(agreement) / Double(test.count) : 0,
                          trainingSeconds: seconds)
    }

    /// Up to `count` test images, each of a different digit (the first in the split's order),
    /// right when clean: preferably confident (p ≥ 0.9) and wrong after FGSM at `epsilon`; when
    /// too few are, others fill the rest. Sorted by digit.
    static func examples(test: DigitsDataset, model: SoftmaxRegression, epsilon: Double, count: Int) -> [Example] {
        func example(_ i: Int) -> Example {
            let x = test.image(i), y = test.labels[i]
            let pc = model.probabilities(x), c = SoftmaxRegression.argmax(pc)
            let adv = FGSM.perturb(x, label: y, epsilon: epsilon, model: model)
            let pa = model.probabilities(adv), a = SoftmaxRegression.argmax(pa)
            // The class the step pushes towards: the adversarial prediction, else the runner-up.
            let other = a != y ? a : (pa.indices.filter { $0 != y }.max { pa[$0] < pa[$1] } ?? (y + 1) % 10)
            return Example(testIndex: i, label: y, clean: x, cleanPrediction: c, cleanProbability: pc[c],
                           step: FGSM.step(x, label: y, epsilon: epsilon, model: model), adversarial: adv,
                           adversarialPrediction: a, adversarialProbability: pa[a],
                           signAgreement: FGSM.signAgreement(x, label: y, other: other, model: model))
        }
        let candidates = (0..<test.count).map(example).filter { $0.cleanPrediction == $0.label }
        var chosen: [Example] = [], digits = Set<Int>()
        // Confident and fooled first (the point of the picture), then fooled, then the rest.
        let passes: [(Example) -> Bool] = [
            { $0.adversarialPrediction != $0.label && $0.cleanProbability >= 0.9 },
            { $0.adversarialPrediction != $0.label },
            { _ in true },
        ]
        for pass in passes {
            for e in candidates where chosen.count < count && !digits.contains(e.label) && pass(e) {
                chosen.append(e); digits.insert(e.label)
            }
        }
        return chosen.sorted { $0.label < $1.label }
    }

    // MARK: - Files

    /// The run record written as run.json.
    public struct Record: Codable, Sendable {
        public var tool = "robustpatch"
        public var version: String
        public var command = "linear-demo"
        public var created: String
        public var seed: UInt64
        public var dataset: Dataset
        public var split: Split
        public var model = "softmax regression: logits = W x + b, W 10x64, b 10; x = pixel/16 in [0, 1]"
        public var training: SoftmaxRegression.Training
        public var trainingSeconds: Double
        public var finalTrainingLoss: Double
        public var trainAccuracy: Double
        public var testAccuracy: Double
        public var attack = "FGSM, untargeted: x_adv = clip(x + eps * sign(grad_x CE), 0, 1); eps in units of the pixel range [0, 1]"
        public var table: [Row]
        public var exampleEpsilon: Double
        public var meanSignAgreement: Double
        public var files: [String]

        public struct Dataset: Codable, Sendable {
            public var name = "scikit-learn 8x8 digits (sklearn/datasets/data/digits.csv.gz of scikit-learn 1.5.2, via Scripts/fetch-digits.sh)"
            public var path: String
            public var sha256: String
            public var examples: Int
        }
        public struct Split: Codable, Sendable {
            public var train: Int
            public var test: Int
            public var method = "stratified by digit, SplitMix64(seed) shuffle"
        }
        enum CodingKeys: String, CodingKey {
            case tool, version, command, created, seed, dataset, split, model, training, attack, table, files
            case trainingSeconds = "training_seconds", finalTrainingLoss = "final_training_loss"
            case trainAccuracy = "train_accuracy", testAccuracy = "test_accuracy"
            case exampleEpsilon = "example_epsilon", meanSignAgreement = "mean_sign_agreement_of_64"
        }
    }

    public func record(toolVersion: String, files: [String]) -> Record {
        Record(version: toolVersion, created: ISO8601DateFormatter().string(from: Date()), seed: settings.seed,
               dataset: .init(path: dataPath, sha256: datasetSHA256, examples: datasetCount),
               split: .init(train: trainCount, test: testCount), training: settings.training,
               trainingSeconds: (trainingSeconds * 1000).rounded() / 1000, finalTrainingLoss: trainingLosses.last ?? .nan,
               trainAccuracy: trainAccuracy, testAccuracy: testAccuracy, table: rows, exampleEpsilon: settings.exampleEpsilon,
               meanSignAgreement: meanSignAgreement, files: files)
    }

    /// The error table as CSV: epsilon, fgsm_error, random_sign_error, test_count.
    public var tableCSV: String {
        "epsilon,fgsm_error,random_sign_error,test_count\n"
            + rows.map { "\($0.epsilon),\($0.fgsmError),\($0.randomSignError),\(testCount)" }.joined(separator: "\n") + "\n"
    }

    /// The weights as CSV: one line per digit, its bias then the 64 weights (row by row).
    public var weightsCSV: String {
        "digit,bias," + (0..<64).map { "w_y\($0 / 8)_x\($0 % 8)" }.joined(separator: ",") + "\n"
            + (0..<SoftmaxRegression.classes).map { k in
                "\(k),\(model.bias[k])," + model.template(k).map { "\($0)" }.joined(separator: ",")
            }.joined(separator: "\n") + "\n"
    }

    /// Writes every picture, its data and run.json into `directory` (created if needed); returns
    /// the paths written, in order.
    public func write(to directory: String, toolVersion: String) throws -> [String] {
        do { try AtomicFile.createFolder(directory) } catch { throw LinearModelError.cannotWrite(path: directory, reason: error.reason) }
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var written: [String] = []
        func text(_ s: String, _ name: String) throws {
            do { try AtomicFile.write(s, to: path(name)) } catch { throw LinearModelError.cannotWrite(path: path(name), reason: error.reason) }
            written.append(path(name))
        }
        func json(_ value: some Encodable, _ name: String) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            do { try text(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n", name) } catch let e as LinearModelError { throw e } catch {
                throw LinearModelError.cannotWrite(path: path(name), reason: "\(error)")
            }
        }
        func png(_ image: @autoclosure () -> Image, _ name: String) throws {
            do { try image().writePNG(to: path(name)) } catch {
                if case let .writeFailed(_, reason) = error { throw LinearModelError.cannotWrite(path: path(name), reason: reason) }
                throw LinearModelError.cannotWrite(path: path(name), reason: "\(error)")
            }
            written.append(path(name))
        }
        try png(weightsImage(), "weights.png")
        try text(weightsCSV, "weights.csv")
        try png(examplesImage(), "examples.png")
        try json(examples, "examples.json")
        try png(errorPlot().image(), "error_vs_epsilon.png")
        try text(tableCSV, "error_vs_epsilon.csv")
        let files = (written + [path("run.json")]).map { ($0 as NSString).lastPathComponent }
        try json(record(toolVersion: toolVersion, files: files), "run.json")
        return written
    }
}
