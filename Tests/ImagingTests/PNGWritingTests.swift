// PNG writing: 8-bit round trips, quantisation, pHYs DPI, atomic replacement, write errors.
import Foundation
import Imaging
import Testing

@Test(arguments: [3, 4])
func pngRoundTripIsExactAt8Bits(channels: Int) throws {
    try withScratchDirectory { dir in
        let image = try patternImage(width: 23, height: 17, channels: channels)
        let path = dir + "/round-trip.png"
        try image.writePNG(to: path)
        let back = try Image.read(from: path)
        #expect(back == image)
    }
}

@Test func writingQuantisesClampsAndMapsNaNToZero() throws {
    try withScratchDirectory { dir in
        let image = try Image(width: 5, height: 1, channels: 3,
                              pixels: [0.5, 0.2, 1.7, -3, .nan, .infinity, 0.001, 0.999, 0.0019,
                                       0.6 / 255, 1.6 / 255, 254.49 / 255, 1, 0, 0.25])
        let path = dir + "/q.png"
        try image.writePNG(to: path)
        let back = try Image.read(from: path)
        let bytes = back.pixels.map { Int(($0 * 255).rounded()) }
        #expect(bytes == [128, 51, 255, 0, 0, 255, 0, 255, 0, 1, 2, 254, 255, 0, 64])
    }
}

@Test func dpiIsWrittenAsPHYsAndReadBack() throws {
    try withScratchDirectory { dir in
        let path = dir + "/print.png"
        try Image(width: 4, height: 3, channels: 3, fill: 0.5).writePNG(to: path, dpi: 300)
        let dpi = try #require(try Image.readDPI(from: path))
        // 300 dpi -> round(300 / 0.0254) = 11811 px/m -> 11811 * 0.0254 = 299.9994 dpi.
        #expect(abs(dpi - 299.9994) < 1e-9)
        #expect(abs(dpi - 300) < 0.001)

        let plain = dir + "/plain.png"
        try Image(width: 4, height: 3, channels: 4, fill: 1).writePNG(to: plain)
        #expect(try Image.readDPI(from: plain) == nil)
    }
}

@Test func badDPIIsRefused() throws {
    try withScratchDirectory { dir in
        let image = Image(width: 2, height: 2, channels: 3, fill: 0)
        for dpi in [0, -72, Double.nan, .infinity, 1e12] {
            #expect(throws: ImagingError.self) { try image.writePNG(to: dir + "/x.png", dpi: dpi) }
        }
    }
}

@Test func writeReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
    try withScratchDirectory { dir in
        let path = dir + "/out.png"
        try Image(width: 8, height: 8, channels: 3, fill: 0).writePNG(to: path)
        try Image(width: 3, height: 5, channels: 4, fill: 1).writePNG(to: path)
        let back = try Image.read(from: path)
        #expect(back.width == 3 && back.height == 5 && back.channels == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.png"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }
}

@Test func writingIntoAMissingFolderThrowsWithThePath() throws {
    try withScratchDirectory { dir in
        let path = dir + "/no/such/folder/out.png"
        let error = #expect(throws: ImagingError.self) {
            try Image(width: 2, height: 2, channels: 3, fill: 0).writePNG(to: path)
        }
        #expect(error?.path == path)
        #expect(error?.description.contains("out.png") == true)
    }
}

@Test func writingOverADirectoryThrows() throws {
    try withScratchDirectory { dir in
        let error = #expect(throws: ImagingError.self) {
            try Image(width: 2, height: 2, channels: 3, fill: 0).writePNG(to: dir)
        }
        #expect(error?.path == dir)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(leftovers.isEmpty)
    }
}

@Test func imageWithWrongSampleCountIsNotWritten() throws {
    try withScratchDirectory { dir in
        var image = Image(width: 2, height: 2, channels: 3, fill: 0)
        image.pixels.removeLast()
        let path = dir + "/short.png"
        #expect(throws: ImagingError.self) { try image.writePNG(to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
