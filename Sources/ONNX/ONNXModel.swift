// ONNXModel: an .onnx file read and checked before anything runs — the graph's nodes, its one
// image input, its weights (inline or in external files beside the model) — for the engine to map
// onto its ops. Model files come from strangers: every size is checked before it is allocated,
// external data must stay inside the model's folder and inside its file, and an unsupported
// operator, data type, opset or dynamic size is refused with the node and what is supported.
import Foundation
import SwiftProtobuf
import TextSafety

/// A weight or constant: float32 values, or int64 ones (shapes, axes, pads).
public struct ONNXTensor: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case floats([Float])
        case int64s([Int64])
    }
    public var name: String
    public var dims: [Int]
    public var values: Values
    public var count: Int { dims.reduce(1, *) }
    public var floats: [Float]? { if case let .floats(v) = values { return v } else { return nil } }
    public var int64s: [Int64]? { if case let .int64s(v) = values { return v } else { return nil } }
}

/// A node attribute, in the forms CNN classifiers use.
public enum ONNXAttribute: Sendable, Equatable {
    case int(Int64), ints([Int64]), float(Float), floats([Float]), string(String), tensor(ONNXTensor)
}

public struct ONNXNode: Sendable, Equatable {
    public var name: String
    public var op: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: ONNXAttribute]
}

/// The graph's image input: float32, (N, C, H, W); `dims[i]` nil where the file leaves it open.
public struct ONNXInput: Sendable, Equatable {
    public var name: String
    public var dims: [Int?]
    public init(name: String, dims: [Int?]) { self.name = name; self.dims = dims }
}

public struct ONNXModel: Sendable {
    /// Where the file was read from (errors name it).
    public let path: String
    public let opset: Int
    public let producer: String
    public let input: ONNXInput
    public let outputs: [String]
    public let initializers: [String: ONNXTensor]
    public let nodes: [ONNXNode]

    /// Operators a classifier may use (ONNX's default domain). Constant, Shape, Gather and
    /// Unsqueeze only where they compute static shapes.
    public static let supportedOps: [String] = [
        "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "Div", "Dropout", "Flatten",
        "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "MatMul", "MaxPool",
        "Mul", "Pad", "ReduceMean", "Relu", "Reshape", "Shape", "Sigmoid", "Softmax", "Sub", "Unsqueeze",
    ]
    public static let opsets = 11...18
    /// Largest model file read (1 GiB; ResNet-50 is 100 MB, VGG-16 550 MB).
    public static let maxFileBytes = 1 << 30
    /// Largest tensor, in elements (256 M floats, 1 GiB).
    public static let maxTensorElements = 1 << 28
    /// Largest node count.
    public static let maxNodes = 100_000

    /// Reads and checks `path`: refuses (ONNXError) a file that is not ONNX, is cut short, holds
    /// an operator, data type or opset the engine does not run, or sizes it cannot hold.
    public static func load(path: String) throws(ONNXError) -> ONNXModel {
        let url = URL(fileURLWithPath: path)
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard (attributes[.type] as? FileAttributeType) != .typeDirectory else { throw ONNXError.unreadable(path: path, reason: "it is a folder") }
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch let e as ONNXError { throw e } catch {
            throw .unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read it" : "no such file")
        }
        guard size <= maxFileBytes else { throw .tooLarge(path: path, what: "the file", size: "\(size) bytes", limit: "\(maxFileBytes) bytes") }
        guard size > 0 else { throw .notONNX(path: path, reason: "the file is empty") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .unreadable(path: path, reason: "cannot read it") }
        return try load(data: data, path: path, folder: url.deletingLastPathComponent())
    }

    /// `load(path:)` for bytes already in memory (e.g. a fuzzer's input): `path` names the model in
    /// errors, and external data is looked up in `folder`.
    public static func load(data: Data, path: String, folder: URL) throws(ONNXError) -> ONNXModel {
        guard data.count <= maxFileBytes else { throw .tooLarge(path: path, what: "the file", size: "\(data.count) bytes", limit: "\(maxFileBytes) bytes") }
        guard !data.isEmpty else { throw .notONNX(path: path, reason: "the file is empty") }
        let proto: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            options.discardUnknownFields = true
            proto = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw .notONNX(path: path, reason: "not a valid ONNX protobuf (truncated or another format: \(error))")
        }
        return try ONNXModel(proto: proto, path: path, folder: folder)
    }

    init(proto: Onnx_ModelProto, path: String, folder: URL) throws(ONNXError) {
        self.path = path
        guard proto.hasGraph, !proto.graph.node.isEmpty else { throw .notONNX(path: path, reason: "it has no graph (no nodes)") }
        let graph = proto.graph
        guard graph.node.count <= Self.maxNodes else { throw .tooLarge(path: path, what: "the graph", size: "\(graph.node.count) nodes", limit: "\(Self.maxNodes)") }
        // Opset of the default domain.
        guard let version = proto.opsetImport.first(where: { $0.domain == "" || $0.domain == "ai.onnx" })?.version else {
            throw .notONNX(path: path, reason: "it imports no opset of ONNX's default domain")
        }
        guard Self.opsets.contains(Int(clamping: version)) else {
            throw .unsupported(path: path, what: "opset \(version)", supported: "opsets \(Self.opsets.lowerBound)–\(Self.opsets.upperBound); export again with opset_version=17")
        }
        opset = Int(version)
        producer = untrusted(proto.producerName + (proto.producerVersion.isEmpty ? "" : " " + proto.producerVersion))

        // Operators, before any weight is read.
        let unsupported = graph.node.filter { !(($0.domain.isEmpty || $0.domain == "ai.onnx") && Self.supportedOps.contains($0.opType)) }
        if !unsupported.isEmpty {
            let shown = unsupported.prefix(3).map { n in
                "node '\(untrusted(n.name))' is \(n.domain.isEmpty ? "" : untrusted(n.domain) + ".")\(untrusted(n.opType))"
            }.joined(separator: ", ")
            throw .unsupported(path: path, what: shown + (unsupported.count > 3 ? " and \(unsupported.count - 3) more" : ""),
                               supported: Self.supportedOps.joined(separator: ", "))
        }

        var weights: [String: ONNXTensor] = [:]
        var external = ExternalData(folder: folder, modelPath: path)
        for t in graph.initializer {
            weights[t.name] = try Self.tensor(t, path: path, external: &external)
        }
        initializers = weights

        // The image input: the one graph input that is not a weight.
        let images = graph.input.filter { weights[$0.name] == nil }
        guard images.count == 1, let image = images.first else {
            throw .graph(path: path, reason: "it has \(images.count) inputs besides its weights (\(images.prefix(4).map { "'\(untrusted($0.name))'" }.joined(separator: ", "))); an image classifier has one")
        }
        let type = image.type.tensorType
        guard type.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw .unsupported(path: path, what: "input '\(untrusted(image.name))' of data type \(Self.typeName(type.elemType))", supported: "float32 images")
        }
        let dims: [Int?] = type.shape.dim.map { d in
            if case let .dimValue(v)? = d.value, v > 0, v <= Int64(1 << 20) { return Int(v) }
            return nil
        }
        guard dims.count == 4 else {
            throw .graph(path: path, reason: "input '\(untrusted(image.name))' has rank \(dims.count); an image classifier takes (N, 3, H, W)")
        }
        if let c = dims[1], c != 3 { throw .graph(path: path, reason: "input '\(untrusted(image.name))' has \(c) channels; the engine feeds RGB (3)") }
        input = ONNXInput(name: image.name, dims: dims)
        outputs = graph.output.map(\.name)
        guard !outputs.isEmpty else { throw .graph(path: path, reason: "it has no output") }

        var nodes: [ONNXNode] = []
        nodes.reserveCapacity(graph.node.count)
        for (k, n) in graph.node.enumerated() {
            var attributes: [String: ONNXAttribute] = [:]
            for a in n.attribute {
                switch a.type {
                case .int: attributes[a.name] = .int(a.i)
                case .ints: attributes[a.name] = .ints(a.ints)
                case .float: attributes[a.name] = .float(a.f)
                case .floats: attributes[a.name] = .floats(a.floats)
                case .string: attributes[a.name] = .string(String(decoding: a.s.prefix(256), as: UTF8.self))
                case .tensor: attributes[a.name] = .tensor(try Self.tensor(a.t, path: path, external: &external))
                default:
                    throw .unsupported(path: path, what: "attribute '\(untrusted(a.name))' of node '\(untrusted(n.name))' (\(untrusted(n.opType))) of kind \(a.type)",
                                       supported: "int, ints, float, floats, string and tensor attributes")
                }
            }
            nodes.append(ONNXNode(name: n.name.isEmpty ? "#\(k)" : n.name, op: n.opType, inputs: n.input, outputs: n.output, attributes: attributes))
        }
        self.nodes = nodes
    }

    static func typeName(_ t: Int32) -> String {
        Onnx_TensorProto.DataType(rawValue: Int(t)).map { "\($0)" } ?? "#\(t)"
    }

    /// A checked tensor: dims ≥ 0 with a product that fits, float32 (finite) or int64 data of
    /// exactly that many elements, inline or in an external file inside the model's folder.
    static func tensor(_ t: Onnx_TensorProto, path: String, external: inout ExternalData) throws(ONNXError) -> ONNXTensor {
        let name = untrusted(t.name)
        var count = 1
        for d in t.dims {
            guard d >= 0 else { throw .badTensor(path: path, name: name, reason: "a negative size (\(d)) in its shape \(t.dims.prefix(8))") }
            let (p, overflow) = count.multipliedReportingOverflow(by: Int(clamping: d))
            guard !overflow, p <= maxTensorElements else {
                throw .tooLarge(path: path, what: "tensor '\(name)'", size: "shape \(t.dims.prefix(8))", limit: "\(maxTensorElements) elements")
            }
            count = p
        }
        let dims = t.dims.map { Int($0) }
        let float = Int32(Onnx_TensorProto.DataType.float.rawValue), int64 = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        guard t.dataType == float || t.dataType == int64 else {
            throw .unsupported(path: path, what: "tensor '\(name)' of data type \(typeName(t.dataType))", supported: "float32 weights and int64 shapes")
        }
        let width = t.dataType == float ? 4 : 8
        var raw: Data? = nil
        if t.dataLocation == .external {
            raw = try external.read(t, name: name, bytes: count * width)
        } else if t.hasRawData {
            guard t.rawData.count == count * width else {
                throw .badTensor(path: path, name: name, reason: "\(t.rawData.count) bytes of data for shape \(t.dims.prefix(8)) (\(count * width) expected)")
            }
            raw = t.rawData
        }
        if t.dataType == float {
            let values: [Float]
            if let raw { values = littleEndian(raw, count: count, as: Float.self) } else {
                guard t.floatData.count == count else {
                    throw .badTensor(path: path, name: name, reason: "\(t.floatData.count) values for shape \(t.dims.prefix(8)) (\(count) expected)")
                }
                values = t.floatData
            }
            // A NaN or infinite weight poisons every logit it reaches: refused, not run.
            if let k = values.firstIndex(where: { !$0.isFinite }) {
                throw .badTensor(path: path, name: name, reason: "value \(k) is \(values[k]); weights must be finite numbers")
            }
            return ONNXTensor(name: t.name, dims: dims, values: .floats(values))
        }
        if let raw { return ONNXTensor(name: t.name, dims: dims, values: .int64s(littleEndian(raw, count: count, as: Int64.self))) }
        guard t.int64Data.count == count else {
            throw .badTensor(path: path, name: name, reason: "\(t.int64Data.count) values for shape \(t.dims.prefix(8)) (\(count) expected)")
        }
        return ONNXTensor(name: t.name, dims: dims, values: .int64s(t.int64Data))
    }

    static func littleEndian<T: BitwiseCopyable>(_ data: Data, count: Int, as: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            data.withUnsafeBytes { src in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix(count * MemoryLayout<T>.size)))
            }
            initialized = count
        }
    }
}

/// Reads tensors stored outside the model (`data_location: EXTERNAL`): a path relative to the
/// model's folder that must stay inside it (no absolute paths, no "..", no symbolic link out),
/// and an offset and length inside that file.
struct ExternalData {
    let folder: URL
    let modelPath: String
    private var sizes: [String: Int] = [:]

    init(folder: URL, modelPath: String) { self.folder = folder; self.modelPath = modelPath }

    mutating func read(_ t: Onnx_TensorProto, name: String, bytes: Int) throws(ONNXError) -> Data {
        var entries: [String: String] = [:]
        for e in t.externalData { entries[e.key] = e.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw .externalData(path: modelPath, name: name, reason: "no location is given")
        }
        let shown = untrusted(location)
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0"), !parts.contains(".."), !parts.contains("") else {
            throw .externalData(path: modelPath, name: name, reason: "its file '\(shown)' is not a plain path inside the model's folder")
        }
        let root = folder.standardizedFileURL.resolvingSymlinksInPath().path
        let file = folder.appendingPathComponent(location).standardizedFileURL.resolvingSymlinksInPath()
        guard file.path.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw .externalData(path: modelPath, name: name, reason: "its file '\(shown)' leads outside the model's folder")
        }
        func number(_ key: String) throws(ONNXError) -> Int? {
            guard let s = entries[key] else { return nil }
            guard let v = Int(s), v >= 0 else { throw .externalData(path: modelPath, name: name, reason: "its \(key) '\(untrusted(s))' is not a byte count") }
            return v
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? bytes
        guard length == bytes else {
            throw .externalData(path: modelPath, name: name, reason: "its length \(length) does not match its shape (\(bytes) bytes)")
        }
        let size: Int
        if let s = sizes[file.path] { size = s } else {
            guard let a = try? FileManager.default.attributesOfItem(atPath: file.path), (a[.type] as? FileAttributeType) == .typeRegular,
                  let s = (a[.size] as? NSNumber)?.intValue else {
                throw .externalData(path: modelPath, name: name, reason: "its file '\(shown)' is missing beside the model")
            }
            sizes[file.path] = s
            size = s
        }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= size else {
            throw .externalData(path: modelPath, name: name, reason: "bytes \(offset)..<\(offset &+ length) lie past the end of '\(shown)' (\(size) bytes)")
        }
        do {
            let h = try FileHandle(forReadingFrom: file)
            defer { try? h.close() }
            try h.seek(toOffset: UInt64(offset))
            let d = try h.read(upToCount: length) ?? Data()
            guard d.count == length else { throw ONNXError.externalData(path: modelPath, name: name, reason: "'\(shown)' ended early") }
            return d
        } catch let e as ONNXError { throw e } catch {
            throw .externalData(path: modelPath, name: name, reason: "cannot read '\(shown)'")
        }
    }
}

/// Text from a model file, fit for an error line: escaped and cut to 60 characters (TextSafety).
func untrusted(_ s: String) -> String { untrustedText(s, limit: 60) }
