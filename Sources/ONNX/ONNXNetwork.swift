// ONNXNetwork: a checked ONNX classifier graph mapped onto the engine's ops, NHWC, with the
// forward pass and the backward pass to the input (weights frozen). Convolutions run on Conv2D
// and DepthwiseConv2D (a plain loop for dilations or unequal strides), BatchNormalization folds
// into the convolution before it (or runs as a per-channel affine map), Gemm and MatMul on
// Linear; the rest are ONNXOps. Shape, Gather, Unsqueeze, Concat and Constant on int64 values
// are evaluated while mapping (the batch size stays a symbol), so a Reshape to (N, -1) is a
// flatten. Anything else is refused while mapping, naming the node.
import Networks
import Tensors

public struct ONNXNetwork: Sendable {
    enum Step: Sendable {
        case conv(Conv2D, input: Int, output: Int)
        case depthwise(DepthwiseConv2D, input: Int, output: Int)
        case plainConv(PlainConv, input: Int, output: Int)
        case unary(Unary, input: Int, output: Int)
        case arithmetic(Arithmetic, Operand, Operand, output: Int)
        case affine(scale: [Float], shift: [Float], input: Int, output: Int)
        case maxPool(Window2D, input: Int, output: Int)
        case averagePool(Window2D, divisors: [Float], input: Int, output: Int)
        case globalAveragePool(input: Int, output: Int)
        case pad(top: Int, left: Int, bottom: Int, right: Int, value: Float, input: Int, output: Int)
        case concat([Int], output: Int)
        case flatten(input: Int, output: Int)
        case alias(input: Int, output: Int)
        case linear(Linear, input: Int, output: Int)
        case softmax(input: Int, output: Int)

        /// The slot it writes.
        var output: Int {
            switch self {
            case let .conv(_, _, o), let .depthwise(_, _, o), let .plainConv(_, _, o), let .unary(_, _, o), let .arithmetic(_, _, _, o),
                 let .affine(_, _, _, o), let .maxPool(_, _, o), let .averagePool(_, _, _, o), let .globalAveragePool(_, o),
                 let .pad(_, _, _, _, _, _, o), let .concat(_, o), let .flatten(_, o), let .alias(_, o), let .linear(_, _, o), let .softmax(_, o):
                return o
            }
        }
    }

    public let inputSize: Int
    public let classCount: Int
    let steps: [Step]
    /// Per value slot: its per-sample shape.
    let shapes: [MapShape]
    let inputSlot: Int, outputSlot: Int
    /// Per image: the floats its forward pass keeps (every value, the tape) and its multiply-adds,
    /// what a caller sizes batches by (the mapping refuses graphs past Mapper's limits).
    public let floatsPerImage: Int, multiplyAddsPerImage: Int
    /// The operators this mapping runs (ONNXModel.supportedOps, all of them).
    public static let operators = ONNXModel.supportedOps

    /// Maps `model` for square inputs of `inputSize` pixels; refuses what the engine cannot run.
    public init(_ model: ONNXModel, inputSize: Int) throws(ONNXError) {
        HeapTuning.keepFreedMemory()   // the backward allocates its gradients afresh each pass
        var m = Mapper(model: model, inputSize: inputSize)
        try m.map()
        self.inputSize = inputSize
        classCount = m.classCount
        steps = m.steps
        shapes = m.shapes
        inputSlot = m.inputSlot
        outputSlot = m.outputSlot
        floatsPerImage = m.tapeFloats
        multiplyAddsPerImage = m.work
    }

    // MARK: Running

    /// Every value of one forward pass (what the backward reads): per part of the batch (each
    /// core runs its contiguous part through the whole graph, `Parallel.forEachPart`).
    public struct Tape: @unchecked Sendable {
        var parts: [(range: Range<Int>, values: [Tensor?])]
        public var logits: Tensor
    }

    /// Class scores (N, classes) for images (N, inputSize, inputSize, 3), NHWC, already in the
    /// model's input normalisation.
    public func forward(_ images: Tensor) -> Tensor { record(images).logits }

    /// The forward pass, keeping every value for `backward`. Each core takes a contiguous part
    /// of the batch through the whole graph (per image the same values as unsplit).
    public func record(_ images: Tensor, workspaces: [Workspace]? = nil) -> Tape {
        precondition(images.shape.count == 4 && images.shape[1] == inputSize && images.shape[2] == inputSize && images.shape[3] == 3,
                     "ONNXNetwork.forward: images must be (N, \(inputSize), \(inputSize), 3), got \(images.shape)")
        let n = images.shape[0], pixels = inputSize * inputSize * 3
        let logits = Tensor(uninitialized: [n, classCount])
        var parts = [(range: Range<Int>, values: [Tensor?])](repeating: (0..<0, []), count: Parallel.partCount(n))
        let spaces = UncheckedSendable(Self.spaces(workspaces, parts.count))
        parts.withUnsafeMutableBufferPointer { pb in
            let slots = UncheckedSendable(pb)
            Parallel.forEachPart(n) { i, r in
                let x = Tensor(uninitialized: [r.count, inputSize, inputSize, 3])
                x.unsafePointer.update(from: images.unsafePointer + r.lowerBound * pixels, count: r.count * pixels)
                let values = recordPart(x, workspace: spaces.value[i])
                (logits.unsafePointer + r.lowerBound * classCount).update(from: values[outputSlot]!.unsafePointer, count: r.count * classCount)
                slots.value[i] = (r, values)
            }
        }
        return Tape(parts: parts.filter { !$0.values.isEmpty }, logits: logits)
    }

    /// d loss / d images (N, inputSize, inputSize, 3) from d loss / d logits (N, classes) and the
    /// tape of the forward pass that gave those logits.
    public func backward(_ dLogits: Tensor, tape: Tape, workspaces: [Workspace]? = nil) -> Tensor {
        let n = dLogits.shape[0], pixels = inputSize * inputSize * 3
        precondition(dLogits.shape == [n, classCount] && tape.logits.shape[0] == n, "ONNXNetwork.backward: dLogits must be (N, \(classCount)) for the tape's N")
        let dx = Tensor(uninitialized: [n, inputSize, inputSize, 3])
        let parts = tape.parts
        let spaces = UncheckedSendable(Self.spaces(workspaces, parts.count))
        Parallel.forEachPart(parts.count) { _, indices in
            for i in indices {
                let (r, values) = parts[i]
                let d = Tensor(uninitialized: [r.count, classCount])
                d.unsafePointer.update(from: dLogits.unsafePointer + r.lowerBound * classCount, count: r.count * classCount)
                let g = backwardPart(d, values: values, workspace: spaces.value[i])
                (dx.unsafePointer + r.lowerBound * pixels).update(from: g.unsafePointer, count: r.count * pixels)
            }
        }
        return dx
    }

    /// The caller's workspaces (one per part: the convolutions' scratch, kept from call to call),
    /// else fresh ones.
    static func spaces(_ given: [Workspace]?, _ count: Int) -> [Workspace] {
        if let given, given.count >= count { return given }
        return (0..<count).map { _ in Workspace() }
    }

    func recordPart(_ images: Tensor, workspace ws: Workspace) -> [Tensor?] {
        let n = images.shape[0]
        var v = [Tensor?](repeating: nil, count: shapes.count)
        v[inputSlot] = images
        func new(_ slot: Int) -> Tensor { let s = shapes[slot]; return ws.tensor("v\(slot)", shape: [n, s.h, s.w, s.c]) }
        for step in steps {
            switch step {
            case let .conv(c, i, o):
                let x = v[i]!, y = new(o)
                c.forward(x.unsafePointer, n: n, height: x.shape[1], width: x.shape[2], into: y.unsafePointer, workspace: ws)
                v[o] = y
            case let .depthwise(d, i, o):
                let x = v[i]!, y = new(o)
                d.forward(x.unsafePointer, n: n, height: x.shape[1], width: x.shape[2], into: y.unsafePointer)
                v[o] = y
            case let .plainConv(c, i, o):
                let y = new(o); c.forward(v[i]!.unsafePointer, n: n, into: y.unsafePointer); v[o] = y
            case let .unary(u, i, o):
                let x = v[i]!, y = new(o), xp = x.unsafePointer, yp = y.unsafePointer
                for k in 0..<x.count { yp[k] = u.forward(xp[k]) }
                v[o] = y
            case let .arithmetic(op, .value(a), .value(b), o):
                // Same shapes (a residual Add): one contiguous loop.
                let y = new(o), yp = y.unsafePointer, pa = v[a]!.unsafePointer, pb = v[b]!.unsafePointer
                for k in 0..<y.count { yp[k] = op.apply(pa[k], pb[k]) }
                v[o] = y
            case let .arithmetic(op, a, b, o):
                let y = new(o), s = shapes[o], yp = y.unsafePointer
                let (ia, ib) = (OperandIndex(a, shape: s), OperandIndex(b, shape: s))
                withOperands(a, b, v) { pa, pb in
                    for bt in 0..<n { for p in 0..<(s.h * s.w) { for ch in 0..<s.c {
                        yp[(bt * s.h * s.w + p) * s.c + ch] = op.apply(pa[ia(bt, p, ch)], pb[ib(bt, p, ch)])
                    } } }
                }
                v[o] = y
            case let .affine(scale, shift, i, o):
                let x = v[i]!, y = new(o), c = shapes[o].c, xp = x.unsafePointer, yp = y.unsafePointer
                for k in 0..<x.count { yp[k] = xp[k] * scale[k % c] + shift[k % c] }
                v[o] = y
            case let .maxPool(g, i, o):
                let y = new(o); Pool.maxForward(v[i]!.unsafePointer, n: n, c: shapes[o].c, g, into: y.unsafePointer); v[o] = y
            case let .averagePool(g, d, i, o):
                let y = new(o); Pool.averageForward(v[i]!.unsafePointer, n: n, c: shapes[o].c, g, divisors: d, into: y.unsafePointer); v[o] = y
            case let .globalAveragePool(i, o):
                v[o] = GlobalAveragePool.forward(v[i]!).reshaped([n, 1, 1, shapes[o].c])
            case let .pad(t, l, b, r, value, i, o):
                let y = new(o)
                Layout.padForward(v[i]!.unsafePointer, n: n, shapes[i], top: t, left: l, bottom: b, right: r, value: value, into: y.unsafePointer)
                v[o] = y
            case let .concat(inputs, o):
                let y = new(o), s = shapes[o], yp = y.unsafePointer
                var offset = 0
                for i in inputs {
                    let c = shapes[i].c, xp = v[i]!.unsafePointer
                    for px in 0..<(n * s.h * s.w) { (yp + px * s.c + offset).update(from: xp + px * c, count: c) }
                    offset += c
                }
                v[o] = y
            case let .flatten(i, o):
                let y = new(o); Layout.flattenForward(v[i]!.unsafePointer, n: n, shapes[i], into: y.unsafePointer); v[o] = y
            case let .alias(i, o): v[o] = v[i]!.reshaped([n, shapes[o].h, shapes[o].w, shapes[o].c])
            case let .linear(l, i, o):
                let x = v[i]!
                v[o] = l.forward(x.reshaped([n, x.count / n])).reshaped([n, 1, 1, shapes[o].c])
            case let .softmax(i, o):
                let x = v[i]!, c = shapes[o].c
                v[o] = Softmax.forward(x.reshaped([n, c])).reshaped([n, 1, 1, c])
            }
        }
        return v
    }

    func backwardPart(_ dLogits: Tensor, values v: [Tensor?], workspace ws: Workspace) -> Tensor {
        let n = dLogits.shape[0]
        var g = [Tensor?](repeating: nil, count: shapes.count)
        g[outputSlot] = dLogits.reshaped([n, 1, 1, classCount])
        func shape(_ slot: Int) -> [Int] { let s = shapes[slot]; return [n, s.h, s.w, s.c] }
        /// g[slot] += d (or = d when there is none yet).
        func add(_ slot: Int, _ d: Tensor) {
            guard let old = g[slot] else { g[slot] = d.reshaped(shape(slot)); return }
            var sum = old
            sum.withUnsafeMutableBufferPointer { sp in d.withUnsafeBufferPointer { dp in for k in 0..<sp.count { sp[k] += dp[k] } } }
            g[slot] = sum
        }
        for step in steps.reversed() {
            guard let dy = g[step.output] else { continue }      // nothing downstream reads this value
            switch step {
            case let .conv(c, i, o):
                // Where Conv2D's backward overwrites dy, a copy (gradients may share storage).
                var scratch = dy.unsafePointer
                if !c.backwardKeepsDy {
                    scratch = ws.buffer("dy", count: dy.count)
                    scratch.update(from: dy.unsafePointer, count: dy.count)
                }
                let dx = Tensor(uninitialized: shape(i)), s = shapes[i]
                c.backward(dy: scratch, y: v[o]!.unsafePointer, n: n, height: s.h, width: s.w, into: dx.unsafePointer, workspace: ws)
                add(i, dx)
            case let .depthwise(d, i, o): add(i, d.backward(dy: dy, y: v[o]!, inputShape: shape(i)))
            case let .plainConv(c, i, _):
                let dx = Tensor(uninitialized: shape(i)); c.backward(dy.unsafePointer, n: n, into: dx.unsafePointer); add(i, dx)
            case let .unary(u, i, o):
                let dx = Tensor(uninitialized: shape(i)), xp = v[i]!.unsafePointer, yp = v[o]!.unsafePointer, dp = dy.unsafePointer, r = dx.unsafePointer
                for k in 0..<dx.count { r[k] = u.backward(dp[k], x: xp[k], y: yp[k]) }
                add(i, dx)
            case let .arithmetic(.add, .value(a), .value(b), _):
                add(a, dy); add(b, dy)
            case let .arithmetic(op, a, b, o):
                let s = shapes[o], dp = dy.unsafePointer
                let (ia, ib) = (OperandIndex(a, shape: s), OperandIndex(b, shape: s))
                let da = a.slot.map { Tensor(zeros: shape($0)) }, db = b.slot.map { Tensor(zeros: shape($0)) }
                withOperands(a, b, v) { pa, pb in
                    for bt in 0..<n { for p in 0..<(s.h * s.w) { for ch in 0..<s.c {
                        let ka = ia(bt, p, ch), kb = ib(bt, p, ch)
                        let (ga, gb) = op.partials(dp[(bt * s.h * s.w + p) * s.c + ch], pa[ka], pb[kb])
                        if let da { da.unsafePointer[ka] += ga }
                        if let db { db.unsafePointer[kb] += gb }
                    } } }
                }
                if let sa = a.slot, let da { add(sa, da) }
                if let sb = b.slot, let db { add(sb, db) }
            case let .affine(scale, _, i, o):
                let dx = Tensor(uninitialized: shape(i)), c = shapes[o].c, dp = dy.unsafePointer, r = dx.unsafePointer
                for k in 0..<dx.count { r[k] = dp[k] * scale[k % c] }
                add(i, dx)
            case let .maxPool(w, i, o):
                let dx = Tensor(uninitialized: shape(i))
                Pool.maxBackward(dy.unsafePointer, x: v[i]!.unsafePointer, n: n, c: shapes[o].c, w, into: dx.unsafePointer)
                add(i, dx)
            case let .averagePool(w, d, i, o):
                let dx = Tensor(uninitialized: shape(i))
                Pool.averageBackward(dy.unsafePointer, n: n, c: shapes[o].c, w, divisors: d, into: dx.unsafePointer)
                add(i, dx)
            case let .globalAveragePool(i, o):
                add(i, GlobalAveragePool.backward(dy: dy.reshaped([n, shapes[o].c]), inputShape: shape(i)))
            case let .pad(t, l, b, r, _, i, _):
                let dx = Tensor(uninitialized: shape(i))
                Layout.padBackward(dy.unsafePointer, n: n, shapes[i], top: t, left: l, bottom: b, right: r, into: dx.unsafePointer)
                add(i, dx)
            case let .concat(inputs, o):
                let s = shapes[o], dp = dy.unsafePointer
                var offset = 0
                for i in inputs {
                    let c = shapes[i].c, dx = Tensor(uninitialized: shape(i)), r = dx.unsafePointer
                    for px in 0..<(n * s.h * s.w) { (r + px * c).update(from: dp + px * s.c + offset, count: c) }
                    add(i, dx)
                    offset += c
                }
            case let .flatten(i, _):
                let dx = Tensor(uninitialized: shape(i)); Layout.flattenBackward(dy.unsafePointer, n: n, shapes[i], into: dx.unsafePointer); add(i, dx)
            case let .alias(i, _): add(i, dy)
            case let .linear(l, i, _): add(i, l.backward(dy: dy.reshaped([n, l.outputFeatures])))
            case let .softmax(i, o):
                let c = shapes[o].c
                add(i, Softmax.backward(dy: dy.reshaped([n, c]), y: v[o]!.reshaped([n, c])))
            }
        }
        return (g[inputSlot] ?? Tensor(zeros: shape(inputSlot))).reshaped([n, inputSize, inputSize, 3])
    }

    /// Runs `body` with pointers to both operands' storage (a constant's values, or the value's).
    private func withOperands(_ a: Operand, _ b: Operand, _ v: [Tensor?], _ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> Void) {
        func with(_ o: Operand, _ inner: (UnsafePointer<Float>) -> Void) {
            switch o {
            case let .value(s), let .channels(s): inner(v[s]!.unsafePointer)
            case let .constant(c): c.withUnsafeBufferPointer { inner($0.baseAddress!) }
            }
        }
        with(a) { pa in with(b) { pb in body(pa, pb) } }
    }
}
