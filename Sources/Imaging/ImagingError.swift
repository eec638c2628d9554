// `ImagingError`: every way reading or writing an image file can fail, each naming the file and
// saying what to do. Not used for programmer errors (bad crop rectangles are preconditions).

import TextSafety

/// An image file could not be read or written, or an in-memory image was malformed.
///
/// Every case except `invalidImage` carries the path exactly as given; `description` starts with
/// it, then says what was wrong (quoting libpng's or libjpeg's own message where there is one)
/// and what to do about it.
public enum ImagingError: Error, CustomStringConvertible, Equatable, Sendable {
    case fileNotFound(path: String)
    case permissionDenied(path: String)
    case isDirectory(path: String)
    case readFailed(path: String, reason: String)
    case emptyFile(path: String)
    /// Neither PNG nor JPEG by its first bytes; `knownFormat` names it when we recognise it.
    case unrecognizedFormat(path: String, leadingBytes: [UInt8], knownFormat: String?)
    /// `format` is "PNG" or "JPEG"; `reason` is the decoder's message.
    case corrupt(path: String, format: String, reason: String)
    case truncated(path: String, format: String, reason: String)
    case tooLarge(path: String, width: Int, height: Int)
    case unsupported(path: String, format: String, reason: String)
    case outOfMemory(path: String, reason: String)
    /// `reason` says what went wrong and what to do (for a file system error, `FileWriteError.reason`).
    case writeFailed(path: String, reason: String)
    /// An `Image` built in memory had an impossible shape (the one case without a file).
    case invalidImage(reason: String)

    /// The file the error is about (nil only for `invalidImage`).
    public var path: String? {
        switch self {
        case .fileNotFound(let path), .permissionDenied(let path), .isDirectory(let path),
             .emptyFile(let path):
            return path
        case .readFailed(let path, _), .writeFailed(let path, _), .outOfMemory(let path, _):
            return path
        case .unrecognizedFormat(let path, _, _), .corrupt(let path, _, _),
             .truncated(let path, _, _), .unsupported(let path, _, _), .tooLarge(let path, _, _):
            return path
        case .invalidImage:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(displayPath(path)): no such file. Check the path (relative paths start at the current directory)."
        case .permissionDenied(let path):
            return "\(displayPath(path)): permission denied. Make the file readable (chmod +r) or copy it somewhere readable."
        case .isDirectory(let path):
            return "\(displayPath(path)): is a directory, not an image file. Give the path of a PNG or JPEG file."
        case .readFailed(let path, let reason):
            return "\(displayPath(path)): could not read the file (\(reason))."
        case .emptyFile(let path):
            return "\(displayPath(path)): the file is empty (0 bytes). Give a PNG or JPEG image."
        case .unrecognizedFormat(let path, let bytes, let known):
            if let known {
                return "\(displayPath(path)): this is a \(known) file, which is not supported. Convert it to PNG or JPEG."
            }
            let hex = bytes.map { byte in
                let digits = String(byte, radix: 16, uppercase: true)
                return digits.count == 1 ? "0" + digits : digits
            }.joined(separator: " ")
            return "\(displayPath(path)): not a PNG or JPEG file (starts with bytes \(hex)). Give a PNG or JPEG image."
        case .corrupt(let path, let format, let reason):
            return "\(displayPath(path)): the \(format) data is corrupt (\(Self.library(format)): \(reason)). "
                + "Re-export or re-download the image."
        case .truncated(let path, let format, let reason):
            return "\(displayPath(path)): the \(format) file is truncated (\(Self.library(format)): \(reason)). "
                + "The download or copy was probably cut short; fetch the file again."
        case .tooLarge(let path, let width, let height):
            return "\(displayPath(path)): the image is \(width) × \(height) pixels, over the limit of "
                + "\(Image.maxSide) pixels per side and \(Image.maxPixelCount) pixels in all. "
                + "Downscale it first."
        case .unsupported(let path, let format, let reason):
            return "\(displayPath(path)): unsupported \(format) variant (\(reason)). Convert it to an 8-bit RGB PNG or JPEG."
        case .outOfMemory(let path, let reason):
            return "\(displayPath(path)): out of memory (\(reason)). Downscale the image or free some memory."
        case .writeFailed(let path, let reason):
            return "cannot write \(displayPath(path)): \(reason)"
        case .invalidImage(let reason):
            return "invalid image: \(reason)."
        }
    }

    private static func library(_ format: String) -> String {
        format == "PNG" ? "libpng" : format == "JPEG" ? "libjpeg" : format
    }
}
