// Anti-aliased separable resampling with a triangle (bilinear) filter, matching PIL's
// `Image.resize(size, Image.BILINEAR)`. Not differentiable and not a warp (see Transforms).

/// Per-output-index filter taps along one axis: output `i` reads input
/// `starts[i] ..< starts[i] + counts[i]` with weights `weights[i * taps ..< i * taps + counts[i]]`.
struct ResampleTaps {
    var starts: [Int]
    var counts: [Int]
    var weights: [Float]
    /// The same weights in Pillow's 8-bit fixed point (22 fraction bits), for `resizedLike8BitPIL`.
    var fixed: [Int32]
    var taps: Int  // stride of `weights`

    /// Triangle-filter taps for resampling `inSize` samples to `outSize`, exactly as Pillow's
    /// `precompute_coeffs` (libImaging/Resample.c) does for BILINEAR: scale = in / out; the
    /// filter support (1 input pixel) widens by the scale when shrinking; output centre
    /// `(i + 0.5) · scale` in input coordinates (pixel centres at +0.5); taps clipped to the
    /// image and renormalised to sum to 1 (so edges are not darkened).
    init(inSize: Int, outSize: Int) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale
        let inverseFilterScale = 1 / filterScale
        taps = Int(support.rounded(.up)) * 2 + 1
        starts = [Int](repeating: 0, count: outSize)
        counts = [Int](repeating: 0, count: outSize)
        weights = [Float](repeating: 0, count: outSize * taps)
        fixed = [Int32](repeating: 0, count: outSize * taps)
        var k = [Double](repeating: 0, count: taps)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            // Pillow truncates toward zero with a C cast; negative values clamp to 0 either way.
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inSize)
            let n = min(hi - lo, taps)
            var sum = 0.0
            for t in 0..<n {
                let x = (Double(t + lo) - center + 0.5) * inverseFilterScale
                let w = max(0, 1 - abs(x))  // triangle filter, support 1
                k[t] = w
                sum += w
            }
            starts[i] = lo
            counts[i] = n
            for t in 0..<n {
                let w = sum != 0 ? k[t] / sum : k[t]
                weights[i * taps + t] = Float(w)
                // Pillow's normalize_coeffs_8bpc: round half away from zero to 22 fraction bits.
                fixed[i * taps + t] = Int32(w < 0 ? -0.5 + w * Double(1 << 22) : 0.5 + w * Double(1 << 22))
            }
        }
    }
}

extension Image {
    /// The image resampled to `width` × `height` with an anti-aliased triangle filter.
    ///
    /// Filter: separable (horizontal pass, then vertical), the triangle ("bilinear") kernel
    /// `max(0, 1 − |x|)`. When shrinking an axis by a factor s > 1 the kernel is stretched to
    /// `max(0, 1 − |x| / s)` over ±s input pixels, so every input pixel contributes (no aliasing);
    /// when enlarging it is plain bilinear interpolation. Pixel centres sit at +0.5 (output
    /// pixel i samples input coordinate `(i + 0.5) · in / out`); taps that fall off the image are
    /// dropped and the rest renormalised. This is Pillow's `resize(..., Image.BILINEAR)` (checked
    /// against PIL 9.4 in float mode by `Scripts/golden_resize.py`, max difference ~1e-6).
    /// RGBA is filtered with premultiplied alpha (as Pillow does), so fully transparent pixels do
    /// not bleed their colour into visible ones; pixels with zero alpha come out as (0, 0, 0, 0).
    /// The same size returns the image unchanged.
    ///
    /// - Precondition: `width` and `height` are in 1...`Image.maxSide` (for sizes that come from
    ///   user input, use `checkedResized`, which throws instead).
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth >= 1 && newHeight >= 1 && newWidth <= Image.maxSide
                     && newHeight <= Image.maxSide,
                     "resized(width: \(newWidth), height: \(newHeight)): sizes must be 1...\(Image.maxSide)")
        if newWidth == width && newHeight == height { return self }
        var source = channels == 4 ? premultiplied() : self
        if newWidth != width {
            source = source.resampledHorizontally(taps: ResampleTaps(inSize: width, outSize: newWidth),
                                                  newWidth: newWidth)
        }
        if newHeight != height {
            source = source.resampledVertically(taps: ResampleTaps(inSize: height, outSize: newHeight),
                                                newHeight: newHeight)
        }
        return channels == 4 ? source.unpremultiplied() : source
    }

    /// What `centerSquare` resizes the shorter side to before cropping `size`: round(size /
    /// cropFraction) when cropFraction < 1 (256 for 224 at 0.875), else `size`.
    public static func shorterSide(forCrop size: Int, cropFraction: Double) -> Int {
        cropFraction < 1 ? max(size, Int((Double(size) / cropFraction).rounded())) : size
    }

    /// Pillow's BILINEAR resize of an 8-bit image, bit for bit (libImaging/Resample.c): the
    /// same taps as `resized`, in 22-bit fixed point, a horizontal then a vertical pass, each
    /// rounding to 8 bits. Pixels are taken as round(255·v); the result is bytes / 255. What a
    /// model trained with torchvision's transforms on PIL images saw. No alpha (RGB or grey).
    public func resizedLike8BitPIL(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth >= 1 && newHeight >= 1 && newWidth <= Image.maxSide && newHeight <= Image.maxSide && channels != 4,
                     "resizedLike8BitPIL(width: \(newWidth), height: \(newHeight)) of a \(channels)-channel image")
        let c = channels
        var bytes = pixels.map { Int32(min(max(($0 * 255).rounded(), 0), 255)) }
        var (w, h) = (width, height)
        @inline(__always) func clip8(_ v: Int32) -> Int32 { min(max(v >> 22, 0), 255) }
        if newWidth != w {
            let t = ResampleTaps(inSize: w, outSize: newWidth)
            var out = [Int32](repeating: 0, count: h * newWidth * c)
            for y in 0..<h { for x in 0..<newWidth { for ch in 0..<c {
                var ss: Int32 = 1 << 21
                for k in 0..<t.counts[x] { ss &+= bytes[(y * w + t.starts[x] + k) * c + ch] &* t.fixed[x * t.taps + k] }
                out[(y * newWidth + x) * c + ch] = clip8(ss)
            } } }
            bytes = out; w = newWidth
        }
        if newHeight != h {
            let t = ResampleTaps(inSize: h, outSize: newHeight)
            var out = [Int32](repeating: 0, count: newHeight * w * c)
            for y in 0..<newHeight { for x in 0..<w { for ch in 0..<c {
                var ss: Int32 = 1 << 21
                for k in 0..<t.counts[y] { ss &+= bytes[((t.starts[y] + k) * w + x) * c + ch] &* t.fixed[y * t.taps + k] }
                out[(y * w + x) * c + ch] = clip8(ss)
            } } }
            bytes = out; h = newHeight
        }
        return try! Image(width: w, height: h, channels: c, pixels: bytes.map { Float($0) / 255 })
    }

    /// `resized(width:height:)` for a size computed from user input (a print size at a DPI, say):
    /// throws `ImagingError.invalidImage` naming the size when a side is outside 1...`maxSide`
    /// or the pixel count is over `maxPixelCount`, instead of trapping.
    public func checkedResized(width newWidth: Int, height newHeight: Int) throws(ImagingError) -> Image {
        if let problem = Image.shapeProblem(width: newWidth, height: newHeight, channels: channels) {
            throw .invalidImage(reason: "cannot resize \(width) × \(height) to \(newWidth) × \(newHeight): \(problem)")
        }
        return resized(width: newWidth, height: newHeight)
    }

    /// (H, W, C) → (H, newWidth, C).
    private func resampledHorizontally(taps: ResampleTaps, newWidth: Int) -> Image {
        let c = channels, h = height, inRow = width * c, outRow = newWidth * c
        let out = [Float](unsafeUninitializedCapacity: h * outRow) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                taps.weights.withUnsafeBufferPointer { weights in
                    taps.starts.withUnsafeBufferPointer { starts in
                        taps.counts.withUnsafeBufferPointer { counts in
                            for y in 0..<h {
                                let rowIn = y &* inRow, rowOut = y &* outRow
                                for xo in 0..<newWidth {
                                    let w0 = xo &* taps.taps
                                    let s0 = rowIn &+ starts[xo] &* c
                                    let o = rowOut &+ xo &* c
                                    for k in 0..<c {
                                        var sum: Float = 0
                                        for t in 0..<counts[xo] {
                                            sum += weights[w0 &+ t] * src[s0 &+ t &* c &+ k]
                                        }
                                        dst[o &+ k] = sum
                                    }
                                }
                            }
                        }
                    }
                }
            }
            initialized = h * outRow
        }
        return Image(uncheckedWidth: newWidth, height: h, channels: c, pixels: out)
    }

    /// (H, W, C) → (newHeight, W, C). Rows are combined whole, so the inner loop is contiguous.
    private func resampledVertically(taps: ResampleTaps, newHeight: Int) -> Image {
        let row = width * channels
        let out = [Float](unsafeUninitializedCapacity: newHeight * row) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                for yo in 0..<newHeight {
                    let o = yo &* row
                    for i in 0..<row { dst[o &+ i] = 0 }
                    for t in 0..<taps.counts[yo] {
                        let w = taps.weights[yo &* taps.taps &+ t]
                        let s = (taps.starts[yo] &+ t) &* row
                        for i in 0..<row { dst[o &+ i] += w * src[s &+ i] }
                    }
                }
            }
            initialized = newHeight * row
        }
        return Image(uncheckedWidth: width, height: newHeight, channels: channels, pixels: out)
    }

    /// RGBA with colour multiplied by alpha.
    private func premultiplied() -> Image {
        scalingColor(byAlpha: { a in a }, cappedAtOne: false)
    }

    /// Inverse of `premultiplied()`; zero alpha gives black, colour is clamped to [0, 1].
    private func unpremultiplied() -> Image {
        scalingColor(byAlpha: { a in a > 0 ? 1 / a : 0 }, cappedAtOne: true)
    }

    /// RGBA with each pixel's colour multiplied by `factor(its alpha)`, then capped at 1 when
    /// `cappedAtOne`; alpha is kept. The one loop of premultiplying and unpremultiplying.
    @inline(__always)
    private func scalingColor(byAlpha factor: (Float) -> Float, cappedAtOne: Bool) -> Image {
        var copy = self
        let n = width * height
        copy.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let f = factor(p[i &* 4 &+ 3])
                for k in 0..<3 {
                    let v = p[i &* 4 &+ k] * f
                    p[i &* 4 &+ k] = !cappedAtOne || v < 1 ? v : 1
                }
            }
        }
        return copy
    }
}

extension Image {
    /// Shorter side to `size`, then the centred size×size square; RGB. Returns self (RGB) when
    /// already size×size.
    /// `cropFraction` < 1: torchvision's ImageNet preprocessing of a PIL image instead, exactly:
    /// Resize(size / cropFraction) — the shorter side to round(size / cropFraction), the longer to
    /// ⌊that · long / short⌋, Pillow's 8-bit BILINEAR (`resizedLike8BitPIL`) — then
    /// CenterCrop(size) at round((side − size) / 2) (half to even, as Python rounds). 0.875 is
    /// Resize(256) + CenterCrop(224).
    public func centerSquare(size: Int, cropFraction: Double = 1) -> Image {
        let rgb = self.rgb
        if rgb.width == size && rgb.height == size { return rgb }
        if cropFraction < 1 {
            let short = Image.shorterSide(forCrop: size, cropFraction: cropFraction)
            let (w, h) = rgb.width <= rgb.height ? (short, Int(Double(short) * Double(rgb.height) / Double(rgb.width)))
                                                 : (Int(Double(short) * Double(rgb.width) / Double(rgb.height)), short)
            let resized = (min(rgb.width, rgb.height) == short) ? rgb : rgb.resizedLike8BitPIL(width: w, height: h)
            let top = Int((Double(resized.height - size) / 2).rounded(.toNearestOrEven))
            let left = Int((Double(resized.width - size) / 2).rounded(.toNearestOrEven))
            return resized.cropped(x: left, y: top, width: size, height: size)
        }
        let scale = Double(size) / Double(min(rgb.width, rgb.height))
        let w = max(size, Int((Double(rgb.width) * scale).rounded())), h = max(size, Int((Double(rgb.height) * scale).rounded()))
        return rgb.resized(width: w, height: h).cropped(x: (w - size) / 2, y: (h - size) / 2, width: size, height: size)
    }
}
