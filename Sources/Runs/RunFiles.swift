// RunFiles: what a generation run writes into its folder — texture and mask PNGs, the run
// record (JSON), the training curve (CSV) and the checkpoint with its backup — each written by
// AtomicFile (temp file + rename), so an interrupted run or a full disk never leaves a
// half-written file, and a damaged checkpoint is caught on load (CheckpointEnvelope).
import Attack
import Checkpoints
import Foundation
import Imaging
import Transforms

/// The checkpoint: config + state. `--resume` reads it back.
public struct TrainingCheckpoint: Codable, Sendable {
    public static let currentFormatVersion = 1
    public var formatVersion = TrainingCheckpoint.currentFormatVersion
    public var config: GenerateConfig
    public var state: TrainingState
    public init(config: GenerateConfig, state: TrainingState) { self.config = config; self.state = state }
}

public struct RunFiles: Sendable {
    public let directory: String
    public init(directory: String) { self.directory = directory }

    public var texturePath: String { path("patch.png") }
    public var cutoutPath: String { path("patch_rgba.png") }
    public var maskPath: String { path("mask.png") }
    public var recordPath: String { path("run.json") }
    public var curvePath: String { path("curve.csv") }
    /// Held-out success against wall-clock time, redrawn at every periodic check.
    public var progressPlotPath: String { path("curve.png") }
    public var checkpointPath: String { path("checkpoint.json") }
    /// The checkpoint before the current one, kept when a new one is saved (`--resume --from-backup`).
    public var backupCheckpointPath: String { path("checkpoint.prev.json") }
    /// Where `--from-backup` moves a damaged checkpoint.json, so it is kept but not rotated into the backup.
    public var damagedCheckpointPath: String { path("checkpoint.damaged.json") }
    public var previewPath: String { path("preview.png") }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    public func createDirectory() throws {
        do { try AtomicFile.createFolder(directory) } catch { throw RunError.write(path: directory, reason: error.reason) }
    }

    static func writeAtomically(_ data: Data, to path: String) throws {
        do { try AtomicFile.write(data, to: path) } catch { throw RunError.write(path: path, reason: error.reason) }
    }

    /// Throws unless files can be made in the folder: a read-only folder stops a run before its work.
    public func checkWritable() throws {
        do { try AtomicFile.checkWritable(folder: directory) } catch { throw RunError.write(path: directory, reason: error.reason) }
    }

    /// Writes checkpoint.json in its checksummed envelope; the one it replaces becomes checkpoint.prev.json.
    public func saveCheckpoint(_ c: TrainingCheckpoint) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = CheckpointEnvelope.wrap(try enc.encode(c))
        do { try AtomicFile.write(data, to: checkpointPath, keepingPreviousAs: backupCheckpointPath) } catch {
            throw RunError.write(path: checkpointPath, reason: error.reason)
        }
    }

    /// Throws when the folder already holds a run that a new run would overwrite: one that can be
    /// continued (checkpoint.json or its backup), or a finished one kept without its checkpoint (run.json).
    public func checkFreeForNewRun() throws {
        if FileManager.default.fileExists(atPath: checkpointPath) || FileManager.default.fileExists(atPath: backupCheckpointPath) {
            let name = FileManager.default.fileExists(atPath: checkpointPath) ? "checkpoint.json" : "checkpoint.prev.json"
            throw RunError.folderInUse("\(directory) already holds a run (\(name)). Use --resume to continue it, or another --out folder.")
        }
        if FileManager.default.fileExists(atPath: recordPath) {
            throw RunError.folderInUse("\(directory) already holds a finished run (run.json) that a new run would overwrite; give another --out folder (or delete that one to start afresh)")
        }
    }

    /// The checkpoint to continue: checkpoint.json, or with `fromBackup` checkpoint.prev.json (the
    /// one before it). A missing, truncated or damaged checkpoint.json is refused in 1–2 lines that
    /// name the backup when it is good, and how to continue from it.
    public func loadCheckpoint(fromBackup: Bool = false) throws -> TrainingCheckpoint {
        let resumeFromBackup = "continue from it with `robustpatch generate --resume --from-backup --out \(directory)`"
        if fromBackup {
            switch Self.readCheckpoint(at: backupCheckpointPath) {
            case let .success(checkpoint):
                if case .success = Self.readCheckpoint(at: checkpointPath) {
                    throw RunError.checkpoint("--from-backup: \(checkpointPath) is whole and newer than its backup; continue it with --resume alone")
                }
                return checkpoint
            case .failure(.missing):
                throw RunError.checkpoint("--from-backup: \(directory) holds no backup checkpoint (checkpoint.prev.json; one is kept from the second save on); "
                                          + "continue with --resume alone, or start a new run in an empty folder")
            case let .failure(problem):
                throw RunError.checkpoint("\(backupCheckpointPath) \(problem.text); start a new run in an empty folder")
            }
        }
        let problem: CheckpointProblem
        switch Self.readCheckpoint(at: checkpointPath) {
        case let .success(checkpoint): return checkpoint
        case let .failure(p): problem = p
        }
        let backup = Self.readCheckpoint(at: backupCheckpointPath)
        if case .missing = problem {
            if case let .success(b) = backup {
                throw RunError.checkpoint("--resume: \(checkpointPath) is missing, but its backup \(backupCheckpointPath) (step \(b.state.step) of \(b.config.steps)) is whole: \(resumeFromBackup)")
            }
            if FileManager.default.fileExists(atPath: recordPath) {
                throw RunError.checkpoint("--resume: \(directory) holds a finished run (run.json) without checkpoint.json, so there is nothing to continue; start a new run in another --out folder")
            }
            throw RunError.checkpoint("--resume: no checkpoint at \(checkpointPath); start without --resume")
        }
        let first = "\(checkpointPath) \(problem.text)"
        if case .otherVersion = problem { throw RunError.checkpoint("\(first); start a new run in an empty folder") }
        switch backup {
        case let .success(b):
            throw RunError.checkpoint("\(first).\nThe last good checkpoint is its backup \(backupCheckpointPath) (step \(b.state.step) of \(b.config.steps)): \(resumeFromBackup)")
        case .failure(.missing):
            throw RunError.checkpoint("\(first); there is no earlier checkpoint (checkpoint.prev.json) to fall back on: start a new run in an empty folder")
        case let .failure(q):
            throw RunError.checkpoint("\(first); its backup cannot stand in: \(backupCheckpointPath) \(q.text). Start a new run in an empty folder")
        }
    }

    /// `--from-backup`: moves the damaged checkpoint.json (if any) to checkpoint.damaged.json, so the
    /// next save does not rotate it into the backup.
    public func setDamagedCheckpointAside() throws {
        guard FileManager.default.fileExists(atPath: checkpointPath) else { return }
        guard rename(checkpointPath, damagedCheckpointPath) == 0 else {
            let e = FileWriteError(path: damagedCheckpointPath, code: errno, detail: String(cString: strerror(errno)))
            throw RunError.write(path: damagedCheckpointPath, reason: e.reason)
        }
    }

    /// What is wrong with one checkpoint file; `text` follows its path in a sentence.
    enum CheckpointProblem: Error {
        case missing
        case damaged(String)
        case otherVersion(String)
        case refusedSettings(String)

        var text: String {
            switch self {
            case .missing: return "is missing"
            case let .damaged(what): return "is damaged: \(what)"
            case let .otherVersion(s), let .refusedSettings(s): return s
            }
        }
    }

    /// Reads and checks the checkpoint at `path`: envelope (length, SHA-256), JSON, format
    /// version, settings and state.
    static func readCheckpoint(at path: String) -> Result<TrainingCheckpoint, CheckpointProblem> {
        guard var data = FileManager.default.contents(atPath: path) else {
            return .failure(FileManager.default.fileExists(atPath: path) ? .damaged("it cannot be read") : .missing)
        }
        switch CheckpointEnvelope.unwrap(data) {
        case let .success(payload): data = payload
        case let .failure(damage): return .failure(.damaged(damage.text))
        case nil: break  // written before checkpoints had an envelope: plain JSON, checked below as before
        }
        let checkpoint: TrainingCheckpoint
        do { checkpoint = try JSONDecoder().decode(TrainingCheckpoint.self, from: data) } catch {
            return .failure(.damaged("it cannot be read as a checkpoint (\(describeDecodingError(error)))"))
        }
        guard checkpoint.formatVersion == TrainingCheckpoint.currentFormatVersion else {
            return .failure(.otherVersion("was written by another version of the tool (format \(checkpoint.formatVersion); "
                                          + "this one reads \(TrainingCheckpoint.currentFormatVersion))"))
        }
        do { try checkpoint.config.validate() } catch {
            // A damaged file, or a run made by an older version that allowed what this one refuses.
            return .failure(.refusedSettings("holds settings this version refuses (\(error)); --resume keeps a run's settings"))
        }
        let state = checkpoint.state
        guard (0...checkpoint.config.steps).contains(state.step) else {
            return .failure(.damaged("its step is \(state.step), outside 0…\(checkpoint.config.steps) (the run's steps)"))
        }
        guard (state.texture + (state.averageTexture ?? [])).allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
            return .failure(.damaged("its texture has values outside [0, 1]"))
        }
        guard (state.adam.m + state.adam.v + (state.pyramid ?? [])).allSatisfy(\.isFinite), state.adam.v.allSatisfy({ $0 >= 0 }), state.adam.step >= 0 else {
            return .failure(.damaged("its optimizer state is not finite"))
        }
        return .success(checkpoint)
    }

    /// patch.png (RGB texture), patch_rgba.png (texture with the mask as alpha), mask.png.
    public func writeImages(texture: [Float], mask: Mask, width: Int, height: Int) throws {
        func write(_ image: Image, to path: String) throws {
            do { try image.writePNG(to: path) } catch { throw RunError(writing: path, error) }
        }
        try write(try Image(width: width, height: height, channels: 3, pixels: texture), to: texturePath)
        var rgba = [Float](repeating: 0, count: width * height * 4)
        var m = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            for c in 0..<3 { rgba[i * 4 + c] = texture[i * 3 + c]; m[i * 3 + c] = mask.alpha[i] }
            rgba[i * 4 + 3] = mask.alpha[i]
        }
        try write(try Image(width: width, height: height, channels: 4, pixels: rgba), to: cutoutPath)
        try write(try Image(width: width, height: height, channels: 3, pixels: m), to: maskPath)
    }

    public func writeCurve(_ curve: [CurvePoint], validations: [ValidationPoint]) throws {
        var lines = ["step,loss,class_loss,tv,nps,batch_success,learning_rate,validation_success"]
        let v = Dictionary(validations.map { ($0.step, $0.success) }, uniquingKeysWith: { $1 })
        for p in curve {
            lines.append(String(format: "%d,%.6f,%.6f,%.6f,%.6f,%.4f,%.6g,%@", p.step, p.loss, p.classLoss, p.tv, p.nps, p.batchSuccess,
                                p.learningRate, v[p.step].map { String(format: "%.4f", $0) } ?? ""))
        }
        try Self.writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: curvePath)
    }

    /// curve.png: the periodic checks (and the final one when given) against wall-clock time.
    public func writeProgressPlot(title: String, config: GenerateConfig, validations: [ValidationPoint], final: ValidationPoint?) throws {
        func check(_ v: ValidationPoint) -> ProgressPlot.Check { ProgressPlot.Check(step: v.step, seconds: v.seconds, proportion: v.proportion) }
        let image = ProgressPlot.image(title: title, note: ProgressPlot.note(config: config), periodic: validations.map(check), final: final.map(check))
        do { try image.writePNG(to: progressPlotPath) } catch { throw RunError(writing: progressPlotPath, error) }
    }

    /// preview.png: what the model sees on a few held-out samples.
    public func writePreview(_ image: Image) throws {
        do { try image.writePNG(to: previewPath) } catch { throw RunError(writing: previewPath, error) }
    }

    public func writeRecord(_ record: RunRecord) throws {
        try Self.writeAtomically(try record.jsonData(), to: recordPath)
    }
}

/// checkpoint.json on disk: the checkpoint's JSON inside an envelope that carries its length and
/// SHA-256, so a file cut short or a changed byte is refused on load instead of resumed:
///
///     {"format":"robustpatch-checkpoint","bytes":N,"sha256":"<64 hex digits>","checkpoint":<N bytes of JSON>}
///
/// (a newline follows). The whole file is still JSON; `checkpoint` is the TrainingCheckpoint.
enum CheckpointEnvelope {
    static let head = Array(#"{"format":"robustpatch-checkpoint","bytes":"#.utf8)
    static let hashKey = Array(#","sha256":""#.utf8)
    static let payloadKey = Array(#"","checkpoint":"#.utf8)
    static let tail = Array("}\n".utf8)

    static func wrap(_ payload: Data) -> Data {
        var out = Data(head)
        out.append(contentsOf: Array(String(payload.count).utf8))
        out.append(contentsOf: hashKey)
        out.append(contentsOf: Array(sha256Hex(of: [UInt8](payload)).utf8))
        out.append(contentsOf: payloadKey)
        out.append(payload)
        out.append(contentsOf: tail)
        return out
    }

    struct Damage: Error {
        var text: String
    }

    /// The payload; a `Damage` that says how the file is cut short or changed; nil when the data is
    /// not an envelope at all (a checkpoint from before envelopes, or something else: decoded as JSON).
    static func unwrap(_ data: Data) -> Result<Data, Damage>? {
        let bytes = [UInt8](data)
        func truncated(_ expected: Int?) -> Result<Data, Damage> {
            .failure(Damage(text: "it is truncated: \(bytes.count) bytes" + (expected.map { " of the \($0) its header announces" } ?? ", cut inside its header")))
        }
        if bytes.count < head.count {
            return !bytes.isEmpty && head.starts(with: bytes) ? truncated(nil) : nil
        }
        guard bytes.starts(with: head) else { return nil }
        var i = head.count
        var length = 0
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]), length < 1 << 40 {
            length = length * 10 + Int(bytes[i] - UInt8(ascii: "0")); i += 1
        }
        guard i > head.count, i < bytes.count else { return i == bytes.count ? truncated(nil) : .failure(Damage(text: "its header is damaged (no length)")) }
        let expected = i + hashKey.count + 64 + payloadKey.count + length + tail.count
        func expect(_ literal: [UInt8]) -> Bool {
            let end = min(bytes.count, i + literal.count)
            guard bytes[i..<end].elementsEqual(literal[0..<(end - i)]) else { return false }
            i = end
            return true
        }
        guard expect(hashKey) else { return .failure(Damage(text: "its header is damaged")) }
        guard i + 64 <= bytes.count else { return truncated(expected) }
        let hex = String(decoding: bytes[i..<(i + 64)], as: UTF8.self)
        i += 64
        guard expect(payloadKey) else { return .failure(Damage(text: "its header is damaged")) }
        guard bytes.count >= expected - tail.count + 1 else { return truncated(expected) }
        let payload = Data(bytes[i..<(i + length)])
        i += length
        if bytes.count > expected { return .failure(Damage(text: "it has \(bytes.count - expected) bytes more than its header announces")) }
        // The closing brace must be there; the newline after it is forgiven.
        guard expect(tail) else { return .failure(Damage(text: "its closing brace is damaged")) }
        guard sha256Hex(of: [UInt8](payload)) == hex else {
            return .failure(Damage(text: "its contents do not match their SHA-256 (a byte was changed)"))
        }
        return .success(payload)
    }
}
