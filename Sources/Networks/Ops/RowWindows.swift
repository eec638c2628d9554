// Row windows: the backward pass computed on some rows of each image only. An EOT step needs the
// gradient of the image only where the renderer reads it (around the patch), so the early,
// high-resolution layers need their input gradient on a band of rows only, and each layer's
// output gradient on that band grown by its kernel's reach. Rows are per image, in the layer's
// own resolution; nil means every row.

extension ConvGeometry {
    /// The output rows whose kernel window (`kernel` tall, `stride`) covers some input row in
    /// `rows`, clipped to the output: what a backward pass computing dx on `rows` reads of dy.
    public func outputRows(reading rows: Range<Int>, kernel k: Int, stride s: Int) -> Range<Int> {
        reach(rows, kernel: k, stride: s, pad: padTop, outputs: outputHeight)
    }

    /// `outputRows` for columns.
    public func outputColumns(reading columns: Range<Int>, kernel k: Int, stride s: Int) -> Range<Int> {
        reach(columns, kernel: k, stride: s, pad: padLeft, outputs: outputWidth)
    }

    private func reach(_ r: Range<Int>, kernel k: Int, stride s: Int, pad: Int, outputs: Int) -> Range<Int> {
        if r.isEmpty { return 0..<0 }
        // Output o reads inputs o·s − pad ..< o·s − pad + k.
        let lo = max(0, floorDivide(r.lowerBound + pad - k, s) + 1)
        let hi = min(outputs, floorDivide(r.upperBound - 1 + pad, s) + 1)
        return lo < hi ? lo..<hi : 0..<0
    }
}

/// A rectangle of an image, per image of a batch: rows × columns (empty when either is).
public struct ImageWindow: Sendable, Equatable {
    public var rows: Range<Int>, columns: Range<Int>
    public init(rows: Range<Int>, columns: Range<Int>) { self.rows = rows; self.columns = columns }
    public var isEmpty: Bool { rows.isEmpty || columns.isEmpty }
}

@inline(__always)
func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// `rows` of N images of `height` rows, each row `rowLength` elements long, as runs of the
/// flattened (N·height·rowLength) array: image b's rows r are (b·height + r)·rowLength, and runs
/// that touch are merged (every row of every image is one run, 0 ..< N·height·rowLength).
/// nil: every row. Empty ranges are skipped; ranges are clipped to 0 ..< height.
public func flattenedRuns(_ rows: [Range<Int>]?, n: Int, height: Int, rowLength: Int) -> [Range<Int>] {
    guard let rows else { return n * height * rowLength > 0 ? [0..<(n * height * rowLength)] : [] }
    precondition(rows.count == n, "row windows: \(rows.count) for \(n) images")
    var runs: [Range<Int>] = []
    for (b, r) in rows.enumerated() {
        let lo = max(r.lowerBound, 0), hi = min(r.upperBound, height)
        if lo >= hi { continue }
        let a = (b * height + lo) * rowLength, e = (b * height + hi) * rowLength
        if let last = runs.last, last.upperBound == a { runs[runs.count - 1] = last.lowerBound..<e } else { runs.append(a..<e) }
    }
    return runs
}
