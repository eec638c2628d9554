// Op tests in a fixed order: fast kernel vs naive reference (forward), then backward vs central
// differences of the naive forward in Double. Inputs keep away from ReLU6's kinks at 0 and 6 by
// construction (|pre-activation| small values are possible but a 1e-5 step crossing a kink is
// improbable; the tolerance is 1e-3 relative, while a crossed kink would give an O(1) error).
import Testing
import Networks
import Foundation

struct ConvCase: CustomTestStringConvertible, Sendable {
    var h: Int, w: Int, cin: Int, cout: Int, k: Int, stride: Int, groups: Int, padding: Padding, activation: Activation
    var testDescription: String { "\(h)×\(w)×\(cin)→\(cout) k\(k) s\(stride) g\(groups) \(padding) \(activation)" }
}

let convCases: [ConvCase] = [
    ConvCase(h: 5, w: 4, cin: 6, cout: 5, k: 1, stride: 1, groups: 1, padding: .same, activation: .none),      // pointwise GEMM path
    ConvCase(h: 7, w: 6, cin: 3, cout: 4, k: 3, stride: 2, groups: 1, padding: .same, activation: .relu6),     // stem-like, asymmetric SAME
    ConvCase(h: 6, w: 6, cin: 4, cout: 6, k: 3, stride: 1, groups: 2, padding: .same, activation: .none),      // grouped
    ConvCase(h: 5, w: 7, cin: 2, cout: 3, k: 3, stride: 2, groups: 1, padding: .explicit(top: 1, bottom: 0, left: 2, right: 1), activation: .none),
    ConvCase(h: 6, w: 5, cin: 3, cout: 2, k: 2, stride: 1, groups: 1, padding: .valid, activation: .relu6),
    ConvCase(h: 9, w: 8, cin: 3, cout: 16, k: 3, stride: 2, groups: 1, padding: .same, activation: .relu6),   // direct (stem) path
    ConvCase(h: 5, w: 6, cin: 2, cout: 8, k: 3, stride: 1, groups: 1, padding: .valid, activation: .none),    // direct path, VALID
    ConvCase(h: 9, w: 11, cin: 3, cout: 32, k: 3, stride: 2, groups: 1, padding: .same, activation: .relu6),  // direct, two pixels at a time (the stem)
    ConvCase(h: 4, w: 7, cin: 2, cout: 64, k: 3, stride: 1, groups: 1, padding: .explicit(top: 1, bottom: 0, left: 2, right: 0), activation: .none),
    // ReLU (ONNX graphs fuse a Relu into the convolution): pointwise, im2col, and a shape the direct path would take.
    ConvCase(h: 5, w: 4, cin: 6, cout: 13, k: 1, stride: 1, groups: 1, padding: .same, activation: .relu),
    ConvCase(h: 7, w: 6, cin: 8, cout: 12, k: 3, stride: 1, groups: 2, padding: .explicit(top: 1, bottom: 1, left: 1, right: 1), activation: .relu),
    ConvCase(h: 9, w: 8, cin: 3, cout: 16, k: 3, stride: 2, groups: 1, padding: .same, activation: .relu),
    // Implicit GEMM (AVX-512 machines): more than one tile of pixels and of channels, the
    // ResNet stem, a strided 1×1 (phases without taps), and pads wider than the kernel.
    ConvCase(h: 5, w: 13, cin: 4, cout: 35, k: 3, stride: 1, groups: 1, padding: .same, activation: .relu),
    ConvCase(h: 9, w: 9, cin: 3, cout: 12, k: 7, stride: 2, groups: 1, padding: .explicit(top: 3, bottom: 3, left: 3, right: 3), activation: .relu),
    ConvCase(h: 6, w: 6, cin: 5, cout: 6, k: 1, stride: 2, groups: 1, padding: .valid, activation: .none),
    ConvCase(h: 4, w: 5, cin: 3, cout: 7, k: 2, stride: 1, groups: 1, padding: .explicit(top: 2, bottom: 0, left: 3, right: 1), activation: .relu6),
]

/// Shapes for the implicit-GEMM kernel against im2col + OpenBLAS: tiles of 1–12 pixels, panels
/// of 32 output channels with a tail, asymmetric pads, strides 1 and 2, every activation.
let implicitCases: [ConvCase] = [
    ConvCase(h: 12, w: 23, cin: 40, cout: 70, k: 3, stride: 1, groups: 1, padding: .same, activation: .relu),
    ConvCase(h: 9, w: 10, cin: 5, cout: 33, k: 5, stride: 1, groups: 1, padding: .explicit(top: 2, bottom: 1, left: 0, right: 3), activation: .relu6),
    ConvCase(h: 30, w: 30, cin: 3, cout: 64, k: 7, stride: 2, groups: 1, padding: .explicit(top: 3, bottom: 3, left: 3, right: 3), activation: .relu),
    ConvCase(h: 14, w: 14, cin: 64, cout: 128, k: 3, stride: 2, groups: 1, padding: .explicit(top: 1, bottom: 1, left: 1, right: 1), activation: .none),
    ConvCase(h: 14, w: 14, cin: 64, cout: 96, k: 1, stride: 2, groups: 1, padding: .valid, activation: .none),
    ConvCase(h: 7, w: 12, cin: 96, cout: 32, k: 3, stride: 1, groups: 1, padding: .valid, activation: .none),
    ConvCase(h: 3, w: 1, cin: 8, cout: 5, k: 3, stride: 1, groups: 1, padding: .same, activation: .relu),
]

@Test("Conv2D output shape follows TF SAME / VALID rules")
func convShapes() {
    #expect(ConvGeometry(padding: .same, inputHeight: 224, inputWidth: 224, kernelHeight: 3, kernelWidth: 3, stride: 2)
        == ConvGeometry(padding: .explicit(top: 0, bottom: 1, left: 0, right: 1), inputHeight: 224, inputWidth: 224, kernelHeight: 3, kernelWidth: 3, stride: 2))
    let g = ConvGeometry(padding: .same, inputHeight: 56, inputWidth: 56, kernelHeight: 5, kernelWidth: 5, stride: 2)
    #expect(g.outputHeight == 28 && g.padTop == 1)   // total 3: 1 top, 2 bottom (TF puts the odd pixel last)
    let v = ConvGeometry(padding: .valid, inputHeight: 7, inputWidth: 7, kernelHeight: 3, kernelWidth: 3, stride: 2)
    #expect(v.outputHeight == 3 && v.padTop == 0)
}

@Test("Conv2D fast path matches the naive reference", arguments: convCases)
func convForward(_ c: ConvCase) {
    let n = 2
    let x = randomValues(n * c.h * c.w * c.cin, seed: 1)
    let wt = randomValues(c.cout * (c.cin / c.groups) * c.k * c.k, seed: 2)
    let b = randomValues(c.cout, seed: 3)
    let conv = Conv2D(torchWeight: wt, bias: b, outputChannels: c.cout, inputChannels: c.cin, kernelHeight: c.k, kernelWidth: c.k,
                      stride: c.stride, groups: c.groups, padding: c.padding, activation: c.activation)
    let y = conv.forward(Tensor(shape: [n, c.h, c.w, c.cin], values: x))
    let ref = Conv2D.referenceForward(x: x.map(Double.init), n: n, h: c.h, w: c.w, torchWeight: wt.map(Double.init), bias: b.map(Double.init),
                                      inputChannels: c.cin, outputChannels: c.cout, kernelHeight: c.k, kernelWidth: c.k,
                                      stride: c.stride, groups: c.groups, padding: c.padding, activation: c.activation)
    #expect(y.count == ref.count)
    #expect(maxAbsError(y.array, ref) < 1e-5, "max |Δ| = \(maxAbsError(y.array, ref))")
}

@Test("Conv2D backward to input matches central differences (Double)", arguments: convCases)
func convBackward(_ c: ConvCase) {
    let n = 2
    let x = randomValues(n * c.h * c.w * c.cin, in: -2...2, seed: 4)
    let wt = randomValues(c.cout * (c.cin / c.groups) * c.k * c.k, seed: 5)
    let b = randomValues(c.cout, in: 0...3, seed: 6)
    let conv = Conv2D(torchWeight: wt, bias: b, outputChannels: c.cout, inputChannels: c.cin, kernelHeight: c.k, kernelWidth: c.k,
                      stride: c.stride, groups: c.groups, padding: c.padding, activation: c.activation)
    let xt = Tensor(shape: [n, c.h, c.w, c.cin], values: x)
    let y = conv.forward(xt)
    let r = randomValues(y.count, seed: 7)
    let dx = conv.backward(dy: Tensor(shape: y.shape, values: r), y: y, inputShape: xt.shape)
    let num = numericalGradient(x: x, r: r) { xd in
        Conv2D.referenceForward(x: xd, n: n, h: c.h, w: c.w, torchWeight: wt.map(Double.init), bias: b.map(Double.init),
                                inputChannels: c.cin, outputChannels: c.cout, kernelHeight: c.k, kernelWidth: c.k,
                                stride: c.stride, groups: c.groups, padding: c.padding, activation: c.activation)
    }
    let err = maxRelativeError(dx.array, num)
    #expect(err < 1e-3, "max relative error \(err)")
}

@Test("Conv2D backward with reluOfInput equals backward then the input's ReLU6 backward", arguments: convCases)
func convBackwardMaskedByInputReLU(_ c: ConvCase) {
    let n = 2
    let wt = randomValues(c.cout * (c.cin / c.groups) * c.k * c.k, seed: 8)
    let conv = Conv2D(torchWeight: wt, bias: randomValues(c.cout, seed: 9), outputChannels: c.cout, inputChannels: c.cin,
                      kernelHeight: c.k, kernelWidth: c.k, stride: c.stride, groups: c.groups, padding: c.padding, activation: c.activation)
    // x as the output of a ReLU6 layer: values at 0, strictly inside (0, 6) and at 6.
    let x = randomValues(n * c.h * c.w * c.cin, in: -2...8, seed: 10).map { min(max($0, 0), 6) }
    let xt = Tensor(shape: [n, c.h, c.w, c.cin], values: x)
    let y = conv.forward(xt)
    let r = randomValues(y.count, seed: 11)
    let plain = conv.backward(dy: Tensor(shape: y.shape, values: r), y: y, inputShape: xt.shape)
    let expected = ReLU6.backward(dy: plain, y: xt)
    var dy = Tensor(shape: y.shape, values: r)
    dy.withUnsafeMutableBufferPointer { _ in }
    let dx = Tensor(uninitialized: xt.shape)
    conv.backward(dy: dy.unsafePointer, y: y.unsafePointer, n: n, height: c.h, width: c.w, into: dx.unsafePointer,
                  reluOfInput: xt.unsafePointer, workspace: Workspace())
    #expect(dx.array == expected.array)
    #expect(x.contains(0) && x.contains(6))
}

struct DepthwiseCase: CustomTestStringConvertible, Sendable {
    var h: Int, w: Int, c: Int, k: Int, stride: Int, activation: Activation
    var testDescription: String { "\(h)×\(w)×\(c) k\(k) s\(stride) \(activation)" }
}

let depthwiseCases: [DepthwiseCase] = [
    DepthwiseCase(h: 6, w: 5, c: 8, k: 3, stride: 1, activation: .relu6),
    DepthwiseCase(h: 9, w: 8, c: 40, k: 5, stride: 2, activation: .relu6),    // 32-lane block + 8-lane block
    DepthwiseCase(h: 7, w: 7, c: 13, k: 3, stride: 2, activation: .none),     // scalar channel tail
    DepthwiseCase(h: 4, w: 6, c: 72, k: 5, stride: 1, activation: .none),     // kernel wider than the image
]

@Test("DepthwiseConv2D SIMD kernel matches the naive reference", arguments: depthwiseCases)
func depthwiseForward(_ d: DepthwiseCase) {
    let n = 2
    let x = randomValues(n * d.h * d.w * d.c, seed: 11)
    let wt = randomValues(d.c * d.k * d.k, seed: 12)
    let b = randomValues(d.c, seed: 13)
    let op = DepthwiseConv2D(torchWeight: wt, bias: b, channels: d.c, kernelSize: d.k, stride: d.stride, activation: d.activation)
    let y = op.forward(Tensor(shape: [n, d.h, d.w, d.c], values: x))
    let ref = Conv2D.referenceForward(x: x.map(Double.init), n: n, h: d.h, w: d.w, torchWeight: wt.map(Double.init), bias: b.map(Double.init),
                                      inputChannels: d.c, outputChannels: d.c, kernelHeight: d.k, kernelWidth: d.k,
                                      stride: d.stride, groups: d.c, padding: .same, activation: d.activation)
    #expect(maxAbsError(y.array, ref) < 1e-5, "max |Δ| = \(maxAbsError(y.array, ref))")
}

@Test("DepthwiseConv2D backward matches central differences (Double)", arguments: depthwiseCases)
func depthwiseBackward(_ d: DepthwiseCase) {
    let n = 1
    let x = randomValues(n * d.h * d.w * d.c, in: -2...2, seed: 14)
    let wt = randomValues(d.c * d.k * d.k, seed: 15)
    let b = randomValues(d.c, in: 0...3, seed: 16)
    let op = DepthwiseConv2D(torchWeight: wt, bias: b, channels: d.c, kernelSize: d.k, stride: d.stride, activation: d.activation)
    let xt = Tensor(shape: [n, d.h, d.w, d.c], values: x)
    let y = op.forward(xt)
    let r = randomValues(y.count, seed: 17)
    let dx = op.backward(dy: Tensor(shape: y.shape, values: r), y: y, inputShape: xt.shape)
    let num = numericalGradient(x: x, r: r) { xd in
        Conv2D.referenceForward(x: xd, n: n, h: d.h, w: d.w, torchWeight: wt.map(Double.init), bias: b.map(Double.init),
                                inputChannels: d.c, outputChannels: d.c, kernelHeight: d.k, kernelWidth: d.k,
                                stride: d.stride, groups: d.c, padding: .same, activation: d.activation)
    }
    let err = maxRelativeError(dx.array, num)
    #expect(err < 1e-3, "max relative error \(err)")
}

@Test("ReLU6 forward clamps and backward passes gradient only inside (0, 6)")
func relu6() {
    let x = Tensor(shape: [6], values: [-1, 0, 0.5, 5.9, 6, 7])
    let y = ReLU6.forward(x)
    #expect(y.array == [0, 0, 0.5, 5.9, 6, 6])
    let dx = ReLU6.backward(dy: Tensor(shape: [6], values: [1, 1, 1, 1, 1, 1]), y: y)
    // One-sided at the kinks: exactly 0 or 6 pass no gradient (PyTorch's hardtanh rule).
    #expect(dx.array == [0, 0, 1, 1, 0, 0])
    // Away from kinks: central differences.
    let xs = randomValues(40, in: -3...9, seed: 21).map { abs($0) < 0.01 || abs($0 - 6) < 0.01 ? $0 + 0.1 : $0 }
    let r = randomValues(40, seed: 22)
    let g = ReLU6.backward(dy: Tensor(shape: [40], values: r), y: ReLU6.forward(Tensor(shape: [40], values: xs)))
    let num = numericalGradient(x: xs, r: r) { $0.map { min(max($0, 0), 6) } }
    #expect(maxAbsError(g.array, num) < 1e-6)
}

@Test("Linear forward matches a naive product; backward matches central differences")
func linear() {
    let (n, fin, fout) = (3, 7, 5)
    let x = randomValues(n * fin, seed: 31), w = randomValues(fout * fin, seed: 32), b = randomValues(fout, seed: 33)
    let op = Linear(weight: w, bias: b, inputFeatures: fin, outputFeatures: fout)
    func ref(_ xd: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: n * fout)
        for i in 0..<n { for o in 0..<fout {
            var s = Double(b[o]); for j in 0..<fin { s += xd[i * fin + j] * Double(w[o * fin + j]) }; y[i * fout + o] = s
        } }
        return y
    }
    let y = op.forward(Tensor(shape: [n, fin], values: x))
    #expect(maxAbsError(y.array, ref(x.map(Double.init))) < 1e-5)
    let r = randomValues(n * fout, seed: 34)
    let dx = op.backward(dy: Tensor(shape: [n, fout], values: r))
    #expect(maxRelativeError(dx.array, numericalGradient(x: x, r: r, ref)) < 1e-4)
}

@Test("GlobalAveragePool forward averages; backward spreads evenly")
func pooling() {
    let (n, h, w, c) = (2, 3, 4, 5)
    let x = randomValues(n * h * w * c, seed: 41)
    func ref(_ xd: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: n * c)
        for b in 0..<n { for p in 0..<(h * w) { for ch in 0..<c { y[b * c + ch] += xd[(b * h * w + p) * c + ch] / Double(h * w) } } }
        return y
    }
    let y = GlobalAveragePool.forward(Tensor(shape: [n, h, w, c], values: x))
    #expect(maxAbsError(y.array, ref(x.map(Double.init))) < 1e-6)
    let r = randomValues(n * c, seed: 42)
    let dx = GlobalAveragePool.backward(dy: Tensor(shape: [n, c], values: r), inputShape: [n, h, w, c])
    #expect(maxAbsError(dx.array, numericalGradient(x: x, r: r, ref)) < 1e-6)
}

@Test("Add and the input normalisation: forward and backward")
func addAndNormalization() {
    let a = Tensor(shape: [4], values: [1, 2, 3, 4]), b = Tensor(shape: [4], values: [0.5, -1, 2, 0])
    #expect(Add.forward(a, b).array == [1.5, 1, 5, 4])
    let (da, db) = Add.backward(dy: a)
    #expect(da.array == a.array && db.array == a.array)
    let norm = AffineNormalization(scale: 255.0 / 128.0, shift: -127.0 / 128.0)
    let y = norm.forward(Tensor(shape: [3], values: [0, 127.0 / 255.0, 1]))
    #expect(abs(y[flat: 0] + 127.0 / 128.0) < 1e-6 && abs(y[flat: 1]) < 1e-6 && abs(y[flat: 2] - 1) < 1e-6)
    var dx = [Float](repeating: 0, count: 3)
    dx.withUnsafeMutableBufferPointer { norm.backward(dy: [1, 2, 3], into: $0.baseAddress!, count: 3) }
    #expect(dx == [1, 2, 3].map { $0 * 255 / 128 })
}

@Test("Softmax, log-softmax and cross-entropy: values and gradients")
func softmaxFamily() {
    let (n, k) = (2, 6)
    let x = randomValues(n * k, in: -4...4, seed: 51)
    func softmaxRef(_ xd: [Double]) -> [Double] {
        var y = xd
        for i in 0..<n {
            let m = xd[(i * k)..<(i * k + k)].max()!
            let s = (0..<k).reduce(0.0) { $0 + exp(xd[i * k + $1] - m) }
            for j in 0..<k { y[i * k + j] = exp(xd[i * k + j] - m) / s }
        }
        return y
    }
    let xt = Tensor(shape: [n, k], values: x)
    let p = Softmax.forward(xt)
    #expect(maxAbsError(p.array, softmaxRef(x.map(Double.init))) < 1e-6)
    let r = randomValues(n * k, seed: 52)
    #expect(maxAbsError(Softmax.backward(dy: Tensor(shape: [n, k], values: r), y: p).array, numericalGradient(x: x, r: r, softmaxRef)) < 1e-5)
    let lp = LogSoftmax.forward(xt)
    let lsRef: ([Double]) -> [Double] = { softmaxRef($0).map { log($0) } }
    #expect(maxAbsError(lp.array, lsRef(x.map(Double.init))) < 1e-5)
    #expect(maxAbsError(LogSoftmax.backward(dy: Tensor(shape: [n, k], values: r), y: lp).array, numericalGradient(x: x, r: r, lsRef)) < 1e-5)
    let targets = [3, 0]
    let ce = CrossEntropy.forward(logits: xt, targets: targets)
    let ceRef: ([Double]) -> [Double] = { xd in
        let l = lsRef(xd); return [-(l[targets[0]] + l[k + targets[1]]) / Double(n)]
    }
    #expect(abs(ce.loss - ceRef(x.map(Double.init))[0]) < 1e-6)
    let g = CrossEntropy.backward(probabilities: ce.probabilities, targets: targets)
    #expect(maxAbsError(g.array, numericalGradient(x: x, r: [1], ceRef)) < 1e-5)
    // Stable for huge logits.
    let big = CrossEntropy.forward(logits: Tensor(shape: [1, 3], values: [1000, 0, -1000]), targets: [0])
    #expect(big.loss.isFinite && big.loss < 1e-6)
}

@Test("GEMM (OpenBLAS, row-split over threads) matches the naive triple loop for every transpose")
func gemm() {
    for (ta, tb) in [(Transpose.none, Transpose.none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)] {
        let (m, n, k) = (257, 33, 130)   // large enough to take the threaded path
        let a = randomValues(m * k, seed: 61), b = randomValues(k * n, seed: 62)
        let lda = ta == .none ? k : m, ldb = tb == .none ? n : k
        var ref = randomValues(m * n, seed: 63)
        var c = ref
        Gemm.multiplyNaive(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &ref, ldc: n)
        c.withUnsafeMutableBufferPointer { cp in
            Gemm.multiply(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: cp.baseAddress!, ldc: n)
        }
        let err = zip(c, ref).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(err < 1e-3, "\(ta) \(tb): max |Δ| \(err)")
    }
}

@Test("AVX-512 packed GEMM matches the naive triple loop on odd shapes (rows not a multiple of 12, columns of 32), B plain or transposed, C accumulated or not")
func packedGemm() throws {
    guard Gemm.hasAVX512 else {
        // Never taken on a machine without AVX-512: no packed operand is built, so no layer calls it,
        // whatever ROBUSTPATCH_KERNELS says.
        #expect(!Gemm.usesAVX512)
        var b = [Float](repeating: 1, count: 4)
        #expect(b.withUnsafeMutableBufferPointer { PackedMatrix(b: $0.baseAddress!, k: 2, n: 2, ldb: 2, transposed: false) } == nil)
        print("packed GEMM: this CPU has no AVX-512F; the OpenBLAS path is the one in use")
        return
    }
    for (m, n, k) in [(1, 1, 1), (13, 17, 3), (12, 32, 16), (25, 33, 7), (7, 100, 40), (50, 31, 129), (3, 64, 1)] {
        for transposed in [false, true] {
            for accumulate in [false, true] {
                let b = randomValues(k * n, seed: UInt64(m * 7 + n)), a = randomValues(m * (k + 2), seed: UInt64(k * 5 + m))
                let ldb = transposed ? k : n, lda = k + 2, ldc = n + 3
                let packed = try #require(b.withUnsafeBufferPointer {
                    PackedMatrix(b: $0.baseAddress!, k: k, n: n, ldb: ldb, transposed: transposed)
                })
                var ref = randomValues(m * ldc, seed: 99)
                var c = ref
                Gemm.multiplyNaive(.none, transposed ? .transposed : .none, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                   beta: accumulate ? 1 : 0, c: &ref, ldc: ldc)
                c.withUnsafeMutableBufferPointer { cp in
                    Gemm.multiply(m: m, a: a, lda: lda, packed: packed, accumulate: accumulate, c: cp.baseAddress!, ldc: ldc)
                }
                // The padding columns of each row of C stay untouched.
                var err: Float = 0
                for i in 0..<(m * ldc) { err = max(err, abs(c[i] - ref[i])) }
                #expect(err < 1e-4, "m \(m) n \(n) k \(k) transposed \(transposed) accumulate \(accumulate): max |Δ| \(err)")
            }
        }
    }
}

@Test("Implicit-GEMM convolution (AVX-512) matches im2col + OpenBLAS, forward and backward (written and accumulated, whole and in row windows)",
      arguments: implicitCases)
func implicitConvolution(_ c: ConvCase) throws {
    let n = 3
    let conv = Conv2D(torchWeight: randomValues(c.cout * c.cin * c.k * c.k, seed: 61), bias: randomValues(c.cout, seed: 62), outputChannels: c.cout,
                      inputChannels: c.cin, kernelHeight: c.k, kernelWidth: c.k, stride: c.stride, padding: c.padding, activation: c.activation)
    guard Gemm.hasAVX512 && Gemm.usesImplicitConvolution else {
        #expect(!conv.usesImplicitKernel)
        print("implicit convolution: not in use on this machine (no AVX-512F, or ROBUSTPATCH_KERNELS=openblas); im2col + OpenBLAS runs")
        return
    }
    #expect(conv.usesImplicitKernel)
    let reference = conv.withoutImplicitKernel()
    #expect(!reference.usesImplicitKernel)
    let x = Tensor(shape: [n, c.h, c.w, c.cin], values: randomValues(n * c.h * c.w * c.cin, in: -2...2, seed: 63))
    let y = conv.forward(x), yRef = reference.forward(x)
    let scale = Double(max(1, yRef.array.map { abs($0) }.max() ?? 1))
    #expect(y.shape == yRef.shape)
    #expect(maxAbsError(y.array, yRef.array.map(Double.init)) <= 1e-5 * scale, "forward: max |Δ| \(maxAbsError(y.array, yRef.array.map(Double.init)))")
    let dy = randomValues(y.count, seed: 64)
    let rows = rowWindows(n: n, h: c.h)
    for accumulate in [false, true] {
        for window in [nil, rows] {
            var results: [[Float]] = []
            for op in [conv, reference] {
                var d = dy
                var dx = randomValues(x.count, seed: 65)
                yRef.array.withUnsafeBufferPointer { yp in d.withUnsafeMutableBufferPointer { dp in dx.withUnsafeMutableBufferPointer { xp in
                    op.backward(dy: dp.baseAddress!, y: yp.baseAddress!, n: n, height: c.h, width: c.w, into: xp.baseAddress!,
                                accumulate: accumulate, rows: window, workspace: Workspace())
                } } }
                results.append(dx)
            }
            let gscale = max(1, results[1].map { abs($0) }.max() ?? 1)
            for b in 0..<n { for iy in window?[b] ?? 0..<c.h {
                let at = (b * c.h + iy) * c.w * c.cin, end = at + c.w * c.cin
                let e = zip(results[0][at..<end], results[1][at..<end]).map { abs($0 - $1) }.max() ?? 0
                #expect(e <= 1e-5 * Float(gscale), "backward (accumulate \(accumulate), window \(window != nil)) image \(b) row \(iy): max |Δ| \(e)")
            } }
        }
    }
}

// MARK: backward in a window

/// Rows per image for a window test: a middle band, the top edge, nothing, the bottom edge,
/// a single row and all rows (cycled over the images).
private func rowWindows(n: Int, h: Int) -> [Range<Int>] {
    let choices = [(h / 3)..<max(h / 3 + 1, 2 * h / 3), 0..<min(2, h), 0..<0, max(0, h - 2)..<h, (h / 2)..<(h / 2 + 1), 0..<h]
    return (0..<n).map { choices[$0 % choices.count] }
}

@Test("ConvGeometry.outputRows/outputColumns: exactly the outputs whose window covers an input of the band")
func outputRowsMatchBruteForce() {
    for (h, k, s, pad) in [(7, 3, 2, Padding.same), (8, 5, 2, .same), (9, 3, 1, .same), (6, 2, 1, .valid), (5, 3, 2, .explicit(top: 1, bottom: 0, left: 2, right: 0))] {
        let g = ConvGeometry(padding: pad, inputHeight: h, inputWidth: h + 1, kernelHeight: k, kernelWidth: k, stride: s)
        for lo in 0...h { for hi in lo...h {
            let brute = (0..<g.outputHeight).filter { o in (0..<k).contains { (lo..<hi).contains(o * s - g.padTop + $0) } }
            #expect(Array(g.outputRows(reading: lo..<hi, kernel: k, stride: s)) == brute, "h \(h) k \(k) s \(s) \(pad) rows \(lo)..<\(hi)")
            let bruteColumns = (0..<g.outputWidth).filter { o in (0..<k).contains { (lo..<hi).contains(o * s - g.padLeft + $0) } }
            #expect(Array(g.outputColumns(reading: lo..<hi, kernel: k, stride: s)) == bruteColumns, "w \(h + 1) k \(k) s \(s) \(pad) columns \(lo)..<\(hi)")
        } }
    }
}

/// Columns per image for a window test (cycled differently from the rows).
private func columnWindows(n: Int, w: Int) -> [Range<Int>] {
    let choices = [0..<w, 1..<max(1, w - 1), max(0, w - 3)..<w, 0..<1, (w / 2)..<w]
    return (0..<n).map { choices[($0 + 1) % choices.count] }
}

/// dy with NaN on every pixel the window's backward must not read: any such read shows as NaN.
private func poisoned(_ dy: [Float], n: Int, oh: Int, ow: Int, channels c: Int, rows: [Range<Int>], columns: [Range<Int>]) -> [Float] {
    var d = dy
    for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow where !rows[b].contains(oy) || !columns[b].contains(ox) {
        for j in 0..<c { d[((b * oh + oy) * ow + ox) * c + j] = .nan }
    } } }
    return d
}

@Test("DepthwiseConv2D backward in a window (rows, or rows and columns): bit for bit there, reading dy only where it reaches", arguments: depthwiseCases)
func depthwiseBackwardInWindow(_ d: DepthwiseCase) {
    let n = 6
    let op = DepthwiseConv2D(torchWeight: randomValues(d.c * d.k * d.k, seed: 41), bias: randomValues(d.c, seed: 42), channels: d.c,
                             kernelSize: d.k, stride: d.stride, activation: d.activation)
    let x = Tensor(shape: [n, d.h, d.w, d.c], values: randomValues(n * d.h * d.w * d.c, in: -2...2, seed: 43))
    let y = op.forward(x)
    let g = op.geometry(inputHeight: d.h, inputWidth: d.w)
    let dy = randomValues(y.count, seed: 44)
    let full = op.backward(dy: Tensor(shape: y.shape, values: dy), y: y, inputShape: x.shape)
    let rows = rowWindows(n: n, h: d.h), columns = columnWindows(n: n, w: d.w)
    let p0 = poisoned(dy, n: n, oh: g.outputHeight, ow: g.outputWidth, channels: d.c,
                      rows: rows.map { g.outputRows(reading: $0, kernel: d.k, stride: d.stride) },
                      columns: columns.map { g.outputColumns(reading: $0, kernel: d.k, stride: d.stride) })
    for withColumns in [false, true] {
        var p = withColumns ? p0 : poisoned(dy, n: n, oh: g.outputHeight, ow: g.outputWidth, channels: d.c,
                                            rows: rows.map { g.outputRows(reading: $0, kernel: d.k, stride: d.stride) },
                                            columns: Array(repeating: 0..<g.outputWidth, count: n))
        var dx = [Float](repeating: 7, count: x.count)
        y.array.withUnsafeBufferPointer { yp in p.withUnsafeMutableBufferPointer { pp in dx.withUnsafeMutableBufferPointer { dp in
            op.backward(dy: pp.baseAddress!, y: yp.baseAddress!, n: n, height: d.h, width: d.w, into: dp.baseAddress!, rows: rows,
                        columns: withColumns ? columns : nil)
        } } }
        for b in 0..<n { for iy in 0..<d.h { for ix in 0..<d.w {
            let at = ((b * d.h + iy) * d.w + ix) * d.c
            let got = Array(dx[at..<(at + d.c)]), want = Array(full.array[at..<(at + d.c)])
            if rows[b].contains(iy) && (!withColumns || columns[b].contains(ix)) {
                #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "image \(b) pixel (\(ix), \(iy))")
            } else {
                #expect(got.allSatisfy { $0 == 7 }, "image \(b) pixel (\(ix), \(iy)) outside the window is not written")
            }
        } } }
    }
}

@Test("Conv2D backward in a window (pointwise GEMM: rows; direct stem path: rows and columns), reading dy only where it reaches",
      arguments: [convCases[0], convCases[5], convCases[7], convCases[8],
                  ConvCase(h: 13, w: 9, cin: 24, cout: 144, k: 1, stride: 1, groups: 1, padding: .same, activation: .relu6)])
func convBackwardInWindow(_ c: ConvCase) {
    let n = 6
    let op = Conv2D(torchWeight: randomValues(c.cout * c.cin * c.k * c.k, seed: 51), bias: randomValues(c.cout, seed: 52), outputChannels: c.cout,
                    inputChannels: c.cin, kernelHeight: c.k, kernelWidth: c.k, stride: c.stride, padding: c.padding, activation: c.activation)
    let x = Tensor(shape: [n, c.h, c.w, c.cin], values: randomValues(n * c.h * c.w * c.cin, in: -2...2, seed: 53))
    let y = op.forward(x)
    let g = op.geometry(inputHeight: c.h, inputWidth: c.w)
    let dy = randomValues(y.count, seed: 54)
    let full = op.backward(dy: Tensor(shape: y.shape, values: dy), y: y, inputShape: x.shape)
    // Columns narrow the direct (stem) path only; the pointwise path computes whole rows.
    let rows = rowWindows(n: n, h: c.h)
    let columns = c.k > 1 ? columnWindows(n: n, w: c.w) : Array(repeating: 0..<c.w, count: n)
    var p = poisoned(dy, n: n, oh: g.outputHeight, ow: g.outputWidth, channels: c.cout,
                     rows: rows.map { g.outputRows(reading: $0, kernel: c.k, stride: c.stride) },
                     columns: columns.map { g.outputColumns(reading: $0, kernel: c.k, stride: c.stride) })
    var dx = [Float](repeating: 7, count: x.count)
    y.array.withUnsafeBufferPointer { yp in p.withUnsafeMutableBufferPointer { pp in dx.withUnsafeMutableBufferPointer { dp in
        op.backward(dy: pp.baseAddress!, y: yp.baseAddress!, n: n, height: c.h, width: c.w, into: dp.baseAddress!, rows: rows,
                    columns: c.k > 1 ? columns : nil, workspace: Workspace())
    } } }
    let scale = full.array.map { abs($0) }.max() ?? 1
    for b in 0..<n { for iy in 0..<c.h where rows[b].contains(iy) { for ix in columns[b] {
        let at = ((b * c.h + iy) * c.w + ix) * c.cin
        let e = zip(dx[at..<(at + c.cin)], full.array[at..<(at + c.cin)]).map { abs($0 - $1) }.max() ?? .nan
        #expect(e <= 1e-6 * scale, "image \(b) pixel (\(ix), \(iy)): max |Δ| \(e)")
    } } }
}
