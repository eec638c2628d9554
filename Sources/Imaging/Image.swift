// `Image`: an RGB or RGBA raster of Float pixels in [0, 1], (H, W, C) interleaved, plus cheap
// value operations (channels, crop, pixel access). Not a tensor type and not colour-managed.
//
// Conventions (RobustPatch-wide): row-major (H, W, C), channels RGB or RGBA with straight
// (not premultiplied) alpha, values in [0, 1], (x, y) with the origin at the top-left corner
// of the top-left pixel and pixel centres at +0.5. File formats live in `Image+Reading.swift`
// and `Image+PNGWriting.swift`; resampling in `Image+Resize.swift`.

/// An RGB (3 channels) or RGBA (4 channels) image with `Float` samples in [0, 1].
///
/// `pixels` is (height, width, channels) interleaved: the sample for pixel column `x`, row `y`,
/// channel `c` is at `(y * width + x) * channels + c`. The shape is fixed at creation; `pixels`
/// may be edited in place, but must keep `width * height * channels` elements (writing a PNG
/// checks this and throws otherwise).
public struct Image: Sendable, Equatable {
    public private(set) var width: Int
    public private(set) var height: Int
    /// 3 (RGB) or 4 (RGBA, straight alpha).
    public private(set) var channels: Int
    public var pixels: [Float]  // (H, W, C)

    /// Largest accepted side, in pixels, for decoding files (and for `init`).
    public static let maxSide = 30_000
    /// Largest accepted pixel count (width × height) for decoding files (and for `init`):
    /// 250 MP is 3–4 GB of `Float`s, more than any patch or scene here needs.
    public static let maxPixelCount = 250_000_000

    /// Wraps existing samples. Throws `ImagingError.invalidImage` unless `channels` is 3 or 4,
    /// both sides are in 1...`maxSide`, and `pixels.count == width * height * channels`.
    /// Sample values are not checked against [0, 1].
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) throws(ImagingError) {
        if let problem = Image.shapeProblem(width: width, height: height, channels: channels) {
            throw .invalidImage(reason: problem)
        }
        guard pixels.count == width * height * channels else {
            throw .invalidImage(reason: "\(width) × \(height) × \(channels) needs "
                + "\(width * height * channels) samples, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image with every sample set to `fill` (alpha too, for RGBA).
    ///
    /// - Precondition: `channels` is 3 or 4 and both sides are in 1...`maxSide`. These are
    ///   programmer errors; validate user-given sizes first (or use the throwing initializer).
    public init(width: Int, height: Int, channels: Int, fill: Float) {
        let problem = Image.shapeProblem(width: width, height: height, channels: channels)
        precondition(problem == nil, "Image(width:height:channels:fill:): \(problem ?? "")")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [Float](repeating: fill, count: width * height * channels)
    }

    /// Shape without checks, for code in this module that has already validated it.
    init(uncheckedWidth width: Int, height: Int, channels: Int, pixels: [Float]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    static func shapeProblem(width: Int, height: Int, channels: Int) -> String? {
        if channels != 3 && channels != 4 {
            return "channels must be 3 (RGB) or 4 (RGBA), got \(channels)"
        }
        if width < 1 || height < 1 || width > maxSide || height > maxSide {
            return "size \(width) × \(height) must be 1...\(maxSide) pixels per side"
        }
        if width * height > maxPixelCount {
            return "size \(width) × \(height) is over \(maxPixelCount) pixels"
        }
        return nil
    }

    /// Whether the image has an alpha channel.
    public var hasAlpha: Bool { channels == 4 }

    /// Sample at column `x`, row `y`, channel `c`.
    /// - Precondition: `0 <= x < width`, `0 <= y < height`, `0 <= c < channels`.
    public subscript(x: Int, y: Int, c: Int) -> Float {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height && c >= 0 && c < channels,
                         "Image[\(x), \(y), \(c)] is outside \(width) × \(height) × \(channels)")
            return pixels[(y * width + x) * channels + c]
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height && c >= 0 && c < channels,
                         "Image[\(x), \(y), \(c)] is outside \(width) × \(height) × \(channels)")
            pixels[(y * width + x) * channels + c] = newValue
        }
    }

    /// The RGB channels only: alpha, if any, is dropped (not composited over anything).
    public var rgb: Image {
        if channels == 3 { return self }
        return convertingChannels(to: 3, alpha: 1)
    }

    /// RGBA: an RGB image gets an opaque alpha channel; an RGBA image is returned as is.
    public var rgba: Image {
        if channels == 4 { return self }
        return convertingChannels(to: 4, alpha: 1)
    }

    private func convertingChannels(to newChannels: Int, alpha: Float) -> Image {
        let count = width * height
        let source = channels
        let out = [Float](unsafeUninitializedCapacity: count * newChannels) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let s = i &* source, d = i &* newChannels
                    dst[d] = src[s]
                    dst[d &+ 1] = src[s &+ 1]
                    dst[d &+ 2] = src[s &+ 2]
                    if newChannels == 4 { dst[d &+ 3] = alpha }
                }
            }
            initialized = count * newChannels
        }
        return Image(uncheckedWidth: width, height: height, channels: newChannels, pixels: out)
    }

    /// The rectangle with top-left pixel (`x`, `y`) and the given size, copied.
    /// - Precondition: the rectangle is non-empty and lies inside the image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> Image {
        precondition(cropWidth >= 1 && cropHeight >= 1 && x >= 0 && y >= 0
                     && x + cropWidth <= width && y + cropHeight <= height,
                     "crop (\(x), \(y)) \(cropWidth) × \(cropHeight) is outside \(width) × \(height)")
        let rowLength = cropWidth * channels
        let out = [Float](unsafeUninitializedCapacity: rowLength * cropHeight) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                for row in 0..<cropHeight {
                    let start = ((y + row) * width + x) * channels
                    let target = UnsafeMutableBufferPointer(
                        rebasing: dst[(row * rowLength)..<((row + 1) * rowLength)])
                    _ = target.initialize(
                        fromContentsOf: UnsafeBufferPointer(rebasing: src[start..<(start + rowLength)]))
                }
            }
            initialized = rowLength * cropHeight
        }
        return Image(uncheckedWidth: cropWidth, height: cropHeight, channels: channels, pixels: out)
    }
}

extension Image {
    /// Texture sides a patch may have, in every command that reads or writes one (generate,
    /// evaluate, grid, print): a few texels blown up to centimetres is not a patch.
    public static let patchTextureSides: ClosedRange<Int> = 8...2048
}
