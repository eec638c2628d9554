// Maps a checked ONNXModel's nodes, in order, onto ONNXNetwork's steps: one slot per image-like
// value (its per-sample NHWC shape and its ONNX rank, 4 for maps, 2 for flat vectors), float
// constants, and int64 values evaluated here (a nil entry is the batch size). Refusals name the
// node and what about it the engine does not run. Graphs come from strangers: every size is checked
// (no arithmetic that can overflow, no value, tape, weight count or work past the limits below)
// before anything is allocated or run.
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
    /// Int64 tensors too long to be shapes: kept out of `ints`, refused where a node reads them.
    var longInts: Set<String> = []
    /// Slots that an Identity or Dropout gave a second name: their producer is not rewritten.
    var sharedSlots: Set<Int> = []
    /// Per image: floats of every value (the tape), multiply-adds; over the graph: weights the
    /// steps hold (constants folded here included).
    var tapeFloats = 0, work = 0, weights = 0

    /// Largest value of one image, in floats (2^28, 1 GiB).
    static let maxValueFloats = 1 << 28
    /// Largest tape of one image: every value of its forward pass (2^30 floats, 4 GiB).
    static let maxTapeFloats = 1 << 30
    /// Most multiply-adds per image (2^38; EfficientNet-B7 at 600 pixels takes 2^35).
    static let maxWork = 1 << 38
    /// Most weights the steps hold, constants folded while mapping included: as many as the
    /// largest tensor a file may hold, however often a graph reuses one.
    static let maxWeights = ONNXModel.maxTensorElements
    /// Longest int64 value evaluated as a shape (a shape, axes, pads or indices).
    static let maxShapeLength = 64

    struct ConvSource {
        var weight: [Float], bias: [Float]
        let cout: Int, cin: Int, kh: Int, kw: Int, groups: Int
        let window: Window2D
        /// The slot it reads.
        let input: Int
        /// A Relu (or ReLU6 clip) that followed it, fused into the kernel's epilogue.
        var activation: Activation = .none

        /// Which kernel runs it. Conv2D and DepthwiseConv2D take windows that each overlap the
        /// input: a pad as wide as the kernel (windows all in padding) takes plain loops too.
        enum Kernel { case depthwise, conv, plain }
        var kernel: Kernel {
            guard window.dh == 1 && window.dw == 1 && window.sh == window.sw,
                  max(window.top, window.bottom) < kh, max(window.left, window.right) < kw else { return .plain }
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

    /// What the engine does not run, by node.
    func fail(_ n: ONNXNode, _ why: String) -> ONNXError {
        .unsupported(path: model.path, what: "node '\(untrusted(n.name))' (\(untrusted(n.op))): \(why)",
                     supported: "typical CNN classifiers; the operators: " + ONNXModel.supportedOps.joined(separator: ", "))
    }
    /// What no graph may hold (sizes that do not fit, names that lead nowhere), by node.
    func bad(_ n: ONNXNode, _ why: String) -> ONNXError {
        .graph(path: model.path, reason: "node '\(untrusted(n.name))' (\(untrusted(n.op))) \(why)")
    }

    /// A slot for the value `name` that `n` computes: refused when empty or past maxValueFloats,
    /// or when the tape grows past maxTapeFloats.
    mutating func newSlot(_ n: ONNXNode, _ name: String, _ shape: MapShape, rank: Int) throws(ONNXError) -> Int {
        guard shape.h >= 1, shape.w >= 1, shape.c >= 1 else { throw bad(n, "gives an empty value \(shape) (\(shape.h)×\(shape.w), \(shape.c) channels)") }
        let (hw, o1) = shape.h.multipliedReportingOverflow(by: shape.w), (count, o2) = hw.multipliedReportingOverflow(by: shape.c)
        guard !o1, !o2, count <= Self.maxValueFloats else {
            throw .tooLarge(path: model.path, what: "the output '\(untrusted(name))' of node '\(untrusted(n.name))' (\(untrusted(n.op)))",
                            size: "\(shape.c)×\(shape.h)×\(shape.w) values per image", limit: "\(Self.maxValueFloats)")
        }
        tapeFloats += count
        guard tapeFloats <= Self.maxTapeFloats else {
            throw .tooLarge(path: model.path, what: "the forward pass up to node '\(untrusted(n.name))' (\(untrusted(n.op)))",
                            size: "\(tapeFloats) values per image", limit: "\(Self.maxTapeFloats)")
        }
        let s = shapes.count
        shapes.append(shape); ranks.append(rank)
        slots[name] = s
        return s
    }

    /// Counts `macs` multiply-adds per image (each at most 2^56: no overflow below the limit).
    mutating func addWork(_ n: ONNXNode, _ macs: Int) throws(ONNXError) {
        work += macs
        guard work <= Self.maxWork else {
            throw .tooLarge(path: model.path, what: "the work up to node '\(untrusted(n.name))' (\(untrusted(n.op)))",
                            size: "\(work) multiply-adds per image", limit: "\(Self.maxWork)")
        }
    }
    /// Counts `count` weights held by a step or folded here.
    mutating func addWeights(_ n: ONNXNode, _ count: Int) throws(ONNXError) {
        weights += count
        guard weights <= Self.maxWeights else {
            throw .tooLarge(path: model.path, what: "the weights held up to node '\(untrusted(n.name))' (\(untrusted(n.op))), reused or folded ones counted each time",
                            size: "\(weights) values", limit: "\(Self.maxWeights)")
        }
    }

    mutating func map() throws(ONNXError) {
        let path = model.path
        guard (1...4096).contains(inputSize) else { throw .graph(path: path, reason: "an input of \(inputSize) pixels is outside 1–4096") }
        let fixed = [model.input.dims[2], model.input.dims[3]]
        if fixed.contains(where: { $0 != nil && $0 != inputSize }) {
            throw .graph(path: path, reason: "its input is fixed at \(fixed.map { $0.map(String.init) ?? "any" }.joined(separator: "×")), not \(inputSize)×\(inputSize)")
        }
        for (name, t) in model.initializers {
            if let f = t.floats { floats[name] = ONNXTensor(name: name, dims: t.dims, values: .floats(f)) }
            if let i = t.int64s { setInts(name, int64s: i) }
        }
        for n in model.nodes { for i in n.inputs where !i.isEmpty { readers[i, default: 0] += 1 } }
        for o in model.outputs { readers[o, default: 0] += 1 }
        // The weights that convolutions and linear layers will hold, before any is built: a file
        // can name one weight in many nodes (then it counts each time).
        var held = 0
        for n in model.nodes where ["Conv", "Gemm", "MatMul"].contains(n.op) && n.inputs.count > 1 {
            held += model.initializers[n.inputs[1]]?.count ?? 0
            guard held <= Self.maxWeights else {
                throw .tooLarge(path: path, what: "the weights its convolutions and linear layers read up to node '\(untrusted(n.name))', one read by several counted each time",
                                size: "\(held) values", limit: "\(Self.maxWeights)")
            }
        }
        let image = ONNXNode(name: model.input.name, op: "input", inputs: [], outputs: [model.input.name], attributes: [:])
        inputSlot = try newSlot(image, model.input.name, MapShape(h: inputSize, w: inputSize, c: 3), rank: 4)
        for n in model.nodes { try node(n) }
        guard let output = model.outputs.first, let o = slots[output] else {
            throw .graph(path: path, reason: "its output '\(untrusted(model.outputs.first ?? ""))' is not computed from the image by any node")
        }
        guard shapes[o].h == 1, shapes[o].w == 1, o != inputSlot else {
            throw .graph(path: path, reason: "its output '\(untrusted(output))' of shape \(shapes[o]) is not a vector of class scores (N, classes)")
        }
        outputSlot = o
        classCount = shapes[o].c
    }

    // MARK: Attributes and inputs

    /// Attribute `key` of `n` (nil when absent); refused when the file gives it in another form.
    func attribute<T>(_ n: ONNXNode, _ key: String, _ form: String, _ pick: (ONNXAttribute) -> T?) throws(ONNXError) -> T? {
        guard let a = n.attributes[key] else { return nil }
        guard let v = pick(a) else { throw bad(n, "has attribute '\(untrusted(key))' in another form than \(form)") }
        return v
    }
    func intList(_ n: ONNXNode, _ key: String) throws(ONNXError) -> [Int]? {
        try attribute(n, key, "a list of ints") { a in if case let .ints(v) = a { return v.map { Int(clamping: $0) } }; return nil }
    }
    func int(_ n: ONNXNode, _ key: String) throws(ONNXError) -> Int? {
        try attribute(n, key, "an int") { a in if case let .int(v) = a { return Int(clamping: v) }; return nil }
    }
    func float(_ n: ONNXNode, _ key: String) throws(ONNXError) -> Float? {
        try attribute(n, key, "a float") { a in if case let .float(v) = a { return v }; return nil }
    }
    func string(_ n: ONNXNode, _ key: String) throws(ONNXError) -> String? {
        try attribute(n, key, "a string") { a in if case let .string(v) = a { return v }; return nil }
    }

    /// The slot of image-like input k.
    func value(_ n: ONNXNode, _ k: Int) throws(ONNXError) -> Int {
        guard k < n.inputs.count else { throw bad(n, "has no input \(k)") }
        guard let s = slots[n.inputs[k]] else {
            let name = n.inputs[k]
            if floats[name] != nil || ints[name] != nil { throw fail(n, "its input \(k) '\(untrusted(name))' is a constant, not an image or feature map") }
            throw bad(n, "reads '\(untrusted(name))' (input \(k)), which no earlier node computes")
        }
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
    /// Keeps an int64 value for shape arithmetic, unless it is too long to be a shape.
    mutating func setInts(_ name: String, _ v: [Int?]) {
        if v.count <= Self.maxShapeLength { ints[name] = v } else { longInts.insert(name) }
    }
    mutating func setInts(_ name: String, int64s v: [Int64]) {
        if v.count <= Self.maxShapeLength { ints[name] = v.map { Int(clamping: $0) } } else { longInts.insert(name) }
    }

    /// A list from a file, fit for an error line: at most 8 values.
    func shown(_ v: [Int]) -> String { v.count <= 8 ? "\(v)" : "\(Array(v.prefix(8)).description.dropLast()), … (\(v.count) values)]" }

    /// A window op's pads (top, left, bottom, right) from `pads` or `auto_pad`.
    func pads(_ n: ONNXNode, inH: Int, inW: Int, k: (Int, Int), s: (Int, Int), d: (Int, Int)) throws(ONNXError) -> (Int, Int, Int, Int) {
        let auto = try string(n, "auto_pad") ?? "NOTSET"
        switch auto {
        case "NOTSET":
            let p = try intList(n, "pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ (0..<1024).contains($0) }) else { throw fail(n, "pads \(shown(p)) (4 values from 0 to 1023)") }
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
        let k: [Int]
        if let kernel { k = [kernel.0, kernel.1] } else { k = try intList(n, "kernel_shape") ?? [] }
        let s = try intList(n, "strides") ?? [1, 1], d = try intList(n, "dilations") ?? [1, 1]
        guard k.count == 2, s.count == 2, d.count == 2, k.allSatisfy({ (1...1024).contains($0) }), s.allSatisfy({ (1...1024).contains($0) }),
              d.allSatisfy({ (1...1024).contains($0) }) else {
            throw fail(n, "a 2-D kernel, strides and dilations from 1 to 1024 (kernel \(shown(k)), strides \(shown(s)), dilations \(shown(d)))")
        }
        let p = try pads(n, inH: x.h, inW: x.w, k: (k[0], k[1]), s: (s[0], s[1]), d: (d[0], d[1]))
        guard let w = Window2D(kh: k[0], kw: k[1], sh: s[0], sw: s[1], dh: d[0], dw: d[1], top: p.0, left: p.1, bottom: p.2, right: p.3,
                               inH: x.h, inW: x.w, ceilMode: ceil) else {
            throw bad(n, "gives an empty output: its \(k[0])×\(k[1]) window (dilations \(d)) does not fit its padded \(x.h)×\(x.w) input")
        }
        return w
    }

    // MARK: Nodes

    mutating func node(_ n: ONNXNode) throws(ONNXError) {
        guard let out = n.outputs.first, !out.isEmpty else { throw bad(n, "has no output") }
        if n.outputs.dropFirst().contains(where: { !$0.isEmpty && readers[$0, default: 0] > 0 }) && n.op != "Dropout" {
            throw fail(n, "a second output that the graph reads")
        }
        // One producer per name: a second one would change what earlier readers saw.
        for o in n.outputs where !o.isEmpty && (slots[o] != nil || floats[o] != nil || ints[o] != nil || longInts.contains(o)) {
            throw bad(n, "computes '\(untrusted(o))', which the graph already has (the image, a weight or an earlier node's output)")
        }
        if let long = n.inputs.first(where: { longInts.contains($0) }) {
            throw fail(n, "its input '\(untrusted(long))' of more than \(Self.maxShapeLength) int64 values (int64 values are evaluated as shapes only)")
        }
        for (key, a) in n.attributes.sorted(by: { $0.key < $1.key }) {
            switch a {
            case let .float(v) where !v.isFinite: throw bad(n, "has attribute '\(untrusted(key))' = \(v), not a finite number")
            case let .floats(v) where v.contains(where: { !$0.isFinite }): throw bad(n, "has attribute '\(untrusted(key))' holding values that are not finite numbers")
            default: break
            }
        }
        switch n.op {
        case "Constant":
            if let t = try attribute(n, "value", "a tensor", { a in if case let .tensor(t) = a { return t }; return nil }) {
                if let f = t.floats { floats[out] = ONNXTensor(name: out, dims: t.dims, values: .floats(f)) }
                else if let i = t.int64s { setInts(out, int64s: i) }
            } else if let f = try float(n, "value_float") { floats[out] = ONNXTensor(name: out, dims: [], values: .floats([f])) }
            else if case let .floats(f)? = n.attributes["value_floats"] { floats[out] = ONNXTensor(name: out, dims: [f.count], values: .floats(f)) }
            else if let i = try int(n, "value_int") { setInts(out, [i]) }
            else if let i = try intList(n, "value_ints") { setInts(out, i) }
            else { throw fail(n, "only tensor, float(s) and int(s) constants") }
        case "Identity", "Dropout":
            guard let i = n.inputs.first, !i.isEmpty else { throw bad(n, "has no input") }
            if let s = slots[i] { slots[out] = s; sharedSlots.insert(s) } else if let f = floats[i] { floats[out] = f } else if let v = ints[i] { ints[out] = v }
            else { throw bad(n, "reads '\(untrusted(i))', which no earlier node computes") }
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
                for (k, what) in [(1, "min"), (2, "max")] where n.inputs.count > k && !n.inputs[k].isEmpty {
                    guard let v = constant(n, k)?.floats, v.count == 1 else {
                        throw fail(n, "its \(what) '\(untrusted(n.inputs[k]))' is not a constant scalar")
                    }
                    if k == 1 { low = v[0] } else { high = v[0] }
                }
                if let v = try float(n, "min") { low = v }
                if let v = try float(n, "max") { high = v }
                u = .clip(low: low, high: high)
                if low == 0 && high == 6 && fuse(n, out, .relu6) { return }
            case "LeakyRelu": u = .leakyRelu(alpha: try float(n, "alpha") ?? 0.01)
            case "Sigmoid": u = .sigmoid
            case "HardSigmoid": u = .hardSigmoid(alpha: try float(n, "alpha") ?? 0.2, beta: try float(n, "beta") ?? 0.5)
            default: u = .hardSwish
            }
            let o = try newSlot(n, out, shapes[x], rank: ranks[x])
            try addWork(n, shapes[x].count)
            steps.append(.unary(u, input: x, output: o))
        case "Add", "Sub", "Mul", "Div": try arithmetic(n, out)
        case "MaxPool", "AveragePool":
            let x = try value(n, 0)
            guard ranks[x] == 4 else { throw fail(n, "a flat input") }
            guard (try int(n, "storage_order") ?? 0) == 0 else { throw fail(n, "storage_order 1") }
            let w = try window(n, input: shapes[x], ceil: (try int(n, "ceil_mode") ?? 0) != 0)
            // A max over a window wholly in the padding is over nothing (PyTorch keeps pads ≤ kernel / 2).
            guard n.op == "AveragePool" || (max(w.top, w.bottom) < (w.kh - 1) * w.dh + 1 && max(w.left, w.right) < (w.kw - 1) * w.dw + 1) else {
                throw bad(n, "has pads \([w.top, w.left, w.bottom, w.right]) as wide as its \(w.kh)×\(w.kw) window: windows wholly in the padding have no maximum")
            }
            let o = try newSlot(n, out, MapShape(h: w.outH, w: w.outW, c: shapes[x].c), rank: 4)
            try addWork(n, w.outH * w.outW * shapes[x].c * w.kh * w.kw)
            if n.op == "MaxPool" { steps.append(.maxPool(w, input: x, output: o)) }
            else { steps.append(.averagePool(w, divisors: Pool.divisors(w, countIncludePad: (try int(n, "count_include_pad") ?? 0) != 0), input: x, output: o)) }
        case "GlobalAveragePool":
            let x = try value(n, 0)
            guard ranks[x] == 4 else { throw fail(n, "a flat input") }
            try addWork(n, shapes[x].count)
            steps.append(.globalAveragePool(input: x, output: try newSlot(n, out, MapShape(h: 1, w: 1, c: shapes[x].c), rank: 4)))
        case "ReduceMean":
            let x = try value(n, 0)
            let axes = try intList(n, "axes") ?? intInput(n, 1)?.compactMap { $0 } ?? []
            guard ranks[x] == 4, Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3] else { throw fail(n, "a mean over other axes than height and width (\(shown(axes)))") }
            let keep = (try int(n, "keepdims") ?? 1) != 0
            try addWork(n, shapes[x].count)
            steps.append(.globalAveragePool(input: x, output: try newSlot(n, out, MapShape(h: 1, w: 1, c: shapes[x].c), rank: keep ? 4 : 2)))
        case "Flatten":
            let x = try value(n, 0)
            guard (try int(n, "axis") ?? 1) == 1 else { throw fail(n, "an axis other than 1") }
            _ = try flatten(n, x, out)
        case "Reshape": try reshape(n, out)
        case "Concat": try concat(n, out)
        case "Pad": try pad(n, out)
        case "Gemm", "MatMul": try linear(n, out)
        case "Softmax":
            let x = try value(n, 0), s = shapes[x]
            let axis = try int(n, "axis") ?? (model.opset >= 13 ? -1 : 1)
            let channels = ranks[x] == 2 ? (axis == 1 || axis == -1) : (axis == 1 || axis == -3)
            guard s.h == 1, s.w == 1, channels else { throw fail(n, "a softmax other than over the classes of a vector (axis \(axis))") }
            try addWork(n, s.count)
            steps.append(.softmax(input: x, output: try newSlot(n, out, s, rank: ranks[x])))
        case "Shape":
            let x = try value(n, 0)
            var dims: [Int?] = ranks[x] == 4 ? [nil, shapes[x].c, shapes[x].h, shapes[x].w] : [nil, shapes[x].c]
            let r = dims.count
            let start = try int(n, "start") ?? 0, end = try int(n, "end") ?? r
            let lo = min(max(start < 0 ? start + r : start, 0), r), hi = min(max(end < 0 ? end + r : end, 0), r)
            dims = lo < hi ? Array(dims[lo..<hi]) : []
            setInts(out, dims)
        case "Gather":
            guard let data = intInput(n, 0), let index = intInput(n, 1), (try int(n, "axis") ?? 0) == 0 else {
                throw fail(n, "a gather other than from a static shape by constant indices")
            }
            var picked: [Int?] = []
            for case let i? in index {
                let k = i < 0 ? i + data.count : i
                guard (0..<data.count).contains(k) else { throw bad(n, "has an index \(i) outside its shape of \(data.count) values") }
                picked.append(data[k])
            }
            guard picked.count == index.count else { throw fail(n, "indices that are not constants") }
            setInts(out, picked)
        case "Unsqueeze":
            guard let data = intInput(n, 0) else { throw fail(n, "an unsqueeze other than of a static shape value") }
            setInts(out, data)
        default:
            throw fail(n, "not mapped onto the engine")
        }
    }

    mutating func conv(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let xs = try value(n, 0), x = shapes[xs]
        guard ranks[xs] == 4 else { throw fail(n, "a flat input") }
        guard let w = constant(n, 1), let wv = w.floats, w.dims.count == 4 else { throw fail(n, "its weight must be a constant 4-D tensor") }
        let bias = constant(n, 2)?.floats
        if n.inputs.count > 2, !n.inputs[2].isEmpty, bias == nil { throw fail(n, "its bias '\(untrusted(n.inputs[2]))' must be a float constant") }
        let group = try int(n, "group") ?? 1, (cout, cig, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        if let k = try intList(n, "kernel_shape"), k != [kh, kw] { throw fail(n, "kernel_shape \(shown(k)) unlike its \(kh)×\(kw) weight") }
        let (channels, overflow) = cig.multipliedReportingOverflow(by: group)
        guard group >= 1, cig >= 1, cout >= 1, !overflow, x.c == channels, cout % group == 0 else {
            throw bad(n, "has a weight (\(cout), \(cig), \(kh), \(kw)) in \(group) groups that does not fit its input's \(x.c) channels")
        }
        if let bias, bias.count != cout { throw bad(n, "has a bias of \(bias.count) values for \(cout) output channels") }
        let g = try window(n, input: x, kernel: (kh, kw))
        let o = try newSlot(n, out, MapShape(h: g.outH, w: g.outW, c: cout), rank: 4)
        try addWork(n, g.outH * g.outW * cout * (wv.count / cout))
        try addWeights(n, wv.count + cout)
        let source = ConvSource(weight: wv, bias: bias ?? [Float](repeating: 0, count: cout), cout: cout, cin: x.c, kh: kh, kw: kw, groups: group, window: g, input: xs)
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

    /// Rewrites the convolution that computed `name` (its value read by nothing else, under no
    /// other name, no activation fused yet) by `change`, which may decline (false); then `out`
    /// names that convolution's output. What BatchNormalization folding and activation fusing share.
    mutating func rewriteProducer(of name: String, as out: String, _ change: (inout ConvSource) -> Bool) -> Bool {
        guard let x = slots[name], readers[name, default: 0] == 1, !model.outputs.contains(name), !sharedSlots.contains(x),
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
        guard let scale = constant(n, 1)?.floats, let shift = constant(n, 2)?.floats, let mean = constant(n, 3)?.floats, let variance = constant(n, 4)?.floats else {
            throw fail(n, "scale, bias, mean and variance must be float constants")
        }
        guard [scale, shift, mean, variance].allSatisfy({ $0.count == c }) else {
            throw bad(n, "has a scale, bias, mean and variance of \([scale, shift, mean, variance].map(\.count)) values for \(c) channels")
        }
        guard (try int(n, "training_mode") ?? 0) == 0 else { throw fail(n, "training mode") }
        let eps = Double(try float(n, "epsilon") ?? 1e-5)
        guard eps >= 0 else { throw bad(n, "has a negative epsilon (\(eps))") }
        var a = [Float](repeating: 0, count: c), b = a
        for k in 0..<c {
            guard variance[k] >= 0 else { throw bad(n, "has a negative variance (\(variance[k]) at channel \(k))") }
            let v = Double(variance[k]) + eps
            guard v > 0 else { throw bad(n, "divides by zero at channel \(k): its variance and epsilon are 0") }
            let s = Double(scale[k]) / v.squareRoot()
            a[k] = Float(s); b[k] = Float(Double(shift[k]) - Double(mean[k]) * s)
            guard a[k].isFinite, b[k].isFinite else { throw bad(n, "gives a scale or shift past Float's range at channel \(k)") }
        }
        // Folded into the convolution that computed its input, when nothing else reads that (and
        // the folded weights stay finite).
        let folded = rewriteProducer(of: n.inputs[0], as: out) { source in
            var weight = source.weight, bias = source.bias
            let per = weight.count / source.cout
            for co in 0..<source.cout {
                for t in 0..<per { weight[co * per + t] *= a[co] }
                bias[co] = bias[co] * a[co] + b[co]
            }
            guard weight.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else { return false }
            source.weight = weight; source.bias = bias
            return true
        }
        if folded { return }
        try addWeights(n, 2 * c)
        try addWork(n, shapes[xs].count)
        steps.append(.affine(scale: a, shift: b, input: xs, output: try newSlot(n, out, shapes[xs], rank: ranks[xs])))
    }

    mutating func arithmetic(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        guard n.inputs.count == 2 else { throw bad(n, "has \(n.inputs.count) inputs, not two") }
        guard let op = Arithmetic(rawValue: n.op) else { throw fail(n, "not mapped onto the engine") }
        let (na, nb) = (n.inputs[0], n.inputs[1])
        // Both constants: folded here.
        if let a = floats[na], let b = floats[nb], let av = a.floats, let bv = b.floats {
            guard !av.isEmpty, !bv.isEmpty, av.count == bv.count || av.count == 1 || bv.count == 1 else {
                throw fail(n, "constants of \(shown(a.dims)) and \(shown(b.dims))")
            }
            let count = max(av.count, bv.count)
            try addWeights(n, count)
            let r = (0..<count).map { op.apply(av[av.count == 1 ? 0 : $0], bv[bv.count == 1 ? 0 : $0]) }
            guard r.allSatisfy(\.isFinite) else { throw bad(n, "folds its constants '\(untrusted(na))' and '\(untrusted(nb))' into values that are not finite") }
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
        default: throw bad(n, "reads '\(untrusted(na))' and '\(untrusted(nb))', which no earlier node computes")
        }
        let s = shapes[full], rank = ranks[full]
        func operand(_ name: String) throws(ONNXError) -> Operand {
            if let v = slots[name] {
                if v == full || (shapes[v] == s && ranks[v] == rank) { return .value(v) }
                if ranks[v] == rank, shapes[v].h == 1, shapes[v].w == 1, shapes[v].c == s.c { return .channels(v) }
                throw fail(n, "broadcasting \(shapes[v]) against \(s)")
            }
            guard let t = floats[name], let v = t.floats else { throw bad(n, "reads '\(untrusted(name))', which is neither a value an earlier node computes nor a float constant") }
            if v.count == 1 { return .constant(v) }
            let dims = Array(t.dims.drop { $0 == 1 })   // leading ones broadcast away
            let perChannel = rank == 4 ? (dims == [s.c, 1, 1]) : (dims == [s.c])
            guard perChannel else { throw fail(n, "a constant of shape \(shown(t.dims)) against \(rank == 4 ? "(N, \(s.c), \(s.h), \(s.w))" : "(N, \(s.c))") (one value, or one per channel)") }
            return .constant(v)
        }
        let a = try operand(na), b = try operand(nb)
        try addWork(n, s.count)
        steps.append(.arithmetic(op, a, b, output: try newSlot(n, out, s, rank: rank)))
    }

    /// Flattens slot `x` to (N, features) (NCHW order); returns the new slot.
    mutating func flatten(_ n: ONNXNode, _ x: Int, _ out: String) throws(ONNXError) -> Int {
        let s = shapes[x], flat = MapShape(h: 1, w: 1, c: s.count)
        let o = try newSlot(n, out, flat, rank: 2)
        if s.h == 1 && s.w == 1 { steps.append(.alias(input: x, output: o)) }
        else { try addWork(n, s.count); steps.append(.flatten(input: x, output: o)) }
        return o
    }

    mutating func reshape(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let x = try value(n, 0), s = shapes[x]
        guard let target = intInput(n, 1) else { throw fail(n, "a shape that is not static") }
        let shape = "(" + target.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + ")"
        // The batch stays first: nil (the batch), 0 (copy) or -1 there; then the features.
        guard let first = target.first, first == nil || first == 0 || first == -1 else { throw fail(n, "a reshape that changes the batch") }
        let rest = target.dropFirst()
        guard rest.allSatisfy({ $0 != nil }) else { throw fail(n, "a batch size after the first axis") }
        let dims = rest.compactMap { $0 }
        let inferred = dims.filter { $0 == -1 }.count
        guard inferred <= 1, inferred == 0 || first != -1, dims.allSatisfy({ $0 == -1 || $0 >= 1 }) else {
            throw bad(n, "has an impossible shape \(shape) (sizes ≥ 1, one -1 at most)")
        }
        var known = 1
        for d in dims where d != -1 {
            let (p, overflow) = known.multipliedReportingOverflow(by: d)
            guard !overflow, p <= s.count else { throw bad(n, "has a shape \(shape) of more values than its input's \(s.count) per image") }
            known = p
        }
        guard s.count % known == 0 else { throw bad(n, "has a shape \(shape) for \(s.count) values per image") }
        let resolved = dims.map { $0 == -1 ? s.count / known : $0 }
        guard resolved.reduce(1, *) == s.count else { throw bad(n, "has a shape \(shape) of another size than \(s.count) values per image") }
        if resolved.count == 1 || (resolved.count == 3 && resolved[1] == 1 && resolved[2] == 1) {
            ranks[try flatten(n, x, out)] = resolved.count + 1
        } else if ranks[x] == 4 && resolved == [s.c, s.h, s.w] {
            steps.append(.alias(input: x, output: try newSlot(n, out, s, rank: 4)))
        } else {
            throw fail(n, "a reshape to \(resolved) (only flattening to (N, \(s.count)))")
        }
    }

    mutating func concat(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        guard !n.inputs.isEmpty else { throw bad(n, "has no inputs") }
        if n.inputs.allSatisfy({ ints[$0] != nil }) {
            var joined: [Int?] = []
            for i in n.inputs {
                joined += ints[i] ?? []
                guard joined.count <= Self.maxShapeLength else { throw fail(n, "a shape of more than \(Self.maxShapeLength) values") }
            }
            setInts(out, joined)
            return
        }
        var inputs: [Int] = []
        for k in n.inputs.indices { inputs.append(try value(n, k)) }
        let first = shapes[inputs[0]], rank = ranks[inputs[0]]
        let axis = try int(n, "axis") ?? 1
        guard axis == 1 || axis == 1 - rank, inputs.allSatisfy({ shapes[$0].h == first.h && shapes[$0].w == first.w && ranks[$0] == rank }) else {
            throw fail(n, "a concatenation other than of channels of same-sized maps (axis \(axis))")
        }
        let c = inputs.reduce(0) { $0 + shapes[$1].c }     // each at most maxValueFloats: no overflow
        let o = try newSlot(n, out, MapShape(h: first.h, w: first.w, c: c), rank: rank)
        try addWork(n, shapes[o].count)
        steps.append(.concat(inputs, output: o))
    }

    mutating func pad(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let x = try value(n, 0), s = shapes[x]
        guard ranks[x] == 4 else { throw fail(n, "a flat input") }
        let mode = try string(n, "mode") ?? "constant"
        guard mode == "constant" else { throw fail(n, "mode \(untrusted(mode)) (only constant)") }
        guard n.inputs.count < 4 || n.inputs[3].isEmpty else { throw fail(n, "an axes input (pads of all four axes only)") }
        let p: [Int]
        if let a = try intList(n, "pads") { p = a } else if let v = intInput(n, 1), v.allSatisfy({ $0 != nil }) { p = v.compactMap { $0 } }
        else { throw fail(n, "pads that are not constants") }
        var value = try float(n, "value") ?? 0
        if n.inputs.count > 2, !n.inputs[2].isEmpty {
            guard let v = constant(n, 2)?.floats, v.count == 1 else { throw fail(n, "its value '\(untrusted(n.inputs[2]))' is not a constant scalar") }
            value = v[0]
        }
        guard p.count == 8, p[0] == 0, p[1] == 0, p[4] == 0, p[5] == 0, [p[2], p[3], p[6], p[7]].allSatisfy({ (0..<1024).contains($0) }) else {
            throw fail(n, "pads \(shown(p)) (only rows and columns, 0 to 1023)")
        }
        let o = try newSlot(n, out, MapShape(h: s.h + p[2] + p[6], w: s.w + p[3] + p[7], c: s.c), rank: 4)
        try addWork(n, shapes[o].count)
        steps.append(.pad(top: p[2], left: p[3], bottom: p[6], right: p[7], value: value, input: x, output: o))
    }

    mutating func linear(_ n: ONNXNode, _ out: String) throws(ONNXError) {
        let x = try value(n, 0), s = shapes[x]
        guard s.h == 1, s.w == 1 else { throw fail(n, "a \(s.h)×\(s.w) map as input (flatten it first)") }
        guard let w = constant(n, 1), let wv = w.floats, w.dims.count == 2 else { throw fail(n, "a constant 2-D weight") }
        let gemm = n.op == "Gemm"
        let transB = gemm ? (try int(n, "transB") ?? 0) : 0
        let alpha = gemm ? (try float(n, "alpha") ?? 1) : 1, beta = gemm ? (try float(n, "beta") ?? 1) : 1
        let transA = gemm ? (try int(n, "transA") ?? 0) : 0
        guard transA == 0 else { throw fail(n, "transA") }
        guard transB == 0 || transB == 1 else { throw bad(n, "has transB \(transB) (0 or 1)") }
        let (outF, inF) = transB == 1 ? (w.dims[0], w.dims[1]) : (w.dims[1], w.dims[0])
        guard inF == s.c, outF >= 1 else { throw bad(n, "has a weight \(shown(w.dims)) for \(inF) features to \(outF) outputs on an input of \(s.c) features") }
        try addWeights(n, wv.count + outF)
        var weight = wv
        if transB == 0 { weight = (0..<(outF * inF)).map { i in wv[(i % inF) * outF + i / inF] } }
        if alpha != 1 { weight = weight.map { $0 * alpha } }
        var bias = [Float](repeating: 0, count: outF)
        if gemm, let c = constant(n, 2)?.floats {
            guard c.count == outF || c.count == 1 else { throw bad(n, "has a bias of \(c.count) values for \(outF) outputs") }
            bias = (0..<outF).map { beta * c[c.count == 1 ? 0 : $0] }
        } else if gemm, n.inputs.count > 2, !n.inputs[2].isEmpty { throw fail(n, "a bias that is not a constant") }
        guard weight.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else { throw bad(n, "scales its weight or bias past Float's range (alpha \(alpha), beta \(beta))") }
        try addWork(n, weight.count)
        steps.append(.linear(Linear(weight: weight, bias: bias, inputFeatures: inF, outputFeatures: outF), input: x, output: try newSlot(n, out, MapShape(h: 1, w: 1, c: outF), rank: 2)))
    }
}
