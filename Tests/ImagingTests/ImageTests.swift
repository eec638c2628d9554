// The Image value: validation, pixel access, channel conversion, cropping.
import Imaging
import Testing

@Test func initValidatesShape() {
    #expect(throws: ImagingError.self) { _ = try Image(width: 2, height: 2, channels: 3, pixels: [0, 0]) }
    #expect(throws: ImagingError.self) { _ = try Image(width: 1, height: 1, channels: 2, pixels: [0, 0]) }
    #expect(throws: ImagingError.self) { _ = try Image(width: 0, height: 1, channels: 3, pixels: []) }
    #expect(throws: ImagingError.self) { _ = try Image(width: 40_000, height: 1, channels: 3, pixels: []) }
    #expect(throws: Never.self) { _ = try Image(width: 1, height: 2, channels: 4, pixels: [Float](repeating: 0, count: 8)) }
}

@Test func subscriptIsHWCInterleaved() throws {
    var image = Image(width: 3, height: 2, channels: 3, fill: 0)
    image[2, 1, 1] = 0.5
    #expect(image.pixels[(1 * 3 + 2) * 3 + 1] == 0.5)
    #expect(image[2, 1, 1] == 0.5)
}

@Test func rgbDropsAlphaAndRGBAAddsOpaqueAlpha() throws {
    let rgba = try Image(width: 2, height: 1, channels: 4, pixels: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    #expect(rgba.rgb.pixels == [0.1, 0.2, 0.3, 0.5, 0.6, 0.7])
    #expect(rgba.rgb.channels == 3)
    #expect(rgba.rgb.rgba.pixels == [0.1, 0.2, 0.3, 1, 0.5, 0.6, 0.7, 1])
    #expect(rgba.rgba == rgba)
}

@Test func croppedCopiesTheRectangle() throws {
    let image = try patternImage(width: 6, height: 5, channels: 3)
    let crop = image.cropped(x: 2, y: 1, width: 3, height: 2)
    #expect(crop.width == 3 && crop.height == 2)
    for y in 0..<2 {
        for x in 0..<3 {
            for c in 0..<3 { #expect(crop[x, y, c] == image[x + 2, y + 1, c]) }
        }
    }
    #expect(image.cropped(x: 0, y: 0, width: 6, height: 5) == image)
}

@Test func errorDescriptionsNameTheFileAndSayWhatToDo() {
    let error = ImagingError.truncated(path: "photos/cat.jpg", format: "JPEG", reason: "Premature end of JPEG file")
    #expect(error.description == "photos/cat.jpg: the JPEG file is truncated (libjpeg: Premature end of JPEG file). "
        + "The download or copy was probably cut short; fetch the file again.")
}
