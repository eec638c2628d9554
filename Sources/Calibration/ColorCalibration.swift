// `ColorCalibration`: the fitted printed→captured colour transform (3 × 3 matrix + bias, and the
// per-channel gain/bias the renderer's printer model takes), the measured printable palette, and
// provenance, as a Codable value (calibration.json). Not the photo analysis (Calibrator.swift).
import Foundation
import Imaging
import TextSafety
import Transforms

public struct ColorCalibration: Codable, Sendable, Equatable {
    public static let formatName = "robustpatch-color-calibration"
    public static let formatVersion = 1

    /// Where a marker position came from.
    public struct MarkerRecord: Codable, Sendable, Equatable {
        public var name: String
        public var x: Double
        public var y: Double
        /// "detected" or "given" (--corners).
        public var source: String
    }

    public struct Provenance: Codable, Sendable, Equatable {
        public var tool: String
        public var date: String
        public var photo: String
        public var photoWidth: Int
        public var photoHeight: Int
        /// The chart layout file, or "built-in default (a4, 300 dpi, 8x8)".
        public var chart: String
        public var method: String
    }

    public var format: String
    public var version: Int
    /// captured = clamp(matrix · printed + bias, 0, 1); RGB in [0, 1], row-major 3 × 3.
    public var matrix: [Double]
    public var bias: [Double]
    /// Fit residual over all patches and channels, in 0–255 units.
    public var residualRMS: Double
    public var residualMax: Double
    /// The per-channel model captured_c = gain_c · printed_c + bias_c, fitted on its own by
    /// least squares (not the diagonal of `matrix`), with its residual in 0–255 units.
    public var channelGain: [Double]
    public var channelBias: [Double]
    public var channelResidualRMS: Double
    /// Measured colours of the patches (what printer + camera produce), RGB in [0, 1], in the
    /// chart's patch order. This is the printable palette for the non-printability score.
    public var palette: [SIMD3<Float>]
    /// The printed colours of the same patches, 0–255.
    public var printed: [[Int]]
    /// Per-patch spread (robust standard deviation inside the sampled region, 0–255 units).
    public var patchSpread: [Double]
    public var markers: [MarkerRecord]
    public var provenance: Provenance

    /// The fitted transform applied to one colour, clamped to [0, 1].
    public func apply(_ rgb: SIMD3<Float>) -> SIMD3<Float> {
        let m = matrix.map(Float.init), b = bias.map(Float.init)
        let out = SIMD3(m[0] * rgb.x + m[1] * rgb.y + m[2] * rgb.z + b[0],
                        m[3] * rgb.x + m[4] * rgb.y + m[5] * rgb.z + b[1],
                        m[6] * rgb.x + m[7] * rgb.y + m[8] * rgb.z + b[2])
        return out.clamped(lowerBound: SIMD3(repeating: 0), upperBound: SIMD3(repeating: 1))
    }

    /// Whether every row's off-diagonal weights sum to at most `tolerance` × its diagonal, i.e.
    /// channels barely mix and a per-channel gain/bias model describes the printer well.
    public func isNearlyDiagonal(tolerance: Double = 0.2) -> Bool {
        (0..<3).allSatisfy { r in
            let off = (0..<3).filter { $0 != r }.map { abs(matrix[r * 3 + $0]) }.reduce(0, +)
            return matrix[r * 4] > 0 && off <= tolerance * matrix[r * 4]
        }
    }

    /// The renderer's printer model (`TransformSample.printerGain` / `printerBias`, per channel,
    /// printed = clamp(gain · t + bias, 0, 1)) when the 3 × 3 is nearly diagonal; nil otherwise.
    /// Values are clamped to what `TransformSample.validate()` accepts (gain 0…100, bias −1…1).
    public func printerGainBias(tolerance: Double = 0.2) -> (gain: [Double], bias: [Double])? {
        guard isNearlyDiagonal(tolerance: tolerance) else { return nil }
        return (channelGain.map { min(max($0, 0), 100) }, channelBias.map { min(max($0, -1), 1) })
    }

    /// The palette in the format `PrintablePalette.parse` reads: "R G B" 0–255 per line.
    public func paletteFileText() -> String {
        var lines = ["# RobustPatch printable palette measured by `robustpatch calibrate` (RGB 0-255).",
                     "# Photo: \(provenance.photo); chart: \(provenance.chart); \(palette.count) patches; \(provenance.date)."]
        for c in palette {
            let v = [c.x, c.y, c.z].map { Int((min(max($0, 0), 1) * 255).rounded()) }
            lines.append("\(v[0]) \(v[1]) \(v[2])")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What a calibration file may hold: the ranges `validate` enforces. A real printer and
    /// camera give gains near 1 (0.5–1.2 here) and biases of a few hundredths; these bounds only
    /// keep out values no fit of a printed chart can give (zero or negative gain, 1e300, a bias
    /// beyond the whole [0, 1] range).
    public static let gainRange: ClosedRange<Double> = 0...4  // and > 0
    public static let biasRange: ClosedRange<Double> = -1...1
    public static let matrixRange: ClosedRange<Double> = -4...4

    public static func read(from path: String) throws(CalibrationError) -> ColorCalibration {
        let c = try readJSONFile(ColorCalibration.self, at: path, what: "calibration",
                                 hint: readHint) { .calibrationFile(path: path, reason: $0) }
        try c.validate(source: path)
        return c
    }

    /// `read(from:)` for bytes already in memory (e.g. a fuzzer's input); errors name `source`.
    public static func decode(_ data: Data, source: String) throws(CalibrationError) -> ColorCalibration {
        let c = try decodeJSONData(ColorCalibration.self, data, what: "calibration", hint: readHint) { .calibrationFile(path: source, reason: $0) }
        try c.validate(source: source)
        return c
    }

    private static let readHint = "Make one with `robustpatch calibrate`."

    /// Throws `calibrationFile` naming `source`, the field and its allowed range, unless the
    /// format and version are this tool's, `matrix` has 9 numbers in `matrixRange`, `bias` and
    /// `channelBias` 3 in `biasRange`, `channelGain` 3 in (0, 4], and `palette` at least one
    /// colour with channels in [0, 1]. Every number must be finite.
    public func validate(source: String) throws(CalibrationError) {
        if let problem = validationProblem() {
            throw .calibrationFile(path: source, reason: problem + " Re-run `robustpatch calibrate` to make a new one.")
        }
    }

    /// The first field `validate` would refuse, as a sentence naming it and its allowed range, or nil.
    public func validationProblem() -> String? {
        guard format == Self.formatName else {
            return "field \"format\" is '\(untrustedText(format))', not '\(Self.formatName)': this is not a calibration file."
        }
        guard version == Self.formatVersion else {
            return "field \"version\" is \(version); this tool reads version \(Self.formatVersion)."
        }
        func check(_ name: String, _ values: [Double], count: Int, range: ClosedRange<Double>, positive: Bool = false,
                   meaning: String) -> String? {
            func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
            let allowed = (positive ? "(" : "[") + "\(number(range.lowerBound)), \(number(range.upperBound))]"
            guard values.count == count else {
                return "field \"\(name)\" has \(values.count) number\(values.count == 1 ? "" : "s"); it must have \(count) (\(meaning)), each in \(allowed)."
            }
            for (i, v) in values.enumerated() where !(v.isFinite && range.contains(v) && (!positive || v > 0)) {
                return "field \"\(name)\"[\(i)] is \(v); it must be in \(allowed) (\(meaning))."
            }
            return nil
        }
        if let problem = check("matrix", matrix, count: 9, range: Self.matrixRange, meaning: "the 3 × 3 colour matrix, row-major")
            ?? check("bias", bias, count: 3, range: Self.biasRange, meaning: "R, G, B offsets in 0–1 units")
            ?? check("channelGain", channelGain, count: 3, range: Self.gainRange, positive: true, meaning: "R, G, B printer gains")
            ?? check("channelBias", channelBias, count: 3, range: Self.biasRange, meaning: "R, G, B printer offsets in 0–1 units") {
            return problem
        }
        guard !palette.isEmpty else { return "field \"palette\" is empty; it must hold the measured patch colours." }
        // One colour per chart patch (at most 16 × 16); the palette drives a loss over texels × colours every step.
        let maxColors = ChartOptions.gridRange.upperBound * ChartOptions.gridRange.upperBound
        guard palette.count <= maxColors else {
            return "field \"palette\" holds \(palette.count) colours; a chart measures at most \(maxColors)."
        }
        for (i, c) in palette.enumerated() where ![c.x, c.y, c.z].allSatisfy({ $0.isFinite && (0...1).contains($0) }) {
            return "field \"palette\"[\(i)] is [\(c.x), \(c.y), \(c.z)]; each channel must be in [0, 1]."
        }
        return nil
    }

    /// Writes pretty JSON, atomically. The folder must exist (it is not created).
    public func write(to path: String) throws(CalibrationError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let problem = CalibrationOutputs.folderProblem(path) { throw .calibrationFile(path: path, reason: problem + ".") }
        let data: Data
        do { data = try encoder.encode(self) } catch { throw .calibrationFile(path: path, reason: "could not encode the calibration (\(error)).") }
        do { try AtomicFile.write(data, to: path) } catch { throw .calibrationFile(path: path, reason: "cannot write it: \(error.reason).") }
    }
}

/// Least-squares colour fits, in Double.
public enum ColorFit {
    /// captured ≈ M · printed + b: for each output channel, the 4 unknowns (row of M, bias)
    /// minimising the squared error over all pairs (normal equations, Gaussian elimination with
    /// partial pivoting). Throws when the printed colours do not span RGB.
    public static func affine(printed: [SIMD3<Double>], captured: [SIMD3<Double>]) throws(CalibrationError) -> (matrix: [Double], bias: [Double]) {
        guard printed.count == captured.count, printed.count >= 4 else {
            throw .fitFailed(reason: "need at least 4 patches, got \(printed.count)")
        }
        var ata = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
        var atb = [[Double]](repeating: [Double](repeating: 0, count: 3), count: 4)
        for (p, c) in zip(printed, captured) {
            let x = [p.x, p.y, p.z, 1]
            for i in 0..<4 {
                for j in 0..<4 { ata[i][j] += x[i] * x[j] }
                for k in 0..<3 { atb[i][k] += x[i] * c[k] }
            }
        }
        let solution = try solve(ata, atb)  // (4, 3): rows r, g, b, 1; columns = output channel
        var matrix = [Double](repeating: 0, count: 9), bias = [Double](repeating: 0, count: 3)
        for k in 0..<3 {
            for i in 0..<3 { matrix[k * 3 + i] = solution[i][k] }
            bias[k] = solution[3][k]
        }
        return (matrix, bias)
    }

    /// captured_c ≈ gain_c · printed_c + bias_c, per channel (simple linear regression).
    public static func perChannel(printed: [SIMD3<Double>], captured: [SIMD3<Double>]) throws(CalibrationError) -> (gain: [Double], bias: [Double]) {
        var gain = [Double](repeating: 1, count: 3), bias = [Double](repeating: 0, count: 3)
        let n = Double(printed.count)
        for c in 0..<3 {
            let mx = printed.map { $0[c] }.reduce(0, +) / n, my = captured.map { $0[c] }.reduce(0, +) / n
            var sxx = 0.0, sxy = 0.0
            for (p, q) in zip(printed, captured) { sxx += (p[c] - mx) * (p[c] - mx); sxy += (p[c] - mx) * (q[c] - my) }
            guard sxx > 1e-9 else { throw .fitFailed(reason: "the printed patches do not vary in channel \(c)") }
            gain[c] = sxy / sxx
            bias[c] = my - gain[c] * mx
        }
        return (gain, bias)
    }

    /// Solves A X = B for square A (n × n) and B (n × m).
    static func solve(_ a: [[Double]], _ b: [[Double]]) throws(CalibrationError) -> [[Double]] {
        var a = a, b = b
        let n = a.count
        let scale = a.flatMap { $0 }.map(abs).max() ?? 0
        for col in 0..<n {
            var piv = col
            for r in col..<n where abs(a[r][col]) > abs(a[piv][col]) { piv = r }
            guard abs(a[piv][col]) > 1e-10 * max(scale, 1e-300) else {
                throw .fitFailed(reason: "the printed patch colours do not span RGB (singular normal equations); use a chart made by `robustpatch calibration-chart`")
            }
            a.swapAt(col, piv); b.swapAt(col, piv)
            for r in 0..<n where r != col {
                let f = a[r][col] / a[col][col]
                if f == 0 { continue }
                for c in col..<n { a[r][c] -= f * a[col][c] }
                for c in 0..<b[r].count { b[r][c] -= f * b[col][c] }
            }
        }
        return (0..<n).map { r in b[r].map { $0 / a[r][r] } }
    }
}
