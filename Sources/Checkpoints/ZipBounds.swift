// ZipBounds: checks a zip's directory before ZIPFoundation reads it. ZIPFoundation 0.9.20 converts
// the offsets it finds to `off_t` and adds sizes in UInt64 without checks, so a damaged file with an
// offset past 2^63 or sizes that overflow traps the process (found by fuzzing:
// Tests/FuzzCorpus/pth-zip/regressions). A valid zip never points outside itself, so this pass
// walks the same records ZIPFoundation will (end of central directory, the ZIP64 record right
// before its locator, each central directory entry with its ZIP64 extra field, each local header)
// and refuses any offset past the end of the file, any entry whose data would end past it, and any
// uncompressed size over 2^40 bytes. It reads nothing but the records; extraction stays ZIPFoundation's.
import TextSafety

enum ZipBounds {
    /// No entry of a checkpoint claims more than this uncompressed (1 TiB; the reader's own limits
    /// are far lower): keeps every sum ZIPFoundation forms far from overflow.
    static let maxUncompressedSize: UInt64 = 1 << 40

    static func check(_ b: [UInt8], path: String) throws(CheckpointError) {
        let len = b.count
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ i: Int) -> UInt64 { UInt64(b[i]) | UInt64(b[i + 1]) << 8 | UInt64(b[i + 2]) << 16 | UInt64(b[i + 3]) << 24 }
        func u64(_ i: Int) -> UInt64 { u32(i) | u32(i + 4) << 32 }
        func bad(_ what: String) -> CheckpointError { .malformedArchive(file: path, detail: what) }
        func within(_ v: UInt64, _ what: String) throws(CheckpointError) -> Int {
            guard v <= UInt64(len) else { throw bad("\(what) (\(v)) lies past the end of the \(len)-byte file") }
            return Int(v)
        }
        // End of central directory: the last signature within the final 22+ bytes, as ZIPFoundation scans.
        guard len >= 22, let eocd = stride(from: len - 22, through: 0, by: -1).first(where: { u32($0) == 0x0605_4B50 }) else {
            throw bad("no end-of-central-directory record (not a zip, or cut short)")
        }
        var entries = UInt64(u16(eocd + 10))
        var directory = u32(eocd + 16)
        // ZIP64: a locator right before the record and the ZIP64 record right before the locator
        // (where ZIPFoundation looks), needing version 4.5.
        if eocd > 20, eocd - 20 > 56, u32(eocd - 20) == 0x0706_4B50 {
            let record = eocd - 20 - 56
            if u32(record) == 0x0606_4B50, u16(record + 14) >= 45 {
                entries = u64(record + 32)
                directory = u64(record + 48)
            }
        }
        var at = try within(directory, "the central directory's offset")
        var index: UInt64 = 0
        while index < entries, at + 46 <= len, u32(at) == 0x0201_4B50 {
            let flags = u16(at + 8), method = u16(at + 10)
            var compressed = u32(at + 20), uncompressed = u32(at + 24), local = u32(at + 42)
            let name = u16(at + 28), extra = u16(at + 30), comment = u16(at + 32)
            let extraStart = at + 46 + name
            guard extraStart + extra + comment <= len else { throw bad("central directory entry \(index + 1) runs past the end of the file") }
            let entry = "entry \(index + 1) ('\(untrustedText(bytes: Array(b[(at + 46)..<extraStart])))')"
            // Every 8-byte value of a ZIP64 extra field, whichever of them ZIPFoundation picks.
            var e = extraStart
            while e + 4 <= extraStart + extra {
                let id = u16(e), size = u16(e + 2)
                let end = min(e + 4 + size, extraStart + extra)
                if id == 0x0001 {
                    var w = e + 4
                    var words: [UInt64] = []
                    while w + 8 <= end { words.append(u64(w)); w += 8 }
                    var k = 0
                    if uncompressed == 0xFFFF_FFFF, k < words.count { uncompressed = words[k]; k += 1 }
                    if compressed == 0xFFFF_FFFF, k < words.count { compressed = words[k]; k += 1 }
                    if local == 0xFFFF_FFFF, k < words.count { local = words[k]; k += 1 }
                    for v in words where v > max(UInt64(len), maxUncompressedSize) {
                        throw bad("\(entry) has a ZIP64 size or offset of \(v), past any file of \(len) bytes")
                    }
                }
                e += 4 + size
            }
            guard uncompressed <= maxUncompressedSize else { throw bad("\(entry) claims \(uncompressed) bytes uncompressed") }
            let start = try within(local, "\(entry)'s local header offset")
            guard start + 30 <= len, u32(start) == 0x0403_4B50 else { throw bad("\(entry)'s local header is missing or cut short") }
            let dataStart = start + 30 + u16(start + 26) + u16(start + 28)
            let stored = method == 0 ? max(compressed, uncompressed) : compressed
            guard UInt64(dataStart) + stored <= UInt64(len) else {
                throw bad("\(entry) claims \(stored) bytes, more than the whole \(len)-byte file holds after byte \(dataStart)")
            }
            // A data descriptor (flag bit 3) follows the data; ZIPFoundation reads it there.
            if flags & 8 != 0, UInt64(dataStart) + stored + 12 > UInt64(len) {
                throw bad("\(entry)'s data descriptor lies past the end of the file")
            }
            at = extraStart + extra + comment
            index += 1
        }
    }
}
