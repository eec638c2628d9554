// ONNXNetwork: a checked ONNX classifier graph mapped onto the engine's ops, NHWC: Conv (dense,
// grouped and depthwise; explicit pads), Relu, Clip, Add, MaxPool, GlobalAveragePool, Flatten,
// Gemm, Constant, Identity, Dropout. Forward only so far: the backward to the input, the other
// operators of ONNXModel.supportedOps and `--model x.onnx` are still to come (issue 20); until
// then nothing outside the tests builds one.
import Networks
import Tensors

public struct ONNXNetwork: Sendable {
    /// One value of the graph: NHWC (n, h, w, c); a flat (n, c) vector is h = w = 1.
    struct Shape: Equatable { var h: Int, w: Int, c: Int }

    enum Step: Sendable {
        case conv(Conv2D, input: String, output: String)
        case depthwise(DepthwiseConv2D, input: String, output: String)
        case clip(input: String, output: String, low: Float, high: Float)
        case add(String, String, output: String)
        case maxPool(input: String, output: String, kernel: Int, stride: Int, padTop: Int, padLeft: Int)
        case globalAveragePool(input: String, output: String)
        case alias(input: String, output: String)
        case gemm(Linear, input: String, output: String)
    }

    public let inputSize: Int
    public let classCount: Int
    let steps: [Step]
    let shapes: [String: Shape]
    let inputName: String, outputName: String

    /// Maps `model` for square inputs of `inputSize` pixels; refuses what the engine cannot run yet.
    public init(_ model: ONNXModel, inputSize: Int) throws(ONNXError) {
        let path = model.path
        func fail(_ node: ONNXNode, _ why: String) -> ONNXError {
            .unsupported(path: path, what: "node '\(untrusted(node.name))' (\(node.op)): \(why)", supported: "what the engine runs so far: Conv, Relu, Clip, Add, MaxPool, GlobalAveragePool, Flatten, Gemm, Constant, Identity, Dropout")
        }
        func ints(_ n: ONNXNode, _ key: String) -> [Int]? { if case let .ints(v)? = n.attributes[key] { return v.map { Int(clamping: $0) } } else { return nil } }
        func int(_ n: ONNXNode, _ key: String) -> Int? { if case let .int(v)? = n.attributes[key] { return Int(clamping: v) } else { return nil } }
        func float(_ n: ONNXNode, _ key: String) -> Float? { if case let .float(v)? = n.attributes[key] { return v } else { return nil } }

        guard (1...4096).contains(inputSize) else { throw .graph(path: path, reason: "an input of \(inputSize) pixels is outside 1–4096") }
        if let h = model.input.dims[2], let w = model.input.dims[3], h != inputSize || w != inputSize {
            throw .graph(path: path, reason: "its input is fixed at \(h)×\(w), not \(inputSize)×\(inputSize)")
        }
        var shapes: [String: Shape] = [model.input.name: Shape(h: inputSize, w: inputSize, c: 3)]
        var constants = model.initializers
        var steps: [Step] = []
        for n in model.nodes {
            guard let out = n.outputs.first else { throw fail(n, "no output") }
            func input(_ k: Int) throws(ONNXError) -> Shape {
                guard k < n.inputs.count, let s = shapes[n.inputs[k]] else { throw fail(n, "its input \(k) is not an image-shaped value") }
                return s
            }
            switch n.op {
            case "Constant":
                guard case let .tensor(t)? = n.attributes["value"] else { throw fail(n, "only tensor constants") }
                constants[out] = t
            case "Conv":
                let x = try input(0)
                guard n.inputs.count >= 2, let w = constants[n.inputs[1]], let wv = w.floats, w.dims.count == 4 else { throw fail(n, "its weight must be a constant 4-D tensor") }
                let bias = n.inputs.count > 2 ? constants[n.inputs[2]]?.floats : nil
                let group = int(n, "group") ?? 1, (cout, cig, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
                let strides = ints(n, "strides") ?? [1, 1], pads = ints(n, "pads") ?? [0, 0, 0, 0]
                guard (ints(n, "dilations") ?? [1, 1]).allSatisfy({ $0 == 1 }) else { throw fail(n, "dilations other than 1") }
                if case let .string(a)? = n.attributes["auto_pad"], a != "NOTSET" { throw fail(n, "auto_pad \(a)") }
                guard strides.count == 2, strides[0] == strides[1], strides[0] >= 1, pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 < 64 }),
                      group >= 1, x.c == cig * group, cout % group == 0, kh >= 1, kw >= 1, bias.map({ $0.count == cout }) ?? true else {
                    throw fail(n, "shapes or attributes that do not fit its input (\(x.c) channels)")
                }
                let padding = Padding.explicit(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3])
                if group == x.c && cout == x.c && cig == 1 && kh == kw {
                    let d = DepthwiseConv2D(torchWeight: wv, bias: bias, channels: cout, kernelSize: kh, stride: strides[0], padding: padding)
                    let g = d.geometry(inputHeight: x.h, inputWidth: x.w)
                    steps.append(.depthwise(d, input: n.inputs[0], output: out))
                    shapes[out] = Shape(h: g.outputHeight, w: g.outputWidth, c: cout)
                } else {
                    let c = Conv2D(torchWeight: wv, bias: bias, outputChannels: cout, inputChannels: x.c, kernelHeight: kh, kernelWidth: kw,
                                   stride: strides[0], groups: group, padding: padding)
                    let g = c.geometry(inputHeight: x.h, inputWidth: x.w)
                    steps.append(.conv(c, input: n.inputs[0], output: out))
                    shapes[out] = Shape(h: g.outputHeight, w: g.outputWidth, c: cout)
                }
                guard let s = shapes[out], s.h > 0, s.w > 0 else { throw fail(n, "an empty output at a \(inputSize)-pixel input") }
            case "Relu", "Clip":
                let x = try input(0)
                var low: Float = n.op == "Relu" ? 0 : -.infinity, high: Float = .infinity
                if n.op == "Clip" {
                    // opset ≥ 11: min and max are optional inputs (constants here).
                    if n.inputs.count > 1, !n.inputs[1].isEmpty { guard let v = constants[n.inputs[1]]?.floats?.first else { throw fail(n, "a min that is not a constant") }; low = v }
                    if n.inputs.count > 2, !n.inputs[2].isEmpty { guard let v = constants[n.inputs[2]]?.floats?.first else { throw fail(n, "a max that is not a constant") }; high = v }
                    if let v = float(n, "min") { low = v }
                    if let v = float(n, "max") { high = v }
                }
                steps.append(.clip(input: n.inputs[0], output: out, low: low, high: high))
                shapes[out] = x
            case "Add":
                let a = try input(0), b = try input(1)
                guard a == b else { throw fail(n, "broadcasting (\(a) + \(b))") }
                steps.append(.add(n.inputs[0], n.inputs[1], output: out))
                shapes[out] = a
            case "MaxPool":
                let x = try input(0)
                let k = ints(n, "kernel_shape") ?? [], s = ints(n, "strides") ?? [1, 1], p = ints(n, "pads") ?? [0, 0, 0, 0]
                guard k.count == 2, k[0] == k[1], k[0] >= 1, s.count == 2, s[0] == s[1], s[0] >= 1, p.count == 4, p[0] == p[2], p[1] == p[3],
                      (int(n, "ceil_mode") ?? 0) == 0 else { throw fail(n, "other than a square kernel with symmetric pads, floor mode") }
                let oh = (x.h + 2 * p[0] - k[0]) / s[0] + 1, ow = (x.w + 2 * p[1] - k[0]) / s[0] + 1
                guard oh > 0, ow > 0 else { throw fail(n, "an empty output") }
                steps.append(.maxPool(input: n.inputs[0], output: out, kernel: k[0], stride: s[0], padTop: p[0], padLeft: p[1]))
                shapes[out] = Shape(h: oh, w: ow, c: x.c)
            case "GlobalAveragePool":
                let x = try input(0)
                steps.append(.globalAveragePool(input: n.inputs[0], output: out))
                shapes[out] = Shape(h: 1, w: 1, c: x.c)
            case "Flatten", "Identity", "Dropout":
                let x = try input(0)
                guard n.op != "Flatten" || (x.h == 1 && x.w == 1) else { throw fail(n, "flattening a \(x.h)×\(x.w) map (NHWC order differs from NCHW)") }
                steps.append(.alias(input: n.inputs[0], output: out))
                shapes[out] = x
            case "Gemm":
                let x = try input(0)
                guard x.h == 1, x.w == 1, n.inputs.count >= 2, let w = constants[n.inputs[1]], let wv = w.floats, w.dims.count == 2 else { throw fail(n, "a constant 2-D weight on a flat input") }
                let transB = int(n, "transB") ?? 0, alpha = float(n, "alpha") ?? 1, beta = float(n, "beta") ?? 1
                guard (int(n, "transA") ?? 0) == 0, alpha == 1, beta == 1 else { throw fail(n, "transA, alpha or beta other than the defaults") }
                let (outF, inF) = transB == 1 ? (w.dims[0], w.dims[1]) : (w.dims[1], w.dims[0])
                guard inF == x.c else { throw fail(n, "a weight for \(inF) features on \(x.c)") }
                var weight = wv
                if transB == 0 { weight = (0..<(outF * inF)).map { i in wv[(i % inF) * outF + i / inF] } }
                let bias = n.inputs.count > 2 ? constants[n.inputs[2]]?.floats ?? [] : [Float](repeating: 0, count: outF)
                guard bias.count == outF else { throw fail(n, "a bias that is not (\(outF))") }
                steps.append(.gemm(Linear(weight: weight, bias: bias, inputFeatures: inF, outputFeatures: outF), input: n.inputs[0], output: out))
                shapes[out] = Shape(h: 1, w: 1, c: outF)
            default:
                throw fail(n, "not mapped onto the engine yet")
            }
        }
        guard let output = model.outputs.first, let o = shapes[output], o.h == 1, o.w == 1 else {
            throw .graph(path: path, reason: "its output '\(untrusted(model.outputs.first ?? ""))' is not a vector of class scores")
        }
        self.inputSize = inputSize
        classCount = o.c
        self.steps = steps
        self.shapes = shapes
        inputName = model.input.name
        outputName = output
    }

    /// Class scores (N, classes) for images (N, inputSize, inputSize, 3), NHWC, already in the
    /// model's input normalisation.
    public func forward(_ images: Tensor) -> Tensor {
        precondition(images.shape.count == 4 && images.shape[1] == inputSize && images.shape[2] == inputSize && images.shape[3] == 3,
                     "ONNXNetwork.forward: images must be (N, \(inputSize), \(inputSize), 3), got \(images.shape)")
        let n = images.shape[0]
        var values: [String: Tensor] = [inputName: images]
        func shape(_ name: String) -> [Int] { let s = shapes[name]!; return [n, s.h, s.w, s.c] }
        for step in steps {
            switch step {
            case let .conv(c, input, output):
                values[output] = c.forward(values[input]!)
            case let .depthwise(d, input, output):
                values[output] = d.forward(values[input]!)
            case let .clip(input, output, low, high):
                let x = values[input]!
                values[output] = Tensor(shape: x.shape, values: x.array.map { min(max($0, low), high) })
            case let .add(a, b, output):
                values[output] = Add.forward(values[a]!, values[b]!)
            case let .maxPool(input, output, k, s, pt, pl):
                let x = values[input]!, (h, w, c) = (x.shape[1], x.shape[2], x.shape[3])
                let o = shape(output), (oh, ow) = (o[1], o[2])
                var y = [Float](repeating: -.infinity, count: n * oh * ow * c)
                let xs = x.array
                for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow {
                    let dst = ((b * oh + oy) * ow + ox) * c
                    for ky in 0..<k { for kx in 0..<k {
                        let iy = oy * s - pt + ky, ix = ox * s - pl + kx
                        if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                        let src = ((b * h + iy) * w + ix) * c
                        for ch in 0..<c { y[dst + ch] = max(y[dst + ch], xs[src + ch]) }
                    } }
                } } }
                values[output] = Tensor(shape: o, values: y)
            case let .globalAveragePool(input, output):
                let g = GlobalAveragePool.forward(values[input]!)
                values[output] = Tensor(shape: shape(output), values: g.array)
            case let .alias(input, output):
                values[output] = values[input]!
            case let .gemm(l, input, output):
                let x = values[input]!
                values[output] = Tensor(shape: shape(output), values: l.forward(Tensor(shape: [n, x.count / n], values: x.array)).array)
            }
        }
        let y = values[outputName]!
        return Tensor(shape: [n, classCount], values: y.array)
    }
}
