// Maps a checked ONNXModel's nodes, in order, onto ONNXNetwork's steps: one slot per image-like
// value (its per-sample NHWC shape and its ONNX rank, 4 for maps, 2 for flat vectors), float
// constants, and int64 values evaluated here (a nil entry is the batch size). Refusals name the
// node and what about it the engine does not run.
import Networks
import Tensors
import Foundation

struct Mapper {
    let model: ONNXModel
    let inputSize: Int
    var slots: [String: Int] = [:]
    var shapes: [MapShape] = []
    var ranks: [Int] = []
    var steps: [ONNXNetwork.Step] = []
    var floats: [String: ONNXTensor] = [:]
    var ints: [String: [Int?]] = [:]
    /// How many node inputs (and graph outputs) read each name.
    var readers: [String: Int] = [:]
    /// Per step index that is a convolution: what rebuilds it with a BatchNormalization folded in.
    var convolutions: [Int: ConvSource] = [:]
    var inputSlot = 0, outputSlot = 0, classCount = 0

    struct ConvSource {
        var weight: [Float], bias: [Float]
        let cout: Int, cin: Int, kh: Int, kw: Int, groups: Int
        let window: Window2D
        /// The slot it reads.
        let input: Int
        /// A Relu (or ReLU6 clip) that followed it, fused into the kernel's epilogue.
        var activation: Activation = .none

        /// Which kernel runs it.
        enum Kernel { case depthwise, conv, plain }
        var kernel: Kernel {
            guard window.dh == 1 && window.dw == 1 && window.sh == window.sw else { return .plain }
            return groups == cin && cout == cin && kh == kw ? .depthwise : .conv
        }
        /// Whether that kernel can fuse `a` (Conv2D: ReLU and ReLU6; depthwise: ReLU6).
        func fuses(_ a: Activation) -> Bool {
            switch kernel { case .conv: return true; case .depthwise: return a == .relu6; case .plain: return false }
        }
    }

    init(model: ONNXModel, inputSize: Int) {
        self.model = model
        self.inputSize = inputSize
    }

    func fail(_ n: ONNXNode, _ why: String) -> ONNXError {
        .unsupported(path: model.path, what: "node '\(untrusted(n.name))' (\(n.op)): \(why)",
                     supported: "typical CNN classifiers; the operators: " + ONNXModel.supportedOps.joined(separator: ", "))
    }

    mutating func newSlot(_ name: String, _ shape: MapShape, rank: Int) -> Int {
        let s = shapes.count
        shapes.append(shape); ranks.append(rank)
        slots[name] = s
        return s
    }

    mutating func map() throws(ONNXError) {
        let path = model.path
        guard (1...4096).contains(inputSize) else { throw .graph(path: path, reason: "an input of \(inputSize) pixels is outside 1–4096") }
        if let h = model.input.dims[2], let w = model.input.dims[3], h != inputSize || w != inputSize {
            throw .graph(path: path, reason: "its input is fixed at \(h)×\(w), not \(inputSize)×\(inputSize)")
        }
        for (name, t) in model.initializers {
            if let f = t.floats { floats[name] = ONNXTensor(name: name, dims: t.dims, values: .floats(f)) }
            if let i = t.int64s { ints[name] = i.map { Int(clamping: $0) } }
        }
        for n in model.nodes { for i in n.inputs where !i.isEmpty { readers[i, default: 0] += 1 } }
        for o in model.outputs { readers[o, default: 0] += 1 }
        inputSlot = newSlot(model.input.name, MapShape(h: inputSize, w: inputSize, c: 3), rank: 4)
        for n in model.nodes { try node(n) }
        guard let output = model.outputs.first, let o = slots[output], shapes[o].h == 1, shapes[o].w == 1 else {
            throw .graph(path: path, reason: "its output '\(untrusted(model.outputs.first ?? ""))' is not a vector of class scores")
        }
        outputSlot = o
        classCount = shapes[o].c
    }

    // MARK: Attributes and inputs

    func intList(_ n: ONNXNode, _ key: String) -> [Int]? { if case let .ints(v)? = n.attributes[key] { return v.map { Int(clamping: $0) } } else { return nil } }
    func int(_ n: ONNXNode, _ key: String) -> Int? { if case let .int(v)? = n.attributes[key] { return Int(clamping: v) } else { return nil } }
    func float(_ n: ONNXNode, _ key: String) -> Float? { if case let .float(v)? = n.attributes[key] { return v } else { return nil } }
    func string(_ n: ONNXNode, _ key: String) -> String? { if case let .string(v)? = n.attributes[key] { return v } else { return nil } }

    /// The slot of image-like input k.
    func value(_ n: ONNXNode, _ k: Int) throws(ONNXError) -> Int {
        guard k < n.inputs.count, let s = slots[n.inputs[k]] else { throw fail(n, "its input \(k) is not a value the engine computes (an image or feature map)") }
        return s
    }
    /// Float constant input k (nil when absent or empty-named).
    func constant(_ n: ONNXNode, _ k: Int) -> ONNXTensor? {
        guard k < n.inputs.count, !n.inputs[k].isEmpty else { return nil }
        return floats[n.inputs[k]]
    }
    func intInput(_ n: ONNXNode, _ k: Int) -> [Int?]? {
        guard k < n.inputs.count, !n.inputs[k].isEmpty else { return nil }
        return ints[n.inputs[k]]
    }

    /// A window op's pads (top, left, bottom, right) from `pads` or `auto_pad`.
    func pads(_ n: ONNXNode, inH: Int, inW: Int, k: (Int, Int), s: (Int, Int), d: (Int, Int)) throws(ONNXError) -> (Int, Int, Int, Int) {
        let auto = string(n, "auto_pad") ?? "NOTSET"
        switch auto {
        case "NOTSET":
            let p = intList(n, "pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ (0..<1024).contains($0) }) else { throw fail(n, "pads \(p) (4 values from 0 to 1023)") }
            return (p[0], p[1], p[2], p[3])
        case "VALID": return (0, 0, 0, 0)
        case "SAME_UPPER", "SAME_LOWER":
            func split(_ i: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let out = (i + s - 1) / s, total = max(0, (out - 1) * s + (k - 1) * d + 1 - i)
                return auto == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (t, b) = split(inH, k.0, s.0, d.0), (l, r) = split(inW, k.1, s.1, d.1)
            return (t, l, b, r)
        default: throw fail(n, "auto_pad \(untrusted(auto))")
        }
    }

    /// A 2-D window from a node's kernel_shape (or `kernel`), strides, dilations and pads.
    func window(_ n: ONNXNode, input x: MapShape, kernel: (Int, Int)? = nil, ceil: Bool = false) throws(ONNXError) -> Window2D {
        let k = kernel.map { [$0.0, $0.1] } ?? intList(n, "kernel_shape") ?? []
        let s = intList(n, "strides") ?? [1, 1], d = intList(n, "dilations") ?? [1, 1]
        guard k.count == 2, s.count == 2, d.count == 2, k.allSatisfy({ (1...1024).contains($0) }), s.allSatisfy({ (1...1024).contains($0) }),
              d.allSatisfy({ (1...1024).contains($0) }) else { throw fail(n, "a 2-D kernel, strides and dilations from 1 to 1024 (kernel \(k), strides \(s), dilations \(d))") }
        let p = try pads(n, inH: x.h, inW: x.w, k: (k[0], k[1]), s: (s[0], s[1]), d: (d[0], d[1]))
        guard let w = Window2D(kh: k[0], kw: k[1], sh: s[0], sw: s[1], dh: d[0], dw: d[1], top: p.0, left: p.1, bottom: p.2, right: p.3,
                               inH: x.h, inW: x.w, ceilMode: ceil) else { throw fail(n, "an empty output on a \(x.h)×\(x.w) input") }
        return w
    }

    // MARK: Nodes

    mutating func node(_ n: ONNXNode) throws(ONNXError) {
        guard let out = n.outputs.first, !out.isEmpty else { throw fail(n, "no output") }
        if n.outputs.dropFirst().contains(where: { !$0.isEmpty && readers[$0, default: 0] > 0 }) && n.op != "Dropout" {
            throw fail(n, "a second output that the graph reads")
        }
        switch n.op {
        case "Constant":
            if case let .tensor(t)? = n.attributes["value"] {
                if let f = t.floats { floats[out] = t; _ = f } else if let i = t.int64s { ints[out] = i.map { Int(clamping: $0) } }
            } else if let f = float(n, "value_float") { floats[out] = ONNXTensor(name: out, dims: [], values: .floats([f])) }
            else if case let .floats(f)? = n.attributes["value_floats"] { floats[out] = ONNXTensor(name: out, dims: [f.count], values: .floats(f)) }
            else if let i = int(n, "value_int") { ints[out] = [i] }
            else if let i = intList(n, "value_ints") { ints[out] = i }
            else { throw fail(n, "only tensor, float(s) and int(s) constants") }
        case "Identity", "Dropout":
            guard let i = n.inputs.first else { throw fail(n, "no input") }
            if let s = slots[i] { slots[out] = s } else if let f = floats[i] { floats[out] = f } else if let v = ints[i] { ints[out] = v }
            else { throw fail(n, "an input the engine does not know") }
        case "Conv": try conv(n, out)
        case "BatchNormalization": try batchNorm(n, out)
        case "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish":
            let x = try value(n, 0)
            let u: Unary
            switch n.op {
            case "Relu":
                if fuse(n, out, .relu) { return }
                u = .clip(low: 0, high: .infinity)
            case "Clip":
                var low = -Float.infinity, high = Float.infinity
                if n.inputs.count > 1, !n.inputs[1].isEmpty { guard let v = constant(n, 1)?.floats, v.count == 1 else { throw fail(n, "a min that is not a constant scalar") }; low = v[0] }
                if n.inputs.count > 2, !n.inputs[2].isEmpty { guard let v = constant(n, 2)?.floats, v.count == 1 else { throw fail(n, "a max that is not a constant scalar") }; high = v[0] }
                if let v = float(n, "min") { low = v }
                if let v = float(n, "max") { high = v }
                u = .clip(low: low, high: high)
                if low == 0 && high == 6 && fuse(n, out, .relu6) { return }
            case "LeakyRelu": u = .leakyRelu(alpha: float(n, "alpha") ?? 0.01)
            case "Sigmoid": u = .sigmoid
            case "HardSigmoid": u = .hardSigmoid(alpha: float(n, "alpha") ?? 0.2, beta: float(n, "beta") ?? 0.5)
            default: u = .hardSwish
            }
            let o = newSlot(out, shapes[x], rank: ranks[x])
            steps.append(.unary(u, input: x, output: o))
        case "Add", "Sub", "Mul", "Div": try arithmetic(n, out)
        case "MaxPool", "AveragePool":
            let x = try value(n, 0)
            guard ranks[x] == 4 else { throw fail(n, "a flat input") }
            guard (int(n, "storage_order") ?? 0) == 0 else { throw fail(n, "storage_order 1") }
            let w = try window(n, input: shapes[x], ceil: (int(n, "ceil_mode") ?? 0) != 0)
            let o = newSlot(out, MapShape(h: w.outH, w: w.outW, c: shapes[x].c), rank: 4)
            if n.op == "MaxPool" { steps.append(.maxPool(w, input: x, output: o)) }
            else { steps.append(.averagePool(w, divisors: Pool.divisors(w, countIncludePad: (int(n, "count_include_pad") ?? 0) != 0), input: x, output: o)) }
        case "GlobalAveragePool":
            let x = try value(n, 0)
            guard ranks[x] == 4 else { throw fail(n, "a flat input") }
            steps.append(.globalAveragePool(input: x, output: newSlot(out, MapShape(h: 1, w: 1, c: shapes[x].c), rank: 4)))
        case "ReduceMean":
            let x = try value(n, 0)
            let axes = intList(n, "axes") ?? intInput(n, 1)?.compactMap { $0 } ?? []
            guard ranks[x] == 4, Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3] else { throw fail(n, "a mean over other axes than height and width (\(axes))") }
            let keep = (int(n, "keepdims") ?? 1) != 0
            steps.append(.globalAveragePool(input: x, output: newSlot(out, MapShape(h: 1, w: 1, c: shapes[x].c), rank: keep ? 4 : 2)))
        case "Flatten":
            let x = try value(n, 0)
            guard (int(n, "axis") ?? 1) == 1 else { throw fail(n, "an axis other than 1") }
            try flatten(x, out)
        case "Reshape": try reshape(n, out)
        case "Concat": try concat(n, out)
        case "Pad": try pad(n, out)
        case "Gemm", "MatMul": try linear(n, out)
        case "Softmax":
            let x = try value(n, 0), s = shapes[x]
            let axis = int(n, "axis") ?? (model.opset >= 13 ? -1 : 1)
            let channels = ranks[x] == 2 ? (axis == 1 || axis == -1) : (axis == 1 || axis == -3)
            guard s.h == 1, s.w == 1, channels else { throw fail(n, "a softmax other than over the classes of a vector (axis \(axis))") }
            steps.append(.softmax(input: x, output: newSlot(out, s, rank: ranks[x])))
        case "Shape":
            let x = try value(n, 0)
            var dims: [Int?] = ranks[x] == 4 ? [nil, shapes[x].c, shapes[x].h, shapes[x].w] : [nil, shapes[x].c]
            let r = dims.count
            let start = int(n, "start") ?? 0, end = int(n, "end") ?? r
            let lo = min(max(start < 0 ? start + r : start, 0), r), hi = min(max(end < 0 ? end + r : end, 0), r)
            dims = lo < hi ? Array(dims[lo..<hi]) : []
            ints[out] = dims
        case "Gather":
            guard let data = intInput(n, 0), let index = intInput(n, 1), (int(n, "axis") ?? 0) == 0 else {
                throw fail(n, "a gather other than from a static shape by constant indices")
            }
            var picked: [Int?] = []
            for case let i? in index {
                let k = i < 0 ? i + data.count : i
                guard (0..<data.count).contains(k) else { throw fail(n, "an index \(i) outside a shape of \(data.count)") }
                picked.append(data[k])
            }
            guard picked.count == index.count else { throw fail(n, "indices that are not constants") }
            ints[out] = picked
        case "Unsqueeze":
            guard let data = intInput(n, 0) else { throw fail(n, "an unsqueeze other than of a static shape value") }
            ints[out] = data
        default:
            throw fail(n, "not mapped onto the engine")
        }
    }

    mutating func conv(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let xs = try value(n, 0), x = shapes[xs]
        guard ranks[xs] == 4 else { throw fail(n, "a flat input") }
        guard let w = constant(n, 1), let wv = w.floats, w.dims.count == 4 else { throw fail(n, "its weight must be a constant 4-D tensor") }
        let bias = constant(n, 2)?.floats
        let group = int(n, "group") ?? 1, (cout, cig, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        if let k = intList(n, "kernel_shape"), k != [kh, kw] { throw fail(n, "kernel_shape \(k) unlike its \(kh)×\(kw) weight") }
        guard group >= 1, cig >= 1, x.c == cig * group, cout % group == 0, bias.map({ $0.count == cout }) ?? true else {
            throw fail(n, "a weight (\(cout), \(cig), \(kh), \(kw)) in \(group) groups that does not fit its input's \(x.c) channels")
        }
        let g = try window(n, input: x, kernel: (kh, kw))
        let source = ConvSource(weight: wv, bias: bias ?? [Float](repeating: 0, count: cout), cout: cout, cin: x.c, kh: kh, kw: kw, groups: group, window: g, input: xs)
        let o = newSlot(out, MapShape(h: g.outH, w: g.outW, c: cout), rank: 4)
        convolutions[steps.count] = source
        steps.append(Self.convStep(source, output: o))
    }

    /// The engine's fastest kernel for a convolution: depthwise, Conv2D, or plain loops.
    static func convStep(_ c: ConvSource, output: Int) -> ONNXNetwork.Step {
        let input = c.input
        let g = c.window
        let padding = Padding.explicit(top: g.top, bottom: g.bottom, left: g.left, right: g.right)
        switch c.kernel {
        case .depthwise:
            return .depthwise(DepthwiseConv2D(torchWeight: c.weight, bias: c.bias, channels: c.cout, kernelSize: c.kh, stride: g.sh, padding: padding,
                                              activation: c.activation), input: input, output: output)
        case .conv:
            return .conv(Conv2D(torchWeight: c.weight, bias: c.bias, outputChannels: c.cout, inputChannels: c.cin, kernelHeight: c.kh, kernelWidth: c.kw,
                                stride: g.sh, groups: c.groups, padding: padding, activation: c.activation), input: input, output: output)
        case .plain:
            return .plainConv(PlainConv(weight: c.weight, bias: c.bias, cin: c.cin, cout: c.cout, groups: c.groups, window: g), input: input, output: output)
        }
    }

    /// Rewrites the convolution that computed `name` (its value read by nothing else, no
    /// activation fused yet) by `change`, which may decline (false); then `out` names that
    /// convolution's output. What BatchNormalization folding and activation fusing share.
    mutating func rewriteProducer(of name: String, as out: String, _ change: (inout ConvSource) -> Bool) -> Bool {
        guard let x = slots[name], readers[name, default: 0] == 1, !model.outputs.contains(name),
              let producer = steps.indices.last(where: { steps[$0].output == x }), var source = convolutions[producer],
              source.activation == .none, change(&source) else { return false }
        convolutions[producer] = source
        steps[producer] = Self.convStep(source, output: x)
        slots[out] = x
        return true
    }

    /// Fuses `activation` (the node's) into the convolution that computed its input, when
    /// nothing else reads that and its kernel takes it.
    mutating func fuse(_ n: ONNXNode, _ out: String, _ activation: Activation) -> Bool {
        rewriteProducer(of: n.inputs[0], as: out) { source in
            guard source.fuses(activation) else { return false }
            source.activation = activation
            return true
        }
    }

    mutating func batchNorm(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let xs = try value(n, 0), c = shapes[xs].c
        guard let scale = constant(n, 1)?.floats, let shift = constant(n, 2)?.floats, let mean = constant(n, 3)?.floats, let variance = constant(n, 4)?.floats,
              [scale, shift, mean, variance].allSatisfy({ $0.count == c }) else { throw fail(n, "scale, bias, mean and variance must be constants of \(c) values") }
        guard (int(n, "training_mode") ?? 0) == 0 else { throw fail(n, "training mode") }
        let eps = Double(float(n, "epsilon") ?? 1e-5)
        var a = [Float](repeating: 0, count: c), b = a
        for k in 0..<c {
            guard variance[k] >= 0 else { throw fail(n, "a negative variance") }
            let s = Double(scale[k]) / (Double(variance[k]) + eps).squareRoot()
            a[k] = Float(s); b[k] = Float(Double(shift[k]) - Double(mean[k]) * s)
        }
        // Folded into the convolution that computed its input, when nothing else reads that.
        let folded = rewriteProducer(of: n.inputs[0], as: out) { source in
            let per = source.weight.count / source.cout
            for co in 0..<source.cout {
                for t in 0..<per { source.weight[co * per + t] *= a[co] }
                source.bias[co] = source.bias[co] * a[co] + b[co]
            }
            return true
        }
        if folded { return }
        steps.append(.affine(scale: a, shift: b, input: xs, output: newSlot(out, shapes[xs], rank: ranks[xs])))
    }


    mutating func arithmetic(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        guard n.inputs.count == 2 else { throw fail(n, "two inputs") }
        let op = Arithmetic(rawValue: n.op)!
        let (na, nb) = (n.inputs[0], n.inputs[1])
        // Both constants: folded here.
        if let a = floats[na], let b = floats[nb], let av = a.floats, let bv = b.floats {
            guard av.count == bv.count || av.count == 1 || bv.count == 1 else { throw fail(n, "constants of \(a.dims) and \(b.dims)") }
            let count = max(av.count, bv.count)
            let r = (0..<count).map { op.apply(av[av.count == 1 ? 0 : $0], bv[bv.count == 1 ? 0 : $0]) }
            floats[out] = ONNXTensor(name: out, dims: av.count >= bv.count ? a.dims : b.dims, values: .floats(r))
            return
        }
        if ints[na] != nil || ints[nb] != nil { throw fail(n, "arithmetic on int64 shape values") }
        // The output's shape comes from a value of full shape.
        let full: Int
        switch (slots[na], slots[nb]) {
        case let (a?, b?): full = shapes[a].count >= shapes[b].count ? a : b
        case let (a?, nil): full = a
        case let (nil, b?): full = b
        default: throw fail(n, "inputs the engine does not know")
        }
        let s = shapes[full], rank = ranks[full]
        func operand(_ name: String) throws(ONNXError) -> Operand {
            if let v = slots[name] {
                if v == full || (shapes[v] == s && ranks[v] == rank) { return .value(v) }
                if ranks[v] == rank, shapes[v].h == 1, shapes[v].w == 1, shapes[v].c == s.c { return .channels(v) }
                throw fail(n, "broadcasting \(shapes[v]) against \(s)")
            }
            guard let t = floats[name], let v = t.floats else { throw fail(n, "an input that is not a value or a float constant") }
            if v.count == 1 { return .constant(v) }
            let dims = Array(t.dims.drop { $0 == 1 })   // leading ones broadcast away
            let perChannel = rank == 4 ? (dims == [s.c, 1, 1]) : (dims == [s.c])
            guard perChannel else { throw fail(n, "a constant of shape \(t.dims) against \(rank == 4 ? "(N, \(s.c), \(s.h), \(s.w))" : "(N, \(s.c))") (one value, or one per channel)") }
            return .constant(v)
        }
        let a = try operand(na), b = try operand(nb)
        steps.append(.arithmetic(op, a, b, output: newSlot(out, s, rank: rank)))
    }

    mutating func flatten(_ x: Int, _ out: String) throws(ONNXError) {
        let s = shapes[x], flat = MapShape(h: 1, w: 1, c: s.count)
        if s.h == 1 && s.w == 1 { steps.append(.alias(input: x, output: newSlot(out, flat, rank: 2))) }
        else { steps.append(.flatten(input: x, output: newSlot(out, flat, rank: 2))) }
    }

    mutating func reshape(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let x = try value(n, 0), s = shapes[x]
        guard let target = intInput(n, 1) else { throw fail(n, "a shape that is not static") }
        // The batch stays first: nil (the batch), 0 (copy) or -1 there; then the features.
        guard let first = target.first, first == nil || first == 0 || first == -1 else { throw fail(n, "a reshape that changes the batch") }
        let rest = target.dropFirst()
        guard rest.allSatisfy({ $0 != nil }) else { throw fail(n, "a batch size after the first axis") }
        let dims = rest.map { $0! }
        let known = dims.filter { $0 != -1 }.reduce(1, *)
        guard dims.filter({ $0 == -1 }).count <= 1, dims.allSatisfy({ $0 == -1 || $0 >= 1 }), known >= 1, s.count % known == 0 else {
            throw fail(n, "a shape \(target.map { $0.map(String.init) ?? "N" }) for \(s.count) values per sample")
        }
        let resolved = dims.map { $0 == -1 ? s.count / known : $0 }
        guard resolved.reduce(1, *) == s.count else { throw fail(n, "a shape of another size than \(s.count) values per sample") }
        if resolved.count == 1 || (resolved.count == 3 && resolved[1] == 1 && resolved[2] == 1) {
            try flatten(x, out)
            ranks[slots[out]!] = resolved.count + 1
        } else if ranks[x] == 4 && resolved == [s.c, s.h, s.w] {
            steps.append(.alias(input: x, output: newSlot(out, s, rank: 4)))
        } else {
            throw fail(n, "a reshape to \(resolved) (only flattening to (N, \(s.count)))")
        }
    }

    mutating func concat(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        if n.inputs.allSatisfy({ ints[$0] != nil }) {
            ints[out] = n.inputs.flatMap { ints[$0]! }
            return
        }
        var inputs: [Int] = []
        for k in n.inputs.indices { inputs.append(try value(n, k)) }
        let first = shapes[inputs[0]], rank = ranks[inputs[0]]
        let axis = int(n, "axis") ?? 1
        guard axis == 1 || axis == 1 - rank, inputs.allSatisfy({ shapes[$0].h == first.h && shapes[$0].w == first.w && ranks[$0] == rank }) else {
            throw fail(n, "a concatenation other than of channels of same-sized maps (axis \(axis))")
        }
        let c = inputs.reduce(0) { $0 + shapes[$1].c }
        steps.append(.concat(inputs, output: newSlot(out, MapShape(h: first.h, w: first.w, c: c), rank: rank)))
    }

    mutating func pad(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let x = try value(n, 0), s = shapes[x]
        guard ranks[x] == 4 else { throw fail(n, "a flat input") }
        let mode = string(n, "mode") ?? "constant"
        guard mode == "constant" else { throw fail(n, "mode \(untrusted(mode)) (only constant)") }
        let p: [Int]
        if let a = intList(n, "pads") { p = a } else if let v = intInput(n, 1), v.allSatisfy({ $0 != nil }) { p = v.map { $0! } }
        else { throw fail(n, "pads that are not constants") }
        let value = constant(n, 2)?.floats?.first ?? float(n, "value") ?? 0
        guard p.count == 8, p[0] == 0, p[1] == 0, p[4] == 0, p[5] == 0, [p[2], p[3], p[6], p[7]].allSatisfy({ (0..<1024).contains($0) }) else {
            throw fail(n, "pads \(p) (only rows and columns, 0 to 1023)")
        }
        let o = newSlot(out, MapShape(h: s.h + p[2] + p[6], w: s.w + p[3] + p[7], c: s.c), rank: 4)
        steps.append(.pad(top: p[2], left: p[3], bottom: p[6], right: p[7], value: value, input: x, output: o))
    }

    mutating func linear(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let x = try value(n, 0), s = shapes[x]
        guard s.h == 1, s.w == 1 else { throw fail(n, "a \(s.h)×\(s.w) map as input (flatten it first)") }
        guard let w = constant(n, 1), let wv = w.floats, w.dims.count == 2 else { throw fail(n, "a constant 2-D weight") }
        let transB = n.op == "Gemm" ? (int(n, "transB") ?? 0) : 0
        let alpha = n.op == "Gemm" ? (float(n, "alpha") ?? 1) : 1, beta = n.op == "Gemm" ? (float(n, "beta") ?? 1) : 1
        guard n.op == "MatMul" || (int(n, "transA") ?? 0) == 0 else { throw fail(n, "transA") }
        let (outF, inF) = transB == 1 ? (w.dims[0], w.dims[1]) : (w.dims[1], w.dims[0])
        guard inF == s.c, outF >= 1 else { throw fail(n, "a weight for \(inF) features on \(s.c)") }
        var weight = wv
        if transB == 0 { weight = (0..<(outF * inF)).map { i in wv[(i % inF) * outF + i / inF] } }
        if alpha != 1 { weight = weight.map { $0 * alpha } }
        var bias = [Float](repeating: 0, count: outF)
        if n.op == "Gemm", let c = constant(n, 2)?.floats {
            guard c.count == outF || c.count == 1 else { throw fail(n, "a bias of \(c.count) values for \(outF) outputs") }
            bias = (0..<outF).map { beta * c[c.count == 1 ? 0 : $0] }
        } else if n.op == "Gemm", n.inputs.count > 2, !n.inputs[2].isEmpty { throw fail(n, "a bias that is not a constant") }
        steps.append(.linear(Linear(weight: weight, bias: bias, inputFeatures: inF, outputFeatures: outF), input: x, output: newSlot(out, MapShape(h: 1, w: 1, c: outF), rank: 2)))
    }
}
