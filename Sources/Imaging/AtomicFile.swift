// AtomicFile: the one way the tool writes an output file (PNG, JSON, CSV, HTML): whole, through a
// temporary file in the same folder renamed over the target, with an error that names the file
// and says what to do. Not a streaming writer: outputs are built in memory first.
import Foundation
internal import CImageShims

/// A file that could not be written. Its previous contents, if any, are unchanged, and no
/// temporary file is left behind.
public struct FileWriteError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file as given (for `AtomicFile.checkWritable`, the folder).
    public let path: String
    /// The folder the file goes in.
    public let folder: String
    /// The `errno` of the failed step (ENOSPC for a full disk, EROFS, EACCES, …).
    public let code: Int32
    /// The failed step and the system's message, e.g. "No space left on device".
    public let detail: String

    /// - Parameter isFolder: `path` is the folder itself (a folder that cannot take files).
    public init(path: String, code: Int32, detail: String, isFolder: Bool = false) {
        let parent = (path as NSString).deletingLastPathComponent
        self.path = path; self.code = code; self.detail = detail
        self.folder = isFolder ? path : parent.isEmpty ? "." : parent
    }

    /// What went wrong and what to do, without the path (for errors that name it themselves).
    public var reason: String {
        switch code {
        case ENOSPC, EDQUOT:
            return "the disk is full (\(detail)); free some space there, or write to another folder"
        case EROFS:
            return "\(folder) is on a read-only file system (\(detail)); write to a folder on a writable disk"
        case EACCES, EPERM:
            return "\(folder) is not writable (\(detail)); make it writable (chmod u+w) or write to another folder"
        case ENOENT, ENOTDIR:
            return "\(folder) does not exist (\(detail)); create it first or write to another folder"
        case EISDIR:
            return "it is a folder (\(detail)); give a file name"
        case EEXIST:
            return "\(detail); move that file away or give another folder"
        default:
            return "\(detail); check the disk and the folder's permissions"
        }
    }

    public var description: String { "cannot write \(path): \(reason)" }
}

public enum AtomicFile {
    /// Writes `data` as the file at `path`: a temporary file in the same folder, flushed to disk,
    /// then renamed over `path`. A reader sees the old file or the new one, never part of one; a
    /// failure leaves the old file as it was. With `backup`, the file that `path` held becomes
    /// `backup` in the same step (the previous backup is replaced, never absent).
    ///
    /// For tests, ROBUSTPATCH_FAIL_WRITES_AFTER=N[:ERRNO] in the environment makes every write
    /// after the first N of the process fail half-way, like a disk that fills up (CImageShims.h).
    public static func write(_ data: Data, to path: String, keepingPreviousAs backup: String? = nil) throws(FileWriteError) {
        var message = [CChar](repeating: 0, count: 512)
        let code = data.withUnsafeBytes { raw in
            message.withUnsafeMutableBufferPointer { m in
                rp_write_file_atomic(path, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, backup, m.baseAddress, m.count)
            }
        }
        guard code == 0 else { throw FileWriteError(path: path, code: code, detail: string(message)) }
    }

    /// `text` as UTF-8, atomically (see `write(_:to:keepingPreviousAs:)`).
    public static func write(_ text: String, to path: String) throws(FileWriteError) {
        try write(Data(text.utf8), to: path)
    }

    /// Creates `folder` and any missing parents (nothing when it exists). The error names the
    /// folder that could not be made and why (a read-only parent, a file in the way, …).
    public static func createFolder(_ folder: String) throws(FileWriteError) {
        // mkdir itself, not FileManager: its errors keep the errno (EROFS, EACCES, ENOSPC, …).
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw FileWriteError(path: folder, code: EEXIST, detail: "a file of that name is in the way", isFolder: true)
        }
        let parent = (folder as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != folder { try createFolder(parent) }
        if mkdir(folder, 0o777) != 0 && errno != EEXIST {
            let code = errno
            throw FileWriteError(path: folder, code: code, detail: "cannot create the folder: " + String(cString: strerror(code)))
        }
    }

    /// Throws unless a file can be created in `folder` (one is made and removed at once), so a
    /// long run into a read-only folder stops before its work, not at its first save.
    public static func checkWritable(folder: String) throws(FileWriteError) {
        var message = [CChar](repeating: 0, count: 512)
        let code = message.withUnsafeMutableBufferPointer { m in rp_check_writable_folder(folder, m.baseAddress, m.count) }
        guard code == 0 else {
            throw FileWriteError(path: folder, code: code, detail: string(message), isFolder: true)
        }
    }

    private static func string(_ message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
