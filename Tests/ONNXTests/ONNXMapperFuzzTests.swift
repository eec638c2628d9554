// The graph mapper (ONNXNetwork(model, inputSize:)) against hostile graphs: files that load — a
// well-formed protobuf, checked tensors — but whose graph lies: weights that do not fit their
// input, attributes out of range or of the wrong kind, sizes whose products overflow, shapes that
// grow past any memory, names that lead nowhere, cycles, duplicate producers, non-finite weights.
// Each is refused with an ONNXError of at most three lines that names the node (or the input, the
// output, the tensor). Then a seeded mutation fuzz of the fixtures: every mutant is refused so, or
// maps and runs forward and backward with the right shapes. A trap would end the test process:
// set ONNX_FUZZ_TRACE=1 to print each mutant before it runs.
import Foundation
import ONNX
import Networks
import Tensors
import Transforms
import SwiftProtobuf
import Testing

// MARK: Building graphs

private func f32(_ name: String, _ dims: [Int64], _ fill: (Int) -> Float = { Float($0 % 7) * 0.1 - 0.3 }) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name; t.dims = dims; t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    t.floatData = (0..<Int(dims.reduce(1, *))).map(fill)
    return t
}
private func i64(_ name: String, _ values: [Int64], dims: [Int64]? = nil) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name; t.dims = dims ?? [Int64(values.count)]; t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue); t.int64Data = values
    return t
}
private func op(_ type: String, _ inputs: [String], _ outputs: [String], name: String? = nil, _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
    var n = Onnx_NodeProto()
    n.opType = type; n.input = inputs; n.output = outputs; n.name = name ?? "evil"; n.attribute = attributes
    return n
}
private func attr(_ name: String, int: Int64) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = int; return a }
private func attr(_ name: String, ints: [Int64]) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints; return a }
private func attr(_ name: String, float: Float) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = float; return a }
private func attr(_ name: String, string: String) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(string.utf8); return a }
private func attr(_ name: String, tensor: Onnx_TensorProto) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .tensor; a.t = tensor; return a }

/// image (N, 3, size, size) → Conv 3→4, 3×3, pad 1 ("stem") → "x" (4, size, size) → `body` →
/// with `head`: GlobalAveragePool of `last`, Flatten, Gemm ("fc", `channels` → 5) → "logits".
/// `size` nil leaves the height and width open.
private func net(size: Int64? = 8, _ body: [Onnx_NodeProto] = [], weights: [Onnx_TensorProto] = [], last: String = "x", channels: Int64 = 4,
                 head: Bool = true, outputs: [String] = ["logits"]) -> Onnx_ModelProto {
    var input = Onnx_ValueInfoProto()
    input.name = "image"
    input.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    input.type.tensorType.shape.dim = [Int64(1), 3, size ?? -1, size ?? -1].map { v in
        var d = Onnx_TensorShapeProto.Dimension()
        if v > 0 { d.dimValue = v } else { d.dimParam = "side" }
        return d
    }
    var g = Onnx_GraphProto()
    g.name = "hostile"
    g.input = [input]
    g.output = outputs.map { var o = Onnx_ValueInfoProto(); o.name = $0; return o }
    g.initializer = [f32("stem.w", [4, 3, 3, 3]), f32("stem.b", [4]), f32("fc.w", [5, channels]), f32("fc.b", [5])] + weights
    g.node = [op("Conv", ["image", "stem.w", "stem.b"], ["x"], name: "stem", [attr("pads", ints: [1, 1, 1, 1])])] + body
        + (head ? [op("GlobalAveragePool", [last], ["gap"], name: "gap"), op("Flatten", ["gap"], ["flat"], name: "flatten"),
                   op("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name: "fc", [attr("transB", int: 1)])] : [])
    return modelProto(g, producer: "hostile")
}

/// The same graph with the Gemm of the head replaced by `gemm` (which must write "logits").
private func withHead(_ gemm: Onnx_NodeProto, weights: [Onnx_TensorProto] = []) -> Onnx_ModelProto {
    var m = net(weights: weights)
    m.graph.node[m.graph.node.count - 1] = gemm
    return m
}

/// What loading `m` and mapping it at `inputSize` throws; nil when it maps.
private func mappingError(_ m: Onnx_ModelProto, inputSize: Int = 8) throws -> ONNXError? {
    let path = try write(m)
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    do { _ = try ONNXNetwork(try ONNXModel.load(path: path), inputSize: inputSize); return nil } catch { return error }
}

/// A refusal a person can act on: at most three lines, short, the file named, no raw control
/// characters from the file.
private func readable(_ e: ONNXError) -> Bool {
    let text = "\(e)"
    return text.split(separator: "\n").count <= 3 && text.count <= 1200 && !text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }
}

// MARK: Hostile graphs

/// One hostile graph: what it is, the file, the input size it is mapped at, and what its refusal
/// must name.
struct Hostile: Sendable, CustomTestStringConvertible {
    var name: String
    var model: Onnx_ModelProto
    var inputSize = 8
    var mentions: [String]
    var testDescription: String { name }
}

private let big = Int64(1) << 40

let hostileGraphs: [Hostile] = {
    var c: [Hostile] = []
    func add(_ name: String, _ m: Onnx_ModelProto, size: Int = 8, _ mentions: String...) { c.append(Hostile(name: name, model: m, inputSize: size, mentions: mentions)) }
    func conv(_ attributes: [Onnx_AttributeProto], weight: Onnx_TensorProto? = nil, bias: String? = nil) -> Onnx_ModelProto {
        net([op("Conv", ["x", "w"] + (bias.map { [$0] } ?? []), ["y"], attributes)],
            weights: [weight ?? f32("w", [4, 4, 3, 3])] + (bias == "b" ? [f32("b", [7])] : []), last: "y")
    }

    // Conv: weights that do not fit, groups, windows, attributes of the wrong kind or size.
    add("Conv weight for 3 input channels on 4", conv([], weight: f32("w", [6, 3, 3, 3])), "'evil' (Conv)", "(6, 3, 3, 3)", "4 channels")
    add("Conv group 0", conv([attr("group", int: 0)], weight: f32("w", [4, 4, 1, 1])), "'evil' (Conv)", "0 groups")
    add("Conv group -1", conv([attr("group", int: -1)], weight: f32("w", [4, 4, 1, 1])), "'evil' (Conv)", "-1 groups")
    add("Conv group that does not divide the outputs", conv([attr("group", int: 2)], weight: f32("w", [5, 2, 1, 1])), "'evil' (Conv)", "2 groups")
    add("Conv group Int64.max (channels × group overflows)", conv([attr("group", int: .max)], weight: f32("w", [4, 2, 1, 1])), "'evil' (Conv)", "groups")
    add("Conv group Int64.min", conv([attr("group", int: .min)], weight: f32("w", [4, 1, 1, 1])), "'evil' (Conv)", "groups")
    add("Conv with no output channels", conv([], weight: f32("w", [0, 4, 3, 3])), "'evil' (Conv)", "(0, 4, 3, 3)")
    add("Conv kernel larger than the padded input", conv([attr("pads", ints: [1, 1, 1, 1])], weight: f32("w", [4, 4, 11, 11])), "'evil' (Conv)", "empty output", "11×11")
    add("Conv kernel of 2000", conv([], weight: f32("w", [1, 4, 2000, 1])), "'evil' (Conv)", "kernel [2000, 1]")
    add("Conv strides 0", conv([attr("strides", ints: [0, 0])]), "'evil' (Conv)", "strides [0, 0]")
    add("Conv strides -1", conv([attr("strides", ints: [-1, 1])]), "'evil' (Conv)", "strides [-1, 1]")
    add("Conv strides Int64.max", conv([attr("strides", ints: [.max, .max])]), "'evil' (Conv)", "strides")
    add("Conv dilations 0", conv([attr("dilations", ints: [0, 1])]), "'evil' (Conv)", "dilations [0, 1]")
    add("Conv pads -1", conv([attr("pads", ints: [-1, 0, 0, 0])]), "'evil' (Conv)", "pads [-1, 0, 0, 0]")
    add("Conv pads 2^40", conv([attr("pads", ints: [big, big, big, big])]), "'evil' (Conv)", "pads")
    add("Conv pads of 3 values", conv([attr("pads", ints: [1, 1, 1])]), "'evil' (Conv)", "pads [1, 1, 1]")
    add("Conv pads of a million values", conv([attr("pads", ints: [Int64](repeating: 1, count: 1_000_000))]), "'evil' (Conv)", "1000000 values")
    add("Conv kernel_shape Int64.max", conv([attr("kernel_shape", ints: [.max, 3])]), "'evil' (Conv)", "kernel_shape")
    add("Conv pads as one int", conv([attr("pads", int: 1)]), "'evil' (Conv)", "'pads'", "list of ints")
    add("Conv strides as a float", conv([attr("strides", float: 1)]), "'evil' (Conv)", "'strides'")
    add("Conv group as a list", conv([attr("group", ints: [1])]), "'evil' (Conv)", "'group'", "an int")
    add("Conv auto_pad as an int", conv([attr("auto_pad", int: 1)]), "'evil' (Conv)", "'auto_pad'")
    add("Conv auto_pad unknown", conv([attr("auto_pad", string: "SAME_\u{1B}[31mEVIL")]), "'evil' (Conv)", "auto_pad SAME_\\x1B[31mEVIL")
    add("Conv 3-D weight", conv([], weight: f32("w", [4, 4, 3])), "'evil' (Conv)", "constant 4-D")
    add("Conv weight computed by the graph", net([op("Conv", ["x", "x"], ["y"])], last: "y"), "'evil' (Conv)", "constant 4-D")
    add("Conv bias of 7 values for 4 outputs", conv([], bias: "b"), "'evil' (Conv)", "bias of 7 values")
    add("Conv bias computed by the graph", conv([], bias: "x"), "'evil' (Conv)", "bias 'x'")
    add("Conv of 32 channels on 4096 × 4096 (2^29 values per image)",
        net(size: nil, [op("Conv", ["x", "w"], ["y"])], weights: [f32("w", [32, 4, 1, 1])], last: "y"), size: 4096, "'y'", "'evil' (Conv)", "too large")

    // Gemm and MatMul.
    add("Gemm weight for 7 features on 4", withHead(op("Gemm", ["flat", "w", "fc.b"], ["logits"], [attr("transB", int: 1)]), weights: [f32("w", [5, 7])]),
        "'evil' (Gemm)", "7 features", "4 features")
    add("Gemm transB 2", withHead(op("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], [attr("transB", int: 2)])), "'evil' (Gemm)", "transB 2")
    add("Gemm transA 1", withHead(op("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], [attr("transA", int: 1), attr("transB", int: 1)])), "'evil' (Gemm)", "transA")
    add("Gemm bias of 3 values for 5 outputs", withHead(op("Gemm", ["flat", "fc.w", "b3"], ["logits"], [attr("transB", int: 1)]), weights: [f32("b3", [3])]),
        "'evil' (Gemm)", "bias of 3 values")
    add("Gemm alpha that scales the weight past Float's range",
        withHead(op("Gemm", ["flat", "w", "fc.b"], ["logits"], [attr("transB", int: 1), attr("alpha", float: 1e38)]), weights: [f32("w", [5, 4]) { _ in 100 }]),
        "'evil' (Gemm)", "past Float's range")
    add("Gemm alpha NaN", withHead(op("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], [attr("transB", int: 1), attr("alpha", float: .nan)])), "'evil' (Gemm)", "'alpha'", "not a finite number")
    add("MatMul of a 1-D weight", withHead(op("MatMul", ["flat", "v"], ["logits"]), weights: [f32("v", [4])]), "'evil' (MatMul)", "2-D weight")
    add("MatMul weight for 6 features on 4", withHead(op("MatMul", ["flat", "w"], ["logits"]), weights: [f32("w", [6, 5])]), "'evil' (MatMul)", "6 features")
    add("Gemm to 0 classes", withHead(op("Gemm", ["flat", "w", "b"], ["logits"], [attr("transB", int: 1)]), weights: [f32("w", [0, 4]), f32("b", [0])]),
        "'evil' (Gemm)", "0 outputs")

    // Reshape.
    func reshape(_ target: [Int64]) -> Onnx_ModelProto {
        net([op("Reshape", ["x", "t"], ["y"])], weights: [i64("t", target)], last: "y")
    }
    add("Reshape to (N, 2^40, 2^40) (the product overflows)", reshape([-1, big, big]), "'evil' (Reshape)", "more values")
    add("Reshape to (N, Int64.max)", reshape([0, .max]), "'evil' (Reshape)", "more values")
    add("Reshape with two -1", reshape([0, -1, -1]), "'evil' (Reshape)", "impossible shape")
    add("Reshape with -1 for the batch and the features", reshape([-1, -1]), "'evil' (Reshape)", "impossible shape")
    add("Reshape to -5", reshape([0, -5]), "'evil' (Reshape)", "impossible shape")
    add("Reshape copying an axis after the batch", reshape([0, 0]), "'evil' (Reshape)", "impossible shape")
    add("Reshape to 7 values of 256", reshape([0, 7]), "'evil' (Reshape)", "256 values")
    add("Reshape that changes the batch", reshape([2, -1]), "'evil' (Reshape)", "changes the batch")
    add("Reshape to a shape of 1000 values", reshape([Int64](repeating: 1, count: 1000)), "'evil' (Reshape)", "'t'", "more than 64")
    add("Reshape to a computed float", net([op("Reshape", ["x", "x"], ["y"])], last: "y"), "'evil' (Reshape)", "not static")

    // Gather from a static shape.
    func gather(_ index: [Int64], axis: Int64 = 0) -> Onnx_ModelProto {
        net([op("Shape", ["x"], ["s"], name: "shape"), op("Gather", ["s", "i"], ["g"], [attr("axis", int: axis)]),
             op("Concat", ["g", "minus1"], ["t"], name: "concat", [attr("axis", int: 0)]), op("Reshape", ["x", "t"], ["y"], name: "reshape")],
            weights: [i64("i", index), i64("minus1", [-1])], last: "y")
    }
    add("Gather index 7 of a shape of 4", gather([7]), "'evil' (Gather)", "index 7")
    add("Gather index -9 (negative past the rank)", gather([-9]), "'evil' (Gather)", "index -9")
    add("Gather index Int64.min", gather([.min]), "'evil' (Gather)", "index")
    add("Gather on axis 1", gather([0], axis: 1), "'evil' (Gather)", "gather other than")

    // Concat.
    add("Concat on axis 2", net([op("Concat", ["x", "x"], ["y"], [attr("axis", int: 2)])], last: "y", channels: 8), "'evil' (Concat)", "axis 2")
    add("Concat on axis Int64.min", net([op("Concat", ["x", "x"], ["y"], [attr("axis", int: .min)])], last: "y", channels: 8), "'evil' (Concat)", "axis")
    add("Concat of an 8×8 and a 4×4 map",
        net([op("MaxPool", ["x"], ["p"], name: "pool", [attr("kernel_shape", ints: [2, 2]), attr("strides", ints: [2, 2])]), op("Concat", ["x", "p"], ["y"], [attr("axis", int: 1)])],
            last: "y", channels: 8), "'evil' (Concat)", "same-sized maps")
    add("Concat of a map and a vector",
        net([op("GlobalAveragePool", ["x"], ["p"], name: "pool"), op("Flatten", ["p"], ["v"], name: "flat0"), op("Concat", ["x", "v"], ["y"], [attr("axis", int: 1)])],
            last: "y", channels: 8), "'evil' (Concat)")
    add("Concat of nothing", net([op("Concat", [], ["y"], [attr("axis", int: 1)])], last: "y"), "'evil' (Concat)", "no inputs")
    do {
        // 60 doublings of the channels: 4·2^60 overflows the per-image size.
        var body: [Onnx_NodeProto] = [], last = "x"
        for k in 0..<60 { body.append(op("Concat", [last, last], ["d\(k)"], name: "double\(k)", [attr("axis", int: 1)])); last = "d\(k)" }
        add("Concat doubling the channels 60 times", net(body, last: last), "too large", "per image")
        // 40 doublings of a shape value: 2^42 int64s.
        body = [op("Shape", ["x"], ["s0"], name: "shape")]
        for k in 0..<40 { body.append(op("Concat", ["s\(k)", "s\(k)"], ["s\(k + 1)"], name: "double\(k)", [attr("axis", int: 0)])) }
        body.append(op("Reshape", ["x", "s40"], ["y"], name: "reshape"))
        add("Concat doubling a shape 40 times", net(body, last: "y"), "(Concat)", "more than 64")
    }

    // Flatten.
    for axis: Int64 in [0, 5, .max, -1] {
        add("Flatten on axis \(axis)", net([op("Flatten", ["x"], ["y"], [attr("axis", int: axis)])], head: false, outputs: ["y"]), "'evil' (Flatten)", "axis other than 1")
    }

    // Pad.
    func pad(_ pads: [Int64], extra: [String] = [], weights: [Onnx_TensorProto] = []) -> Onnx_ModelProto {
        net([op("Pad", ["x", "p"] + extra, ["y"])], weights: [i64("p", pads)] + weights, last: "y")
    }
    add("Pad of 2^40 rows", pad([0, 0, big, 0, 0, 0, 0, 0]), "'evil' (Pad)", "pads")
    add("Pad of -1 rows", pad([0, 0, -1, 0, 0, 0, 0, 0]), "'evil' (Pad)", "pads")
    add("Pad of 4 values", pad([1, 1, 1, 1]), "'evil' (Pad)", "pads [1, 1, 1, 1]")
    add("Pad of the channels", pad([0, 1, 0, 0, 0, 0, 0, 0]), "'evil' (Pad)", "only rows and columns")
    add("Pad with an axes input", pad([0, 0, 1, 1, 0, 0, 1, 1], extra: ["", "axes"], weights: [i64("axes", [0, 1, 2, 3])]), "'evil' (Pad)", "axes")
    add("Pad value of 4 values", pad([0, 0, 1, 1, 0, 0, 1, 1], extra: ["v"], weights: [f32("v", [4])]), "'evil' (Pad)", "'v'", "not a constant scalar")
    add("Pad by float pads", net([op("Pad", ["x", "fp"], ["y"])], weights: [f32("fp", [8])], last: "y"), "'evil' (Pad)", "not constants")
    do {
        var body: [Onnx_NodeProto] = [], last = "x"
        for k in 0..<300 { body.append(op("Pad", [last, "p"], ["p\(k)"], name: "pad\(k)")); last = "p\(k)" }
        add("300 Pads of 1023 on every side", net(body, weights: [i64("p", [0, 0, 1023, 1023, 0, 0, 1023, 1023])], last: last), "'pad", "too large", "per image")
    }

    // MaxPool and AveragePool.
    func pool(_ attributes: [Onnx_AttributeProto], type: String = "MaxPool", size: Int64? = 8) -> Onnx_ModelProto {
        net(size: size, [op(type, ["x"], ["y"], attributes)], last: "y")
    }
    add("MaxPool kernel 0", pool([attr("kernel_shape", ints: [0, 0])]), "'evil' (MaxPool)", "kernel [0, 0]")
    add("MaxPool kernel 2^40", pool([attr("kernel_shape", ints: [big, 3])]), "'evil' (MaxPool)", "kernel")
    add("MaxPool kernel 2000", pool([attr("kernel_shape", ints: [2000, 2000])]), "'evil' (MaxPool)", "kernel [2000, 2000]")
    add("MaxPool kernel 9 on 8 × 8", pool([attr("kernel_shape", ints: [9, 9])]), "'evil' (MaxPool)", "empty output")
    add("MaxPool without kernel_shape", pool([]), "'evil' (MaxPool)", "kernel []")
    add("MaxPool strides 0", pool([attr("kernel_shape", ints: [2, 2]), attr("strides", ints: [0, 1])]), "'evil' (MaxPool)", "strides [0, 1]")
    add("MaxPool pads as wide as its window", pool([attr("kernel_shape", ints: [2, 2]), attr("pads", ints: [2, 0, 0, 0])]), "'evil' (MaxPool)", "no maximum")
    add("MaxPool storage_order 1", pool([attr("kernel_shape", ints: [2, 2]), attr("storage_order", int: 1)]), "'evil' (MaxPool)", "storage_order")
    add("AveragePool ceil_mode as a float", pool([attr("kernel_shape", ints: [2, 2]), attr("ceil_mode", float: 1)], type: "AveragePool"), "'evil' (AveragePool)", "'ceil_mode'")
    // 1024 × 1024 windows at every pixel of a 6142 × 6142 padded map: 2^43 multiply-adds (hours).
    add("AveragePool 1024 × 1024 at stride 1 on 4096 × 4096",
        pool([attr("kernel_shape", ints: [1024, 1024]), attr("pads", ints: [1023, 1023, 1023, 1023])], type: "AveragePool", size: nil), size: 4096,
        "'evil' (AveragePool)", "multiply-adds")

    // Clip's bounds.
    add("Clip min that no node computes", net([op("Clip", ["x", "ghost"], ["y"])], last: "y"), "'evil' (Clip)", "min 'ghost'")
    add("Clip min of 4 values", net([op("Clip", ["x", "m4"], ["y"])], weights: [f32("m4", [4])], last: "y"), "'evil' (Clip)", "min 'm4'")
    add("Clip max as an int64", net([op("Clip", ["x", "", "mx"], ["y"])], weights: [i64("mx", [6], dims: [])], last: "y"), "'evil' (Clip)", "max 'mx'")
    add("Clip min as a list attribute", net([op("Clip", ["x"], ["y"], [attr("min", ints: [0])])], last: "y"), "'evil' (Clip)", "'min'")

    // Where values come from: nowhere, a cycle, two producers, weights and the image overwritten.
    add("a node reading what no node computes", net([op("Relu", ["ghost"], ["y"])], last: "y"), "'evil' (Relu)", "'ghost'")
    add("a cycle", net([op("Relu", ["b"], ["a"], name: "first"), op("Relu", ["a"], ["b"], name: "second")], last: "b"), "'first' (Relu)", "'b'")
    add("two nodes computing one name", net([op("Relu", ["x"], ["y"], name: "one"), op("Sigmoid", ["x"], ["y"])], last: "y"), "'evil' (Sigmoid)", "'y'", "already has")
    add("a node overwriting its input", net([op("Relu", ["x"], ["x"])]), "'evil' (Relu)", "'x'")
    add("a node overwriting a weight", net([op("Relu", ["x"], ["fc.w"])]), "'evil' (Relu)", "'fc.w'")
    add("a node overwriting the image", net([op("Relu", ["x"], ["image"])]), "'evil' (Relu)", "'image'")
    add("a node with no output", net([op("Relu", ["x"], [])]), "'evil' (Relu)", "no output")
    add("a node with an empty output name", net([op("Relu", ["x"], [""])]), "'evil' (Relu)", "no output")
    add("a second output that the graph reads", net([op("Relu", ["x"], ["y", "z"])], last: "z"), "'evil' (Relu)", "second output")
    add("an output that no node computes", net(outputs: ["nothing"]), "'nothing'", "not computed")
    add("the output is a feature map", net(head: false, outputs: ["x"]), "'x'", "not a vector")
    add("the output is the image", net(size: nil, head: false, outputs: ["image"]), size: 1, "'image'", "not a vector")
    add("a graph of constants only", {
        var m = net(head: false, outputs: ["k"])
        m.graph.node = [op("Constant", [], ["k"], [attr("value_float", float: 1)])]
        return m
    }(), "'k'", "not computed from the image")

    // BatchNormalization.
    func bn(scale: Onnx_TensorProto = f32("s", [4]), variance: Onnx_TensorProto = f32("v", [4]) { _ in 1 }, _ attributes: [Onnx_AttributeProto] = [],
            after: String = "Sigmoid") -> Onnx_ModelProto {
        // After a Sigmoid: an affine step; after the stem: folded into it.
        net([op(after, ["x"], ["a"], name: "before"), op("BatchNormalization", ["a", "s", "b", "m", "v"], ["y"], attributes)],
            weights: [scale, f32("b", [4]), f32("m", [4]), variance], last: "y")
    }
    add("BatchNormalization scale of 3 values", bn(scale: f32("s", [3])), "'evil' (BatchNormalization)", "[3, 4, 4, 4]", "4 channels")
    add("BatchNormalization negative variance", bn(variance: f32("v", [4]) { _ in -1 }), "'evil' (BatchNormalization)", "negative variance")
    add("BatchNormalization variance 0, epsilon 0", bn(variance: f32("v", [4]) { _ in 0 }, [attr("epsilon", float: 0)]), "'evil' (BatchNormalization)", "divides by zero")
    add("BatchNormalization epsilon NaN", bn([attr("epsilon", float: .nan)]), "'evil' (BatchNormalization)", "'epsilon'", "not a finite number")
    add("BatchNormalization epsilon -1", bn([attr("epsilon", float: -1)]), "'evil' (BatchNormalization)", "negative epsilon")
    add("BatchNormalization scale past Float's range", bn(scale: f32("s", [4]) { _ in 3e38 }, variance: f32("v", [4]) { _ in 0 }, [attr("epsilon", float: 1e-30)]),
        "'evil' (BatchNormalization)", "past Float's range")
    add("BatchNormalization in training mode", bn([attr("training_mode", int: 1)]), "'evil' (BatchNormalization)", "training mode")

    // Non-finite numbers: refused in the file (tensors) or on the node (attributes, folding).
    do {
        var m = net(); m.graph.initializer[0].floatData[5] = .nan
        add("a NaN weight", m, "'stem.w'", "value 5 is nan", "finite")
        m = net(); m.graph.initializer[3].floatData[1] = .infinity
        add("an infinite bias", m, "'fc.b'", "value 1 is inf")
        var k = f32("k", [1]); k.floatData = [-.infinity]
        add("a Constant tensor of -inf", net([op("Constant", [], ["c"], name: "const", [attr("value", tensor: k)]), op("Mul", ["x", "c"], ["y"])], last: "y"), "'k'", "-inf")
    }
    add("a Constant value_float NaN", net([op("Constant", [], ["c"], [attr("value_float", float: .nan)]), op("Mul", ["x", "c"], ["y"], name: "mul")], last: "y"),
        "'evil' (Constant)", "'value_float'", "not a finite number")
    add("LeakyRelu alpha infinite", net([op("LeakyRelu", ["x"], ["y"], [attr("alpha", float: .infinity)])], last: "y"), "'evil' (LeakyRelu)", "'alpha'")
    add("constants folded into infinity", net([op("Div", ["one", "zero"], ["q"]), op("Mul", ["x", "q"], ["y"], name: "mul")],
                                              weights: [f32("one", [1]) { _ in 1 }, f32("zero", [1]) { _ in 0 }], last: "y"), "'evil' (Div)", "not finite")
    add("an empty constant folded with a scalar", net([op("Add", ["one", "empty"], ["q"]), op("Mul", ["x", "q"], ["y"], name: "mul")],
                                                      weights: [f32("one", [1]), f32("empty", [0])], last: "y"), "'evil' (Add)", "constants of")

    // Input sizes.
    for size in [0, -1, 1 << 20, Int.max] { add("input size \(size)", net(size: nil), size: size, "input of \(size) pixels") }
    add("input size 1: every map empties", net(size: nil, [op("MaxPool", ["x"], ["y"], [attr("kernel_shape", ints: [2, 2])])], last: "y"), size: 1,
        "'evil' (MaxPool)", "empty output", "1×1")
    do {
        var m = net(); m.graph.input[0].type.tensorType.shape.dim[3].dimParam = "w"
        add("input height fixed at 8, asked for 16", m, size: 16, "fixed at 8×any")
    }

    // Work and memory that a small file can ask for: one weight of 2^20 values read by 300
    // convolutions (2^28 values held), one constant of 2^20 values folded 300 times.
    do {
        var body = [op("Conv", ["x", "wide"], ["c"], name: "widen")], last = "c"
        for k in 0..<300 { body.append(op("Conv", [last, "shared"], ["c\(k)"], name: "reuse\(k)")); last = "c\(k)" }
        add("one 2^20-value weight read by 300 convolutions", net(body, weights: [f32("wide", [1024, 4, 1, 1]), f32("shared", [1024, 1024, 1, 1]) { _ in 0.001 }],
                                                                  last: last, channels: 1024), "'reuse", "weights", "too large")
        body = []; last = "k"
        for k in 0..<300 { body.append(op("Add", [last, "k"], ["k\(k)"], name: "fold\(k)")); last = "k\(k)" }
        body.append(op("Mul", ["x", last], ["y"], name: "mul"))
        add("one 2^20-value constant folded 300 times", net(body, weights: [f32("k", [1 << 20]) { _ in 0.001 }], last: "y"), "'fold", "weights", "too large")
    }
    return c
}()

@Suite struct ONNXMapperFuzzTests {
    @Test(arguments: hostileGraphs)
    func hostileGraphsAreRefusedByName(_ h: Hostile) throws {
        let t0 = Date()
        guard let e = try mappingError(h.model, inputSize: h.inputSize) else {
            Issue.record("\(h.name): mapped"); return
        }
        let text = "\(e)"
        #expect(readable(e), "\(h.name): \(text)")
        for m in h.mentions { #expect(text.contains(m), "\(h.name): '\(m)' is not in: \(text)") }
        // Refused at once, not after hours of work (generous: other tests share the cores).
        #expect(Date().timeIntervalSince(t0) < 60, "\(h.name): took \(Date().timeIntervalSince(t0)) s to refuse")
    }

    /// Odd but well-formed graphs map and run: windows wholly in the padding (the engine's
    /// Conv2D and DepthwiseConv2D assume every window overlaps the input; these take plain
    /// loops), kernels larger than the input, a 1-pixel input, Clip bounds crossed.
    @Test(arguments: [
        ("depthwise, pads wider than its kernel", net([op("Conv", ["x", "wd"], ["y"], [attr("group", int: 4), attr("pads", ints: [5, 4, 6, 3])])],
                                                      weights: [f32("wd", [4, 1, 3, 3])], last: "y"), 8),
        ("convolution, pads wider than its kernel", net([op("Conv", ["x", "w"], ["y"], [attr("pads", ints: [4, 5, 3, 6]), attr("strides", ints: [2, 2])])],
                                                        weights: [f32("w", [8, 4, 3, 3])], last: "y", channels: 8), 8),
        ("depthwise, pads of its kernel − 1", net([op("Conv", ["x", "wd"], ["y"], [attr("group", int: 4), attr("pads", ints: [2, 2, 2, 2])])],
                                                  weights: [f32("wd", [4, 1, 3, 3])], last: "y"), 8),
        ("convolution, pads of its kernel − 1", net([op("Conv", ["x", "w"], ["y"], [attr("pads", ints: [2, 2, 2, 2])])],
                                                    weights: [f32("w", [8, 4, 3, 3])], last: "y", channels: 8), 8),
        ("convolution, a kernel larger than the input", net([op("Conv", ["x", "w"], ["y"], [attr("pads", ints: [2, 2, 2, 2])])],
                                                            weights: [f32("w", [8, 4, 11, 11])], last: "y", channels: 8), 8),
        ("max pool, pads of its kernel − 1", net([op("MaxPool", ["x"], ["y"], [attr("kernel_shape", ints: [3, 3]), attr("pads", ints: [2, 2, 2, 2])])], last: "y"), 8),
        ("average pool, pads wider than its kernel", net([op("AveragePool", ["x"], ["y"], [attr("kernel_shape", ints: [2, 2]), attr("pads", ints: [3, 2, 2, 4])])], last: "y"), 8),
        ("a 1-pixel input", net(size: nil, [op("Conv", ["x", "w"], ["y"], [attr("pads", ints: [1, 1, 1, 1])])], weights: [f32("w", [4, 4, 3, 3])], last: "y"), 1),
        ("Clip with min above max", net([op("Clip", ["x", "hi", "lo"], ["y"])], weights: [f32("hi", []) { _ in 1 }, f32("lo", []) { _ in -1 }], last: "y"), 8),
    ])
    func oddButWellFormedGraphsRun(_ name: String, _ m: Onnx_ModelProto, _ size: Int) throws {
        let path = try write(m)
        let net = try ONNXNetwork(try ONNXModel.load(path: path), inputSize: size)
        let x = Tensor(shape: [2, size, size, 3], values: (0..<(2 * size * size * 3)).map { Float($0 % 13) / 13 })
        let tape = net.record(x)
        #expect(tape.logits.shape == [2, 5], "\(name)")
        let finite = tape.logits.array.allSatisfy { $0.isFinite }
        #expect(finite, "\(name)")
        let g = net.backward(Tensor(shape: [2, 5], values: [Float](repeating: 1, count: 10)), tape: tape)
        let finiteGradient = g.array.allSatisfy { $0.isFinite }
        #expect(g.shape == [2, size, size, 3] && finiteGradient, "\(name)")
    }

    // MARK: Mutation fuzz

    /// Seeded mutants of the fixtures (and of tinyModel): node attributes to 0, -1, huge,
    /// Int64.max or NaN, of another kind, added or dropped; initializer shapes permuted, split,
    /// resized or set to such values; inputs and outputs swapped, renamed, dropped, duplicated;
    /// operators replaced, nodes deleted, duplicated or reordered; the graph's output and input
    /// shape changed. Each is refused with a readable ONNXError, or maps and then runs forward
    /// and backward on one image with the shapes it promises (values finite or not).
    @Test(arguments: [("tiny", 1000), ("opzoo", 60), ("resnet18_w8", 150), ("mobilenet_v3_small_w50", 150)])
    func seededMutantsAreRefusedOrRun(_ fixture: String, _ count: Int) throws {
        let base: Onnx_ModelProto
        if fixture == "tiny" { base = tinyModel() } else {
            base = try Onnx_ModelProto(serializedBytes: Data(contentsOf: TorchExportTests.fixtures.appendingPathComponent("\(fixture).onnx")))
        }
        let dir = testFolder.appendingPathComponent("onnx-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mutant.onnx").path
        let trace = ProcessInfo.processInfo.environment["ONNX_FUZZ_TRACE"] != nil
        var mutator = Mutator(seed: fixture.utf8.reduce(0x5EED) { $0 &* 31 &+ UInt64($1) })
        var ran = 0, loaderRefused = 0, mapperRefused = 0, large = 0
        let t0 = Date()
        for k in 0..<count {
            var m = base
            var done: [String] = []
            for _ in 0...mutator.below(3) { done.append(mutator.mutate(&m)) }
            if trace { print("fuzz \(fixture) #\(k): \(done.joined(separator: "; "))") }
            try (m.serializedBytes() as Data).write(to: URL(fileURLWithPath: path))
            let model: ONNXModel
            do { model = try ONNXModel.load(path: path) } catch {
                #expect(readable(error), "\(fixture) #\(k): \(done): \(error)")
                loaderRefused += 1
                continue
            }
            do {
                let size = model.input.dims[2] ?? model.input.dims[3] ?? mutator.pick([1, 2, 5, 8, 16, 33])
                let net = try ONNXNetwork(model, inputSize: size)
                // What maps may still be too big to run here (a pad of 1023 on every map).
                guard net.floatsPerImage <= 1 << 24, net.multiplyAddsPerImage <= 1 << 30 else { large += 1; continue }
                let x = Tensor(shape: [1, size, size, 3], values: (0..<(size * size * 3)).map { Float($0 % 17) / 17 })
                let tape = net.record(x)
                #expect(tape.logits.shape == [1, net.classCount], "\(fixture) #\(k): \(done)")
                let g = net.backward(Tensor(shape: [1, net.classCount], values: [Float](repeating: 1, count: net.classCount)), tape: tape)
                #expect(g.shape == [1, size, size, 3], "\(fixture) #\(k): \(done)")
                ran += 1
            } catch {
                #expect(readable(error), "\(fixture) #\(k): \(done): \(error)")
                mapperRefused += 1
            }
        }
        let seconds = Date().timeIntervalSince(t0)
        print("fuzz \(fixture): \(count) mutants: \(ran) ran, \(mapperRefused) refused by the mapper, \(loaderRefused) by the loader, \(large) mapped but too big to run here; \(String(format: "%.1f", seconds)) s")
        #expect(ran + mapperRefused + loaderRefused + large == count)
        #expect(mapperRefused > 0 && ran > 0, "\(fixture): the mutants should both run and be refused")
    }
}

/// Seeded mutations of a model (draws from the project's SplitMix64).
private struct Mutator: RandomNumberGenerator {
    var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { rng.next() }
    /// 0..<n (n ≥ 1).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }

    static let ints: [Int64] = [0, -1, 1, 2, 3, 4, 5, 7, 1023, 1024, 1 << 20, 1 << 40, .max, .min]
    /// Steps from a value the file had: near-valid values reach further into the engine.
    static let steps: [Int64] = [-2, -1, 1, 2, 3, 4, 1023]
    static let floats: [Float] = [0, -1, 1e-30, 1e30, .nan, .infinity, -.infinity, 0.5]
    static let attributeNames = ["group", "pads", "strides", "dilations", "kernel_shape", "axis", "axes", "transA", "transB", "ceil_mode", "keepdims",
                                 "epsilon", "alpha", "beta", "auto_pad", "count_include_pad", "storage_order", "start", "end", "min", "max", "value", "mode"]
    static let strings = ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "reflect", "constant", "", "\u{1B}[2J"]
    static let kinds: [Onnx_AttributeProto.AttributeType] = [.int, .ints, .float, .floats, .string]

    /// Applies one mutation; returns what it did.
    mutating func mutate(_ m: inout Onnx_ModelProto) -> String {
        var g = m.graph
        defer { m.graph = g }
        let names = [g.input.first?.name ?? "image"] + g.initializer.map(\.name) + g.node.flatMap(\.output) + ["ghost", ""]
        guard !g.node.isEmpty else { return "none" }
        let k = below(g.node.count)
        switch below(20) {
        case 0..<8:
            let withAttributes = g.node.indices.filter { !g.node[$0].attribute.isEmpty }
            guard !withAttributes.isEmpty else { return "no attributes" }
            let k = pick(withAttributes), a = below(g.node[k].attribute.count)
            g.node[k].attribute[a] = attribute(g.node[k].attribute[a])
            return "node \(k) (\(g.node[k].opType)) attribute \(g.node[k].attribute[a].name): \(g.node[k].attribute[a].type) \(g.node[k].attribute[a].i) \(g.node[k].attribute[a].ints.prefix(8))"
        case 8:
            var a = Onnx_AttributeProto()
            a.name = pick(Self.attributeNames); a.type = pick(Self.kinds)
            a.i = pick(Self.ints); a.ints = [pick(Self.ints), pick(Self.ints)]; a.f = pick(Self.floats); a.floats = [pick(Self.floats)]; a.s = Data(pick(Self.strings).utf8)
            g.node[k].attribute.append(a)
            return "node \(k) gets attribute \(a.name) (\(a.type))"
        case 9:
            guard !g.node[k].attribute.isEmpty else { return "node \(k): no attributes" }
            g.node[k].attribute.remove(at: below(g.node[k].attribute.count))
            return "node \(k) loses an attribute"
        case 10:
            guard g.node[k].input.count >= 2 else { return "node \(k): one input" }
            let (i, j) = (below(g.node[k].input.count), below(g.node[k].input.count))
            g.node[k].input.swapAt(i, j)
            return "node \(k) inputs \(i) and \(j) swapped"
        case 11:
            guard !g.node[k].input.isEmpty else { return "node \(k): no inputs" }
            let i = below(g.node[k].input.count), name = pick(names)
            g.node[k].input[i] = name
            return "node \(k) input \(i) reads '\(name)'"
        case 12:
            if g.node[k].input.isEmpty || below(2) == 0 { g.node[k].input.append(pick(names)); return "node \(k) gets an input" }
            g.node[k].input.remove(at: below(g.node[k].input.count))
            return "node \(k) loses an input"
        case 13:
            guard !g.node[k].output.isEmpty else { return "node \(k): no outputs" }
            let name = below(3) == 0 ? "fresh\(below(100))" : pick(names)
            g.node[k].output[0] = name
            return "node \(k) writes '\(name)'"
        case 14:
            let type = pick(ONNXModel.supportedOps)
            g.node[k].opType = type
            return "node \(k) is \(type)"
        case 15:
            switch below(3) {
            case 0: g.node.remove(at: k); return "node \(k) deleted"
            case 1: g.node.insert(g.node[k], at: k); return "node \(k) duplicated"
            default: let j = below(g.node.count); g.node.swapAt(k, j); return "nodes \(k) and \(j) swapped"
            }
        case 16, 17:
            guard !g.initializer.isEmpty else { return "no initializers" }
            let i = below(g.initializer.count)
            g.initializer[i] = tensor(g.initializer[i])
            return "initializer \(g.initializer[i].name) \(g.initializer[i].dims.prefix(6))"
        case 18:
            let name = pick(names)
            if g.output.isEmpty { return "no outputs" }
            g.output[0].name = name
            return "the graph's output is '\(name)'"
        case 19 where below(2) == 0:
            guard !g.input.isEmpty else { return "no inputs" }
            let d = below(4)
            guard d < g.input[0].type.tensorType.shape.dim.count else { return "no dim \(d)" }
            if below(2) == 0 { g.input[0].type.tensorType.shape.dim[d].dimParam = "open" } else { g.input[0].type.tensorType.shape.dim[d].dimValue = pick([1, 3, 7, 8, 1 << 20, .max]) }
            return "the input's dim \(d) changed"
        default:
            // A Constant node's tensor, else an initializer made int64 or float.
            if let c = g.node.firstIndex(where: { $0.opType == "Constant" }), let a = g.node[c].attribute.firstIndex(where: { $0.type == .tensor }) {
                g.node[c].attribute[a].t = tensor(g.node[c].attribute[a].t)
                return "Constant node \(c)'s tensor"
            }
            guard !g.initializer.isEmpty else { return "no initializers" }
            let i = below(g.initializer.count)
            g.initializer[i] = tensor(g.initializer[i])
            return "initializer \(g.initializer[i].name) \(g.initializer[i].dims.prefix(6))"
        }
    }

    mutating func attribute(_ a: Onnx_AttributeProto) -> Onnx_AttributeProto {
        var a = a
        if below(6) == 0 { a.type = pick(Self.kinds); return a }     // the same fields, read as another kind
        switch a.type {
        case .int: a.i = below(2) == 0 ? pick(Self.ints) : a.i &+ pick(Self.steps)
        case .ints:
            if a.ints.isEmpty || below(4) == 0 { a.ints = (0..<below(6)).map { _ in pick(Self.ints) } }
            else if below(2) == 0 { a.ints[below(a.ints.count)] = pick(Self.ints) }
            else { let i = below(a.ints.count); a.ints[i] &+= pick(Self.steps) }
        case .float: a.f = pick(Self.floats)
        case .floats: if a.floats.isEmpty { a.floats = [pick(Self.floats)] } else { a.floats[below(a.floats.count)] = pick(Self.floats) }
        case .string: a.s = Data(pick(Self.strings).utf8)
        case .tensor: a.t = tensor(a.t)
        default: break
        }
        return a
    }

    mutating func tensor(_ t: Onnx_TensorProto) -> Onnx_TensorProto {
        var t = t
        let isFloat = t.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue)
        switch below(6) {
        case 0: t.dims.shuffle(using: &self)                            // the same count: the data still fits
        case 1: if !t.dims.isEmpty { t.dims[below(t.dims.count)] = pick(Self.ints) }
        case 2:
            // New dims, with data to match.
            let dims = (0..<below(5)).map { _ in pick([0, 1, 2, 3, 4, 8] as [Int64]) }
            let count = Int(dims.reduce(1, *))
            t.clearRawData()
            if isFloat { t.floatData = (0..<count).map { Float($0 % 5) * 0.2 - 0.4 }; t.int64Data = [] }
            else { t.int64Data = (0..<count).map { _ in pick(Self.ints) }; t.floatData = [] }
            t.dims = dims
        case 3:
            // One value to an extreme (as inline data).
            if isFloat {
                var v = t.hasRawData ? Self.values(t.rawData, as: Float.self) : t.floatData
                if !v.isEmpty { v[below(v.count)] = pick(Self.floats) }
                t.clearRawData(); t.floatData = v
            } else {
                var v = t.hasRawData ? Self.values(t.rawData, as: Int64.self) : t.int64Data
                if !v.isEmpty { v[below(v.count)] = pick(Self.ints) }
                t.clearRawData(); t.int64Data = v
            }
        case 4:
            // Float made int64 or back, its data reinterpreted or missing.
            t.dataType = Int32((isFloat ? Onnx_TensorProto.DataType.int64 : .float).rawValue)
        default:
            // Split or merge dims, keeping the count.
            if t.dims.count >= 2 { let last = t.dims.removeLast(); t.dims[t.dims.count - 1] &*= last }
            else if let d = t.dims.first, d % 2 == 0 { t.dims = [d / 2, 2] }
            else { t.dims.append(1) }
        }
        return t
    }

    /// Little-endian values from raw bytes (maybe unaligned: a slice of the file).
    static func values<T: BitwiseCopyable>(_ data: Data, as: T.Type) -> [T] {
        data.withUnsafeBytes { raw in (0..<(raw.count / MemoryLayout<T>.size)).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
    }
}
