// Test fixture: a fake photo of a printed chart, made by applying a KNOWN colour transform
// (3 × 3 + bias), a perspective warp onto a background with distractors, blur and noise.
// Not a test by itself.
import Calibration
import Foundation
import Imaging
import Transforms

struct SyntheticPhoto {
    /// The printed→captured transform the photo is made with (row-major 3 × 3, bias).
    static let matrix: [Double] = [0.80, 0.06, 0.02,
                                   0.04, 0.75, 0.05,
                                   0.03, 0.08, 0.70]
    static let bias: [Double] = [0.06, 0.05, 0.08]

    var image: Image
    var photoFromChart: Homography
    /// Where the four marker centres really are, in photo pixels.
    var trueMarkerCenters: [SIMD2<Double>]

    /// `quad`: where the chart's page corners (top-left, top-right, bottom-right, bottom-left)
    /// land in the photo.
    static func make(layout: ChartLayout, width: Int = 1200, height: Int = 1000,
                     quad: [SIMD2<Double>] = [SIMD2(300, 90), SIMD2(880, 150), SIMD2(940, 930), SIMD2(240, 880)],
                     matrix: [Double] = matrix, bias: [Double] = bias,
                     blurSigma: Double = 0.8, noiseSigma: Double = 0.01, shading: Float = 0, seed: UInt64 = 7) throws -> SyntheticPhoto {
        var chart = layout.render()
        let m = matrix.map(Float.init), b = bias.map(Float.init)
        for i in stride(from: 0, to: chart.pixels.count, by: 3) {
            let r = chart.pixels[i], g = chart.pixels[i + 1], bl = chart.pixels[i + 2]
            for k in 0..<3 {
                chart.pixels[i + k] = min(1, max(0, m[k * 3] * r + m[k * 3 + 1] * g + m[k * 3 + 2] * bl + b[k]))
            }
        }
        let page = [SIMD2(0.0, 0.0), SIMD2(Double(layout.width), 0), SIMD2(Double(layout.width), Double(layout.height)), SIMD2(0, Double(layout.height))]
        let photoFromChart = try Homography(mapping: page, to: quad)
        var photo = PerspectiveWarp.warp(chart, sourceFromTarget: try photoFromChart.inverse(), width: width, height: height,
                                         background: SIMD3(0.35, 0.40, 0.30), supersample: 2)
        // Distractors in the corners of the photo: a solid dark square and a hollow frame.
        func fill(_ x0: Int, _ y0: Int, _ w: Int, _ h: Int, _ v: Float) {
            for y in y0..<min(height, y0 + h) { for x in x0..<min(width, x0 + w) { for c in 0..<3 { photo.pixels[(y * width + x) * 3 + c] = v } } }
        }
        fill(20, 20, 50, 50, 0.05)
        fill(20, height - 90, 60, 60, 0.05); fill(30, height - 80, 40, 40, 0.9)
        // Uneven light: brightness falls linearly by `shading` from left to right.
        if shading != 0 {
            for y in 0..<height { for x in 0..<width { for c in 0..<3 { photo.pixels[(y * width + x) * 3 + c] *= 1 - shading * Float(x) / Float(width) } } }
        }
        photo = blur(photo, sigma: blurSigma)
        var rng = SplitMix64(seed: seed)
        for i in photo.pixels.indices {
            photo.pixels[i] = min(1, max(0, photo.pixels[i] + Float(noiseSigma * gaussian(&rng))))
        }
        return SyntheticPhoto(image: photo, photoFromChart: photoFromChart,
                              trueMarkerCenters: layout.markerCenters.map { photoFromChart.apply($0) })
    }

    static func gaussian(_ rng: inout SplitMix64) -> Double {
        let u1 = max(Double(rng.next() >> 11) * 0x1p-53, 1e-300), u2 = Double(rng.next() >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Separable Gaussian blur, edges clamped.
    static func blur(_ image: Image, sigma: Double) -> Image {
        guard sigma > 0 else { return image }
        let r = Int((3 * sigma).rounded(.up))
        var k = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +); k = k.map { $0 / s }
        let w = image.width, h = image.height
        var tmp = image, out = image
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            var a = 0.0
            for j in -r...r { a += k[j + r] * Double(image.pixels[(y * w + min(w - 1, max(0, x + j))) * 3 + c]) }
            tmp.pixels[(y * w + x) * 3 + c] = Float(a)
        } } }
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            var a = 0.0
            for j in -r...r { a += k[j + r] * Double(tmp.pixels[(min(h - 1, max(0, y + j)) * w + x) * 3 + c]) }
            out.pixels[(y * w + x) * 3 + c] = Float(a)
        } } }
        return out
    }
}
