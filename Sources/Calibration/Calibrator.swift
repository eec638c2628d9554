// The calibration loop on one photo: marker positions (detected or given) → homography
// chart→photo (4-point DLT) → robust samples of each patch's centre → colour fits → a
// `ColorCalibration`; plus a rectified view for the person to check. Not file or CLI handling.
import Foundation
import Imaging
import Transforms

public enum Calibrator {
    /// Everything one calibration produced.
    public struct Result: Sendable {
        public var calibration: ColorCalibration
        /// Chart pixels → photo pixels.
        public var photoFromChart: Homography
        /// The markers the detector found (empty when corners were given).
        public var detected: [DetectedMarker]
    }

    /// Fraction of each patch side left out on every side before sampling (edges blur and bleed).
    public static let patchInset = 0.25
    /// Fraction of samples dropped at each end, per channel, before averaging.
    public static let trimFraction = 0.2
    /// Median patch spread (0–255) above which the photo is taken not to match the layout.
    public static let mismatchSpread = 20.0

    /// Parses "x1,y1,x2,y2,x3,y3,x4,y4" (photo pixels; top-left, top-right, bottom-right,
    /// bottom-left marker centres).
    public static func parseCorners(_ text: String) throws(CalibrationError) -> [SIMD2<Double>] {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        let values = parts.compactMap(Double.init)
        guard parts.count == 8, values.count == 8 else {
            throw .badCorners(text: text, reason: "got \(parts.count) fields (\(values.count) of them numbers), not 8 numbers")
        }
        guard values.allSatisfy(\.isFinite) else { throw .badCorners(text: text, reason: "all numbers must be finite") }
        return (0..<4).map { SIMD2(values[2 * $0], values[2 * $0 + 1]) }
    }

    /// Calibrates from `photo` (RGB or RGBA; alpha ignored) of the chart `layout`.
    /// `corners`: the four marker centres in photo pixels, or nil to detect them.
    public static func calibrate(photo: Image, photoName: String, layout: ChartLayout, chartName: String,
                                 corners given: [SIMD2<Double>]? = nil, tool: String, date: String) throws(CalibrationError) -> Result {
        try layout.validate(source: chartName)
        let photo = photo.rgb
        var detected: [DetectedMarker] = []
        let corners: [SIMD2<Double>]
        if let given {
            guard given.count == 4 else { throw .badCorners(text: "\(given.count) points", reason: "need 4 points") }
            corners = given
        } else {
            let found = MarkerDetector.detect(in: photo)
            guard found.count == 4 else {
                let names = ChartLayout.markerNames
                throw .markersNotFound(photo: photoName, found: found.keys.sorted().map { names[$0] },
                                       missing: (0..<4).filter { found[$0] == nil }.map { names[$0] })
            }
            detected = (0..<4).compactMap { found[$0] }
            corners = detected.map { SIMD2($0.centerX, $0.centerY) }
        }
        try checkQuad(corners, width: photo.width, height: photo.height)
        let photoFromChart: Homography
        do { photoFromChart = try Homography(mapping: layout.markerCenters, to: corners) } catch {
            throw .degenerateCorners(reason: "no homography maps the chart's markers onto them (\(error))")
        }

        // Sample each patch.
        var captured: [SIMD3<Double>] = [], spread: [Double] = []
        for (i, p) in layout.patches.enumerated() {
            let (mean, s) = try samplePatch(photo, p, photoFromChart: photoFromChart, index: i)
            captured.append(mean); spread.append(s)
        }
        let printed = layout.patches.map(\.color)
        let medianSpread = spread.sorted()[spread.count / 2]
        guard medianSpread <= mismatchSpread else {
            throw .chartMismatch(source: chartName, reason: String(format: "the patches in the photo are not uniform where "
                + "this layout puts them (median spread %.1f of 255). Give the .json made with the printed chart "
                + "(same --paper and --patches), and check that the markers/corners are right.", medianSpread))
        }
        let lumaP = printed.map { 0.299 * $0.x + 0.587 * $0.y + 0.114 * $0.z }
        let lumaC = captured.map { 0.299 * $0.x + 0.587 * $0.y + 0.114 * $0.z }
        guard correlation(lumaP, lumaC) > 0.5 else {
            throw .chartMismatch(source: chartName, reason: "the patch brightnesses in the photo do not follow the chart's "
                + "(correlation \(String(format: "%.2f", correlation(lumaP, lumaC)))). Is this the chart this layout describes, and are the corners in the order top-left, top-right, bottom-right, bottom-left?")
        }

        let (matrix, bias) = try ColorFit.affine(printed: printed, captured: captured)
        let (gain, gbias) = try ColorFit.perChannel(printed: printed, captured: captured)
        var sq = 0.0, worst = 0.0, sqChannel = 0.0
        for (p, c) in zip(printed, captured) {
            for k in 0..<3 {
                let pred = matrix[k * 3] * p.x + matrix[k * 3 + 1] * p.y + matrix[k * 3 + 2] * p.z + bias[k]
                let e = (pred - c[k]) * 255
                sq += e * e; worst = max(worst, abs(e))
                let ec = (gain[k] * p[k] + gbias[k] - c[k]) * 255
                sqChannel += ec * ec
            }
        }
        let count = Double(3 * printed.count)
        let names = ChartLayout.markerNames
        let records = corners.enumerated().map { i, c in
            ColorCalibration.MarkerRecord(name: names[i], x: c.x, y: c.y, source: given == nil ? "detected" : "given")
        }
        let calibration = ColorCalibration(
            format: ColorCalibration.formatName, version: ColorCalibration.formatVersion,
            matrix: matrix, bias: bias, residualRMS: (sq / count).squareRoot(), residualMax: worst,
            channelGain: gain, channelBias: gbias, channelResidualRMS: (sqChannel / count).squareRoot(),
            palette: captured.map { SIMD3<Float>(Float(min(max($0.x, 0), 1)), Float(min(max($0.y, 0), 1)), Float(min(max($0.z, 0), 1))) },
            printed: layout.patches.map(\.rgb), patchSpread: spread, markers: records,
            provenance: .init(tool: tool, date: date, photo: photoName, photoWidth: photo.width, photoHeight: photo.height,
                              chart: chartName,
                              method: "4-point DLT homography from marker centres; central \(Int((1 - 2 * patchInset) * 100))% of each "
                                + "patch, \(Int(trimFraction * 100))% trimmed mean per channel; least-squares 3x3 + bias and per-channel gain/bias"))
        // A fit that a calibration file may not hold (a zero or negative gain, a huge matrix) means
        // the photo is not a fair picture of this chart; refuse it here rather than write a file
        // that `generate --calibration` would refuse.
        if let problem = calibration.validationProblem() {
            throw .fitFailed(reason: "the fitted colour transform is not a plausible printer and camera: \(problem) "
                + "Check that the photo is of this chart, flat and evenly lit, and that the corners are right")
        }
        return Result(calibration: calibration, photoFromChart: photoFromChart, detected: detected)
    }

    /// The photo warped back into chart coordinates (long side ≤ `maxSide`), with each patch's
    /// sampled region outlined (black inside white, visible on any colour), for a person to
    /// check the alignment.
    public static func rectified(photo: Image, layout: ChartLayout, photoFromChart: Homography, maxSide: Int = 1200) -> Image {
        let s = min(1, Double(maxSide) / Double(max(layout.width, layout.height)))
        let w = max(1, Int((Double(layout.width) * s).rounded())), h = max(1, Int((Double(layout.height) * s).rounded()))
        let sourceFromTarget = photoFromChart.composed(with: .scaling(x: 1 / s, y: 1 / s))
        var image = PerspectiveWarp.warp(photo.rgb, sourceFromTarget: sourceFromTarget, width: w, height: h,
                                         background: SIMD3(0.5, 0.5, 0.5), supersample: 2)
        for p in layout.patches {
            let inset = patchInset
            let x0 = Int(((Double(p.x) + inset * Double(p.width)) * s).rounded()), x1 = Int(((Double(p.x) + (1 - inset) * Double(p.width)) * s).rounded())
            let y0 = Int(((Double(p.y) + inset * Double(p.height)) * s).rounded()), y1 = Int(((Double(p.y) + (1 - inset) * Double(p.height)) * s).rounded())
            for (d, v) in [(0, Float(0)), (1, Float(1))] {
                for x in (x0 - d)...max(x0, x1 + d) { dot(&image, x, y0 - d, v); dot(&image, x, y1 + d, v) }
                for y in (y0 - d)...max(y0, y1 + d) { dot(&image, x0 - d, y, v); dot(&image, x1 + d, y, v) }
            }
        }
        return image
    }

    // MARK: - Pieces

    private static func dot(_ image: inout Image, _ x: Int, _ y: Int, _ v: Float) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        let i = (y * image.width + x) * 3
        image.pixels[i] = v; image.pixels[i + 1] = v; image.pixels[i + 2] = v
    }

    /// Throws unless the points form a convex, non-tiny quadrilateral inside the photo.
    static func checkQuad(_ q: [SIMD2<Double>], width: Int, height: Int) throws(CalibrationError) {
        let names = ChartLayout.markerNames
        for (i, p) in q.enumerated() {
            guard p.x.isFinite, p.y.isFinite, p.x >= 0, p.y >= 0, p.x <= Double(width), p.y <= Double(height) else {
                throw .degenerateCorners(reason: String(format: "the %@ point (%.1f, %.1f) is outside the %d × %d photo", names[i], p.x, p.y, width, height))
            }
        }
        for i in 0..<4 {
            let d = dist2(q[i], q[(i + 1) % 4]).squareRoot()
            guard d >= 16 else {
                throw .degenerateCorners(reason: String(format: "%@ and %@ are only %.1f pixels apart", names[i], names[(i + 1) % 4], d))
            }
        }
        let signs = (0..<4).map { i in cross(q[(i + 1) % 4] - q[i], q[(i + 2) % 4] - q[(i + 1) % 4]) }
        guard signs.allSatisfy({ $0 > 0 }) || signs.allSatisfy({ $0 < 0 }) else {
            throw .degenerateCorners(reason: "they do not form a convex quadrilateral in that order (three are collinear, or two are swapped)")
        }
    }

    /// Trimmed-mean colour of the central region of patch `p`, and its robust spread (0–255).
    static func samplePatch(_ photo: Image, _ p: ChartLayout.Patch, photoFromChart H: Homography, index: Int) throws(CalibrationError) -> (SIMD3<Double>, Double) {
        let x0 = Double(p.x) + patchInset * Double(p.width), x1 = Double(p.x) + (1 - patchInset) * Double(p.width)
        let y0 = Double(p.y) + patchInset * Double(p.height), y1 = Double(p.y) + (1 - patchInset) * Double(p.height)
        let photoCorners = [SIMD2(x0, y0), SIMD2(x1, y0), SIMD2(x1, y1), SIMD2(x0, y1)].map { H.apply($0) }
        for c in photoCorners {
            guard c.x.isFinite, c.y.isFinite, c.x >= 0, c.y >= 0, c.x <= Double(photo.width), c.y <= Double(photo.height) else {
                throw .chartOutsidePhoto(reason: "patch \(index) (row \(p.row + 1), column \(p.column + 1)) maps to "
                    + String(format: "(%.0f, %.0f), outside the %d × %d photo", c.x, c.y, photo.width, photo.height))
            }
        }
        let side = max(dist2(photoCorners[0], photoCorners[1]), dist2(photoCorners[0], photoCorners[3])).squareRoot()
        let n = min(24, max(4, Int(side)))
        var channels = [[Double]](repeating: [], count: 3)
        for j in 0..<n {
            for i in 0..<n {
                let q = H.apply(SIMD2(x0 + (x1 - x0) * (Double(i) + 0.5) / Double(n), y0 + (y1 - y0) * (Double(j) + 0.5) / Double(n)))
                guard let v = PerspectiveWarp.sample(photo, x: q.x, y: q.y) else { continue }
                channels[0].append(Double(v.x)); channels[1].append(Double(v.y)); channels[2].append(Double(v.z))
            }
        }
        var mean = SIMD3<Double>(0, 0, 0), spread = 0.0
        for c in 0..<3 {
            let s = channels[c].sorted()
            let drop = Int(Double(s.count) * trimFraction)
            let kept = s[drop..<(s.count - drop)]
            mean[c] = kept.reduce(0, +) / Double(kept.count)
            let iqr = s[(s.count * 3) / 4] - s[s.count / 4]
            spread = max(spread, iqr / 1.349 * 255)
        }
        return (mean, spread)
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
    }
}
