// ModelRunner: runs an InvertedResidualNetwork forward on a batch and back to the input pixels, keeping
// every activation buffer in a Workspace so repeated EOT steps allocate nothing. A batch of
// several images is split into one contiguous part per core, each run start to finish by its
// own runner on its own thread (no hand-off between the cores at every layer).
// Not Sendable and not thread-safe: one runner per thread of work.
import Tensors

public final class ModelRunner {
    public let model: InvertedResidualNetwork
    private let workspace = Workspace()
    /// Shape of the last forward's input (N, H, W, 3); nil before the first forward.
    public private(set) var inputShape: [Int]?
    private var plan: [Layer] = []
    private var maxActivation = 0

    /// What one step of the forward did: needed to run it backwards (in plan order: per block
    /// its expand (if any), depthwise and project layers).
    private struct Layer {
        var n: Int, h: Int, w: Int          // input geometry
        var output: UnsafeMutablePointer<Float>
    }

    /// Whether a batch of two or more images is split over the cores (`Parallel.forEachPart`),
    /// else each layer is parallelised over the whole batch. Per image the results are the same.
    public let splitsBatch: Bool
    /// The runners of the parts, when the last forward was split (`splitRanges`).
    private var parts: [ModelRunner] = []
    private var splitRanges = false

    public init(model: InvertedResidualNetwork, splitsBatch: Bool = true) {
        self.model = model
        self.splitsBatch = splitsBatch
    }

    /// logits (N, classes) for images (N, H, W, 3) in [0, 1]. Any H, W ≥ 1 work; the model was
    /// trained at `model.inputSize`.
    public func forward(_ images: Tensor) -> Tensor {
        precondition(images.shape.count == 4 && images.shape[3] == 3, "images must be (N, H, W, 3), got \(images.shape)")
        let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2])
        let logits = Tensor(uninitialized: [n, model.classCount])
        forward(images.unsafePointer, n: n, height: h, width: w, logits: logits.unsafePointer)
        return logits
    }

    /// Pointer form of `forward`: writes logits (N, classes).
    public func forward(_ x: UnsafePointer<Float>, n: Int, height h: Int, width w: Int, logits: UnsafeMutablePointer<Float>) {
        inputShape = [n, h, w, 3]
        splitRanges = splitsBatch && Parallel.partCount(n) > 1
        if splitRanges {
            while parts.count < Parallel.partCount(n) { parts.append(ModelRunner(model: model, splitsBatch: false)) }
            let (px, classes, runners) = (h * w * 3, model.classCount, parts)
            Parallel.forEachPart(n) { i, r in
                runners[i].forward(x + r.lowerBound * px, n: r.count, height: h, width: w, logits: logits + r.lowerBound * classes)
            }
            return
        }
        plan.removeAll(keepingCapacity: true)
        let ws = workspace
        var size = n * h * w * 3
        maxActivation = size
        let normalized = ws.buffer("normalized", count: size)
        Profiler.shared.measure("fwd normalize") { model.normalization.forward(x, into: normalized, count: size) }

        var g = model.stem.geometry(inputHeight: h, inputWidth: w)
        var cur = ws.buffer("stem", count: n * g.outputHeight * g.outputWidth * model.stem.outputChannels)
        Profiler.shared.measure("fwd stem") { model.stem.forward(normalized, n: n, height: h, width: w, into: cur, workspace: ws) }
        var (ch, cw) = (g.outputHeight, g.outputWidth)

        for (i, block) in model.blocks.enumerated() {
            let blockInput = cur
            var x = cur
            if let e = block.expand {
                let out = ws.buffer("b\(i).expand", count: n * ch * cw * e.outputChannels)
                Profiler.shared.measure("fwd expand \(e.inputChannels)→\(e.outputChannels) @\(ch)") { e.forward(x, n: n, height: ch, width: cw, into: out, workspace: ws) }
                plan.append(Layer(n: n, h: ch, w: cw, output: out))
                maxActivation = max(maxActivation, n * ch * cw * e.outputChannels)
                x = out
            }
            g = block.depthwise.geometry(inputHeight: ch, inputWidth: cw)
            let d = ws.buffer("b\(i).depthwise", count: n * g.outputHeight * g.outputWidth * block.depthwise.channels)
            Profiler.shared.measure("fwd dw k\(block.depthwise.kernelSize) s\(block.depthwise.stride) c\(block.depthwise.channels) @\(ch)") { block.depthwise.forward(x, n: n, height: ch, width: cw, into: d) }
            plan.append(Layer(n: n, h: ch, w: cw, output: d))
            (ch, cw) = (g.outputHeight, g.outputWidth)
            size = n * ch * cw * block.project.outputChannels
            let p = ws.buffer("b\(i).project", count: size)
            Profiler.shared.measure("fwd project \(block.project.inputChannels)→\(block.project.outputChannels) @\(ch)") { block.project.forward(d, n: n, height: ch, width: cw, into: p, workspace: ws) }
            if block.residual { Add.forward(p, blockInput, into: p, count: size) }
            plan.append(Layer(n: n, h: ch, w: cw, output: p))
            maxActivation = max(maxActivation, n * ch * cw * block.depthwise.channels, size)
            cur = p
        }
        headSize = (ch, cw)
        let head = ws.buffer("head", count: n * ch * cw * model.head.outputChannels)
        Profiler.shared.measure("fwd head") { model.head.forward(cur, n: n, height: ch, width: cw, into: head, workspace: ws) }
        maxActivation = max(maxActivation, n * ch * cw * model.head.outputChannels)
        let pooled = ws.buffer("pooled", count: n * model.head.outputChannels)
        GlobalAveragePool.forward(head, n: n, height: ch, width: cw, channels: model.head.outputChannels, into: pooled)
        model.classifier.forward(pooled, n: n, into: logits)
    }

    private var headSize = (0, 0)

    /// d loss / d images (N, H, W, 3) for d loss / d logits (N, classes), through the last forward.
    public func backward(_ dLogits: Tensor) -> Tensor {
        guard let s = inputShape else { preconditionFailure("ModelRunner.backward needs a forward first") }
        let dx = Tensor(uninitialized: s)
        backward(dLogits.unsafePointer, into: dx.unsafePointer)
        return dx
    }

    /// d loss / d images in a window of each image only: `windows[i]` is the rectangle of image i
    /// whose gradient is wanted (e.g. where a renderer's backward reads it); elsewhere it is zero.
    /// The early, high-resolution layers then run their backward only on what reaches that
    /// window: the band of its rows (the 1×1 convolutions) or the rectangle (depthwise and stem).
    /// Equal to `backward` in the windows up to float reassociation (the GEMMs run on other row
    /// counts).
    public func backward(_ dLogits: Tensor, windows: [ImageWindow]) -> Tensor {
        guard let s = inputShape else { preconditionFailure("ModelRunner.backward needs a forward first") }
        precondition(windows.count == s[0], "ModelRunner.backward: \(windows.count) windows for a batch of \(s[0])")
        let dx = Tensor(uninitialized: s)
        backward(dLogits.unsafePointer, into: dx.unsafePointer, windows: windows)
        return dx
    }

    /// Pointer form of `backward`: WRITES dImages (N, H, W, 3); with `windows` (one per image),
    /// the gradient in each window and zero outside it.
    public func backward(_ dLogits: UnsafePointer<Float>, into dImages: UnsafeMutablePointer<Float>, windows: [ImageWindow]? = nil) {
        guard let s = inputShape else { preconditionFailure("ModelRunner.backward needs a forward first") }
        precondition(windows == nil || windows!.count == s[0], "ModelRunner.backward: \(windows?.count ?? 0) windows for a batch of \(s[0])")
        if splitRanges {
            let (px, classes, runners) = (s[1] * s[2] * 3, model.classCount, parts)
            Parallel.forEachPart(s[0]) { i, r in
                runners[i].backward(dLogits + r.lowerBound * classes, into: dImages + r.lowerBound * px, windows: windows.map { Array($0[r]) })
            }
            return
        }
        let ws = workspace
        let (n, h, w) = (s[0], s[1], s[2])
        // Empty windows as empty rows and columns both.
        let windows = windows?.map { $0.isEmpty ? ImageWindow(rows: 0..<0, columns: 0..<0) : $0 }
        let need = windows.map { windowsNeeded(input: $0, height: h, width: w) }
        let grads = (0..<3).map { ws.buffer("grad\($0)", count: maxActivation) }
        let hc = model.head.outputChannels
        let dPooled = ws.buffer("grad.pooled", count: n * hc)
        model.classifier.backward(dy: dLogits, n: n, into: dPooled)
        GlobalAveragePool.backward(dy: dPooled, n: n, height: headSize.0, width: headSize.1, channels: hc, into: grads[0])
        Profiler.shared.measure("bwd head") { model.head.backward(dy: grads[0], y: ws.buffer("head", count: 0), n: n, height: headSize.0, width: headSize.1,
                            into: grads[1], workspace: ws) }
        // Three rotating buffers: `cur` holds d(block output); the other two are scratch.
        var cur = 1
        var layerIndex = plan.count - 1
        for i in stride(from: model.blocks.count - 1, through: 0, by: -1) {
            let block = model.blocks[i]
            let a = (cur + 1) % 3, b = (cur + 2) % 3
            let proj = plan[layerIndex]; layerIndex -= 1
            let dw = plan[layerIndex]; layerIndex -= 1
            // project (no activation: dy is left as is, so it can still feed the residual)
            // The depthwise layer's ReLU6 backward is done by the project's backward, per tile.
            let reluOfDepthwise = block.depthwise.activation == .relu6 ? UnsafePointer(dw.output) : nil
            Profiler.shared.measure("bwd project \(block.project.inputChannels)→\(block.project.outputChannels) @\(proj.h)") {
                block.project.backward(dy: grads[cur], y: proj.output, n: n, height: proj.h, width: proj.w, into: grads[a],
                                       reluOfInput: reluOfDepthwise, rows: need?.depthwiseOutputRows[i], workspace: ws)
            }
            let inRows = need?.blockInput[i].map { $0.map(\.rows) }, inColumns = need?.blockInput[i].map { $0.map(\.columns) }
            if let e = block.expand {
                let ex = plan[layerIndex]; layerIndex -= 1
                Profiler.shared.measure("bwd dw k\(block.depthwise.kernelSize) s\(block.depthwise.stride) c\(block.depthwise.channels) @\(dw.h)") { block.depthwise.backward(dy: grads[a], y: dw.output, n: n, height: dw.h, width: dw.w, into: grads[b], dyIsMasked: true, rows: inRows, columns: inColumns) }
                if block.residual {
                    Profiler.shared.measure("bwd residual copy") {
                        for run in flattenedRuns(inRows, n: n, height: ex.h, rowLength: ex.w * e.inputChannels) {
                            (grads[a] + run.lowerBound).update(from: grads[cur] + run.lowerBound, count: run.count)
                        }
                    }
                }
                Profiler.shared.measure("bwd expand \(e.inputChannels)→\(e.outputChannels) @\(ex.h)") { e.backward(dy: grads[b], y: ex.output, n: n, height: ex.h, width: ex.w, into: grads[a], accumulate: block.residual, rows: inRows, workspace: ws) }
                cur = a
            } else {
                Profiler.shared.measure("bwd dw k\(block.depthwise.kernelSize) s\(block.depthwise.stride) c\(block.depthwise.channels) @\(dw.h)") { block.depthwise.backward(dy: grads[a], y: dw.output, n: n, height: dw.h, width: dw.w, into: grads[b], dyIsMasked: true, rows: inRows, columns: inColumns) }
                if block.residual {
                    for run in flattenedRuns(inRows, n: n, height: dw.h, rowLength: dw.w * block.depthwise.channels) {
                        Add.forward(grads[b] + run.lowerBound, grads[cur] + run.lowerBound, into: grads[b] + run.lowerBound, count: run.count)
                    }
                }
                cur = b
            }
        }
        let dNormalized = grads[(cur + 1) % 3]
        Profiler.shared.measure("bwd stem") { model.stem.backward(dy: grads[cur], y: ws.buffer("stem", count: 0), n: n, height: h, width: w, into: dNormalized,
                                                                 rows: windows?.map(\.rows), columns: windows?.map(\.columns), workspace: ws) }
        if let windows {
            dImages.initialize(repeating: 0, count: n * h * w * 3)
            for (b, win) in windows.enumerated() {
                for y in win.rows {
                    let at = ((b * h + y) * w + win.columns.lowerBound) * 3
                    model.normalization.backward(dy: dNormalized + at, into: dImages + at, count: win.columns.count * 3)
                }
            }
        } else {
            model.normalization.backward(dy: dNormalized, into: dImages, count: n * h * w * 3)
        }
    }

    /// Per block, the window of its input gradient and the rows of its depthwise output's
    /// gradient that the backward must compute for the image gradient in `input` (per image):
    /// the stem's and each depthwise convolution's reach, outwards from the input. nil entries:
    /// the whole tensor (every image's window is the whole image).
    private func windowsNeeded(input: [ImageWindow], height h: Int, width w: Int)
        -> (blockInput: [[ImageWindow]?], depthwiseOutputRows: [[Range<Int>]?]) {
        func reach(_ g: ConvGeometry, _ win: ImageWindow, kernel k: Int, stride s: Int) -> ImageWindow {
            ImageWindow(rows: g.outputRows(reading: win.rows, kernel: k, stride: s), columns: g.outputColumns(reading: win.columns, kernel: k, stride: s))
        }
        func union(_ a: Range<Int>, _ b: Range<Int>) -> Range<Int> {
            a.isEmpty ? b : b.isEmpty ? a : min(a.lowerBound, b.lowerBound)..<max(a.upperBound, b.upperBound)
        }
        var g = model.stem.geometry(inputHeight: h, inputWidth: w)
        var cur = input.map { reach(g, $0, kernel: model.stem.kernelHeight, stride: model.stem.stride) }
        var hw = (g.outputHeight, g.outputWidth)
        var blockInput: [[ImageWindow]?] = [], depthwiseOutputRows: [[Range<Int>]?] = []
        for block in model.blocks {
            // Every image whole: no window (the plain, whole-tensor path).
            let whole = ImageWindow(rows: 0..<hw.0, columns: 0..<hw.1)
            blockInput.append(cur.allSatisfy { $0 == whole } ? nil : cur)
            g = block.depthwise.geometry(inputHeight: hw.0, inputWidth: hw.1)
            let out = cur.map { reach(g, $0, kernel: block.depthwise.kernelSize, stride: block.depthwise.stride) }
            hw = (g.outputHeight, g.outputWidth)
            depthwiseOutputRows.append(out.allSatisfy { $0.rows == 0..<hw.0 } ? nil : out.map(\.rows))
            // A residual block's output gradient also flows straight to its input.
            cur = block.residual ? zip(out, cur).map { ImageWindow(rows: union($0.rows, $1.rows), columns: union($0.columns, $1.columns)) } : out
        }
        return (blockInput, depthwiseOutputRows)
    }

    /// Cross-entropy toward `targets` (one class per image): loss, logits and d loss / d images.
    public func crossEntropyGradient(_ images: Tensor, targets: [Int]) -> (loss: Double, logits: Tensor, gradient: Tensor) {
        let logits = forward(images)
        let ce = CrossEntropy.forward(logits: logits, targets: targets)
        let grad = backward(CrossEntropy.backward(probabilities: ce.probabilities, targets: targets))
        return (ce.loss, logits, grad)
    }

    /// Floats held in reusable buffers (activations, gradients, im2col).
    public var workspaceFloats: Int { workspace.floatCount + parts.reduce(0) { $0 + $1.workspaceFloats } }
}
