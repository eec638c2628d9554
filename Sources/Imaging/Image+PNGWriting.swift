// Writing `Image` as an 8-bit PNG, atomically, with optional print resolution (pHYs).
// Not a general encoder: no 16-bit output, no gray or palette output, no metadata but pHYs.
internal import CImageShims

extension Image {
    /// Writes the image as an 8-bit RGB or RGBA PNG.
    ///
    /// Samples are clamped to [0, 1] (NaN becomes 0) and rounded to the nearest of 0...255, so a
    /// PNG read back gives exactly `round(255 · v) / 255`. With `dpi`, a pHYs chunk records
    /// `round(dpi / 0.0254)` pixels per metre (300 dpi → 11811 px/m, read back as 299.9994).
    /// The file is written to a temporary name in the same directory and renamed over `path`,
    /// so readers never see a half-written PNG and a failed write leaves any old file intact.
    public func writePNG(to path: String, dpi: Double? = nil) throws(ImagingError) {
        guard pixels.count == width * height * channels else {
            throw .writeFailed(path: path, reason: "the image has \(pixels.count) samples, but "
                + "\(width) × \(height) × \(channels) needs \(width * height * channels)")
        }
        var pixelsPerMetre: UInt32 = 0
        if let dpi {
            let ppm = (dpi / 0.0254).rounded()
            guard dpi.isFinite, dpi > 0, ppm >= 1, ppm <= Double(Int32.max) else {
                throw .writeFailed(path: path, reason: "resolution \(dpi) dpi is not a positive "
                    + "number of dots per inch that fits a PNG pHYs chunk")
            }
            pixelsPerMetre = UInt32(ppm)
        }
        let bytes = quantized8()
        var message = [CChar](repeating: 0, count: 512)
        let status = bytes.withUnsafeBufferPointer { src in
            message.withUnsafeMutableBufferPointer { buffer in
                rp_png_write_file(path, src.baseAddress, Int32(width), Int32(height), Int32(channels),
                                  pixelsPerMetre, buffer.baseAddress, buffer.count)
            }
        }
        guard status == RP_OK else {
            throw .writeFailed(path: path, reason: Image.string(fromC: message))
        }
    }

    /// Samples as bytes: clamp to [0, 1] (NaN → 0), then round half up. (H, W, C) like `pixels`.
    func quantized8() -> [UInt8] {
        let count = pixels.count
        return [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let v = src[i]
                    // `v > 0` is false for NaN, so NaN lands on 0.
                    let clamped: Float = v > 0 ? (v < 1 ? v : 1) : 0
                    dst[i] = UInt8(truncatingIfNeeded: Int32(clamped * 255 + 0.5))
                }
            }
            initialized = count
        }
    }
}
