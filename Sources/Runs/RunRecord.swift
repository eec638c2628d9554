// RunRecord: the run.json a generation run writes beside its patch (settings, model SHA-256s,
// scenes, seed, metrics, validations, tool version), as one Codable value written and read here
// only. Not the checkpoint (RunFiles' TrainingCheckpoint holds the optimiser state to resume).
//
// Format versions: 1 = records written before this type existed (no "format_version" key; the
// runs committed under Printouts/ are such records, and they must keep reading), 2 = this one.
// Keys are snake_case as version 1 wrote them; "config" is `GenerateConfig`'s own encoding.
import Attack
import Foundation
import TextSafety
import Transforms

public struct RunRecord: Codable, Sendable, Equatable {
    public static let currentFormatVersion = 2

    /// One model of the attack: as given (`spec`), its name, file and the file's SHA-256.
    public struct Model: Codable, Sendable, Equatable {
        public var spec: String
        public var name: String
        public var path: String?
        public var sha256: String
        public init(spec: String, name: String, path: String?, sha256: String) {
            self.spec = spec; self.name = name; self.path = path; self.sha256 = sha256
        }
    }

    public struct Target: Codable, Sendable, Equatable {
        public var index: Int
        public var label: String?
        public init(index: Int, label: String?) { self.index = index; self.label = label }
    }

    public struct TextureSize: Codable, Sendable, Equatable {
        public var width: Int, height: Int
        public init(width: Int, height: Int) { self.width = width; self.height = height }
    }

    public struct Scenes: Codable, Sendable, Equatable {
        public var train: [String]
        public var validation: [String]
        public init(train: [String], validation: [String]) { self.train = train; self.validation = validation }
    }

    /// One periodic held-out check (the first `periodicValidationSamples` of the fixed set).
    public struct StepValidation: Codable, Sendable, Equatable {
        public var step: Int
        public var success: Double
        public var samples: Int?
        /// Wall-clock seconds of the run at the end of the check (nil in older records).
        public var seconds: Double?
        public init(step: Int, success: Double, samples: Int?, seconds: Double? = nil) {
            self.step = step; self.success = success; self.samples = samples; self.seconds = seconds
        }
    }

    public var formatVersion: Int = RunRecord.currentFormatVersion
    public var tool = "robustpatch"
    public var version: String
    public var command = "generate"
    /// ISO 8601, when the run finished.
    public var created: String
    public var models: [Model]
    /// nil = untargeted (written as null, never omitted: a missing target is a damaged record).
    public var target: Target?
    public var config: GenerateConfig
    public var stepsDone: Int
    public var earlyStopped: Bool?
    public var elapsedSeconds: Double?
    public var threads: Int?
    /// The texture's size (patch.png has it too; missing in some hand-made records).
    public var texture: TextureSize?
    public var scenes: Scenes?
    /// The final check on the whole fixed validation set.
    public var finalValidation: RunValidation?
    public var validations: [StepValidation]
    /// With texture averaging: the last optimised (not averaged) texture on the same samples.
    public var finalValidationLastIterate: RunValidation?
    /// Mesh runs: what the texture covers (the file's SHA-256 for an OBJ); nil for patches.
    public var mesh: MeshInfo? = nil

    public struct MeshInfo: Codable, Sendable, Equatable {
        /// "cylinder 66 × 115 mm", or the OBJ's path.
        public var description: String
        public var sha256: String?
        public var triangles: Int
        /// The area the texture covers, mm² (the label, not a can's lids).
        public var texturedAreaMM2: Double
        public init(description: String, sha256: String?, triangles: Int, texturedAreaMM2: Double) {
            self.description = description; self.sha256 = sha256; self.triangles = triangles; self.texturedAreaMM2 = texturedAreaMM2
        }
        enum CodingKeys: String, CodingKey { case description, sha256, triangles, texturedAreaMM2 = "textured_area_mm2" }
    }

    public init(version: String, created: String, models: [Model], target: Target?, config: GenerateConfig, stepsDone: Int,
                earlyStopped: Bool?, elapsedSeconds: Double?, threads: Int?, texture: TextureSize?, scenes: Scenes?,
                finalValidation: RunValidation?, validations: [StepValidation], finalValidationLastIterate: RunValidation?) {
        self.version = version; self.created = created; self.models = models; self.target = target; self.config = config
        self.stepsDone = stepsDone; self.earlyStopped = earlyStopped; self.elapsedSeconds = elapsedSeconds; self.threads = threads
        self.texture = texture; self.scenes = scenes; self.finalValidation = finalValidation; self.validations = validations
        self.finalValidationLastIterate = finalValidationLastIterate
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", tool, version, command, created, models, target, config
        case stepsDone = "steps_done", earlyStopped = "early_stopped", elapsedSeconds = "elapsed_seconds", threads, texture, scenes
        case finalValidation = "final_validation", validations, finalValidationLastIterate = "final_validation_last_iterate", mesh
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try c.decodeIfPresent(Int.self, forKey: .formatVersion) ?? 1
        tool = try c.decodeIfPresent(String.self, forKey: .tool) ?? "robustpatch"
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? "unknown"
        command = try c.decodeIfPresent(String.self, forKey: .command) ?? "generate"
        created = try c.decodeIfPresent(String.self, forKey: .created) ?? ""
        models = try c.decodeIfPresent([Model].self, forKey: .models) ?? []
        // "target" is null for an untargeted run; a missing key is a damaged record, not a licence
        // to evaluate untargeted.
        guard c.contains(.target) else {
            throw DecodingError.keyNotFound(CodingKeys.target, .init(codingPath: c.codingPath,
                debugDescription: "\"target\" is missing (null means untargeted, else {\"index\": 0…999})"))
        }
        do { target = try c.decodeNil(forKey: .target) ? nil : try c.decode(Target.self, forKey: .target) } catch {
            throw DecodingError.dataCorruptedError(forKey: .target, in: c,
                debugDescription: "must be null (untargeted) or {\"index\": 0…999, \"label\": …}")
        }
        config = try Self.completedConfig(c.decodeIfPresent(JSONValue.self, forKey: .config) ?? .object([:]))
        stepsDone = try c.decodeIfPresent(Int.self, forKey: .stepsDone) ?? config.steps
        earlyStopped = try c.decodeIfPresent(Bool.self, forKey: .earlyStopped)
        elapsedSeconds = try c.decodeIfPresent(Double.self, forKey: .elapsedSeconds)
        threads = try c.decodeIfPresent(Int.self, forKey: .threads)
        texture = try c.decodeIfPresent(TextureSize.self, forKey: .texture)
        scenes = try c.decodeIfPresent(Scenes.self, forKey: .scenes)
        finalValidation = try c.decodeIfPresent(RunValidation.self, forKey: .finalValidation)
        validations = try c.decodeIfPresent([StepValidation].self, forKey: .validations) ?? []
        finalValidationLastIterate = try c.decodeIfPresent(RunValidation.self, forKey: .finalValidationLastIterate)
        mesh = try c.decodeIfPresent(MeshInfo.self, forKey: .mesh)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(tool, forKey: .tool); try c.encode(version, forKey: .version); try c.encode(command, forKey: .command)
        try c.encode(created, forKey: .created); try c.encode(models, forKey: .models)
        if let target { try c.encode(target, forKey: .target) } else { try c.encodeNil(forKey: .target) }
        try c.encode(config, forKey: .config); try c.encode(stepsDone, forKey: .stepsDone)
        try c.encodeIfPresent(earlyStopped, forKey: .earlyStopped); try c.encodeIfPresent(elapsedSeconds, forKey: .elapsedSeconds)
        try c.encodeIfPresent(threads, forKey: .threads); try c.encodeIfPresent(texture, forKey: .texture)
        try c.encodeIfPresent(scenes, forKey: .scenes); try c.encodeIfPresent(finalValidation, forKey: .finalValidation)
        try c.encode(validations, forKey: .validations)
        if let v = finalValidationLastIterate { try c.encode(v, forKey: .finalValidationLastIterate) } else { try c.encodeNil(forKey: .finalValidationLastIterate) }
        try c.encodeIfPresent(mesh, forKey: .mesh)
    }

    /// An older record's config with each setting it lacks at today's default, decoded. Settings
    /// that are optional (nil = off or unset, e.g. `target` of an untargeted run, `averageDecay`)
    /// stay nil when missing, as they always read.
    static func completedConfig(_ json: JSONValue) throws -> GenerateConfig {
        var defaults = GenerateConfig()
        defaults.target = nil       // the two optionals whose default is not nil
        defaults.presetName = nil
        return try json.filling(from: JSONValue.encoding(defaults)).decode(as: GenerateConfig.self)
    }

    // MARK: Reading and writing

    /// The JSON run.json holds: pretty-printed, keys sorted (so records diff well).
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    /// Reads a run.json; its errors name the file and what is wrong, in one line.
    public static func read(from path: String) throws(RunError) -> RunRecord {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badRecord(path: path, reason: "cannot be read")
        }
        return try decode(data, path: path)
    }

    /// `read(from:)` for bytes already in memory (e.g. a fuzzer's input); errors name `path`.
    public static func decode(_ data: Data, path: String) throws(RunError) -> RunRecord {
        let record: RunRecord
        do { record = try JSONDecoder().decode(RunRecord.self, from: data) } catch {
            throw .badRecord(path: path, reason: "is not a generate run record (\(describeDecodingError(error)))")
        }
        guard record.formatVersion <= currentFormatVersion else {
            throw .badRecord(path: path, reason: "was written by a newer version of the tool (format \(record.formatVersion); this one reads up to \(currentFormatVersion))")
        }
        if let t = record.target, !(0..<1000).contains(t.index) {
            throw .badRecord(path: path, reason: "has target.index \(t.index); it must be an ImageNet class index 0–999")
        }
        // Success rates become success counts (rate × samples, rounded to an Int) for confidence intervals: a rate
        // outside [0, 1] or a negative or absurd sample count would trap there or give a meaningless interval.
        let samples = 0...GenerateConfig.maxValidationSamples
        for (field, v) in [("final_validation", record.finalValidation), ("final_validation_last_iterate", record.finalValidationLastIterate)] {
            guard let v else { continue }
            guard (0...1).contains(v.success), samples.contains(v.samples) else {
                throw .badRecord(path: path, reason: "has \(field) success \(v.success) of \(v.samples) samples; a success rate is 0–1 of 0–\(samples.upperBound) samples")
            }
        }
        for v in record.validations where !(0...1).contains(v.success) || !(v.samples.map(samples.contains) ?? true) {
            throw .badRecord(path: path, reason: "has a validation at step \(v.step) of success \(v.success) of \(v.samples.map(String.init) ?? "?") samples; a success rate is 0–1 of 0–\(samples.upperBound) samples")
        }
        // The settings evaluate, grid and --resume take from the record (batch, sample counts, texture side,
        // distribution ranges, mesh): the same bounds as a new run's, so a hand-edited record cannot ask for more.
        do { try record.config.validate() } catch {
            throw .badRecord(path: path, reason: "has an impossible setting in \"config\": \(untrustedText("\(error)", limit: 160))")
        }
        return record
    }
}

/// A run's own held-out validation (run.json `final_validation`).
public struct RunValidation: Codable, Sendable, Equatable {
    public var success: Double
    public var samples: Int
    /// Missing in some early records.
    public var meanTargetProbability: Double?
    /// "targeted top-1" or "untargeted flip of the clean top-1".
    public var metric: String?

    public init(success: Double, samples: Int, meanTargetProbability: Double?, metric: String?) {
        self.success = success; self.samples = samples; self.meanTargetProbability = meanTargetProbability; self.metric = metric
    }

    enum CodingKeys: String, CodingKey {
        case success, samples, meanTargetProbability = "mean_target_probability", metric
    }
}
