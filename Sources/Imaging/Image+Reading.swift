// Reading PNG and JPEG files into `Image`: format sniffing by magic bytes, the C decoders, sample
// conversion to [0, 1] Floats and EXIF orientation. Not an encoder (see Image+PNGWriting.swift).
internal import CImageShims
import TextSafety

/// The file formats `Image.read(from:)` decodes.
public enum ImageFileFormat: String, Sendable, Equatable {
    case png = "PNG"
    case jpeg = "JPEG"
}

extension Image {
    /// Reads a PNG or JPEG file, whatever its extension (the format comes from its first bytes).
    ///
    /// - PNG: every colour type (gray, gray+alpha, RGB, RGBA, palette) and bit depth (1–16),
    ///   interlaced or not. Gray becomes RGB, gray+alpha becomes RGBA, a tRNS chunk becomes an
    ///   alpha channel. 16-bit samples keep their precision (`value / 65535`). No gamma or ICC
    ///   conversion is applied.
    /// - JPEG: baseline and progressive; gray (returned as RGB), YCbCr, RGB, CMYK and YCCK.
    ///   An EXIF Orientation tag (1–8) is applied, so the image comes back upright as a phone or
    ///   browser shows it. (A PNG's rarely used eXIf chunk is ignored.)
    ///
    /// Every failure, including corrupt or truncated data and sides over `maxSide`, is thrown as
    /// an `ImagingError` naming `path`; the decoders never abort the process.
    public static func read(from path: String) throws(ImagingError) -> Image {
        try withFileData(path) { (bytes: UnsafeBufferPointer<UInt8>) throws(ImagingError) -> Image in
            try decodeImage(bytes, path: path)
        }
    }

    /// `read(from:)` for bytes already in memory (e.g. a fuzzer's input); errors name `name`.
    public static func read(bytes: [UInt8], name: String) throws(ImagingError) -> Image {
        try withBytes(bytes, name) { (b: UnsafeBufferPointer<UInt8>) throws(ImagingError) -> Image in try decodeImage(b, path: name) }
    }

    private static func decodeImage(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws(ImagingError) -> Image {
        let format = try sniffFormat(bytes, path: path)
        var decoded = try decode(bytes, format: format, headerOnly: false, path: path)
        defer { rp_image_free(&decoded) }
        var image = try makeImage(from: decoded, path: path)
        if format == .jpeg, decoded.exif != nil, decoded.exif_size > 0 {
            let exif = UnsafeBufferPointer(start: decoded.exif, count: decoded.exif_size)
            if let orientation = EXIFOrientation.parse(tiff: exif), orientation != .up {
                image = image.applying(orientation)
            }
        }
        return image
    }

    /// The horizontal print resolution stored in a file, in dots per inch, or nil if it has none:
    /// a PNG's pHYs chunk in pixels per metre (× 0.0254), or a JPEG's JFIF density in dots per
    /// inch or per centimetre. Only the header is decoded. For a pHYs of 11811 px/m (what
    /// `writePNG(to:dpi: 300)` stores) this returns 299.9994.
    public static func readDPI(from path: String) throws(ImagingError) -> Double? {
        try withFileData(path) { (bytes: UnsafeBufferPointer<UInt8>) throws(ImagingError) -> Double? in try decodeDPI(bytes, path: path) }
    }

    /// `readDPI(from:)` for bytes already in memory; errors name `name`.
    public static func readDPI(bytes: [UInt8], name: String) throws(ImagingError) -> Double? {
        try withBytes(bytes, name) { (b: UnsafeBufferPointer<UInt8>) throws(ImagingError) -> Double? in try decodeDPI(b, path: name) }
    }

    private static func decodeDPI(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws(ImagingError) -> Double? {
        let format = try sniffFormat(bytes, path: path)
        var decoded = try decode(bytes, format: format, headerOnly: true, path: path)
        defer { rp_image_free(&decoded) }
        return decoded.dpi_x > 0 ? decoded.dpi_x : nil
    }

    /// The format of a file, from its first bytes (throws for anything but PNG and JPEG).
    public static func fileFormat(of path: String) throws(ImagingError) -> ImageFileFormat {
        try withFileData(path) { (bytes: UnsafeBufferPointer<UInt8>) throws(ImagingError) in
            try sniffFormat(bytes, path: path)
        }
    }

    // MARK: - File access

    private static func withFileData<T>(
        _ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws(ImagingError) -> T
    ) throws(ImagingError) -> T {
        var data: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { buffer in
            rp_read_file(path, &data, &size, buffer.baseAddress, buffer.count)
        }
        defer { rp_free(data) }
        let reason = string(fromC: message)
        switch status {
        case RP_OK: break
        case RP_ERR_NOT_FOUND: throw .fileNotFound(path: path)
        case RP_ERR_PERMISSION: throw .permissionDenied(path: path)
        case RP_ERR_IS_DIRECTORY: throw .isDirectory(path: path)
        case RP_ERR_NO_MEMORY: throw .outOfMemory(path: path, reason: reason)
        default: throw .readFailed(path: path, reason: reason)
        }
        guard let data, size > 0 else { throw .emptyFile(path: path) }
        return try body(UnsafeBufferPointer(start: data, count: size))
    }

    /// In-memory bytes under the same rule as a file: empty is `emptyFile`.
    private static func withBytes<T>(
        _ bytes: [UInt8], _ name: String, _ body: (UnsafeBufferPointer<UInt8>) throws(ImagingError) -> T
    ) throws(ImagingError) -> T {
        guard !bytes.isEmpty else { throw .emptyFile(path: name) }
        let result: Result<T, ImagingError> = bytes.withUnsafeBufferPointer { b in
            do throws(ImagingError) { return .success(try body(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// A libpng/libjpeg message: it may quote the file (a chunk's text, a marker), so it is escaped and cut.
    static func string(fromC message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return untrustedText(bytes: bytes, limit: 160)
    }

    // MARK: - Format detection

    private static func sniffFormat(
        _ bytes: UnsafeBufferPointer<UInt8>, path: String
    ) throws(ImagingError) -> ImageFileFormat {
        func starts(with prefix: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + prefix.count else { return false }
            for (i, byte) in prefix.enumerated() where bytes[offset + i] != byte { return false }
            return true
        }
        if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }

        let ascii: (String) -> [UInt8] = { Array($0.utf8) }
        var known: String? = nil
        if starts(with: ascii("GIF8")) {
            known = "GIF"
        } else if starts(with: ascii("RIFF")) && starts(with: ascii("WEBP"), at: 8) {
            known = "WebP"
        } else if starts(with: ascii("BM")) && bytes.count >= 26 {
            known = "BMP"
        } else if starts(with: [0x49, 0x49, 0x2A, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            known = "TIFF"
        } else if starts(with: ascii("ftyp"), at: 4) {
            if starts(with: ascii("avif"), at: 8) {
                known = "AVIF"
            } else if starts(with: ascii("heic"), at: 8) || starts(with: ascii("heix"), at: 8)
                        || starts(with: ascii("mif1"), at: 8) {
                known = "HEIC/HEIF"
            }
        }
        throw .unrecognizedFormat(path: path, leadingBytes: Array(bytes.prefix(4)), knownFormat: known)
    }

    // MARK: - Decoding

    private static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, format: ImageFileFormat, headerOnly: Bool, path: String
    ) throws(ImagingError) -> rp_image {
        var decoded = rp_image()
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { buffer in
            switch format {
            case .png:
                rp_png_decode(bytes.baseAddress, bytes.count, headerOnly ? 1 : 0, Int32(maxSide),
                              Int64(maxPixelCount), &decoded, buffer.baseAddress, buffer.count)
            case .jpeg:
                rp_jpeg_decode(bytes.baseAddress, bytes.count, headerOnly ? 1 : 0, Int32(maxSide),
                               Int64(maxPixelCount), &decoded, buffer.baseAddress, buffer.count)
            }
        }
        if status == RP_OK { return decoded }
        rp_image_free(&decoded)
        let reason = string(fromC: message)
        let name = format.rawValue
        switch status {
        case RP_ERR_TRUNCATED: throw .truncated(path: path, format: name, reason: reason)
        case RP_ERR_TOO_LARGE:
            throw .tooLarge(path: path, width: Int(decoded.width), height: Int(decoded.height))
        case RP_ERR_UNSUPPORTED: throw .unsupported(path: path, format: name, reason: reason)
        case RP_ERR_NO_MEMORY: throw .outOfMemory(path: path, reason: reason)
        default: throw .corrupt(path: path, format: name, reason: reason)
        }
    }

    /// Converts the decoder's 8- or 16-bit samples to Floats in [0, 1] (v / 255 or v / 65535).
    private static func makeImage(from decoded: rp_image, path: String) throws(ImagingError) -> Image {
        let width = Int(decoded.width), height = Int(decoded.height)
        let channels = Int(decoded.channels), depth = Int(decoded.bit_depth)
        guard let raw = decoded.pixels, (channels == 3 || channels == 4), (depth == 8 || depth == 16),
              width >= 1, height >= 1 else {
            throw .unsupported(path: path, format: "image",
                               reason: "decoder returned \(width) × \(height) × \(channels) at \(depth) bits")
        }
        let count = width * height * channels
        let pixels = [Float](unsafeUninitializedCapacity: count) { dst, initialized in
            if depth == 8 {
                let src = raw.assumingMemoryBound(to: UInt8.self)
                for i in 0..<count { dst[i] = Float(src[i]) / 255 }
            } else {
                let src = raw.assumingMemoryBound(to: UInt16.self)
                for i in 0..<count { dst[i] = Float(src[i]) / 65535 }
            }
            initialized = count
        }
        return Image(uncheckedWidth: width, height: height, channels: channels, pixels: pixels)
    }
}
