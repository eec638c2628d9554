// RunFiles: what a generation run writes into its folder — texture and mask PNGs, the run
// record (JSON), the training curve (CSV) and the checkpoint — each written atomically
// (temp file + rename), so an interrupted run never leaves a half-written file.
import Attack
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
    public var previewPath: String { path("preview.png") }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    public func createDirectory() throws {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw RunError.write(path: directory, reason: "cannot create the output folder: \(error.localizedDescription)")
        }
    }

    static func writeAtomically(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw RunError.write(path: path, reason: error.localizedDescription)
        }
    }

    public func saveCheckpoint(_ c: TrainingCheckpoint) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try Self.writeAtomically(try enc.encode(c), to: checkpointPath)
    }

    /// Throws when the folder already holds a run that a new run would overwrite: one that can be
    /// continued (checkpoint.json), or a finished one kept without its checkpoint (run.json).
    public func checkFreeForNewRun() throws {
        if FileManager.default.fileExists(atPath: checkpointPath) {
            throw RunError.folderInUse("\(directory) already holds a run (checkpoint.json). Use --resume to continue it, or another --out folder.")
        }
        if FileManager.default.fileExists(atPath: recordPath) {
            throw RunError.folderInUse("\(directory) already holds a finished run (run.json) that a new run would overwrite; give another --out folder (or delete that one to start afresh)")
        }
    }

    public func loadCheckpoint() throws -> TrainingCheckpoint {
        guard let data = FileManager.default.contents(atPath: checkpointPath) else {
            if FileManager.default.fileExists(atPath: recordPath) {
                throw RunError.checkpoint("--resume: \(directory) holds a finished run (run.json) without checkpoint.json, so there is nothing to continue; start a new run in another --out folder")
            }
            throw RunError.checkpoint("--resume: no checkpoint at \(checkpointPath); start without --resume")
        }
        let checkpoint: TrainingCheckpoint
        do { checkpoint = try JSONDecoder().decode(TrainingCheckpoint.self, from: data) } catch {
            throw RunError.checkpoint("\(checkpointPath) is damaged or from another version (\(describeDecodingError(error))); start a new run in an empty folder")
        }
        func damaged(_ what: String) -> RunError {
            RunError.checkpoint("\(checkpointPath) is damaged: \(what); start a new run in an empty folder")
        }
        guard checkpoint.formatVersion == TrainingCheckpoint.currentFormatVersion else {
            throw RunError.checkpoint("\(checkpointPath) was written by another version of the tool (format \(checkpoint.formatVersion); "
                                         + "this one reads \(TrainingCheckpoint.currentFormatVersion)); start a new run in an empty folder")
        }
        do { try checkpoint.config.validate() } catch {
            // A damaged file, or a run made by an older version that allowed what this one refuses.
            throw RunError.checkpoint("\(checkpointPath) holds settings this version refuses (\(error)); --resume keeps a run's settings, so start a new run in an empty folder")
        }
        let state = checkpoint.state
        guard (0...checkpoint.config.steps).contains(state.step) else {
            throw damaged("its step is \(state.step), outside 0…\(checkpoint.config.steps) (the run's steps)")
        }
        guard (state.texture + (state.averageTexture ?? [])).allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
            throw damaged("its texture has values outside [0, 1]")
        }
        guard (state.adam.m + state.adam.v + (state.pyramid ?? [])).allSatisfy(\.isFinite), state.adam.v.allSatisfy({ $0 >= 0 }), state.adam.step >= 0 else {
            throw damaged("its optimizer state is not finite")
        }
        return checkpoint
    }

    /// patch.png (RGB texture), patch_rgba.png (texture with the mask as alpha), mask.png.
    public func writeImages(texture: [Float], mask: Mask, width: Int, height: Int) throws {
        let tex = try Image(width: width, height: height, channels: 3, pixels: texture)
        try tex.writePNG(to: texturePath)
        var rgba = [Float](repeating: 0, count: width * height * 4)
        var m = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            for c in 0..<3 { rgba[i * 4 + c] = texture[i * 3 + c]; m[i * 3 + c] = mask.alpha[i] }
            rgba[i * 4 + 3] = mask.alpha[i]
        }
        try Image(width: width, height: height, channels: 4, pixels: rgba).writePNG(to: cutoutPath)
        try Image(width: width, height: height, channels: 3, pixels: m).writePNG(to: maskPath)
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
        do { try image.writePNG(to: progressPlotPath) } catch { throw RunError.write(path: progressPlotPath, reason: "\(error)") }
    }

    /// preview.png: what the model sees on a few held-out samples.
    public func writePreview(_ image: Image) throws {
        do { try image.writePNG(to: previewPath) } catch { throw RunError.write(path: previewPath, reason: "\(error)") }
    }

    public func writeRecord(_ record: RunRecord) throws {
        try Self.writeAtomically(try record.jsonData(), to: recordPath)
    }
}
