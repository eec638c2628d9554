// FuzzTargets: every reader of untrusted bytes, by name, as one function from bytes to an outcome,
// for the fuzzer (robustpatch-fuzz, Scripts/fuzz.sh) and the corpus regression test. Not a fuzzer:
// no mutation and no coverage here. Each target runs its reader the way the tool does (bytes in,
// the value or the reader's typed error out), then what the tool does next with an accepted value
// that could still trap on it (sampling a distribution, mapping and running an ONNX graph,
// preparing a mesh), so a reader that accepts what its users cannot handle is found too.
import Foundation
import Attack
import Calibration
import Checkpoints
import Imaging
import Meshes
import Networks
import ONNX
import Runs
import Tensors
import Transforms

/// What one input did to a reader.
public enum FuzzOutcome: Sendable, Equatable {
    /// The reader returned a value (and what follows it ran).
    case accepted
    /// The reader refused the input with its own typed error (the error's description).
    case refused(String)
    /// The reader threw an error of a type it does not document: a finding, like a trap.
    case wrongError(String)
}

/// One reader of untrusted bytes.
public struct FuzzTarget: Sendable {
    /// The name on the command line and of the corpus folder (Tests/FuzzCorpus/<name>).
    public let name: String
    /// What it reads, in a few words.
    public let summary: String
    let body: @Sendable ([UInt8]) -> FuzzOutcome

    /// Runs one input through the reader and what follows it.
    public func run(_ bytes: [UInt8]) -> FuzzOutcome { body(bytes) }
}

public enum FuzzTargets {
    /// Every target, in the order Scripts/fuzz.sh runs them.
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "png", summary: "PNG via libpng (Image.read, Image.readDPI)", body: image),
        FuzzTarget(name: "jpeg", summary: "JPEG via libjpeg, EXIF orientation (Image.read, Image.readDPI)", body: image),
        FuzzTarget(name: "pth-legacy", summary: "legacy torch.save: pickles then raw storages (Checkpoint.load)", body: { checkpoint($0, name: "fuzz.pth") }),
        FuzzTarget(name: "pth-zip", summary: "zip torch.save: data.pkl and storages (Checkpoint.load)", body: { checkpoint($0, name: "fuzz.pth") }),
        FuzzTarget(name: "safetensors", summary: "safetensors header and data (Checkpoint.load)", body: { checkpoint($0, name: "fuzz.safetensors") }),
        FuzzTarget(name: "onnx", summary: "ONNX protobuf (ONNXModel.load), the graph mapped and run on one image", body: onnx),
        FuzzTarget(name: "run-json", summary: "a generate run's run.json (RunRecord.decode), its distribution sampled", body: runRecord),
        FuzzTarget(name: "distribution-json", summary: "transform distribution, whole-image distribution and sample JSON, sampled", body: distribution),
        FuzzTarget(name: "calibration-json", summary: "a colour calibration (ColorCalibration.decode)", body: calibration),
        FuzzTarget(name: "chart-json", summary: "a calibration chart layout (ChartLayout.decode)", body: chart),
        FuzzTarget(name: "obj", summary: "Wavefront OBJ mesh (OBJReader.parse), its texture size and surface", body: obj),
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    // MARK: The targets

    @Sendable static func image(_ bytes: [UInt8]) -> FuzzOutcome {
        // The header-only path (readDPI) returns early from the C shims, so it is run too.
        do { _ = try Image.readDPI(bytes: bytes, name: "fuzz.img") } catch { _ = error }
        do {
            let image = try Image.read(bytes: bytes, name: "fuzz.img")
            return image.pixels.count == image.width * image.height * image.channels ? .accepted : .wrongError("pixel count mismatch")
        } catch { return .refused(error.description) }
    }

    static func checkpoint(_ bytes: [UInt8], name: String) -> FuzzOutcome {
        do { _ = try Checkpoint.load(bytes: bytes, path: name); return .accepted } catch { return .refused(error.description) }
    }

    /// External data is looked up in a folder that does not exist, so it is always refused.
    static let noFolder = URL(fileURLWithPath: "/nonexistent/robustpatch-fuzz", isDirectory: true)

    @Sendable static func onnx(_ bytes: [UInt8]) -> FuzzOutcome {
        let model: ONNXModel
        do { model = try ONNXModel.load(data: Data(bytes), path: "fuzz.onnx", folder: noFolder) } catch { return .refused(error.description) }
        do {
            let size = min(model.input.dims[2] ?? model.input.dims[3] ?? 8, 4096)
            let net = try ONNXNetwork(model, inputSize: size)
            // What maps may still be too big to run quickly (ONNXMapperFuzzTests runs those).
            guard net.floatsPerImage <= 1 << 20, net.multiplyAddsPerImage <= 1 << 24 else { return .accepted }
            let x = Tensor(shape: [1, size, size, 3], values: (0..<(size * size * 3)).map { Float($0 % 17) / 17 })
            let tape = net.record(x)
            guard tape.logits.shape == [1, net.classCount] else { return .wrongError("logits \(tape.logits.shape), not [1, \(net.classCount)]") }
            let g = net.backward(Tensor(shape: [1, net.classCount], values: [Float](repeating: 1, count: net.classCount)), tape: tape)
            guard g.shape == [1, size, size, 3] else { return .wrongError("input gradient \(g.shape), not [1, \(size), \(size), 3]") }
            return .accepted
        } catch { return .refused(error.description) }
    }

    @Sendable static func runRecord(_ bytes: [UInt8]) -> FuzzOutcome {
        do {
            let record = try RunRecord.decode(Data(bytes), path: "run.json")
            var rng = SplitMix64(seed: 1)
            _ = record.config.distribution.sample(imageWidth: 224, imageHeight: 224, patchAspect: 1, using: &rng)
            return .accepted
        } catch { return .refused(error.description) }
    }

    /// The three JSON forms of Transforms: a patch distribution, a whole-image distribution, a sample.
    @Sendable static func distribution(_ bytes: [UInt8]) -> FuzzOutcome {
        let data = Data(bytes)
        var refusals: [String] = []
        var rng = SplitMix64(seed: 1)
        do {
            let d = try TransformDistribution.fromJSON(data)
            _ = d.sample(imageWidth: 224, imageHeight: 224, patchAspect: 0.5, using: &rng)
            return .accepted
        } catch let error as TransformError { refusals.append(error.description) } catch { return .wrongError("TransformDistribution: \(type(of: error)): \(error)") }
        do {
            let d = try ImageTransformDistribution.fromJSON(data)
            _ = d.sample(using: &rng)
            return .accepted
        } catch let error as TransformError { refusals.append(error.description) } catch { return .wrongError("ImageTransformDistribution: \(type(of: error)): \(error)") }
        do {
            _ = try TransformSample.fromJSON(data)
            return .accepted
        } catch let error as TransformError { refusals.append(error.description) } catch { return .wrongError("TransformSample: \(type(of: error)): \(error)") }
        return .refused(refusals.joined(separator: "\n"))
    }

    @Sendable static func calibration(_ bytes: [UInt8]) -> FuzzOutcome {
        do { _ = try ColorCalibration.decode(Data(bytes), source: "calibration.json"); return .accepted } catch { return .refused(error.description) }
    }

    @Sendable static func chart(_ bytes: [UInt8]) -> FuzzOutcome {
        do { _ = try ChartLayout.decode(Data(bytes), source: "chart.json"); return .accepted } catch { return .refused(error.description) }
    }

    /// The mesh, then what a mesh run does with it: its texture size and its prepared surface.
    @Sendable static func obj(_ bytes: [UInt8]) -> FuzzOutcome {
        let mesh: Mesh
        do { mesh = try OBJReader.parse(Data(bytes), name: "fuzz.obj") } catch { return .refused(error.description) }
        do {
            var config = GenerateConfig()
            config.mesh = .file(path: "fuzz.obj")
            let (w, h) = try config.textureSize(mesh: mesh)
            _ = try MeshSurface(mesh: mesh, textureWidth: w, textureHeight: h)
            return .accepted
        } catch let error as AttackError { return .refused(error.description) } catch let error as TransformError {
            return .refused(error.description)
        } catch { return .wrongError("\(type(of: error)): \(error)") }
    }
}
