// The linear map from a photo at its own resolution to a model's square input, as `classify`
// frames it (`Image.centerSquare`: shorter side to the input size, or to size / cropFraction,
// then the centred square), and its adjoint: a whole-image perturbation made at the photo's
// resolution reaches the model, and the model's input gradient comes back, through it.
//
// Forward: out = Cy · (Rx ⊗ …) — separable: each output row is a weighted sum of input rows
// (the triangle taps of `Image.resized`, cut to the cropped rows), each output column a weighted
// sum of input columns. Adjoint: the transposed taps, scattered. The same taps as `resized`, so the
// forward equals `centerSquare` in float (cropFraction 1: exactly up to summation order;
// cropFraction < 1: `centerSquare` rounds to 8 bits as Pillow does, this does not).

public struct ModelInputOperator: Sendable {
    /// The photo's size and the model's input side.
    public let inputWidth: Int, inputHeight: Int, size: Int
    /// The resized photo's size before the crop, and the crop's top-left corner in it.
    public let resizedWidth: Int, resizedHeight: Int, left: Int, top: Int
    let columns: ResampleTaps, rows: ResampleTaps

    /// - Throws: `ImagingError.invalidImage` for sizes outside 1...`Image.maxSide`.
    public init(width: Int, height: Int, size: Int, cropFraction: Double = 1) throws(ImagingError) {
        guard (1...Image.maxSide).contains(width), (1...Image.maxSide).contains(height), (1...4096).contains(size) else {
            throw .invalidImage(reason: "cannot frame a \(width) × \(height) image for a \(size) px model input")
        }
        inputWidth = width; inputHeight = height; self.size = size
        let (w, h): (Int, Int)
        if width == size && height == size {
            (w, h) = (size, size)
        } else if cropFraction < 1 {
            let short = Image.shorterSide(forCrop: size, cropFraction: cropFraction)
            if min(width, height) == short { (w, h) = (width, height) } else {
                (w, h) = width <= height ? (short, Int(Double(short) * Double(height) / Double(width)))
                                         : (Int(Double(short) * Double(width) / Double(height)), short)
            }
        } else {
            let scale = Double(size) / Double(min(width, height))
            (w, h) = (max(size, Int((Double(width) * scale).rounded())), max(size, Int((Double(height) * scale).rounded())))
        }
        resizedWidth = max(w, size); resizedHeight = max(h, size)
        if cropFraction < 1 && !(width == size && height == size) {
            top = Int((Double(resizedHeight - size) / 2).rounded(.toNearestOrEven))
            left = Int((Double(resizedWidth - size) / 2).rounded(.toNearestOrEven))
        } else {
            (left, top) = ((resizedWidth - size) / 2, (resizedHeight - size) / 2)
        }
        columns = ResampleTaps.identityOrResize(inSize: width, outSize: resizedWidth)
        rows = ResampleTaps.identityOrResize(inSize: height, outSize: resizedHeight)
    }

    /// image (H, W, 3) → model input (size, size, 3).
    public func apply(_ image: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let W = inputWidth, S = size
        // Horizontal: (H, W, 3) → (H, S, 3), only the rows the vertical pass reads.
        let rowRange = rows.inputRange(outputs: top..<(top + S))
        var tmp = [Float](repeating: 0, count: rowRange.count * S * 3)
        tmp.withUnsafeMutableBufferPointer { t in
            for (r, y) in rowRange.enumerated() {
                for xo in 0..<S {
                    let i = left + xo, w0 = i * columns.taps, s0 = columns.starts[i]
                    var a: (Float, Float, Float) = (0, 0, 0)
                    for k in 0..<columns.counts[i] {
                        let wt = columns.weights[w0 + k], p = image + (y * W + s0 + k) * 3
                        a.0 += wt * p[0]; a.1 += wt * p[1]; a.2 += wt * p[2]
                    }
                    let o = (r * S + xo) * 3
                    t[o] = a.0; t[o + 1] = a.1; t[o + 2] = a.2
                }
            }
            // Vertical: (rows, S, 3) → (S, S, 3).
            let row = S * 3
            for yo in 0..<S {
                let i = top + yo, w0 = i * rows.taps, s0 = rows.starts[i] - rowRange.lowerBound
                let o = out + yo * row
                for j in 0..<row { o[j] = 0 }
                for k in 0..<rows.counts[i] {
                    let wt = rows.weights[w0 + k], src = t.baseAddress! + (s0 + k) * row
                    for j in 0..<row { o[j] += wt * src[j] }
                }
            }
        }
    }

    /// Array form of `apply`.
    public func apply(_ image: [Float]) -> [Float] {
        precondition(image.count == inputWidth * inputHeight * 3, "ModelInputOperator.apply: \(image.count) values for a \(inputWidth) × \(inputHeight) RGB image")
        var out = [Float](repeating: 0, count: size * size * 3)
        image.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in apply(i.baseAddress!, into: o.baseAddress!) } }
        return out
    }

    /// The adjoint: d model input (size, size, 3) → ACCUMULATES into d image (H, W, 3).
    public func adjoint(_ g: UnsafePointer<Float>, accumulateInto d: UnsafeMutablePointer<Float>) {
        let W = inputWidth, S = size, row = S * 3
        let rowRange = rows.inputRange(outputs: top..<(top + S))
        var tmp = [Float](repeating: 0, count: rowRange.count * row)
        tmp.withUnsafeMutableBufferPointer { t in
            for yo in 0..<S {
                let i = top + yo, w0 = i * rows.taps, s0 = rows.starts[i] - rowRange.lowerBound
                let src = g + yo * row
                for k in 0..<rows.counts[i] {
                    let wt = rows.weights[w0 + k], dst = t.baseAddress! + (s0 + k) * row
                    for j in 0..<row { dst[j] += wt * src[j] }
                }
            }
            for (r, y) in rowRange.enumerated() {
                for xo in 0..<S {
                    let i = left + xo, w0 = i * columns.taps, s0 = columns.starts[i]
                    let o = (r * S + xo) * 3
                    let a = (t[o], t[o + 1], t[o + 2])
                    for k in 0..<columns.counts[i] {
                        let wt = columns.weights[w0 + k], p = d + (y * W + s0 + k) * 3
                        p[0] += wt * a.0; p[1] += wt * a.1; p[2] += wt * a.2
                    }
                }
            }
        }
    }

    /// Array form of `adjoint`: returns d image (H, W, 3).
    public func adjoint(_ g: [Float]) -> [Float] {
        precondition(g.count == size * size * 3, "ModelInputOperator.adjoint: \(g.count) values for a \(size) × \(size) RGB input")
        var d = [Float](repeating: 0, count: inputWidth * inputHeight * 3)
        g.withUnsafeBufferPointer { gp in d.withUnsafeMutableBufferPointer { dp in adjoint(gp.baseAddress!, accumulateInto: dp.baseAddress!) } }
        return d
    }
}

extension ResampleTaps {
    /// `init(inSize:outSize:)`, or one tap of weight 1 per index when the sizes are equal
    /// (what `resized` does then: nothing).
    static func identityOrResize(inSize: Int, outSize: Int) -> ResampleTaps {
        guard inSize == outSize else { return ResampleTaps(inSize: inSize, outSize: outSize) }
        return ResampleTaps(identity: inSize)
    }

    init(identity n: Int) {
        starts = Array(0..<n); counts = [Int](repeating: 1, count: n)
        weights = [Float](repeating: 1, count: n); fixed = [Int32](repeating: 1 << 22, count: n); taps = 1
    }

    /// The input indices that outputs `range` read.
    func inputRange(outputs range: Range<Int>) -> Range<Int> {
        var lo = Int.max, hi = Int.min
        for i in range where counts[i] > 0 { lo = min(lo, starts[i]); hi = max(hi, starts[i] + counts[i]) }
        return lo <= hi ? lo..<hi : 0..<0
    }
}
