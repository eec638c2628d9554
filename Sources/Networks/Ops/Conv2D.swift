// Conv2D: NHWC convolution (stride, padding, groups) with bias and a fused activation; forward and
// backward to the INPUT only (weights are frozen; BatchNorm is folded in at load time).
// Fast path: im2col + OpenBLAS GEMM (a 1×1 stride-1 convolution is a plain GEMM, no im2col).
// Depthwise convolutions (groups == channels) have their own SIMD kernel: DepthwiseConv2D.
import Tensors

public struct Conv2D: Sendable {
    public let kernelHeight: Int, kernelWidth: Int
    public let inputChannels: Int, outputChannels: Int
    public let stride: Int, groups: Int
    public let padding: Padding
    public let activation: Activation
    /// (groups, KH, KW, Cin/groups, Cout/groups): each group's im2col-ordered GEMM operand.
    public let weight: [Float]
    /// (Cout)
    public let bias: [Float]

    /// `torchWeight` is PyTorch's (Cout, Cin/groups, KH, KW) layout.
    public init(torchWeight: [Float], bias: [Float]?, outputChannels: Int, inputChannels: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int = 1, groups: Int = 1, padding: Padding = .same, activation: Activation = .none) {
        precondition(inputChannels % groups == 0 && outputChannels % groups == 0, "channels must divide by groups")
        let cig = inputChannels / groups, cog = outputChannels / groups
        precondition(torchWeight.count == outputChannels * cig * kernelHeight * kernelWidth, "weight count mismatch")
        var w = [Float](repeating: 0, count: torchWeight.count)
        for g in 0..<groups { for co in 0..<cog { for ci in 0..<cig { for ky in 0..<kernelHeight { for kx in 0..<kernelWidth {
            let src = (((g * cog + co) * cig + ci) * kernelHeight + ky) * kernelWidth + kx
            let dst = ((((g * kernelHeight + ky) * kernelWidth + kx) * cig + ci) * cog) + co
            w[dst] = torchWeight[src]
        } } } } }
        self.weight = w
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.inputChannels = inputChannels; self.outputChannels = outputChannels
        self.stride = stride; self.groups = groups; self.padding = padding; self.activation = activation
    }

    public func geometry(inputHeight h: Int, inputWidth w: Int) -> ConvGeometry {
        ConvGeometry(padding: padding, inputHeight: h, inputWidth: w, kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride)
    }

    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == 1 && groups == 1
            && (padding == .same || padding == .valid || padding == .explicit(top: 0, bottom: 0, left: 0, right: 0))
    }
    var patchSize: Int { kernelHeight * kernelWidth * (inputChannels / groups) }

    // MARK: forward

    /// y (N, OH, OW, Cout) = act(conv(x (N, H, W, Cin)) + bias). Overwrites y; uses `workspace`
    /// slot "\(scratch)" for im2col.
    public func forward(_ x: UnsafePointer<Float>, n: Int, height h: Int, width w: Int,
                        into y: UnsafeMutablePointer<Float>, workspace: Workspace, scratch: String = "im2col") {
        let g = geometry(inputHeight: h, inputWidth: w)
        let m = n * g.outputHeight * g.outputWidth
        let cig = inputChannels / groups, cog = outputChannels / groups
        weight.withUnsafeBufferPointer { wp in
            if isPointwise {
                Gemm.multiply(.none, .none, m: m, n: outputChannels, k: inputChannels, a: x, lda: inputChannels,
                              b: wp.baseAddress!, ldb: outputChannels, c: y, ldc: outputChannels)
            } else {
                let col = workspace.buffer(scratch, count: m * patchSize)
                for gi in 0..<groups {
                    im2col(x, n: n, geometry: g, channelOffset: gi * cig, channelCount: cig, into: col)
                    Gemm.multiply(.none, .none, m: m, n: cog, k: patchSize, a: col, lda: patchSize,
                                  b: wp.baseAddress! + gi * patchSize * cog, ldb: cog, c: y + gi * cog, ldc: outputChannels)
                }
            }
        }
        bias.withUnsafeBufferPointer { bp in
            applyBiasActivation(y, rows: m, channels: outputChannels, bias: bp.baseAddress!, activation: activation)
        }
    }

    /// col (N·OH·OW, KH·KW·cg) for channels [channelOffset, +cg) of x; zeros where padded.
    func im2col(_ x: UnsafePointer<Float>, n: Int, geometry g: ConvGeometry, channelOffset: Int, channelCount cg: Int,
                into col: UnsafeMutablePointer<Float>) {
        let cin = inputChannels, kh = kernelHeight, kw = kernelWidth, s = stride
        let rowLen = kh * kw * cg
        Parallel.forEachChunk(n * g.outputHeight, work: n * g.outputHeight * g.outputWidth * rowLen) { rows in
            for r in rows {
                let b = r / g.outputHeight, oy = r % g.outputHeight
                for ox in 0..<g.outputWidth {
                    let dst = col + ((r * g.outputWidth) + ox) * rowLen
                    for ky in 0..<kh {
                        let iy = oy * s - g.padTop + ky
                        for kx in 0..<kw {
                            let ix = ox * s - g.padLeft + kx
                            let d = dst + (ky * kw + kx) * cg
                            if iy < 0 || iy >= g.inputHeight || ix < 0 || ix >= g.inputWidth {
                                d.initialize(repeating: 0, count: cg)
                            } else {
                                d.update(from: x + ((b * g.inputHeight + iy) * g.inputWidth + ix) * cin + channelOffset, count: cg)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: backward

    /// dx (N, H, W, Cin) from dy (N, OH, OW, Cout) and the forward output y. WRITES dx (not
    /// accumulate) unless `accumulate`; OVERWRITES dy with dy·act'(y).
    public func backward(dy: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, n: Int, height h: Int, width w: Int,
                         into dx: UnsafeMutablePointer<Float>, accumulate: Bool = false, workspace: Workspace, scratch: String = "im2col") {
        let g = geometry(inputHeight: h, inputWidth: w)
        let m = n * g.outputHeight * g.outputWidth
        let cig = inputChannels / groups, cog = outputChannels / groups
        maskActivationGradient(dy, y: y, count: m * outputChannels, activation: activation)
        weight.withUnsafeBufferPointer { wp in
            if isPointwise {
                Gemm.multiply(.none, .transposed, m: m, n: inputChannels, k: outputChannels, a: dy, lda: outputChannels,
                              b: wp.baseAddress!, ldb: outputChannels, beta: accumulate ? 1 : 0, c: dx, ldc: inputChannels)
            } else {
                if !accumulate { dx.initialize(repeating: 0, count: n * h * w * inputChannels) }
                let col = workspace.buffer(scratch, count: m * patchSize)
                for gi in 0..<groups {
                    Gemm.multiply(.none, .transposed, m: m, n: patchSize, k: cog, a: dy + gi * cog, lda: outputChannels,
                                  b: wp.baseAddress! + gi * patchSize * cog, ldb: cog, c: col, ldc: patchSize)
                    col2imAccumulate(col, n: n, geometry: g, channelOffset: gi * cig, channelCount: cig, into: dx)
                }
            }
        }
    }

    /// dx[..] += scatter of col; parallel over images (rows of different images never overlap).
    func col2imAccumulate(_ col: UnsafePointer<Float>, n: Int, geometry g: ConvGeometry, channelOffset: Int, channelCount cg: Int,
                          into dx: UnsafeMutablePointer<Float>) {
        let cin = inputChannels, kh = kernelHeight, kw = kernelWidth, s = stride
        let rowLen = kh * kw * cg
        Parallel.forEachChunk(n, work: n * g.outputHeight * g.outputWidth * rowLen) { images in
            for b in images {
                for oy in 0..<g.outputHeight {
                    for ox in 0..<g.outputWidth {
                        let src = col + (((b * g.outputHeight + oy) * g.outputWidth) + ox) * rowLen
                        for ky in 0..<kh {
                            let iy = oy * s - g.padTop + ky
                            if iy < 0 || iy >= g.inputHeight { continue }
                            for kx in 0..<kw {
                                let ix = ox * s - g.padLeft + kx
                                if ix < 0 || ix >= g.inputWidth { continue }
                                let d = dx + ((b * g.inputHeight + iy) * g.inputWidth + ix) * cin + channelOffset
                                let sp = src + (ky * kw + kx) * cg
                                for c in 0..<cg { d[c] += sp[c] }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Tensor conveniences (allocate; for tests and one-off use)

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inputChannels, "Conv2D expects (N, H, W, \(inputChannels)), got \(x.shape)")
        let g = geometry(inputHeight: x.shape[1], inputWidth: x.shape[2])
        let y = Tensor(uninitialized: [x.shape[0], g.outputHeight, g.outputWidth, outputChannels])
        forward(x.unsafePointer, n: x.shape[0], height: x.shape[1], width: x.shape[2], into: y.unsafePointer, workspace: Workspace())
        return y
    }

    public func backward(dy: Tensor, y: Tensor, inputShape: [Int]) -> Tensor {
        var d = dy
        d.withUnsafeMutableBufferPointer { _ in }  // own a copy: backward overwrites dy
        let dx = Tensor(uninitialized: inputShape)
        backward(dy: d.unsafePointer, y: y.unsafePointer, n: inputShape[0], height: inputShape[1], width: inputShape[2],
                 into: dx.unsafePointer, workspace: Workspace())
        return dx
    }

    // MARK: naive reference (test oracle; generic so gradient checks can run in Double)

    /// Plain loops over PyTorch-layout weights. x: (N, H, W, Cin) → (N, OH, OW, Cout).
    public static func referenceForward<T: BinaryFloatingPoint>(
        x: [T], n: Int, h: Int, w: Int, torchWeight: [T], bias: [T], inputChannels cin: Int, outputChannels cout: Int,
        kernelHeight kh: Int, kernelWidth kw: Int, stride s: Int, groups: Int, padding: Padding, activation: Activation
    ) -> [T] {
        let g = ConvGeometry(padding: padding, inputHeight: h, inputWidth: w, kernelHeight: kh, kernelWidth: kw, stride: s)
        let cig = cin / groups, cog = cout / groups
        var y = [T](repeating: 0, count: n * g.outputHeight * g.outputWidth * cout)
        for b in 0..<n { for oy in 0..<g.outputHeight { for ox in 0..<g.outputWidth { for co in 0..<cout {
            let gi = co / cog
            var acc = bias[co]
            for ky in 0..<kh { for kx in 0..<kw {
                let iy = oy * s - g.padTop + ky, ix = ox * s - g.padLeft + kx
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                for ci in 0..<cig {
                    acc += x[((b * h + iy) * w + ix) * cin + gi * cig + ci] * torchWeight[((co * cig + ci) * kh + ky) * kw + kx]
                }
            } }
            if activation == .relu6 { acc = min(max(acc, 0), 6) }
            y[((b * g.outputHeight + oy) * g.outputWidth + ox) * cout + co] = acc
        } } } }
        return y
    }
}
