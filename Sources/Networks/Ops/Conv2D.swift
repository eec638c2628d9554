// Conv2D: NHWC convolution (stride, padding, groups) with bias and a fused activation; forward and
// backward to the INPUT only (weights are frozen; BatchNorm is folded in at load time).
// Fast paths: a 1×1 stride-1 convolution is a plain GEMM (OpenBLAS; on AVX-512 machines, with
// ROBUSTPATCH_KERNELS=avx512, our own packed micro-kernel instead). Any other convolution with one
// group runs, on AVX-512 machines, as an implicit GEMM straight from the zero-padded input (no
// im2col; rp_conv_rows_avx512), its backward the same way (each input pixel gathers the padded dy
// over the taps of its stride phase, with Wᵀ). Elsewhere: im2col + OpenBLAS GEMM (the reference).
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
    /// (Cout, Cin) copy of a pointwise convolution's weight when Cin < 32: OpenBLAS runs the
    /// narrow-K forward GEMM ~1.5× faster with a transposed B (measured: K=16, N=96). Else empty.
    let weightTransposed: [Float]
    /// A pointwise convolution's GEMM operands packed for the AVX-512 kernel, when it is in use:
    /// forward B = W (Cin × Cout), backward B = Wᵀ (Cout × Cin). nil elsewhere (OpenBLAS).
    let packedForward: PackedMatrix?, packedBackward: PackedMatrix?
    /// The implicit-GEMM kernel's weights (k = KH·KW·Cin, tap-major; columns Cout), for a
    /// convolution with one group that is neither pointwise nor on the direct path, on AVX-512
    /// machines (`Gemm.usesImplicitConvolution`); nil elsewhere (im2col + OpenBLAS; the backward's
    /// phases below are then empty).
    var implicitForward: PackedMatrix?
    /// Its backward's, one per phase (ra, rb) at ra·stride + rb: the taps (ky, kx) with
    /// ky mod stride = ra and kx mod stride = rb, in order, of Wᵀ (k = taps·Cout; columns Cin);
    /// nil for a phase without taps (a 1×1 kernel of stride 2 reaches every other pixel only).
    var implicitBackward: [PackedMatrix?]

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
        if kernelHeight == 1 && kernelWidth == 1 && groups == 1 && inputChannels < 32 {
            var t = [Float](repeating: 0, count: w.count)
            for ci in 0..<inputChannels { for co in 0..<outputChannels { t[co * inputChannels + ci] = w[ci * outputChannels + co] } }
            weightTransposed = t
        } else {
            weightTransposed = []
        }
        if Gemm.usesAVX512 && kernelHeight == 1 && kernelWidth == 1 && groups == 1 && stride == 1 {
            packedForward = w.withUnsafeBufferPointer {
                PackedMatrix(b: $0.baseAddress!, k: inputChannels, n: outputChannels, ldb: outputChannels, transposed: false)
            }
            packedBackward = w.withUnsafeBufferPointer {
                PackedMatrix(b: $0.baseAddress!, k: outputChannels, n: inputChannels, ldb: outputChannels, transposed: true)
            }
        } else {
            packedForward = nil; packedBackward = nil
        }
        let pointwise = Self.isPointwise(kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride, groups: groups, padding: padding)
        let direct = Self.usesDirectPath(inputChannels: inputChannels, outputChannels: outputChannels, groups: groups, activation: activation)
        if Gemm.usesImplicitConvolution && groups == 1 && !pointwise && !direct {
            let taps = kernelHeight * kernelWidth, (cin, cout) = (inputChannels, outputChannels)
            implicitForward = w.withUnsafeBufferPointer { PackedMatrix(b: $0.baseAddress!, k: taps * cin, n: cout, ldb: cout, transposed: false) }
            // The backward's columns are the input channels: 32 per panel, whatever Cin is. For
            // the RGB stem (Cin 3) that is 3/32 of the kernel's work; im2col + OpenBLAS is faster.
            implicitBackward = cin < 16 ? [] : (0..<(stride * stride)).map { phase in
                let taps = Self.phaseTaps(phase, stride: stride, kernelHeight: kernelHeight, kernelWidth: kernelWidth)
                guard !taps.isEmpty else { return nil }
                var wt = [Float](repeating: 0, count: taps.count * cout * cin)
                for (i, t) in taps.enumerated() { for co in 0..<cout { for ci in 0..<cin {
                    wt[(i * cout + co) * cin + ci] = w[(t * cin + ci) * cout + co]
                } } }
                return wt.withUnsafeBufferPointer { PackedMatrix(b: $0.baseAddress!, k: taps.count * cout, n: cin, ldb: cin, transposed: false) }
            }
        } else {
            implicitForward = nil; implicitBackward = []
        }
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.inputChannels = inputChannels; self.outputChannels = outputChannels
        self.stride = stride; self.groups = groups; self.padding = padding; self.activation = activation
    }

    public func geometry(inputHeight h: Int, inputWidth w: Int) -> ConvGeometry {
        ConvGeometry(padding: padding, inputHeight: h, inputWidth: w, kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride)
    }

    var isPointwise: Bool {
        Self.isPointwise(kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride, groups: groups, padding: padding)
    }
    static func isPointwise(kernelHeight: Int, kernelWidth: Int, stride: Int, groups: Int, padding: Padding) -> Bool {
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
        let wp = UncheckedSendable(weight.withUnsafeBufferPointer { $0.baseAddress! })
        let wtp = UncheckedSendable(weightTransposed.isEmpty ? nil : weightTransposed.withUnsafeBufferPointer { $0.baseAddress })
        let bp = UncheckedSendable(bias.withUnsafeBufferPointer { $0.baseAddress! })
        // (The arrays are immutable `let`s of this value, alive for the whole call.)
        if isPointwise {
            // Tiles of rows: GEMM then bias + activation while the tile is still in cache.
            let (cin, cout, act) = (inputChannels, outputChannels, activation)
            let tile = tileRows(columns: cout, depth: cin)
            Parallel.forEachChunk(m, work: m * cin * cout) { range in
                var r0 = range.lowerBound
                while r0 < range.upperBound {
                    let r1 = min(r0 + tile, range.upperBound)
                    if let packed = packedForward {
                        Gemm.multiply(m: r1 - r0, a: x + r0 * cin, lda: cin, packed: packed, c: y + r0 * cout, ldc: cout)
                    } else if let wt = wtp.value {
                        Gemm.multiplyOnThisThread(.none, .transposed, m: r1 - r0, n: cout, k: cin, a: x + r0 * cin, lda: cin,
                                                  b: wt, ldb: cin, c: y + r0 * cout, ldc: cout)
                    } else {
                        Gemm.multiplyOnThisThread(.none, .none, m: r1 - r0, n: cout, k: cin, a: x + r0 * cin, lda: cin,
                                                  b: wp.value, ldb: cout, c: y + r0 * cout, ldc: cout)
                    }
                    biasActivationRows(y, rows: r0..<r1, channels: cout, bias: bp.value, activation: act)
                    r0 = r1
                }
            }
        } else if usesDirectPath {
            directForward(x, n: n, geometry: g, weight: wp.value, bias: bp.value, into: y)
        } else if let packed = implicitForward {
            implicitForward(x, n: n, geometry: g, packed: packed, bias: bp.value, into: y, workspace: workspace, scratch: scratch)
        } else {
            let col = workspace.buffer(scratch, count: m * patchSize)
            for gi in 0..<groups {
                im2col(x, n: n, geometry: g, channelOffset: gi * cig, channelCount: cig, into: col)
                Gemm.multiply(.none, .none, m: m, n: cog, k: patchSize, a: col, lda: patchSize,
                              b: wp.value + gi * patchSize * cog, ldb: cog, c: y + gi * cog, ldc: outputChannels)
            }
            applyBiasActivation(y, rows: m, channels: outputChannels, bias: bp.value, activation: activation)
        }
    }

    /// Few input channels (the RGB stem): direct loops beat im2col + a K=27 GEMM.
    var usesDirectPath: Bool {
        Self.usesDirectPath(inputChannels: inputChannels, outputChannels: outputChannels, groups: groups, activation: activation)
    }
    static func usesDirectPath(inputChannels: Int, outputChannels: Int, groups: Int, activation: Activation) -> Bool {
        inputChannels <= 4 && groups == 1 && outputChannels % 8 == 0 && outputChannels <= 64 && activation != .relu
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
    /// accumulate) unless `accumulate`; dy is scratch (overwritten with dy·act'(y), except by the direct
    /// path, which masks as it reads). With `reluOfInput` (the
    /// output (N, H, W, Cin) of the ReLU6 layer that produced x), dx is then masked by its
    /// ReLU6' — that layer's activation backward done here, tile by tile while dx is in cache.
    /// `rows` (per image, rows of dx): compute dx there only, reading dy only on the rows the
    /// kernel reaches from them (`ConvGeometry.outputRows`); other rows of dx are unspecified.
    /// nil: all. (The pointwise and direct paths honour it; the general path computes all rows.)
    /// `columns` (per image) narrows the direct path's rows to those columns of dx as well (the
    /// pointwise path computes whole rows).
    public func backward(dy: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, n: Int, height h: Int, width w: Int,
                         into dx: UnsafeMutablePointer<Float>, accumulate: Bool = false, reluOfInput: UnsafePointer<Float>? = nil,
                         rows: [Range<Int>]? = nil, columns: [Range<Int>]? = nil, workspace: Workspace, scratch: String = "im2col") {
        precondition(reluOfInput == nil || !accumulate, "masking by the input's ReLU6 needs the whole of dx (not accumulate)")
        let g = geometry(inputHeight: h, inputWidth: w)
        let m = n * g.outputHeight * g.outputWidth
        let cig = inputChannels / groups, cog = outputChannels / groups
        if isPointwise {
            // Tiles of rows: mask dy by act'(y) while the tile is in cache, then GEMM.
            let (cin, cout, act) = (inputChannels, outputChannels, activation)
            let tile = tileRows(columns: cin, depth: cout)
            let runs = flattenedRuns(rows, n: n, height: h, rowLength: w)
            weight.withUnsafeBufferPointer { wp in
                let w = wp.baseAddress!
                for run in runs {
                Parallel.forEachChunk(run.count, work: run.count * cin * cout) { range in
                    var r0 = run.lowerBound + range.lowerBound
                    let end = run.lowerBound + range.upperBound
                    while r0 < end {
                        let r1 = min(r0 + tile, end)
                        maskActivationRows(dy + r0 * cout, y: y + r0 * cout, count: (r1 - r0) * cout, activation: act)
                        if let packed = packedBackward {
                            Gemm.multiply(m: r1 - r0, a: dy + r0 * cout, lda: cout, packed: packed, accumulate: accumulate,
                                          c: dx + r0 * cin, ldc: cin)
                        } else {
                            Gemm.multiplyOnThisThread(.none, .transposed, m: r1 - r0, n: cin, k: cout, a: dy + r0 * cout, lda: cout,
                                                      b: w, ldb: cout, beta: accumulate ? 1 : 0, c: dx + r0 * cin, ldc: cin)
                        }
                        if let relu = reluOfInput {
                            ReLU6.backward(dy: dx + r0 * cin, y: relu + r0 * cin, dx: dx + r0 * cin, count: (r1 - r0) * cin)
                        }
                        r0 = r1
                    }
                }
                }
            }
            return
        }
        defer { if let relu = reluOfInput { maskActivationGradient(dx, y: relu, count: n * h * w * inputChannels, activation: .relu6) } }
        if usesDirectPath {
            // The direct kernel masks dy by act'(y) as it reads it (dy is left as it was).
            if !accumulate {
                for run in flattenedRuns(rows.map { $0.map { grownRows($0, geometry: g) } }, n: n, height: h, rowLength: w * inputChannels) {
                    (dx + run.lowerBound).initialize(repeating: 0, count: run.count)
                }
            }
            weight.withUnsafeBufferPointer { wp in
                directBackward(dy, y: activation == .relu6 ? y : nil, n: n, geometry: g, weight: wp.baseAddress!, into: dx,
                               outputRows: rows.map { $0.map { g.outputRows(reading: $0, kernel: kernelHeight, stride: stride) } },
                               outputColumns: columns.map { $0.map { g.outputColumns(reading: $0, kernel: kernelWidth, stride: stride) } })
            }
            return
        }
        if !implicitBackward.isEmpty {
            implicitBackward(dy, y: y, n: n, geometry: g, into: dx, accumulate: accumulate, rows: rows, workspace: workspace, scratch: scratch)
            return
        }
        maskActivationGradient(dy, y: y, count: m * outputChannels, activation: activation)
        if !accumulate { dx.initialize(repeating: 0, count: n * h * w * inputChannels) }
        let col = workspace.buffer(scratch, count: m * patchSize)
        weight.withUnsafeBufferPointer { wp in
            for gi in 0..<groups {
                Gemm.multiply(.none, .transposed, m: m, n: patchSize, k: cog, a: dy + gi * cog, lda: outputChannels,
                              b: wp.baseAddress! + gi * patchSize * cog, ldb: cog, c: col, ldc: patchSize)
                col2imAccumulate(col, n: n, geometry: g, channelOffset: gi * cig, channelCount: cig, into: dx)
            }
        }
    }

    /// The input rows that the output rows reading `rows` write to in a backward scatter: `rows`
    /// grown by the kernel's reach (clipped), so zeroing them first leaves no stale sums in `rows`.
    func grownRows(_ rows: Range<Int>, geometry g: ConvGeometry) -> Range<Int> {
        let out = g.outputRows(reading: rows, kernel: kernelHeight, stride: stride)
        if out.isEmpty { return 0..<0 }
        return max(0, out.lowerBound * stride - g.padTop)..<min(g.inputHeight, (out.upperBound - 1) * stride - g.padTop + kernelHeight)
    }

    /// dx[..] += scatter of col; parallel over images (rows of different images never overlap).
    func col2imAccumulate(_ col: UnsafePointer<Float>, n: Int, geometry g: ConvGeometry, channelOffset: Int, channelCount cg: Int,
                          into dx: UnsafeMutablePointer<Float>) {
        let cin = inputChannels
        let rowLen = kernelHeight * kernelWidth * cg
        Parallel.forEachChunk(n, work: n * g.outputHeight * g.outputWidth * rowLen) { images in
            for b in images {
                for oy in 0..<g.outputHeight {
                    for ox in 0..<g.outputWidth {
                        let src = col + (((b * g.outputHeight + oy) * g.outputWidth) + ox) * rowLen
                        forEachInputTap(g, image: b, oy: oy, ox: ox) { pixel, tap in
                            let d = dx + pixel * cin + channelOffset
                            let sp = src + tap * cg
                            for c in 0..<cg { d[c] += sp[c] }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body(pixel, tap)` for each kernel tap of output pixel (b, oy, ox) that lands inside
    /// the input, ky-major (taps in the padding are skipped): `pixel` = (b·H + iy)·W + ix is the
    /// input pixel, `tap` = ky·KW + kx the tap's index in a patch.
    @inline(__always)
    func forEachInputTap(_ g: ConvGeometry, image b: Int, oy: Int, ox: Int, _ body: (_ pixel: Int, _ tap: Int) -> Void) {
        let kw = kernelWidth, s = stride
        for ky in 0..<kernelHeight {
            let iy = oy &* s &- g.padTop &+ ky
            if iy < 0 || iy >= g.inputHeight { continue }
            for kx in 0..<kw {
                let ix = ox &* s &- g.padLeft &+ kx
                if ix < 0 || ix >= g.inputWidth { continue }
                body((b &* g.inputHeight &+ iy) &* g.inputWidth &+ ix, ky &* kw &+ kx)
            }
        }
    }

    // MARK: direct kernels for few input channels (the RGB stem)

    /// y = act(conv(x) + b) without im2col: per output pixel, each of the KH·KW·Cin inputs is
    /// broadcast and multiplied by its row of Cout weights, 8 lanes at a time, accumulators in
    /// registers. For Cin ≤ 4, Cout a multiple of 8 up to 64.
    func directForward(_ x: UnsafePointer<Float>, n: Int, geometry g: ConvGeometry, weight: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let cin = inputChannels, cout = outputChannels
        let relu = activation == .relu6
        Parallel.forEachChunk(n * g.outputHeight, work: n * g.outputHeight * g.outputWidth * patchSize * cout) { rows in
            let (kw, s, span) = (kernelWidth, stride, kernelWidth &* cin)
            for r in rows {
                let b = r / g.outputHeight, oy = r % g.outputHeight
                var ox = 0
                while ox < g.outputWidth {
                    // Two output pixels at once, both away from the left/right edges: eight
                    // independent FMA chains instead of four (the chains are latency-bound).
                    // Same taps in the same order as the general path below, so the same sums.
                    let ix0 = ox &* s &- g.padLeft
                    if cout % 32 == 0, ox &+ 1 < g.outputWidth, ix0 >= 0, ix0 &+ s &+ kw <= g.inputWidth {
                        let ypA = y + ((r &* g.outputWidth) &+ ox) &* cout, ypB = ypA + cout
                        var c0 = 0
                        while c0 < cout {
                            var a0 = load8(bias + c0), a1 = load8(bias + (c0 &+ 8)), a2 = load8(bias + (c0 &+ 16)), a3 = load8(bias + (c0 &+ 24))
                            var b0 = a0, b1 = a1, b2 = a2, b3 = a3
                            for ky in 0..<kernelHeight {
                                let iy = oy &* s &- g.padTop &+ ky
                                if iy < 0 || iy >= g.inputHeight { continue }
                                let xa = x + ((b &* g.inputHeight &+ iy) &* g.inputWidth &+ ix0) &* cin, xb = xa + s &* cin
                                let wrow = weight + (ky &* span &* cout &+ c0)
                                for j in 0..<span {
                                    let va = SIMD8<Float>(repeating: xa[j]), vb = SIMD8<Float>(repeating: xb[j])
                                    let wr = wrow + j &* cout
                                    let w0 = load8(wr), w1 = load8(wr + 8), w2 = load8(wr + 16), w3 = load8(wr + 24)
                                    a0.addProduct(va, w0); a1.addProduct(va, w1); a2.addProduct(va, w2); a3.addProduct(va, w3)
                                    b0.addProduct(vb, w0); b1.addProduct(vb, w1); b2.addProduct(vb, w2); b3.addProduct(vb, w3)
                                }
                            }
                            if relu { a0 = a0.relu6; a1 = a1.relu6; a2 = a2.relu6; a3 = a3.relu6; b0 = b0.relu6; b1 = b1.relu6; b2 = b2.relu6; b3 = b3.relu6 }
                            store8(a0, ypA + c0); store8(a1, ypA + (c0 &+ 8)); store8(a2, ypA + (c0 &+ 16)); store8(a3, ypA + (c0 &+ 24))
                            store8(b0, ypB + c0); store8(b1, ypB + (c0 &+ 8)); store8(b2, ypB + (c0 &+ 16)); store8(b3, ypB + (c0 &+ 24))
                            c0 &+= 32
                        }
                        ox &+= 2
                        continue
                    }
                    defer { ox &+= 1 }
                    let yp = y + ((r &* g.outputWidth) &+ ox) &* cout
                    var c0 = 0
                    while c0 < cout {
                        // Four 8-lane accumulators (32 channels); unused lanes when cout − c0 < 32.
                        let lanes = min(32, cout &- c0)
                        var a0 = load8(bias + c0)
                        var a1 = lanes > 8 ? load8(bias + (c0 &+ 8)) : .zero
                        var a2 = lanes > 16 ? load8(bias + (c0 &+ 16)) : .zero
                        var a3 = lanes > 24 ? load8(bias + (c0 &+ 24)) : .zero
                        forEachInputTap(g, image: b, oy: oy, ox: ox) { pixel, tap in
                            let xp = x + pixel &* cin
                            let wrow = weight + ((tap &* cin) &* cout &+ c0)
                            for ci in 0..<cin {
                                let v = SIMD8<Float>(repeating: xp[ci])
                                let wr = wrow + ci &* cout
                                a0.addProduct(v, load8(wr))
                                if lanes > 8 { a1.addProduct(v, load8(wr + 8)) }
                                if lanes > 16 { a2.addProduct(v, load8(wr + 16)) }
                                if lanes > 24 { a3.addProduct(v, load8(wr + 24)) }
                            }
                        }
                        store8(relu ? a0.relu6 : a0, yp + c0)
                        if lanes > 8 { store8(relu ? a1.relu6 : a1, yp + (c0 &+ 8)) }
                        if lanes > 16 { store8(relu ? a2.relu6 : a2, yp + (c0 &+ 16)) }
                        if lanes > 24 { store8(relu ? a3.relu6 : a3, yp + (c0 &+ 24)) }
                        c0 &+= 32
                    }
                }
            }
        }
    }

    /// dx += convᵀ(dy) for the direct path (dy already masked by act'). Per output pixel the
    /// patch gradient d(col) = Σ_co dy[co]·Wᵀ[co, :] is built with broadcasts (no horizontal sums),
    /// then scattered into dx. Parallel over images, so no two threads write the same dx.
    /// `outputRows`, `outputColumns` (per image): scatter only these rows and columns of dy (nil: all).
    func directBackward(_ dy: UnsafePointer<Float>, y: UnsafePointer<Float>?, n: Int, geometry g: ConvGeometry, weight: UnsafePointer<Float>,
                        into dx: UnsafeMutablePointer<Float>, outputRows: [Range<Int>]? = nil, outputColumns: [Range<Int>]? = nil) {
        let cin = inputChannels, cout = outputChannels
        let k = patchSize, kp = (k + 7) & ~7
        // Wᵀ: (Cout, K padded to 8)
        var wt = [Float](repeating: 0, count: cout * kp)
        for p in 0..<k { for co in 0..<cout { wt[co * kp + p] = weight[p * cout + co] } }
        wt.withUnsafeBufferPointer { wtb in
            let wtp = UncheckedSendable(wtb.baseAddress!)
            Parallel.forEachChunk(n, work: n * g.outputHeight * g.outputWidth * k * cout) { images in
                var col = [Float](repeating: 0, count: kp + cout)
                col.withUnsafeMutableBufferPointer { colb in
                    let cp = colb.baseAddress!, masked = cp + kp   // masked: (Cout) this pixel's dy·ReLU6'(y)
                    let zero = SIMD8<Float>.zero, six = SIMD8<Float>(repeating: 6)
                    for b in images {
                        for oy in outputRows?[b] ?? 0..<g.outputHeight {
                            for ox in outputColumns?[b] ?? 0..<g.outputWidth {
                                let offset = (((b &* g.outputHeight &+ oy) &* g.outputWidth) &+ ox) &* cout
                                var gp = dy + offset
                                if let y {
                                    // usesDirectPath: Cout is a multiple of 8.
                                    var c = 0
                                    while c < cout {
                                        let yv = load8(y + (offset &+ c))
                                        store8(zero.replacing(with: load8(gp + c), where: (yv .> zero) .& (yv .< six)), masked + c)
                                        c &+= 8
                                    }
                                    gp = UnsafePointer(masked)
                                }
                                // Four column blocks at a time, and the output channels in two
                                // halves: eight independent FMA chains (one chain over all of
                                // Cout would wait on each FMA's latency).
                                var p0 = 0
                                while p0 &+ 32 <= kp {
                                    var a0 = SIMD8<Float>.zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0
                                    var co = 0
                                    while co &+ 2 <= cout {
                                        let g0 = SIMD8<Float>(repeating: gp[co]), g1 = SIMD8<Float>(repeating: gp[co &+ 1])
                                        let w0 = wtp.value + (co &* kp &+ p0), w1 = w0 + kp
                                        a0.addProduct(g0, load8(w0)); a1.addProduct(g0, load8(w0 + 8))
                                        a2.addProduct(g0, load8(w0 + 16)); a3.addProduct(g0, load8(w0 + 24))
                                        b0.addProduct(g1, load8(w1)); b1.addProduct(g1, load8(w1 + 8))
                                        b2.addProduct(g1, load8(w1 + 16)); b3.addProduct(g1, load8(w1 + 24))
                                        co &+= 2
                                    }
                                    if co < cout {
                                        let g0 = SIMD8<Float>(repeating: gp[co]), w0 = wtp.value + (co &* kp &+ p0)
                                        a0.addProduct(g0, load8(w0)); a1.addProduct(g0, load8(w0 + 8))
                                        a2.addProduct(g0, load8(w0 + 16)); a3.addProduct(g0, load8(w0 + 24))
                                    }
                                    store8(a0 + b0, cp + p0); store8(a1 + b1, cp + (p0 &+ 8))
                                    store8(a2 + b2, cp + (p0 &+ 16)); store8(a3 + b3, cp + (p0 &+ 24))
                                    p0 &+= 32
                                }
                                while p0 < kp {
                                    var a0 = SIMD8<Float>.zero, b0 = a0
                                    var co = 0
                                    while co &+ 2 <= cout {
                                        a0.addProduct(SIMD8(repeating: gp[co]), load8(wtp.value + (co &* kp &+ p0)))
                                        b0.addProduct(SIMD8(repeating: gp[co &+ 1]), load8(wtp.value + ((co &+ 1) &* kp &+ p0)))
                                        co &+= 2
                                    }
                                    if co < cout { a0.addProduct(SIMD8(repeating: gp[co]), load8(wtp.value + (co &* kp &+ p0))) }
                                    store8(a0 + b0, cp + p0)
                                    p0 &+= 8
                                }
                                let ix0 = ox &* stride &- g.padLeft
                                if ix0 >= 0 && ix0 &+ kernelWidth <= g.inputWidth {
                                    // Away from the left/right edges a kernel row's taps are
                                    // KW·Cin contiguous floats of dx and of the patch gradient.
                                    let span = kernelWidth &* cin
                                    for ky in 0..<kernelHeight {
                                        let iy = oy &* stride &- g.padTop &+ ky
                                        if iy < 0 || iy >= g.inputHeight { continue }
                                        let dxp = dx + ((b &* g.inputHeight &+ iy) &* g.inputWidth &+ ix0) &* cin
                                        let cpp = cp + ky &* span
                                        for j in 0..<span { dxp[j] += cpp[j] }
                                    }
                                } else {
                                    forEachInputTap(g, image: b, oy: oy, ox: ox) { pixel, tap in
                                        let dxp = dx + pixel &* cin
                                        let cpp = cp + tap &* cin
                                        for ci in 0..<cin { dxp[ci] += cpp[ci] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: implicit GEMM (AVX-512)

    /// This convolution on the im2col + OpenBLAS path (the reference the implicit kernel is
    /// checked against).
    public func withoutImplicitKernel() -> Conv2D {
        var c = self
        c.implicitForward = nil; c.implicitBackward = []
        return c
    }

    /// Whether `backward` leaves dy as it was: the direct and implicit paths mask dy·act'(y) as
    /// they read it; the pointwise and im2col paths mask dy in place.
    public var backwardKeepsDy: Bool { !isPointwise && (usesDirectPath || !implicitBackward.isEmpty) }

    /// Whether the forward and the backward run the implicit-GEMM kernel.
    public var usesImplicitKernel: Bool { implicitForward != nil }

    /// `src` (N, H, W, C) zero-padded into `dst` (N, rows, cols, C): dst[b, r, q] = src[b, r − top, q − left]
    /// where that is inside src, else 0. With `mask` (N, H, W, C), each copied value is multiplied
    /// by the activation's derivative read from it (the backward's dy·act'(y)).
    static func padded(_ src: UnsafePointer<Float>, n: Int, height h: Int, width w: Int, channels c: Int, top: Int, left: Int,
                       rows: Int, cols: Int, mask: UnsafePointer<Float>?, activation: Activation, into dst: UnsafeMutablePointer<Float>) {
        let lo = min(max(left, 0), cols), hi = min(max(left + w, lo), cols)
        Parallel.forEachChunk(n * rows, work: n * rows * cols * c) { range in
            for r in range {
                let b = r / rows, iy = r % rows - top
                let d = dst + r * cols * c
                guard iy >= 0, iy < h, hi > lo else { d.initialize(repeating: 0, count: cols * c); continue }
                d.initialize(repeating: 0, count: lo * c)
                let from = ((b * h + iy) * w + (lo - left)) * c
                (d + lo * c).update(from: src + from, count: (hi - lo) * c)
                if let mask { maskActivationRows(d + lo * c, y: mask + from, count: (hi - lo) * c, activation: activation) }
                (d + hi * c).initialize(repeating: 0, count: (cols - hi) * c)
            }
        }
    }

    /// y = act(conv(x) + b) by the implicit-GEMM kernel: each output row × 32 channels summed
    /// over the taps straight from the zero-padded input. Output rows in blocks whose input
    /// (~256 KiB) stays in cache while every panel of weights runs over it.
    func implicitForward(_ x: UnsafePointer<Float>, n: Int, geometry g: ConvGeometry, packed: PackedMatrix, bias: UnsafePointer<Float>,
                         into y: UnsafeMutablePointer<Float>, workspace: Workspace, scratch: String) {
        let (cin, cout, s, kh, kw) = (inputChannels, outputChannels, stride, kernelHeight, kernelWidth)
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        guard n > 0, oh > 0, ow > 0 else { return }
        // The input as the kernel reads it: x itself when no tap reaches a pad, else a padded copy.
        let rows = (oh - 1) * s + kh, cols = (ow - 1) * s + kw
        let source: UnsafePointer<Float>, imageRows: Int, pitch: Int
        if g.padTop == 0 && g.padLeft == 0 && rows <= g.inputHeight && cols <= g.inputWidth {
            source = x; imageRows = g.inputHeight; pitch = g.inputWidth
        } else {
            let buffer = workspace.buffer(scratch + ".padded", count: n * rows * cols * cin)
            Self.padded(x, n: n, height: g.inputHeight, width: g.inputWidth, channels: cin, top: g.padTop, left: g.padLeft,
                        rows: rows, cols: cols, mask: nil, activation: .none, into: buffer)
            source = UnsafePointer(buffer); imageRows = rows; pitch = cols
        }
        let offsets = (0..<(kh * kw)).map { t in ((t / kw) * pitch + t % kw) * cin }
        let act: Int32 = activation == .relu6 ? 2 : activation == .relu ? 1 : 0
        let block = max(1, 256 * 1024 / max(1, s * pitch * cin * MemoryLayout<Float>.size))
        let (src, out) = (UncheckedSendable(source), UncheckedSendable(y))
        Parallel.forEachChunk(n * oh, work: n * oh * ow * patchSize * cout) { range in
            offsets.withUnsafeBufferPointer { op in
                var r0 = range.lowerBound
                while r0 < range.upperBound {
                    let r1 = min(r0 + block, range.upperBound)
                    for p in 0..<packed.panelCount {
                        for r in r0..<r1 {
                            let b = r / oh, oy = r % oh
                            packed.convolveRows(count: ow, panel: p, taps: kh * kw, offsets: op.baseAddress!, inputChannels: cin,
                                                a: src.value + (b * imageRows + oy * s) * pitch * cin, rowStride: s * cin,
                                                bias: bias + p * 32, activation: act, accumulate: false,
                                                c: out.value + r * ow * cout + p * 32, ldc: cout)
                        }
                    }
                    r0 = r1
                }
            }
        }
    }

    /// The taps (ky·KW + kx, in order) of backward phase `phase` = ra·stride + rb: ky mod stride = ra, kx mod stride = rb.
    static func phaseTaps(_ phase: Int, stride s: Int, kernelHeight kh: Int, kernelWidth kw: Int) -> [Int] {
        let (ra, rb) = (phase / s, phase % s)
        return Swift.stride(from: ra, to: kh, by: s).flatMap { ky in Swift.stride(from: rb, to: kw, by: s).map { ky * kw + $0 } }
    }

    /// dx (+)= convᵀ(dy · act'(y)) by the implicit-GEMM kernel, any stride: input pixel (iy, ix)
    /// gathers dy at ((iy + padTop − ky)/s, (ix + padLeft − kx)/s) over the taps whose offsets
    /// divide by the stride, i.e. those of phase ((iy + padTop) mod s, (ix + padLeft) mod s). Per
    /// input row and column phase, one kernel call over every s-th pixel of the row reads dy,
    /// zero-padded so that each tap's reach stays inside, with that phase's weights.
    /// `rows` (per image): only those rows of dx (nil: all).
    func implicitBackward(_ dy: UnsafePointer<Float>, y: UnsafePointer<Float>, n: Int, geometry g: ConvGeometry,
                          into dx: UnsafeMutablePointer<Float>, accumulate: Bool, rows: [Range<Int>]?, workspace: Workspace, scratch: String) {
        let (cin, cout, kh, kw, s) = (inputChannels, outputChannels, kernelHeight, kernelWidth, stride)
        let (h, w, pt, pl) = (g.inputHeight, g.inputWidth, g.padTop, g.padLeft)
        guard n > 0, h > 0, w > 0 else { return }
        func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
        // dy padded so that every (oy, ox) a tap reaches is inside: rows from floor((pt − KH + 1)/s)
        // to (H − 1 + pt)/s, columns likewise.
        let top = max(0, -floorDiv(pt - kh + 1, s)), left = max(0, -floorDiv(pl - kw + 1, s))
        let prows = top + max(g.outputHeight, (h - 1 + pt) / s + 1), pcols = left + max(g.outputWidth, (w - 1 + pl) / s + 1)
        let buffer = workspace.buffer(scratch + ".padded", count: n * prows * pcols * cout)
        Self.padded(dy, n: n, height: g.outputHeight, width: g.outputWidth, channels: cout, top: top, left: left,
                    rows: prows, cols: pcols, mask: activation == .none ? nil : y, activation: activation, into: buffer)
        let phases = (0..<(s * s)).map { Self.phaseTaps($0, stride: s, kernelHeight: kh, kernelWidth: kw) }
        let block = max(1, 256 * 1024 / max(1, s * pcols * cout * MemoryLayout<Float>.size))
        let (src, out, packs) = (UncheckedSendable(UnsafePointer(buffer)), UncheckedSendable(dx), implicitBackward)
        let panels = (cin + 31) / 32
        let todo = (0..<n).flatMap { b in (rows?[b] ?? 0..<h).clamped(to: 0..<h).map { b * h + $0 } }
        Parallel.forEachChunk(todo.count, work: todo.count * w * kh * kw * cout * cin / (s * s)) { range in
            var offsets = [Int](repeating: 0, count: kh * kw)
            offsets.withUnsafeMutableBufferPointer { op in
                var i0 = range.lowerBound
                while i0 < range.upperBound {
                    let i1 = min(i0 + block, range.upperBound)
                    for rb in 0..<s {
                        // The pixels of this column phase: ix = ix0 + s·j, j < count.
                        let ix0 = ((rb - pl) % s + s) % s
                        guard ix0 < w else { continue }
                        let count = (w - ix0 + s - 1) / s
                        // Panels outside the rows: a panel of weights stays in cache over the block.
                        for p in 0..<panels {
                            for i in i0..<i1 {
                                let r = todo[i], b = r / h, iy = r % h
                                let phase = ((iy + pt) % s) * s + rb
                                let c = out.value + (r * w + ix0) * cin + p * 32
                                guard let packed = packs[phase] else {
                                    if !accumulate {
                                        let lanes = min(32, cin - p * 32)
                                        for j in 0..<count { (c + j * s * cin).initialize(repeating: 0, count: lanes) }
                                    }
                                    continue
                                }
                                for (k, t) in phases[phase].enumerated() {
                                    let (ky, kx) = (t / kw, t % kw)
                                    let oy = (iy + pt - ky) / s, ox0 = (ix0 + pl - kx) / s
                                    op[k] = ((b * prows + oy + top) * pcols + ox0 + left) * cout
                                }
                                packed.convolveRows(count: count, panel: p, taps: phases[phase].count, offsets: op.baseAddress!, inputChannels: cout,
                                                    a: src.value, rowStride: cout, bias: nil, activation: 0, accumulate: accumulate,
                                                    c: c, ldc: s * cin)
                            }
                        }
                    }
                    i0 = i1
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
            if activation == .relu { acc = max(acc, 0) }
            y[((b * g.outputHeight + oy) * g.outputWidth + ox) * cout + co] = acc
        } } } }
        return y
    }
}
