// Typed errors of the Runs module: each names the file or folder and says what to do.
import Imaging

import TextSafety

public enum RunError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A patch file or folder that cannot be used as a patch (missing, wrong kind, wrong size).
    case badPatch(path: String, reason: String)
    /// A mask image that cannot be used (unreadable, marks no pixel).
    case badMask(path: String, reason: String)
    /// A run.json that cannot be read as a run record.
    case badRecord(path: String, reason: String)
    /// A run folder's checkpoint is missing, damaged or cannot be continued.
    case checkpoint(String)
    /// A run folder that a new run would overwrite.
    case folderInUse(String)
    /// A file or folder that could not be written.
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badPatch(path, reason): return "patch \(displayPath(path)): \(reason)"
        case let .badMask(path, reason): return "mask \(displayPath(path)): \(reason)"
        case let .badRecord(path, reason): return "\(displayPath(path)) \(reason)"
        case let .checkpoint(s), let .folderInUse(s): return s
        case let .write(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}

extension RunError {
    /// A failed write of `path` (an `ImagingError` or `FileWriteError`, whose reason says what to do).
    init(writing path: String, _ error: any Error) {
        switch error {
        case let ImagingError.writeFailed(_, reason): self = .write(path: path, reason: reason)
        case let e as FileWriteError: self = .write(path: path, reason: e.reason)
        case let e as RunError: self = e
        default: self = .write(path: path, reason: "\(error)")
        }
    }
}
