// `ColorCalibration`: the fitted printed→captured colour transform (3 × 3 matrix + bias, and the
// per-channel gain/bias the renderer's printer model takes), the measured printable palette, and
// provenance, as a Codable value (calibration.json). Not the photo analysis (Calibrator.swift).
import Foundation

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

    public static func read(from path: String) throws(CalibrationError) -> ColorCalibration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .calibrationFile(path: path, reason: "cannot read the calibration file; check the path.")
        }
        let c: ColorCalibration
        do { c = try JSONDecoder().decode(ColorCalibration.self, from: data) } catch {
            throw .calibrationFile(path: path, reason: "not a calibration JSON (\(error)). Make one with `robustpatch calibrate`.")
        }
        guard c.format == formatName, c.version == formatVersion, c.matrix.count == 9, c.bias.count == 3,
              c.channelGain.count == 3, c.channelBias.count == 3, !c.palette.isEmpty,
              (c.matrix + c.bias + c.channelGain + c.channelBias).allSatisfy(\.isFinite) else {
            throw .calibrationFile(path: path, reason: "not a version-\(formatVersion) calibration (format, matrix, bias or palette is wrong). Re-run `robustpatch calibrate`.")
        }
        return c
    }

    public func write(to path: String) throws(CalibrationError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .calibrationFile(path: path, reason: "could not write (\(error.localizedDescription)).")
        }
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
