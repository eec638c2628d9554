// The .onnx loader: a small classifier graph built here with the generated protobuf types, then
// every way a downloaded file can be wrong — truncated, garbage, unsupported operators and data
// types, impossible or huge sizes, data past the end, external data outside the model's folder —
// each refused with an error naming the part, before anything large is allocated.
import Foundation
import ONNX
import Networks
import Tensors
import SwiftProtobuf
import Testing
import Imaging

/// A (1, 3, 8, 8) → 10 classifier: Conv 3→4 3×3, Relu, GlobalAveragePool, Flatten, Gemm.
func tinyModel(batch: Onnx_TensorShapeProto.Dimension? = nil, rawWeights: Bool = true) -> Onnx_ModelProto {
    func dim(_ v: Int64) -> Onnx_TensorShapeProto.Dimension { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = v; return d }
    func weight(_ name: String, _ dims: [Int64]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name; t.dims = dims; t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        let values = (0..<Int(dims.reduce(1, *))).map { Float($0 % 7) * 0.1 - 0.3 }
        if rawWeights { t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) } } else { t.floatData = values }
        return t
    }
    func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto(); n.opType = op; n.input = inputs; n.output = outputs; n.name = op.lowercased(); n.attribute = attributes
        return n
    }
    func ints(_ name: String, _ v: [Int64]) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = v; return a }
    var transB = Onnx_AttributeProto(); transB.name = "transB"; transB.type = .int; transB.i = 1
    var input = Onnx_ValueInfoProto()
    input.name = "image"
    input.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    input.type.tensorType.shape.dim = [batch ?? dim(1), dim(3), dim(8), dim(8)]
    var output = Onnx_ValueInfoProto(); output.name = "logits"
    var g = Onnx_GraphProto()
    g.name = "tiny"
    g.initializer = [weight("conv.w", [4, 3, 3, 3]), weight("conv.b", [4]), weight("fc.w", [10, 4]), weight("fc.b", [10])]
    g.input = [input]
    g.output = [output]
    g.node = [node("Conv", ["image", "conv.w", "conv.b"], ["c"], [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])]),
              node("Relu", ["c"], ["r"]), node("GlobalAveragePool", ["r"], ["p"]), node("Flatten", ["p"], ["f"]),
              node("Gemm", ["f", "fc.w", "fc.b"], ["logits"], [transB])]
    return modelProto(g)
}

/// `graph` as a model file's contents: IR version 8, one opset import (the default domain).
func modelProto(_ graph: Onnx_GraphProto, opset: Int64 = 17, producer: String = "tests") -> Onnx_ModelProto {
    var m = Onnx_ModelProto()
    m.irVersion = 8; m.producerName = producer
    var o = Onnx_OperatorSetIdProto(); o.version = opset
    m.opsetImport = [o]
    m.graph = graph
    return m
}

/// The folder this test process writes its models in (onnx-tests-PID in the temporary folder),
/// removed when the process exits.
let testFolder: URL = {
    atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("onnx-tests-\(getpid())")) }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}()

/// Writes `model` (or raw bytes) into a fresh folder; returns the file's path.
func write(_ model: Onnx_ModelProto? = nil, bytes: Data? = nil, name: String = "model.onnx", folder: URL? = nil) throws -> String {
    let dir = folder ?? testFolder.appendingPathComponent("onnx-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try (bytes ?? model!.serializedBytes() as Data).write(to: url)
    return url.path
}

/// The error `load` throws for `path` (fails the test when it loads).
func refusal(_ path: String) -> ONNXError? {
    do { _ = try ONNXModel.load(path: path); Issue.record("\(path) loaded"); return nil } catch { return error }
}

@Suite struct ONNXModelTests {
    @Test func aSmallClassifierLoadsWithItsWeightsAndNodes() throws {
        for raw in [true, false] {
            let m = try ONNXModel.load(path: try write(tinyModel(rawWeights: raw)))
            #expect(m.opset == 17 && m.producer == "tests")
            #expect(m.input == ONNXInput(name: "image", dims: [1, 3, 8, 8]))
            #expect(m.outputs == ["logits"])
            #expect(m.nodes.map(\.op) == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"])
            #expect(m.nodes[0].attributes["pads"] == .ints([1, 1, 1, 1]))
            #expect(m.initializers["conv.w"]?.dims == [4, 3, 3, 3])
            #expect(m.initializers["conv.w"]?.floats == (0..<108).map { Float($0 % 7) * 0.1 - 0.3 })
            #expect(m.initializers["fc.b"]?.count == 10)
        }
        // A batch left open (dim_param) is fine: the engine picks the batch.
        var open = Onnx_TensorShapeProto.Dimension(); open.dimParam = "batch"
        #expect(try ONNXModel.load(path: try write(tinyModel(batch: open))).input.dims == [nil, 3, 8, 8])
    }

    @Test func garbageTruncatedAndEmptyFilesAreRefused() throws {
        let good = try tinyModel().serializedBytes() as Data
        for cut in [1, 7, good.count / 3, good.count / 2, good.count - 1] {
            let e = refusal(try write(bytes: good.prefix(cut)))
            #expect(e != nil, "cut at \(cut)")
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let noise = Data((0..<Int.random(in: 1...4000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            _ = try? ONNXModel.load(path: try write(bytes: noise))   // must not crash; most are refused
        }
        guard case .notONNX? = refusal(try write(bytes: Data())) else { Issue.record("empty file"); return }
        guard case .unreadable? = refusal("/nonexistent/model.onnx") else { Issue.record("missing file"); return }
        let dir = FileManager.default.temporaryDirectory.path
        guard case .unreadable? = refusal(dir) else { Issue.record("a folder"); return }
        // A PNG is not ONNX.
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 40))
        #expect(refusal(try write(bytes: png)) != nil)
    }

    @Test func unsupportedOperatorsAreNamedWithTheSupportedList() throws {
        var m = tinyModel()
        m.graph.node[1].opType = "Elu"; m.graph.node[1].name = "act\u{1B}[31m1"
        m.graph.node[2].opType = "LRN"
        let e = refusal(try write(m))
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains("node 'act\\x1B[31m1' is Elu") && text.contains("is LRN"), "\(text)")
        #expect(text.contains("Supported: Add, AveragePool"))
        #expect(!text.contains("\u{1B}"), "no raw control characters from the file")
        #expect(text.split(separator: "\n").count <= 3)
        // Another domain (a custom op) is refused too.
        var c = tinyModel(); c.graph.node[1].domain = "com.microsoft"
        #expect("\(refusal(try write(c)).map { "\($0)" } ?? "")".contains("com.microsoft.Relu"))
        // Opsets outside 11–18.
        var old = tinyModel(); old.opsetImport[0].version = 9
        #expect("\(refusal(try write(old)).map { "\($0)" } ?? "")".contains("opset 9"))
    }

    @Test func impossibleAndHugeSizesAreRefusedBeforeAllocation() throws {
        var neg = tinyModel(); neg.graph.initializer[0].dims = [4, -3, 3, 3]
        guard case .badTensor? = refusal(try write(neg)) else { Issue.record("negative size"); return }
        var huge = tinyModel(); huge.graph.initializer[0].dims = [1 << 40, 1 << 40]; huge.graph.initializer[0].rawData = Data(count: 16)
        guard case .tooLarge? = refusal(try write(huge)) else { Issue.record("huge tensor"); return }
        var overflow = tinyModel(); overflow.graph.initializer[0].dims = [Int64.max, Int64.max, 2]
        guard case .tooLarge? = refusal(try write(overflow)) else { Issue.record("overflowing shape"); return }
        var short = tinyModel(); short.graph.initializer[2].rawData = Data(count: 12)
        guard case .badTensor? = refusal(try write(short)) else { Issue.record("short data"); return }
        var doubles = tinyModel(); doubles.graph.initializer[3].dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        guard case .unsupported? = refusal(try write(doubles)) else { Issue.record("float64 weights"); return }
        var ints = tinyModel(); ints.graph.input[0].type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.uint8.rawValue)
        guard case .unsupported? = refusal(try write(ints)) else { Issue.record("uint8 input"); return }
        var gray = tinyModel(); gray.graph.input[0].type.tensorType.shape.dim[1].dimValue = 1
        guard case .graph? = refusal(try write(gray)) else { Issue.record("one-channel input"); return }
        var twoInputs = tinyModel(); var extra = twoInputs.graph.input[0]; extra.name = "mask"; twoInputs.graph.input.append(extra)
        guard case .graph? = refusal(try write(twoInputs)) else { Issue.record("two inputs"); return }
    }

    @Test func externalDataStaysInsideTheModelsFolderAndFile() throws {
        let dir = testFolder.appendingPathComponent("onnx-ext-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let weights = (0..<(4 * 3 * 3 * 3)).map { Float($0) }
        try weights.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: dir.appendingPathComponent("weights.bin"))
        try Data(count: 8).write(to: dir.deletingLastPathComponent().appendingPathComponent("outside.bin"))
        func model(_ entries: [String: String]) -> Onnx_ModelProto {
            var m = tinyModel()
            m.graph.initializer[0].clearRawData()
            m.graph.initializer[0].dataLocation = .external
            m.graph.initializer[0].externalData = entries.sorted { $0.key < $1.key }.map { var e = Onnx_StringStringEntryProto(); e.key = $0.key; e.value = $0.value; return e }
            return m
        }
        let ok = try ONNXModel.load(path: try write(model(["location": "weights.bin", "offset": "0", "length": "432"]), folder: dir))
        #expect(ok.initializers["conv.w"]?.floats == weights)
        for (entries, why) in [(["location": "../outside.bin"], "parent"), (["location": dir.deletingLastPathComponent().appendingPathComponent("outside.bin").path], "absolute"),
                               (["location": "weights.bin", "offset": "400"], "past the end"), (["location": "weights.bin", "length": "8"], "wrong length"),
                               (["location": "missing.bin"], "missing"), (["location": "weights.bin", "offset": "-4"], "negative offset"),
                               (["location": "weights.bin", "offset": "9223372036854775807"], "overflowing offset"), ([:], "no location")] {
            guard case .externalData? = refusal(try write(model(entries), name: "m-\(why.replacingOccurrences(of: " ", with: "-")).onnx", folder: dir)) else {
                Issue.record("external data: \(why) was not refused"); continue
            }
        }
        // A symbolic link inside the folder that leads out of it.
        try? FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("link.bin"), withDestinationURL: dir.deletingLastPathComponent().appendingPathComponent("outside.bin"))
        guard case .externalData? = refusal(try write(model(["location": "link.bin"]), name: "m-link.onnx", folder: dir)) else {
            Issue.record("a link out of the folder was followed"); return
        }
    }
}

/// Models as torch.onnx.export writes them (Scripts/make_onnx_fixtures.py: torchvision's ResNet-18
/// at width 8 and MobileNetV2 at width 0.25, opset 17, batch left open, 100 classes).
@Suite struct TorchExportTests {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    @Test(arguments: [("resnet18_w8", ["Add", "Conv", "Flatten", "Gemm", "GlobalAveragePool", "MaxPool", "Relu"], 20),
                      ("mobilenet_v2_w25", ["Add", "Clip", "Constant", "Conv", "Flatten", "Gemm", "GlobalAveragePool"], 52)])
    func torchExportsLoad(_ name: String, ops: [String], convolutions: Int) throws {
        let m = try ONNXModel.load(path: Self.fixtures.appendingPathComponent("\(name).onnx").path)
        #expect(m.opset == 17 && m.producer.hasPrefix("pytorch"))
        #expect(m.input == ONNXInput(name: "image", dims: [nil, 3, 224, 224]))
        #expect(m.outputs == ["logits"])
        #expect(Set(m.nodes.map(\.op)) == Set(ops), "\(Set(m.nodes.map(\.op)).sorted())")
        #expect(m.nodes.filter { $0.op == "Conv" }.count == convolutions)
        // Every node input is the image, a weight, a constant or an earlier node's output.
        var known = Set([m.input.name]).union(m.initializers.keys)
        for n in m.nodes {
            for i in n.inputs where !i.isEmpty { #expect(known.contains(i), "\(n.name) reads '\(i)' before it is made") }
            known.formUnion(n.outputs)
        }
        #expect(m.outputs.allSatisfy(known.contains))
    }
}

@Suite struct ModelSidecarTests {
    @Test func theSidecarBesideTheModelGivesItsPreprocessingAndFlagsOverrideIt() throws {
        let dir = testFolder.appendingPathComponent("sidecar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let model = dir.appendingPathComponent("net.onnx").path
        #expect(try ModelSidecar.read(forModel: model) == nil)
        try Data(#"{"input_size": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "labels": "classes.txt"}"#.utf8)
            .write(to: URL(fileURLWithPath: model + ".json"))
        let s = try #require(try ModelSidecar.read(forModel: model))
        #expect(s.inputSize == 224 && s.labels == dir.appendingPathComponent("classes.txt").path)
        let r = try s.overridden(by: ModelSidecar(inputSize: 256, labels: "imagenet")).resolved(model: model)
        #expect(r.inputSize == 256 && r.labels == "imagenet" && r.mean == SIMD3(0.485, 0.456, 0.406) && r.std == SIMD3(0.229, 0.224, 0.225))
    }

    @Test func missingOrImpossiblePreprocessingIsAClearError() throws {
        let text = { (s: ModelSidecar) -> String in
            do { _ = try s.resolved(model: "/m/net.onnx"); return "" } catch { return "\(error)" }
        }
        let none = text(ModelSidecar())
        #expect(none.contains("missing input_size (--input-size), mean (--mean), std (--std), labels (--labels)") && none.contains("net.onnx.json"))
        let ok = ModelSidecar(inputSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], labels: "imagenet")
        #expect(text(ok).isEmpty)
        var zero = ok; zero.std = [0.2, 0, 0.2]
        #expect(text(zero).contains("every std > 0"))
        var two = ok; two.mean = [0.5, 0.5]
        #expect(text(two).contains("three finite numbers"))
        var nan = ok; nan.mean = [0.5, .nan, 0.5]
        #expect(!text(nan).isEmpty)
        var huge = ok; huge.inputSize = 1 << 20
        #expect(text(huge).contains("outside 16–2048"))
        // A sidecar that is not one.
        let dir = testFolder.appendingPathComponent("sidecar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let model = dir.appendingPathComponent("net.onnx").path
        try Data(#"{"input_size": "big"}"#.utf8).write(to: URL(fileURLWithPath: model + ".json"))
        #expect(throws: ONNXError.self) { try ModelSidecar.read(forModel: model) }
    }
}

/// The torch exports run on the engine and give PyTorch's logits and input gradients.
@Suite struct ONNXForwardTests {
    struct Reference: Decodable {
        struct Model: Decodable {
            var logits: [[Float]]; var top1: [Int]
            var gradient_every_97th: [Float]; var gradient_norm: Float
        }
        var models: [String: Model]
    }
    static let models = ["resnet18_w8", "mobilenet_v2_w25", "mobilenet_v3_small_w50", "opzoo"]

    /// The fixtures' two inputs, NHWC: x[0, h, w, c] = ((37h + 59w + 101c + 7hw) mod 256) / 255,
    /// and x[1] the 224 × 224 crop of Samples/cat.png at (113, 38).
    static func inputs() throws -> Tensor {
        var x = [Float](repeating: 0, count: 2 * 224 * 224 * 3)
        for h in 0..<224 { for w in 0..<224 { for c in 0..<3 {
            x[(h * 224 + w) * 3 + c] = Float((37 * h + 59 * w + 101 * c + 7 * h * w) % 256) / 255
        } } }
        // Tests run from the package root; fall back to the source tree.
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let root = FileManager.default.fileExists(atPath: "Samples/cat.png") ? URL(fileURLWithPath: ".") : here
        let cat = try Image.read(from: root.appendingPathComponent("Samples/cat.png").path).rgb.cropped(x: 113, y: 38, width: 224, height: 224)
        for i in 0..<(224 * 224 * 3) { x[224 * 224 * 3 + i] = cat.pixels[i] }
        return Tensor(shape: [2, 224, 224, 3], values: x)
    }

    static func load(_ name: String) throws -> (ONNXNetwork, Reference.Model) {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: TorchExportTests.fixtures.appendingPathComponent("reference.json")))
        let model = try ONNXModel.load(path: TorchExportTests.fixtures.appendingPathComponent("\(name).onnx").path)
        return (try ONNXNetwork(model, inputSize: 224), try #require(reference.models[name]))
    }

    /// d loss / d logits of the fixtures' loss, Σ c_k logits[n, k] with c_k = ((7k) mod 11 − 5) / 5.
    static let coefficients = (0..<100).map { Float((7 * $0) % 11 - 5) / 5 }

    @Test(arguments: models)
    func logitsMatchPyTorch(_ name: String) throws {
        let (net, expected) = try Self.load(name)
        #expect(net.classCount == 100)
        let logits = net.forward(try Self.inputs()).array
        let want = expected.logits.flatMap { $0 }
        let scale = want.map { abs($0) }.max() ?? 1
        let diff = zip(logits, want).map { abs($0 - $1) }.max() ?? .infinity
        print("\(name): max |Δ logit| vs PyTorch \(diff) (logits up to \(scale))")
        #expect(diff <= 1e-4 * max(scale, 1e-3), "max |Δ| \(diff)")
        for b in 0..<2 {
            let row = Array(logits[(b * 100)..<((b + 1) * 100)])
            #expect(row.indices.max { row[$0] < row[$1] } == expected.top1[b])
        }
    }

    /// The backward to the input gives PyTorch's input gradient (autograd of the same loss).
    @Test(arguments: models)
    func inputGradientsMatchPyTorch(_ name: String) throws {
        let (net, expected) = try Self.load(name)
        let x = try Self.inputs()
        let tape = net.record(x)
        let dLogits = Tensor(shape: [2, 100], values: Self.coefficients + Self.coefficients)
        let g = net.backward(dLogits, tape: tape).array
        // PyTorch's NCHW element i = ((n·3 + c)·224 + h)·224 + w.
        var picked: [Float] = [], norm = 0.0
        for v in g { norm += Double(v) * Double(v) }
        for i in stride(from: 0, to: 2 * 3 * 224 * 224, by: 97) {
            let w = i % 224, h = (i / 224) % 224, c = (i / (224 * 224)) % 3, n = i / (3 * 224 * 224)
            picked.append(g[((n * 224 + h) * 224 + w) * 3 + c])
        }
        let want = expected.gradient_every_97th
        let scale = want.map { abs($0) }.max() ?? 1
        let diff = zip(picked, want).map { abs($0 - $1) }.max() ?? .infinity
        let normDiff = abs(Float(norm.squareRoot()) - expected.gradient_norm) / expected.gradient_norm
        print("\(name): max |Δ gradient| vs PyTorch \(diff) (gradient up to \(scale)); norm off by \(normDiff)")
        #expect(picked.count == want.count)
        #expect(diff <= 1e-3 * scale, "max |Δ| \(diff) of \(scale)")
        #expect(normDiff <= 1e-3)
    }

}

extension ONNXForwardTests {
    /// Workspaces kept from call to call (as ONNXRunner keeps them) change nothing: the same
    /// logits and gradients, bit for bit, as fresh memory, after other inputs ran in between.
    @Test(arguments: ["resnet18_w8", "mobilenet_v3_small_w50", "opzoo"])
    func reusedWorkspacesGiveTheSameResults(_ name: String) throws {
        let (net, _) = try Self.load(name)
        let x = try Self.inputs()
        let other = Tensor(shape: x.shape, values: x.array.map { 1 - $0 })
        let d = Tensor(shape: [2, 100], values: Self.coefficients + Self.coefficients)
        let reference = net.backward(d, tape: net.record(x)).array
        let spaces = (0..<3).map { _ in Workspace() }
        for input in [x, other, x] {
            let tape = net.record(input, workspaces: spaces)
            let g = net.backward(d, tape: tape, workspaces: spaces).array
            if input.array == x.array {
                let same = g == reference && tape.logits.array == net.forward(x).array
                #expect(same, "\(name): reused workspaces changed the result")
            }
        }
    }
}

extension ONNXForwardTests {
    @Test func whatTheEngineCannotRunIsRefusedByName() throws {
        let tiny = try ONNXModel.load(path: try write(tinyModel()))
        let net = try ONNXNetwork(tiny, inputSize: 8)
        #expect(net.forward(Tensor(zeros: [3, 8, 8, 3])).shape == [3, 10])
        var m = tinyModel(); m.graph.node[1].opType = "Softmax"
        do {
            _ = try ONNXNetwork(try ONNXModel.load(path: try write(m)), inputSize: 8)
            Issue.record("a softmax over a feature map was mapped")
        } catch {
            #expect("\(error)".contains("node 'relu' (Softmax): a softmax other than over the classes of a vector"), "\(error)")
        }
        // An input size the file does not allow, or none at all.
        let resnet = try ONNXModel.load(path: TorchExportTests.fixtures.appendingPathComponent("resnet18_w8.onnx").path)
        for size in [0, 200] {
            do { _ = try ONNXNetwork(resnet, inputSize: size); Issue.record("input size \(size) was accepted") } catch {}
        }
    }
}
