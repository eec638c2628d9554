// Writing `Image` as an 8-bit PNG, atomically (AtomicFile), with optional print resolution (pHYs).
// Not a general encoder: no 16-bit output, no gray or palette output, no metadata but pHYs.
import Foundation
internal import CImageShims

extension Image {
    /// Writes the image as an 8-bit RGB or RGBA PNG.
    ///
    /// Samples are clamped to [0, 1] (NaN becomes 0) and rounded to the nearest of 0...255, so a
    /// PNG read back gives exactly `round(255 · v) / 255`. With `dpi`, a pHYs chunk records
    /// `round(dpi / 0.0254)` pixels per metre (300 dpi → 11811 px/m, read back as 299.9994).
    /// The file is written by `AtomicFile` (a temporary name in the same folder, renamed over
    /// `path`), so readers never see a half-written PNG and a failed write leaves any old file intact.
    public func writePNG(to path: String, dpi: Double? = nil) throws(ImagingError) {
        let data = try pngData(dpi: dpi, naming: path)
        do { try AtomicFile.write(data, to: path) } catch { throw .writeFailed(path: path, reason: error.reason) }
    }

    /// The image as the bytes of an 8-bit RGB or RGBA PNG file (see `writePNG(to:dpi:)`).
    public func pngData(dpi: Double? = nil) throws(ImagingError) -> Data {
        try pngData(dpi: dpi, naming: "PNG data")
    }

    private func pngData(dpi: Double?, naming path: String) throws(ImagingError) -> Data {
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
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = bytes.withUnsafeBufferPointer { src in
            message.withUnsafeMutableBufferPointer { buffer in
                rp_png_encode(src.baseAddress, Int32(width), Int32(height), Int32(channels), pixelsPerMetre,
                              &out, &size, buffer.baseAddress, buffer.count)
            }
        }
        defer { rp_free(out) }
        guard status == RP_OK, let out else {
            throw .writeFailed(path: path, reason: "libpng could not encode the image: \(Image.string(fromC: message))")
        }
        return Data(bytes: out, count: size)
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
