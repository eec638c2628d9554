// Readers for the two `torch.save` layouts: legacy (< 1.6: pickles back to back, then raw storages) and zip (>= 1.6).
// Both hand the pickles to `RestrictedUnpickler`; neither knows what the tensors mean.

import Foundation
import TextSafety
import ZIPFoundation

/// The legacy layout, as written by torch/serialization.py `_legacy_save` and read by `_legacy_load`:
///   pickle(MAGIC_NUMBER) pickle(PROTOCOL_VERSION=1001) pickle(sys_info) pickle(state dict) pickle([storage keys])
///   then, for each key in that order: int64 LE element count, count × element size raw LE bytes.
enum PyTorchLegacyReader {
    /// 0x1950a86a20f9469cfc6c as Python's LONG1 two's-complement bytes, little-endian.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    static func read(path: String, bytes: [UInt8]) throws(CheckpointError) -> Checkpoint {
        let first = try RestrictedUnpickler.read(file: path, bytes: bytes, start: 0)
        guard case .bigInt(let m) = first.value, m == magic else {
            throw .unrecognizedFormat(file: path, detail: "a pickle without PyTorch's magic number (not a torch.save file)")
        }
        let version = try RestrictedUnpickler.read(file: path, bytes: bytes, start: first.end)
        guard case .int(1001) = version.value else {
            throw .unrecognizedFormat(file: path, detail: "legacy torch.save protocol version is not 1001")
        }
        let sysInfo = try RestrictedUnpickler.read(file: path, bytes: bytes, start: version.end)
        if case .dict(let d) = sysInfo.value, let i = sysInfo.dicts[d].stringIndex["little_endian"],
           case .bool(false) = sysInfo.dicts[d].values[i] {
            throw .unrecognizedFormat(file: path, detail: "saved on a big-endian machine, which is not supported")
        }
        let main = try RestrictedUnpickler.read(file: path, bytes: bytes, start: sysInfo.end)
        let entries = try stateDictEntries(main, file: path)
        let keyList = try RestrictedUnpickler.read(file: path, bytes: bytes, start: main.end)
        guard case .list(let l) = keyList.value else {
            throw .malformedPickle(file: path, offset: main.end, detail: "the storage key list is a \(keyList.value.kind)")
        }
        var roots: [String: StorageRef] = [:]
        for s in main.storages { roots[s.key] = s }

        // Raw storages follow, in key-list order.
        var storageBytes: [String: Range<Int>] = [:]
        var pos = keyList.end
        for keyValue in keyList.lists[l] {
            guard case .string(let key) = keyValue else {
                throw .malformedPickle(file: path, offset: main.end, detail: "a storage key is a \(keyValue.kind)")
            }
            guard let root = roots[key] else {
                throw .malformedPickle(file: path, offset: main.end, detail: "storage '\(untrustedText(key))' is listed but no tensor uses it")
            }
            guard bytes.count - pos >= 8 else {
                throw .truncated(file: path, detail: "the header of storage '\(untrustedText(key))' at byte \(pos) is cut off")
            }
            var count: UInt64 = 0
            for i in (pos..<(pos + 8)).reversed() { count = count << 8 | UInt64(bytes[i]) }
            pos += 8
            let available = bytes.count - pos
            let (n, overflow) = Int(truncatingIfNeeded: count).multipliedReportingOverflow(by: root.dtype.byteSize)
            guard count <= UInt64(Int.max), !overflow, n <= available else {
                throw .truncated(file: path, detail: "storage '\(untrustedText(key))' claims \(count) elements of \(root.dtype.rawValue) "
                    + "but only \(available) bytes remain")
            }
            guard Int(count) >= root.rootNumel else {
                throw .storageTooShort(file: path, key: key, neededBytes: root.rootNumel &* root.dtype.byteSize, availableBytes: n)
            }
            storageBytes[key] = pos..<(pos + n)
            pos += n
        }
        return try decodeStateDict(entries, storageBytes: storageBytes, in: nil, file: bytes, path: path, format: .pytorchLegacy)
    }
}

/// The zip layout: `<dir>/data.pkl` (the pickle) and `<dir>/data/<key>` (one raw storage per entry);
/// `<dir>` is "archive" in recent PyTorch and the file's stem in older ones.
enum PyTorchZipReader {
    static func read(path: String, bytes: [UInt8]) throws(CheckpointError) -> Checkpoint {
        let archive = try openArchive(path: path, bytes: bytes)
        var entries: [String: Entry] = [:]
        var pickleEntry: Entry?
        for e in archive {
            entries[e.path] = e
            let parts = e.path.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, parts[1] == "data.pkl", pickleEntry == nil || parts[0] == "archive" { pickleEntry = e }
        }
        guard let pickleEntry else {
            throw .malformedArchive(file: path, detail: "no <dir>/data.pkl entry (is this a TorchScript or other zip?)")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        var inflated = 0
        if let bo = entries[prefix + "byteorder"] {
            let order = try extract(archive, bo, limit: 16, fileSize: bytes.count, inflated: &inflated, path: path)
            if String(decoding: order, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "big" {
                throw .unrecognizedFormat(file: path, detail: "saved with big-endian byte order, which is not supported")
            }
        }
        let pickle = try extract(archive, pickleEntry, limit: nil, fileSize: bytes.count, inflated: &inflated, path: path)
        let main = try RestrictedUnpickler.read(file: path, bytes: pickle, start: 0)
        let stateEntries = try stateDictEntries(main, file: path)

        var buffers: [String: [UInt8]] = [:]
        for s in main.storages {
            guard let e = entries[prefix + "data/" + s.key] else { throw .missingStorage(file: path, key: s.key) }
            let (needed, overflow) = s.rootNumel.multipliedReportingOverflow(by: s.dtype.byteSize)
            guard !overflow, UInt64(needed) <= e.uncompressedSize else {
                throw .storageTooShort(file: path, key: s.key, neededBytes: overflow ? Int.max : needed,
                                       availableBytes: Int(clamping: e.uncompressedSize))
            }
            buffers[s.key] = try extract(archive, e, limit: needed, fileSize: bytes.count, inflated: &inflated, path: path)
        }
        return try decodeStateDict(stateEntries, storageBytes: [:], in: buffers, file: [], path: path, format: .pytorchZip)
    }

    /// The zip directory of `bytes`, read through a real file: ZIPFoundation's in-memory archive
    /// (`Archive(data:)`) traps when a damaged directory points past the end of the data (found by
    /// fuzzing: Tests/FuzzCorpus/pth-zip/regressions), while a file-backed one reads short there
    /// and refuses. `path` is used when it is a regular file holding exactly these bytes (the
    /// normal case: no copy); otherwise the bytes go to a temporary file, unlinked once opened.
    static func openArchive(path: String, bytes: [UInt8]) throws(CheckpointError) -> Archive {
        try ZipBounds.check(bytes, path: path)
        func open(_ url: URL) throws(CheckpointError) -> Archive {
            do { return try Archive(url: url, accessMode: .read) } catch {
                throw .malformedArchive(file: path, detail: "cannot open the zip directory (\(untrustedText("\(error)")))")
            }
        }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           attributes[.type] as? FileAttributeType == .typeRegular,
           (attributes[.size] as? NSNumber)?.intValue == bytes.count,
           let onDisk = FileManager.default.contents(atPath: path), onDisk.count == bytes.count,
           onDisk.elementsEqual(bytes) {
            return try open(URL(fileURLWithPath: path))
        }
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("robustpatch-pth-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw .malformedArchive(file: path, detail: "cannot make a temporary file to read the zip from (\(String(cString: strerror(errno))))")
        }
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { close(fd); unlink(tempPath) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else {
                throw .malformedArchive(file: path, detail: "cannot write a temporary copy to read the zip from (\(String(cString: strerror(errno))))")
            }
            written += n
        }
        return try open(URL(fileURLWithPath: tempPath))
    }

    /// All compressed entries of one file together may inflate to at most this (a zip-bomb guard: torch.save stores
    /// its entries uncompressed, so only a re-zipped file has compressed ones; 1 GiB is 4× the largest zoo model).
    static let maxInflatedBytes = 1 << 30

    /// The bytes of one entry, refused before anything is allocated when its header's sizes cannot be right: that
    /// its data lies inside the file `ZipBounds.check` made sure when the archive was opened; a compressed entry may
    /// not inflate past `limit` or what is left of `maxInflatedBytes`. No entry may produce more bytes than its
    /// header declares.
    private static func extract(_ archive: Archive, _ e: Entry, limit: Int?, fileSize: Int, inflated: inout Int,
                                path: String) throws(CheckpointError) -> [UInt8] {
        let declared = e.uncompressedSize
        if e.compressedSize != declared {
            let allowed = min(limit ?? Int.max, maxInflatedBytes - inflated)
            guard declared <= UInt64(max(allowed, 0)) else {
                throw .malformedArchive(file: path, detail: "entry '\(untrustedText(e.path))' claims to inflate to \(declared) bytes, "
                    + "more than it may (\(max(allowed, 0)); all compressed entries together at most \(maxInflatedBytes))")
            }
            inflated += Int(declared)
        }
        struct Overrun: Error {}
        var out: [UInt8] = []
        out.reserveCapacity(Int(min(declared, UInt64(fileSize))))
        do {
            _ = try archive.extract(e, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                guard UInt64(out.count + chunk.count) <= declared else { throw Overrun() }
                out.append(contentsOf: chunk)
            }
        } catch is Overrun {
            throw .malformedArchive(file: path, detail: "entry '\(untrustedText(e.path))' holds more data than its header declares")
        } catch {
            throw .malformedArchive(file: path, detail: "cannot read entry '\(untrustedText(e.path))' (\(error))")
        }
        guard UInt64(out.count) == declared else {
            throw .truncated(file: path, detail: "entry '\(untrustedText(e.path))' holds \(out.count) of its \(declared) bytes")
        }
        return out
    }
}
