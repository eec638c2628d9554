// DepthwiseConv2D: one k×k filter per channel (groups == channels), NHWC, bias + fused
// activation; forward and backward to the input. SIMD over channels (8 lanes), threads over
// output rows. The naive reference is Conv2D.referenceForward with groups == channels.
import Tensors

public struct DepthwiseConv2D: Sendable {
    public let channels: Int, kernelSize: Int, stride: Int
    public let padding: Padding
    public let activation: Activation
    /// (K, K, C): the taps of channel c are strided by C, so 8 channels load as one vector.
    public let weight: [Float]
    /// (C)
    public let bias: [Float]

    /// `torchWeight` is PyTorch's (C, 1, K, K) layout.
    public init(torchWeight: [Float], bias: [Float]?, channels: Int, kernelSize: Int, stride: Int = 1,
                padding: Padding = .same, activation: Activation = .none) {
        precondition(torchWeight.count == channels * kernelSize * kernelSize, "weight count mismatch")
        precondition(activation != .relu, "DepthwiseConv2D fuses ReLU6 only")
        var w = [Float](repeating: 0, count: torchWeight.count)
        for c in 0..<channels { for t in 0..<(kernelSize * kernelSize) { w[t * channels + c] = torchWeight[c * kernelSize * kernelSize + t] } }
        weight = w
        self.bias = bias ?? [Float](repeating: 0, count: channels)
        self.channels = channels; self.kernelSize = kernelSize; self.stride = stride
        self.padding = padding; self.activation = activation
    }

    public func geometry(inputHeight h: Int, inputWidth w: Int) -> ConvGeometry {
        ConvGeometry(padding: padding, inputHeight: h, inputWidth: w, kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride)
    }

    // MARK: forward

    /// y (N, OH, OW, C) = act(depthwise(x (N, H, W, C)) + bias). Overwrites y.
    public func forward(_ x: UnsafePointer<Float>, n: Int, height h: Int, width w: Int, into y: UnsafeMutablePointer<Float>) {
        let g = geometry(inputHeight: h, inputWidth: w)
        let c = channels, k = kernelSize, s = stride
        let relu = activation == .relu6
        weight.withUnsafeBufferPointer { wbuf in bias.withUnsafeBufferPointer { bbuf in
            let wp = wbuf.baseAddress!, bp = bbuf.baseAddress!
            Parallel.forEachChunk(n &* g.outputHeight, work: n &* g.outputHeight &* g.outputWidth &* c &* k &* k) { rows in
                for r in rows {
                    let b = r / g.outputHeight, oy = r % g.outputHeight
                    let iy0 = oy &* s &- g.padTop
                    let kyLo = max(0, -iy0), kyHi = min(k, h &- iy0)
                    let xImage = x + b &* h &* w &* c
                    let yRow = y + r &* g.outputWidth &* c
                    var cb = 0
                    for ox in 0..<g.outputWidth {
                        let ix0 = ox &* s &- g.padLeft
                        let kxLo = max(0, -ix0), kxHi = min(k, w &- ix0)
                        let yPix = yRow + ox &* c
                        cb = 0
                        // 32 channels at a time: four independent FMA chains hide FMA latency.
                        while cb &+ 32 <= c {
                            var a0 = load8(bp + cb), a1 = load8(bp + (cb &+ 8)), a2 = load8(bp + (cb &+ 16)), a3 = load8(bp + (cb &+ 24))
                            for ky in kyLo..<kyHi {
                                let pix = (iy0 &+ ky) &* w &+ ix0
                                let xr = xImage + (pix &* c &+ cb)
                                let wr = wp + ((ky &* k) &* c &+ cb)
                                for kx in kxLo..<kxHi {
                                    let xo = xr + kx &* c, wo = wr + kx &* c
                                    a0.addProduct(load8(xo), load8(wo))
                                    a1.addProduct(load8(xo + 8), load8(wo + 8))
                                    a2.addProduct(load8(xo + 16), load8(wo + 16))
                                    a3.addProduct(load8(xo + 24), load8(wo + 24))
                                }
                            }
                            if relu { a0 = a0.relu6; a1 = a1.relu6; a2 = a2.relu6; a3 = a3.relu6 }
                            store8(a0, yPix + cb); store8(a1, yPix + (cb &+ 8)); store8(a2, yPix + (cb &+ 16)); store8(a3, yPix + (cb &+ 24))
                            cb &+= 32
                        }
                        while cb &+ 8 <= c {
                            var a0 = load8(bp + cb)
                            for ky in kyLo..<kyHi {
                                let pix = (iy0 &+ ky) &* w &+ ix0
                                let xr = xImage + (pix &* c &+ cb)
                                let wr = wp + ((ky &* k) &* c &+ cb)
                                for kx in kxLo..<kxHi { a0.addProduct(load8(xr + kx &* c), load8(wr + kx &* c)) }
                            }
                            if relu { a0 = a0.relu6 }
                            store8(a0, yPix + cb)
                            cb &+= 8
                        }
                    }
                    // Channel tail (C not a multiple of 8): scalar.
                    while cb < c {
                        for ox in 0..<g.outputWidth {
                            let ix0 = ox &* s &- g.padLeft
                            var acc = bp[cb]
                            for ky in kyLo..<kyHi {
                                for kx in max(0, -ix0)..<min(k, w &- ix0) {
                                    acc += xImage[((iy0 &+ ky) &* w &+ ix0 &+ kx) &* c &+ cb] * wp[(ky &* k &+ kx) &* c &+ cb]
                                }
                            }
                            if relu { acc = min(max(acc, 0), 6) }
                            yRow[ox &* c &+ cb] = acc
                        }
                        cb &+= 1
                    }
                }
            }
        } }
    }

    // MARK: backward

    /// dx (N, H, W, C) from dy (N, OH, OW, C): gathers, for each input pixel, the output pixels
    /// whose window covers it. WRITES dx; OVERWRITES dy with dy·act'(y), unless `dyIsMasked`
    /// says the caller already did (Conv2D.backward's `reluOfInput`). `rows` (per image, rows of
    /// dx): compute dx there only, bit for bit the whole-image values, reading dy only on the rows
    /// that reach them (`ConvGeometry.outputRows`); other rows of dx are not written. nil: all.
    /// `columns` (per image) likewise narrows each computed row to those columns of dx.
    public func backward(dy: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, n: Int, height h: Int, width w: Int,
                         into dx: UnsafeMutablePointer<Float>, dyIsMasked: Bool = false, rows: [Range<Int>]? = nil,
                         columns: [Range<Int>]? = nil) {
        let g = geometry(inputHeight: h, inputWidth: w)
        let c = channels, k = kernelSize, s = stride
        let oh = g.outputHeight, ow = g.outputWidth
        if !dyIsMasked { maskActivationGradient(dy, y: y, count: n * oh * ow * c, activation: activation) }
        weight.withUnsafeBufferPointer { wbuf in
            let wp = wbuf.baseAddress!
            for run in flattenedRuns(rows, n: n, height: h, rowLength: 1) {
            Parallel.forEachChunk(run.count, work: run.count &* ow &* c &* k &* k) { chunk in
                let rows = (run.lowerBound + chunk.lowerBound)..<(run.lowerBound + chunk.upperBound)
                // Per input pixel, the (tap offset, dy offset) pairs of the output pixels whose
                // window covers it — found once, then shared by every channel block below.
                var pairs = [Int](repeating: 0, count: 2 * k * k)
                pairs.withUnsafeMutableBufferPointer { pb in
                    let pp = pb.baseAddress!
                    for r in rows {
                        let b = r / h, iy = r % h
                        let dyImage = UnsafePointer(dy) + b &* oh &* ow &* c
                        let dxRow = dx + r &* w &* c
                        for ix in columns?[b] ?? 0..<w {
                            var count = 0
                            for ky in 0..<k {
                                let ty = iy &+ g.padTop &- ky
                                if ty < 0 { break }
                                if ty % s != 0 || ty / s >= oh { continue }
                                for kx in 0..<k {
                                    let tx = ix &+ g.padLeft &- kx
                                    if tx < 0 { break }
                                    if tx % s != 0 || tx / s >= ow { continue }
                                    pp[2 &* count] = (ky &* k &+ kx) &* c
                                    pp[2 &* count &+ 1] = ((ty / s) &* ow &+ tx / s) &* c
                                    count &+= 1
                                }
                            }
                            let dxPix = dxRow + ix &* c
                            var cb = 0
                            while cb &+ 32 <= c {
                                var a0 = SIMD8<Float>.zero, a1 = SIMD8<Float>.zero, a2 = SIMD8<Float>.zero, a3 = SIMD8<Float>.zero
                                for t in 0..<count {
                                    let wo = wp + (pp[2 &* t] &+ cb), go = dyImage + (pp[2 &* t &+ 1] &+ cb)
                                    a0.addProduct(load8(go), load8(wo))
                                    a1.addProduct(load8(go + 8), load8(wo + 8))
                                    a2.addProduct(load8(go + 16), load8(wo + 16))
                                    a3.addProduct(load8(go + 24), load8(wo + 24))
                                }
                                store8(a0, dxPix + cb); store8(a1, dxPix + (cb &+ 8)); store8(a2, dxPix + (cb &+ 16)); store8(a3, dxPix + (cb &+ 24))
                                cb &+= 32
                            }
                            while cb &+ 8 <= c {
                                var acc = SIMD8<Float>.zero
                                for t in 0..<count { acc.addProduct(load8(dyImage + (pp[2 &* t &+ 1] &+ cb)), load8(wp + (pp[2 &* t] &+ cb))) }
                                store8(acc, dxPix + cb)
                                cb &+= 8
                            }
                            while cb < c {
                                var acc: Float = 0
                                for t in 0..<count { acc += dyImage[pp[2 &* t &+ 1] &+ cb] * wp[pp[2 &* t] &+ cb] }
                                dxPix[cb] = acc
                                cb &+= 1
                            }
                        }
                    }
                }
            }
            }
        }
    }

    // MARK: Tensor conveniences

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == channels, "DepthwiseConv2D expects (N, H, W, \(channels)), got \(x.shape)")
        let g = geometry(inputHeight: x.shape[1], inputWidth: x.shape[2])
        let y = Tensor(uninitialized: [x.shape[0], g.outputHeight, g.outputWidth, channels])
        forward(x.unsafePointer, n: x.shape[0], height: x.shape[1], width: x.shape[2], into: y.unsafePointer)
        return y
    }

    public func backward(dy: Tensor, y: Tensor, inputShape: [Int]) -> Tensor {
        var d = dy
        d.withUnsafeMutableBufferPointer { _ in }
        let dx = Tensor(uninitialized: inputShape)
        backward(dy: d.unsafePointer, y: y.unsafePointer, n: inputShape[0], height: inputShape[1], width: inputShape[2], into: dx.unsafePointer)
        return dx
    }
}

@inline(__always) @usableFromInline
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
@inline(__always) @usableFromInline
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
@inline(__always) @usableFromInline
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }
