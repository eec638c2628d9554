// Finds the chart's four fiducial corner markers in a photo: threshold (Otsu, then adaptive),
// 8-connected dark components, a quadrilateral per component (extreme points refined by edge-line
// fits), then the 7 × 7 module grid read through the quad's homography and matched to the four
// codes. Not a general ArUco detector: four fixed 3 × 3 codes, one chart per photo.
import Foundation
import Imaging
import Transforms

/// The four 3 × 3 marker codes (row-major, 1 = black). Each is unchanged by rotation and
/// mirroring, and any two differ in ≥ 3 cells under every rotation, so identity never depends
/// on how the photo is turned, and a single misread cell is still decoded.
public enum MarkerCode {
    public static let codes: [[Int]] = [
        [0, 0, 0, 0, 1, 0, 0, 0, 0],  // top-left: centre dot
        [1, 0, 1, 0, 0, 0, 1, 0, 1],  // top-right: four corners
        [0, 1, 0, 1, 1, 1, 0, 1, 0],  // bottom-right: plus
        [1, 1, 1, 1, 0, 1, 1, 1, 1],  // bottom-left: ring
    ]

    /// Whether module (mx, my) of a 7 × 7 marker is black: frame, white ring, then the code.
    public static func isDark(code: [Int], mx: Int, my: Int) -> Bool {
        if mx == 0 || my == 0 || mx == 6 || my == 6 { return true }
        if mx == 1 || my == 1 || mx == 5 || my == 5 { return false }
        return code[(my - 2) * 3 + (mx - 2)] == 1
    }
}

/// One marker found in a photo.
public struct DetectedMarker: Codable, Sendable, Equatable {
    /// Index into `ChartLayout.markers` (0 top-left … 3 bottom-left).
    public var id: Int
    /// Centre in photo pixels: the intersection of the quad's diagonals (the exact image of the
    /// square's centre under any perspective).
    public var centerX: Double
    public var centerY: Double
    /// The outer corners in photo pixels, (x, y) pairs.
    public var corners: [[Double]]
    /// Cells read wrong (0 is a perfect read).
    public var errors: Int
}

public enum MarkerDetector {
    /// The best candidate for each marker id that was found (keys 0...3).
    public static func detect(in photo: Image) -> [Int: DetectedMarker] {
        let w = photo.width, h = photo.height
        var gray = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) {
            let j = i * photo.channels
            gray[i] = 0.299 * photo.pixels[j] + 0.587 * photo.pixels[j + 1] + 0.114 * photo.pixels[j + 2]
        }
        var best: [Int: (marker: DetectedMarker, area: Int)] = [:]
        let otsu = otsuThreshold(gray)
        let minSide = min(w, h)
        var masks: [() -> [Bool]] = [{ gray.map { $0 < otsu } }]
        for window in [minSide / 8, minSide / 4, minSide / 16] where window >= 9 {
            masks.append { adaptiveDark(gray, width: w, height: h, window: window) }
        }
        for makeMask in masks {
            let dark = makeMask()
            for component in components(dark, width: w, height: h) {
                guard let (m, area) = decode(component, dark: dark, gray: gray, width: w, height: h) else { continue }
                if let old = best[m.id], (old.marker.errors, -old.area) <= (m.errors, -area) { continue }
                best[m.id] = (m, area)
            }
            if best.count == 4 && best.values.allSatisfy({ $0.marker.errors == 0 }) { break }
        }
        return best.mapValues { $0.marker }
    }

    // MARK: - Thresholds

    static func otsuThreshold(_ gray: [Float]) -> Float {
        var hist = [Double](repeating: 0, count: 256)
        for g in gray { hist[min(255, max(0, Int(g * 255)))] += 1 }
        let total = Double(gray.count)
        var sumAll = 0.0
        for i in 0..<256 { sumAll += Double(i) * hist[i] }
        var wB = 0.0, sumB = 0.0, bestVar = -1.0, bestT = 127
        for t in 0..<256 {
            wB += hist[t]
            let wF = total - wB
            if wB == 0 { continue }
            if wF == 0 { break }
            sumB += Double(t) * hist[t]
            let mB = sumB / wB, mF = (sumAll - sumB) / wF
            let v = wB * wF * (mB - mF) * (mB - mF)
            if v > bestVar { bestVar = v; bestT = t }
        }
        return (Float(bestT) + 0.5) / 255
    }

    /// Dark where the pixel is below 80% of the mean of its `window` × `window` neighbourhood.
    static func adaptiveDark(_ gray: [Float], width w: Int, height h: Int, window: Int) -> [Bool] {
        var integral = [Double](repeating: 0, count: (w + 1) * (h + 1))
        for y in 0..<h {
            var row = 0.0
            for x in 0..<w {
                row += Double(gray[y * w + x])
                integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row
            }
        }
        let r = window / 2
        var out = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            let y0 = max(0, y - r), y1 = min(h, y + r + 1)
            for x in 0..<w {
                let x0 = max(0, x - r), x1 = min(w, x + r + 1)
                let s = integral[y1 * (w + 1) + x1] - integral[y0 * (w + 1) + x1] - integral[y1 * (w + 1) + x0] + integral[y0 * (w + 1) + x0]
                let mean = s / Double((x1 - x0) * (y1 - y0))
                out[y * w + x] = Double(gray[y * w + x]) < 0.8 * mean
            }
        }
        return out
    }

    // MARK: - Components and quads

    /// 8-connected components of `dark` that are big enough to be a marker (pixel indices).
    static func components(_ dark: [Bool], width w: Int, height h: Int) -> [[Int]] {
        var seen = [Bool](repeating: false, count: w * h)
        var result: [[Int]] = []
        var stack: [Int] = []
        let maxArea = w * h / 8
        for start in 0..<(w * h) where dark[start] && !seen[start] {
            var pixels: [Int] = []
            seen[start] = true
            stack.append(start)
            var minX = w, maxX = 0, minY = h, maxY = 0
            while let p = stack.popLast() {
                pixels.append(p)
                let x = p % w, y = p / w
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                for dy in -1...1 {
                    let yy = y + dy
                    if yy < 0 || yy >= h { continue }
                    for dx in -1...1 {
                        let xx = x + dx
                        if xx < 0 || xx >= w { continue }
                        let q = yy * w + xx
                        if dark[q] && !seen[q] { seen[q] = true; stack.append(q) }
                    }
                }
            }
            let bw = maxX - minX + 1, bh = maxY - minY + 1
            guard pixels.count >= 40, pixels.count <= maxArea, bw >= 10, bh >= 10,
                  max(bw, bh) <= 4 * min(bw, bh) else { continue }
            result.append(pixels)
        }
        return result
    }

    /// Four corners of a roughly square component, in order around it: extreme points first
    /// (farthest from the centroid, then farthest from that, then farthest from their line on
    /// each side), then each side refined by a total-least-squares line through its boundary
    /// pixels and the corners recomputed as line intersections.
    static func quad(_ pixels: [Int], dark: [Bool], width w: Int, height h: Int) -> [SIMD2<Double>]? {
        let pts = pixels.map { SIMD2(Double($0 % w) + 0.5, Double($0 / w) + 0.5) }
        let centroid = pts.reduce(SIMD2<Double>(0, 0), +) / Double(pts.count)
        func farthest(from a: SIMD2<Double>) -> SIMD2<Double> {
            pts.max { dist2($0, a) < dist2($1, a) } ?? a
        }
        let c0 = farthest(from: centroid), c2 = farthest(from: c0)
        let axis = c2 - c0
        guard (axis * axis).sum() > 25 else { return nil }
        var c1 = c0, c3 = c0, d1 = 0.0, d3 = 0.0
        for p in pts {
            let s = cross(axis, p - c0)
            if s > d1 { d1 = s; c1 = p }
            if s < d3 { d3 = s; c3 = p }
        }
        let rough = [c0, c1, c2, c3]
        guard d1 > 0, d3 < 0 else { return nil }
        // Outer boundary pixels: dark, with a non-dark 4-neighbour (or on the image edge).
        var boundary: [SIMD2<Double>] = []
        for p in pixels {
            let x = p % w, y = p / w
            if x == 0 || y == 0 || x == w - 1 || y == h - 1 || !dark[p - 1] || !dark[p + 1] || !dark[p - w] || !dark[p + w] {
                boundary.append(SIMD2(Double(x) + 0.5, Double(y) + 0.5))
            }
        }
        var lines: [(point: SIMD2<Double>, dir: SIMD2<Double>)] = []
        for i in 0..<4 {
            let a = rough[i], b = rough[(i + 1) % 4]
            let ab = b - a, len = (ab * ab).sum().squareRoot()
            guard len > 4 else { return nil }
            let tol = max(1.5, len / 7 * 0.4)
            var side: [SIMD2<Double>] = []
            for p in boundary {
                let t = ((p - a) * ab).sum() / (len * len)
                guard t > 0.12, t < 0.88 else { continue }
                if abs(cross(ab, p - a)) / len < tol { side.append(p) }
            }
            if side.count < 4 { lines.append((a, ab / len)); continue }
            let mean = side.reduce(SIMD2<Double>(0, 0), +) / Double(side.count)
            var sxx = 0.0, sxy = 0.0, syy = 0.0
            for p in side { let d = p - mean; sxx += d.x * d.x; sxy += d.x * d.y; syy += d.y * d.y }
            let angle = 0.5 * atan2(2 * sxy, sxx - syy)
            lines.append((mean, SIMD2(cos(angle), sin(angle))))
        }
        var corners: [SIMD2<Double>] = []
        for i in 0..<4 {
            let l0 = lines[(i + 3) % 4], l1 = lines[i]
            let denom = cross(l0.dir, l1.dir)
            guard abs(denom) > 1e-6 else { return nil }
            let t = cross(l1.point - l0.point, l1.dir) / denom
            let p = l0.point + t * l0.dir
            guard dist2(p, rough[i]) < 16 + 0.05 * dist2(rough[0], rough[2]) else { return nil }
            corners.append(p)
        }
        return corners
    }

    /// Reads the 7 × 7 grid through the quad and matches it to the codes (8 orientations).
    static func decode(_ pixels: [Int], dark: [Bool], gray: [Float], width w: Int, height h: Int) -> (DetectedMarker, Int)? {
        guard let q = quad(pixels, dark: dark, width: w, height: h) else { return nil }
        let n = Double(ChartLayout.markerModules)
        let unit = [SIMD2(0.0, 0.0), SIMD2(n, 0), SIMD2(n, n), SIMD2(0, n)]
        guard let H = try? Homography(mapping: unit, to: q) else { return nil }
        var cells = [Float](repeating: 0, count: 49)
        for my in 0..<7 {
            for mx in 0..<7 {
                var s: Float = 0, k: Float = 0
                for oy in [-0.2, 0.0, 0.2] {
                    for ox in [-0.2, 0.0, 0.2] {
                        let p = H.apply(SIMD2(Double(mx) + 0.5 + ox, Double(my) + 0.5 + oy))
                        let xi = Int(p.x), yi = Int(p.y)
                        guard p.x >= 0, p.y >= 0, xi < w, yi < h else { return nil }
                        s += gray[yi * w + xi]; k += 1
                    }
                }
                cells[my * 7 + mx] = s / k
            }
        }
        var darkSum: Float = 0, lightSum: Float = 0, darkN: Float = 0, lightN: Float = 0
        for my in 0..<7 {
            for mx in 0..<7 where mx == 0 || my == 0 || mx == 6 || my == 6 || mx == 1 || my == 1 || mx == 5 || my == 5 {
                if MarkerCode.isDark(code: MarkerCode.codes[0], mx: mx, my: my) { darkSum += cells[my * 7 + mx]; darkN += 1 } else { lightSum += cells[my * 7 + mx]; lightN += 1 }
            }
        }
        let darkMean = darkSum / darkN, lightMean = lightSum / lightN
        guard lightMean - darkMean > 0.15 else { return nil }
        let threshold = (darkMean + lightMean) / 2
        var frameErrors = 0
        for my in 0..<7 {
            for mx in 0..<7 where mx == 0 || my == 0 || mx == 6 || my == 6 || mx == 1 || my == 1 || mx == 5 || my == 5 {
                let isDark = cells[my * 7 + mx] < threshold
                if isDark != MarkerCode.isDark(code: MarkerCode.codes[0], mx: mx, my: my) { frameErrors += 1 }
            }
        }
        guard frameErrors <= 2 else { return nil }
        let bits = (0..<9).map { cells[(2 + $0 / 3) * 7 + 2 + $0 % 3] < threshold ? 1 : 0 }
        var scored: [(id: Int, errors: Int)] = []
        for (id, code) in MarkerCode.codes.enumerated() {
            var bestErr = 9
            for t in 0..<8 {
                var e = 0
                for i in 0..<9 where bits[dihedral(i, t)] != code[i] { e += 1 }
                bestErr = min(bestErr, e)
            }
            scored.append((id, bestErr))
        }
        scored.sort { $0.errors < $1.errors }
        guard scored[0].errors <= 1, scored[1].errors > scored[0].errors else { return nil }
        let centre = intersect(q[0], q[2], q[1], q[3]) ?? q.reduce(SIMD2<Double>(0, 0), +) / 4
        let marker = DetectedMarker(id: scored[0].id, centerX: centre.x, centerY: centre.y,
                                    corners: q.map { [$0.x, $0.y] }, errors: scored[0].errors + frameErrors)
        return (marker, pixels.count)
    }

    /// Index of cell i of a 3 × 3 grid under dihedral transform t (0..<8).
    static func dihedral(_ i: Int, _ t: Int) -> Int {
        var r = i / 3, c = i % 3
        if t >= 4 { c = 2 - c }
        for _ in 0..<(t % 4) { (r, c) = (c, 2 - r) }
        return r * 3 + c
    }

    /// Intersection of segment lines a0–a1 and b0–b1.
    static func intersect(_ a0: SIMD2<Double>, _ a1: SIMD2<Double>, _ b0: SIMD2<Double>, _ b1: SIMD2<Double>) -> SIMD2<Double>? {
        let da = a1 - a0, db = b1 - b0
        let denom = cross(da, db)
        guard abs(denom) > 1e-9 else { return nil }
        let t = cross(b0 - a0, db) / denom
        return a0 + t * da
    }
}

@inline(__always) func cross(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double { a.x * b.y - a.y * b.x }
@inline(__always) func dist2(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double { let d = a - b; return (d * d).sum() }
