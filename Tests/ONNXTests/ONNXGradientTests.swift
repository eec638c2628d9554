// Every operator's backward by finite differences: a small graph per operator, built here,
// (1, 3, 8, 8) → Conv 3→4 → [the operator(s)] → [flatten] → Gemm → 5 scores, whose input
// gradient of Σ c_k scores_k must match central differences at every input element. Random
// inputs keep ReLU kinks and max-pool ties away from the differences' small steps.
import Foundation
import ONNX
import Networks
import SwiftProtobuf
import Testing

/// Builds a graph around `body`: it gets the name of the (1, 4, 8, 8) feature map and returns its
/// nodes, extra initializers, and the name and per-sample size of what the Gemm reads.
private func graph(_ name: String, opset: Int64 = 17,
                   _ body: (String) -> (nodes: [Onnx_NodeProto], weights: [Onnx_TensorProto], output: String, features: Int)) -> Onnx_ModelProto {
    var input = Onnx_ValueInfoProto()
    input.name = "image"
    input.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    input.type.tensorType.shape.dim = [Int64(1), 3, 8, 8].map { v in var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = v; return d }
    var output = Onnx_ValueInfoProto(); output.name = "logits"
    let b = body("features")
    var g = Onnx_GraphProto()
    g.name = name
    g.input = [input]; g.output = [output]
    g.initializer = [floats("conv.w", [4, 3, 3, 3], seed: 1), floats("conv.b", [4], seed: 2), floats("fc.w", [5, Int64(b.features)], seed: 3),
                     floats("fc.b", [5], seed: 4)] + b.weights
    g.node = [node("Conv", ["image", "conv.w", "conv.b"], ["features"], [ints("pads", [1, 1, 1, 1])])] + b.nodes
        + [node("Gemm", [b.output, "fc.w", "fc.b"], ["logits"], [int("transB", 1)])]
    return modelProto(g, opset: opset, producer: "")
}

private func floats(_ name: String, _ dims: [Int64], seed: UInt64, scale: Float = 0.5, offset: Float = 0) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name; t.dims = dims; t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    var s = seed &* 0x9E3779B97F4A7C15
    t.floatData = (0..<Int(dims.reduce(1, *))).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return offset + scale * (Float(s >> 40) / Float(1 << 24) * 2 - 1)
    }
    return t
}
private func int64s(_ name: String, _ values: [Int64]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name; t.dims = [Int64(values.count)]; t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue); t.int64Data = values
    return t
}
private func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
    var n = Onnx_NodeProto(); n.opType = op; n.input = inputs; n.output = outputs; n.name = op.lowercased(); n.attribute = attributes
    return n
}
private func ints(_ name: String, _ v: [Int64]) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = v; return a }
private func int(_ name: String, _ v: Int64) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = v; return a }
private func float(_ name: String, _ v: Float) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = v; return a }
private func string(_ name: String, _ v: String) -> Onnx_AttributeProto { var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(v.utf8); return a }

/// Pools the (1, c, h, w) map `x` to c features.
private func pooled(_ x: String, _ c: Int, _ nodes: [Onnx_NodeProto], _ weights: [Onnx_TensorProto] = []) -> (nodes: [Onnx_NodeProto], weights: [Onnx_TensorProto], output: String, features: Int) {
    (nodes + [node("GlobalAveragePool", [x], ["gap"]), node("Flatten", ["gap"], ["flat"])], weights, "flat", c)
}

@Suite struct ONNXGradientTests {
    static let cases: [(String, Onnx_ModelProto)] = [
        ("Relu", graph("relu") { f in pooled("y", 4, [node("Relu", [f], ["y"])]) }),
        ("Clip (ReLU6)", graph("clip") { f in pooled("y", 4, [node("Clip", [f, "lo", "hi"], ["y"])], [floats("lo", [], seed: 0, scale: 0, offset: -0.2), floats("hi", [], seed: 0, scale: 0, offset: 0.3)]) }),
        ("LeakyRelu", graph("leaky") { f in pooled("y", 4, [node("LeakyRelu", [f], ["y"], [float("alpha", 0.1)])]) }),
        ("Sigmoid", graph("sigmoid") { f in pooled("y", 4, [node("Sigmoid", [f], ["y"])]) }),
        ("HardSigmoid", graph("hsig") { f in pooled("y", 4, [node("HardSigmoid", [f], ["y"], [float("alpha", 0.5), float("beta", 0.4)])]) }),
        ("HardSwish", graph("hswish") { f in pooled("y", 4, [node("HardSwish", [f], ["y"])]) }),
        ("BatchNormalization (folded)", graph("bnfold") { f in
            pooled("y", 4, [node("BatchNormalization", [f, "s", "b", "m", "v"], ["y"])],
                   [floats("s", [4], seed: 5), floats("b", [4], seed: 6), floats("m", [4], seed: 7), floats("v", [4], seed: 8, scale: 0.3, offset: 1)]) }),
        ("BatchNormalization (affine)", graph("bnaffine") { f in
            pooled("y", 4, [node("Sigmoid", [f], ["sg"]), node("BatchNormalization", ["sg", "s", "b", "m", "v"], ["y"])],
                   [floats("s", [4], seed: 5), floats("b", [4], seed: 6), floats("m", [4], seed: 7), floats("v", [4], seed: 8, scale: 0.3, offset: 1)]) }),
        ("Mul (squeeze-and-excitation)", graph("se") { f in
            pooled("y", 4, [node("GlobalAveragePool", [f], ["s"]), node("Sigmoid", ["s"], ["g"]), node("Mul", [f, "g"], ["y"])]) }),
        ("Mul by itself, Sub, Div by constants", graph("arith") { f in
            pooled("y", 4, [node("Mul", [f, f], ["sq"]), node("Sub", ["k", "sq"], ["d"]), node("Div", ["d", "cc"], ["e"]), node("Add", ["e", f], ["y"])],
                   [floats("k", [1], seed: 9), floats("cc", [1, 4, 1, 1], seed: 10, scale: 0.5, offset: 1.5)]) }),
        ("Div by a value", graph("divv") { f in
            pooled("y", 4, [node("Sigmoid", [f], ["s"]), node("Add", ["s", "one"], ["den"]), node("Div", [f, "den"], ["y"])], [floats("one", [], seed: 0, scale: 0, offset: 1)]) }),
        ("MaxPool, ceil mode", graph("maxpool") { f in pooled("y", 4, [node("MaxPool", [f], ["y"], [ints("kernel_shape", [3, 3]), ints("strides", [2, 2]), ints("pads", [1, 1, 0, 0]), int("ceil_mode", 1)])]) }),
        ("AveragePool, count_include_pad", graph("avgpool") { f in pooled("y", 4, [node("AveragePool", [f], ["y"], [ints("kernel_shape", [3, 2]), ints("strides", [2, 3]), ints("pads", [1, 0, 1, 1]), int("count_include_pad", 1)])]) }),
        ("AveragePool, SAME_UPPER", graph("avgsame") { f in pooled("y", 4, [node("AveragePool", [f], ["y"], [ints("kernel_shape", [3, 3]), ints("strides", [2, 2]), string("auto_pad", "SAME_UPPER")])]) }),
        ("Conv dilated, unequal strides", graph("dilated") { f in
            pooled("y", 6, [node("Conv", [f, "w2"], ["y"], [ints("dilations", [2, 1]), ints("strides", [1, 2]), ints("pads", [2, 0, 1, 1])])], [floats("w2", [6, 4, 3, 2], seed: 11)]) }),
        ("Conv grouped", graph("grouped") { f in pooled("y", 6, [node("Conv", [f, "wg", "bg"], ["y"], [int("group", 2), ints("strides", [2, 2])])], [floats("wg", [6, 2, 3, 3], seed: 12), floats("bg", [6], seed: 13)]) }),
        ("Conv depthwise", graph("depthwise") { f in pooled("y", 4, [node("Conv", [f, "wd"], ["y"], [int("group", 4), ints("pads", [1, 1, 1, 1])])], [floats("wd", [4, 1, 3, 3], seed: 14)]) }),
        ("Pad", graph("pad") { f in pooled("y", 4, [node("Pad", [f, "pads", "pv"], ["p"]), node("Conv", ["p", "wp"], ["y"], [int("group", 4)])], [int64s("pads", [0, 0, 2, 1, 0, 0, 0, 3]), floats("pv", [], seed: 0, scale: 0, offset: 0.25), floats("wp", [4, 1, 3, 3], seed: 15)]) }),
        ("Concat", graph("concat") { f in pooled("y", 8, [node("Sigmoid", [f], ["s"]), node("Concat", [f, "s"], ["y"], [int("axis", 1)])]) }),
        ("ReduceMean, keepdims 0", graph("reducemean") { f in ([node("Sigmoid", [f], ["s"]), node("ReduceMean", ["s"], ["y"], [ints("axes", [2, 3]), int("keepdims", 0)])], [], "y", 4) }),
        ("Flatten of a map (NCHW order)", graph("flatten") { f in ([node("MaxPool", [f], ["m"], [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])]), node("Flatten", ["m"], ["y"])], [], "y", 64) }),
        ("Reshape through Shape, Gather, Unsqueeze, Concat", graph("view", opset: 13) { f in
            ([node("AveragePool", [f], ["m"], [ints("kernel_shape", [4, 4]), ints("strides", [4, 4])]), node("Shape", ["m"], ["sh"]),
              node("Gather", ["sh", "zero"], ["n"], [int("axis", 0)]), node("Unsqueeze", ["n", "axes"], ["n1"]),
              node("Concat", ["n1", "minus1"], ["target"], [int("axis", 0)]), node("Reshape", ["m", "target"], ["y"])],
             [int64s("axes", [0]), int64s("minus1", [-1]), { var t = int64s("zero", [0]); t.dims = []; return t }()], "y", 16) }),
        ("MatMul, Add bias, Softmax", graph("matmul") { f in
            ([node("GlobalAveragePool", [f], ["p0"]), node("Flatten", ["p0"], ["v"]), node("MatMul", ["v", "mw"], ["mm"]),
              node("Add", ["mm", "mb"], ["z"]), node("Softmax", ["z"], ["sm"], [int("axis", 1)]), node("Mul", ["sm", "ten"], ["p"])],
             [floats("mw", [4, 4], seed: 16), floats("mb", [4], seed: 17), floats("ten", [], seed: 0, scale: 0, offset: 10)], "p", 4) }),
    ]

    @Test(arguments: 0..<cases.count)
    func backwardMatchesCentralDifferences(_ k: Int) throws {
        let (name, proto) = Self.cases[k]
        let dir = testFolder.appendingPathComponent("onnx-grad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.onnx").path
        try (proto.serializedBytes() as Data).write(to: URL(fileURLWithPath: path))
        let net = try ONNXNetwork(try ONNXModel.load(path: path), inputSize: 8)
        #expect(net.classCount == 5)
        var s: UInt64 = 77 &+ UInt64(k)
        let x = (0..<(2 * 8 * 8 * 3)).map { _ -> Float in s = s &* 6364136223846793005 &+ 1442695040888963407; return Float(s >> 40) / Float(1 << 24) }
        let c: [Float] = [0.7, -1.1, 0.4, 1.3, -0.6]
        let input = Tensor(shape: [2, 8, 8, 3], values: x)
        let g = net.backward(Tensor(shape: [2, 5], values: c + c), tape: net.record(input)).array
        func loss(_ v: [Float]) -> Double {
            let y = net.forward(Tensor(shape: [2, 8, 8, 3], values: v)).array
            return (0..<y.count).reduce(0.0) { $0 + Double(y[$1]) * Double(c[$1 % 5]) }
        }
        let eps: Float = 1e-2, base = loss(x)
        // Central differences in float32 carry ~3e-5 of rounding noise here (a loss of order 1).
        // Where a kink (ReLU at 0, a max-pool's winner changing) falls inside the step, the
        // analytic derivative must lie between the one-sided differences instead.
        var worst = 0.0, scale = 0.0, kinks = 0
        for i in 0..<x.count { scale = max(scale, abs(Double(g[i]))) }
        let tolerance = 1e-2 * scale + 3e-5
        for i in 0..<x.count {
            var p = x, m = x
            p[i] += eps; m[i] -= eps
            let (fp, fm) = (loss(p), loss(m))
            let central = (fp - fm) / Double(2 * eps), right = (fp - base) / Double(eps), left = (base - fm) / Double(eps)
            var error = abs(central - Double(g[i]))
            if error > tolerance && abs(right - left) > tolerance {
                kinks += 1
                error = max(0, min(left, right) - Double(g[i]), Double(g[i]) - max(left, right))
            }
            worst = max(worst, error)
        }
        #expect(kinks <= x.count / 8, "\(name): \(kinks) of \(x.count) steps cross a kink")
        #expect(scale > 1e-6, "\(name): the gradient is not all zero")
        #expect(worst <= tolerance, "\(name): max |numeric − analytic| \(worst), gradient up to \(scale)")
    }
}

