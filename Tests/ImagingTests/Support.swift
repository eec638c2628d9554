// Shared test helpers: fixture paths, scratch directories, and the sample formulas that
// Scripts/make_image_fixtures.py used to write the PNG fixtures.
import Foundation
import Imaging
import Testing

enum Fixtures {
    /// Absolute path of a committed fixture (Tests/ImagingTests/Fixtures/<name>).
    static func path(_ name: String) throws -> String {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return directory.appendingPathComponent(name).path
    }

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path(name)))
    }
}

/// A fresh directory under the system temp dir, removed when `body` returns.
func withScratchDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("ImagingTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Sample formula of the PNG fixtures (see Scripts/make_image_fixtures.py).
func fixtureSample(x: Int, y: Int, c: Int, depth: Int) -> Int {
    if depth == 16 { return (5003 * x + 9001 * y + 3001 * c + 771 * x * y) % 65536 }
    return (29 * x + 53 * y + 71 * c + 5 * x * y) % (1 << depth)
}

/// Largest |a - b| over two same-shaped images (infinity if the shapes differ).
func maxDifference(_ a: Image, _ b: Image) -> Float {
    guard a.width == b.width, a.height == b.height, a.channels == b.channels else { return .infinity }
    var worst: Float = 0
    for i in a.pixels.indices { worst = max(worst, abs(a.pixels[i] - b.pixels[i])) }
    return worst
}

/// A deterministic test image with 8-bit-exact samples.
func patternImage(width: Int, height: Int, channels: Int) throws -> Image {
    var pixels = [Float]()
    pixels.reserveCapacity(width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels { pixels.append(Float((17 * x + 31 * y + 89 * c + 3 * x * y) % 256) / 255) }
        }
    }
    return try Image(width: width, height: height, channels: channels, pixels: pixels)
}
