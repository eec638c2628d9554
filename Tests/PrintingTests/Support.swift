// Test helpers for Printing: synthetic patches, scratch folders, and measuring a patch on a
// sheet from its pixels alone (not from the layout's own numbers).
import Foundation
import Imaging
import Printing

/// A 64 × 64 texture whose samples stay in [0.1, 0.7] (never paper white), and a mask:
/// all ones, or a disc of diameter 64 with area coverage at the edge.
func syntheticArtwork(width: Int = 64, height: Int = 64, circle: Bool = false,
                      info: PatchInfo = PatchInfo(targetLabel: "toaster", targetIndex: 859, models: ["lite0"],
                                                  seed: 7, created: "2026-01-02T03:04:05Z", source: "synthetic")) -> PatchArtwork {
    var texture = Image(width: width, height: height, channels: 3, fill: 0)
    var mask = [Float](repeating: 1, count: width * height)
    for y in 0..<height {
        for x in 0..<width {
            texture[x, y, 0] = 0.1 + 0.6 * Float(x) / Float(width)
            texture[x, y, 1] = 0.1 + 0.6 * Float(y) / Float(height)
            texture[x, y, 2] = 0.4
            if circle {
                // 4 × 4 supersampled coverage of a disc inscribed in the texture.
                var inside = 0
                for sy in 0..<4 {
                    for sx in 0..<4 {
                        let px = Double(x) + (Double(sx) + 0.5) / 4 - Double(width) / 2
                        let py = Double(y) + (Double(sy) + 0.5) / 4 - Double(height) / 2
                        if px * px + py * py <= Double(width * width) / 4 { inside += 1 }
                    }
                }
                mask[y * width + x] = Float(inside) / 16
            }
        }
    }
    return PatchArtwork(texture: texture, mask: mask, info: info)
}

/// Whether pixel (x, y) has ink: some channel below 250/255 (paper is 255 in every channel).
func isInk(_ image: Image, _ x: Int, _ y: Int) -> Bool {
    (0..<3).contains { image[x, y, $0] < 250 / 255 }
}

/// The longest run of ink pixels along any row, in pixels (for a disc: its diameter).
func longestHorizontalInkRun(_ image: Image, rows: Range<Int>? = nil) -> Int {
    var best = 0
    for y in rows ?? 0..<image.height {
        var run = 0
        for x in 0..<image.width {
            run = isInk(image, x, y) ? run + 1 : 0
            best = max(best, run)
        }
    }
    return best
}

/// The longest run of ink pixels along any column.
func longestVerticalInkRun(_ image: Image) -> Int {
    var best = 0
    for x in 0..<image.width {
        var run = 0
        for y in 0..<image.height {
            run = isInk(image, x, y) ? run + 1 : 0
            best = max(best, run)
        }
    }
    return best
}

/// Separate ink runs at least `minimum` long along row `y`, as (start, length).
func inkRuns(_ image: Image, row y: Int, minimum: Int) -> [(start: Int, length: Int)] {
    var runs: [(Int, Int)] = []
    var start: Int?
    for x in 0...image.width {
        let ink = x < image.width && isInk(image, x, y)
        if ink && start == nil { start = x }
        if !ink, let s = start {
            if x - s >= minimum { runs.append((s, x - s)) }
            start = nil
        }
    }
    return runs
}

/// A fresh folder under the temp directory, removed afterwards.
func withScratchFolder<T>(_ body: (String) throws -> T) throws -> T {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("printing-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The repository root (this file is Tests/PrintingTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
