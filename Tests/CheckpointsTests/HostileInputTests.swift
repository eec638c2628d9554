// Tests (issue 23): hostile text in a checkpoint reaches an error message escaped and cut, and hostile sizes
// (zip entries past the file, storages viewed thousands of times, stride-0 views, ranks, headers) are refused
// before anything of that size is allocated. The files are built here byte by byte (PickleWriter, ZipWriter).

import Foundation
import Testing
import Checkpoints

/// An error description fit for a terminal: 1–3 lines, at most 300 characters besides the file's path,
/// no control character but the line breaks, no DEL, no C1 control.
func expectTerminalSafe(_ text: String, path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count <= 3, "\(text.debugDescription)", sourceLocation: sourceLocation)
    #expect(text.count - path.count <= 300, "\(text.count) characters: \(text.debugDescription)", sourceLocation: sourceLocation)
    let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) }
    #expect(bad.isEmpty, "control characters \(bad.map { $0.value }) in \(text.debugDescription)", sourceLocation: sourceLocation)
}

/// 5000 bytes with newlines, ESC sequences, a bidi override and invalid UTF-8.
let hostileBytes: [UInt8] = {
    var rng = SplitMix64(seed: 23)
    var out: [UInt8] = []
    while out.count < 5000 {
        out += Array("\u{1B}[2J\u{1B}]0;owned\u{07}\n\r\u{202E}".utf8)
        out += (0..<40).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }
    return out
}()

/// Pickle protocol 2 opcodes, enough to write the legacy torch.save layout by hand.
struct PickleWriter {
    var bytes: [UInt8] = [0x80, 0x02]
    mutating func op(_ b: UInt8...) { bytes += b }
    mutating func int(_ v: Int) { op(0x8A, 8); bytes += (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    mutating func string(_ s: String) { binstring(Array(s.utf8), unicode: true) }
    /// BINUNICODE (checked UTF-8) or BINSTRING (any bytes, read as Latin-1).
    mutating func binstring(_ b: [UInt8], unicode: Bool = false) {
        op(unicode ? 0x58 : 0x54)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: b.count >> (8 * $0)) }
        bytes += b
    }
    mutating func global(_ module: String, _ name: String) { op(0x63); bytes += Array("\(module)\n\(name)\n".utf8) }
    mutating func ints(_ v: [Int]) { op(0x28); for x in v { int(x) }; op(0x74) }
    mutating func stop() { op(0x2E) }
}

struct LegacyTensor { var name: String; var key: String; var numel: Int; var shape: [Int]; var stride: [Int] }

/// A legacy `.pth`: magic, protocol 1001, sys info, the state dict, the key list, then each storage's
/// count and float32 bytes (`storages`: key → element count written).
func legacyFile(_ tensors: [LegacyTensor], storages: [(String, Int)]) -> [UInt8] {
    var magic = PickleWriter(); magic.op(0x8A, 10); magic.bytes += [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]; magic.stop()
    var version = PickleWriter(); version.int(1001); version.stop()
    var sys = PickleWriter(); sys.op(0x7D); sys.stop()
    var main = PickleWriter()
    main.global("collections", "OrderedDict"); main.op(0x29, 0x52)
    for t in tensors {
        main.string(t.name)
        main.global("torch._utils", "_rebuild_tensor_v2")
        main.op(0x28)                                   // MARK: the six arguments
        main.op(0x28); main.string("storage"); main.global("torch", "FloatStorage"); main.string(t.key); main.string("cpu")
        main.int(t.numel); main.op(0x74, 0x51)          // TUPLE, BINPERSID
        main.int(0); main.ints(t.shape); main.ints(t.stride); main.op(0x89, 0x4E)
        main.op(0x74, 0x52, 0x73)                       // TUPLE, REDUCE, SETITEM
    }
    main.stop()
    var keys = PickleWriter(); keys.op(0x5D, 0x28); for (k, _) in storages { keys.string(k) }; keys.op(0x65); keys.stop()
    var out = magic.bytes + version.bytes + sys.bytes + main.bytes + keys.bytes
    for (_, count) in storages {
        out += (0..<8).map { UInt8(truncatingIfNeeded: count >> (8 * $0)) }
        out += [UInt8](repeating: 0, count: count * 4)
    }
    return out
}

/// A stored (uncompressed) zip; `claimed` overrides an entry's declared sizes without writing that much.
func zipFile(_ entries: [(name: [UInt8], data: [UInt8], claimed: UInt32?)]) -> [UInt8] {
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
    var out: [UInt8] = [], central: [UInt8] = []
    for e in entries {
        let offset = UInt32(out.count)
        let size = e.claimed ?? UInt32(e.data.count)
        let common = le16(20) + le16(0x0800) + le16(0) + le16(0) + le16(0) + le32(crc32(e.data)) + le32(size) + le32(size)
            + le16(e.name.count) + le16(0)
        out += le32(0x0403_4B50) + common + e.name + e.data
        central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + e.name
    }
    let cdOffset = UInt32(out.count)
    out += central
    out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count) + le32(UInt32(central.count))
        + le32(cdOffset) + le16(0)
    return out
}

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return ~c
}

@Suite struct HostileInputTests {
    func load(_ bytes: [UInt8], _ name: String) throws -> (CheckpointError?, String) {
        let path = Fixtures.temporaryPath(name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Fixtures.write(bytes, to: path)
        return (checkpointError { _ = try Checkpoint.load(path: path) }, path)
    }

    @Test func globalWithABinaryModuleNameIsEscapedAndCut() throws {
        // GLOBAL's module runs to a newline, so it carries everything else: ESC, CR, invalid UTF-8
        var p = PickleWriter()
        p.op(0x63); p.bytes += hostileBytes.filter { $0 != 0x0A } + [0x0A] + Array("system\n".utf8); p.stop()
        let (e, path) = try load(p.bytes, "hostile-global.pth")
        guard case .forbiddenGlobal(_, let module, "system")? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(module.utf8.count > 4000, "the error keeps the raw text; only its description escapes it")
        let text = e?.description ?? ""
        expectTerminalSafe(text, path: path)
        #expect(text.contains(#"\x1B[2J"#))
        #expect(text.contains("may be malicious"))
    }

    @Test func stackGlobalWithNewlinesAndESCIsEscapedAndCut() throws {
        var p = PickleWriter()
        p.binstring(hostileBytes); p.binstring(Array("evil\n\u{1B}[31mname".utf8) + hostileBytes); p.op(0x93); p.stop()
        let (e, path) = try load(p.bytes, "hostile-stack-global.pth")
        guard case .forbiddenGlobal? = e else { Issue.record("got \(String(describing: e))"); return }
        expectTerminalSafe(e!.description, path: path)
        #expect(e!.description.contains(#".evil\x0A\x1B[31mname"#))
    }

    @Test func hostileTensorNamesAndStorageKeysAreEscaped() throws {
        let name = String(decoding: hostileBytes, as: UTF8.self)
        // a negative size: refused by the tensor's name
        let file = legacyFile([LegacyTensor(name: name, key: "0", numel: 2, shape: [-1], stride: [1])], storages: [("0", 2)])
        let (e, path) = try load(file, "hostile-name.pth")
        guard case .invalidTensor? = e else { Issue.record("got \(String(describing: e))"); return }
        expectTerminalSafe(e!.description, path: path)
        // a storage key listed but never used
        let key = "k\u{1B}[2J\n" + String(repeating: "\u{202E}x", count: 500)
        let file2 = legacyFile([LegacyTensor(name: "w", key: "0", numel: 2, shape: [2], stride: [1])], storages: [("0", 2), (key, 1)])
        let (e2, path2) = try load(file2, "hostile-key.pth")
        guard case .malformedPickle? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        expectTerminalSafe(e2!.description, path: path2)
        #expect(e2!.description.contains(#"k\x1B[2J\x0A\u{202E}x"#))
    }

    @Test func aStrideZeroViewCannotAskForMoreThanItsStorage() throws {
        // 2^28 Floats (1 GiB) plus 2 GiB of gather indices from a one-element storage, without the checks:
        // refused by the checkpoint's budget (4× its storages' elements plus 2^24) before the tensor is decoded
        let file = legacyFile([LegacyTensor(name: "w", key: "0", numel: 1, shape: [1 << 28], stride: [0])], storages: [("0", 1)])
        let (e, path) = try load(file, "stride0.pth")
        guard case .invalidTensor(_, "w", let detail)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(detail.contains("show 268435456 elements of storages holding 1"), "\(detail)")
        expectTerminalSafe(e!.description, path: path)
        // within the budget of a 2^20-element storage, but a view repeating elements past 2^24: refused by the tensor
        let file2 = legacyFile([LegacyTensor(name: "w", key: "0", numel: 1 << 20, shape: [(1 << 24) + 1], stride: [0])], storages: [("0", 1 << 20)])
        let (e2, _) = try load(file2, "stride0-view.pth")
        guard case .invalidTensor(_, "w", let d2)? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        #expect(d2.contains("repeating elements may show at most 16777216"), "\(d2)")
        // past maxTensorElements, whatever the strides
        let file3 = legacyFile([LegacyTensor(name: "w", key: "0", numel: 1, shape: [1 << 20, 1 << 20], stride: [0, 0])], storages: [("0", 1)])
        let (e3, _) = try load(file3, "stride0-big.pth")
        guard case .invalidTensor(_, "w", let d3)? = e3 else { Issue.record("got \(String(describing: e3))"); return }
        #expect(d3.contains("more than the 268435456 this reader accepts"), "\(d3)")
    }

    @Test func oneStorageViewedThousandsOfTimesIsRefused() throws {
        // 2000 tensors each showing the same 2^18-element storage (1 MiB): 2 GiB of Floats without the budget
        let n = 1 << 18
        let tensors = (0..<2000).map { LegacyTensor(name: "t\($0)", key: "0", numel: n, shape: [n], stride: [1]) }
        let (e, path) = try load(legacyFile(tensors, storages: [("0", n)]), "many-views.pth")
        guard case .invalidTensor(_, let t, let detail)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(t == "t68", "4·2^18 + 2^24 elements allow 68 whole views: \(t)")
        #expect(detail.contains("storages holding 262144"), "\(detail)")
        expectTerminalSafe(e!.description, path: path)
        // tied weights (two views of one storage) still load
        let tied = [LegacyTensor(name: "a", key: "0", numel: 4, shape: [4], stride: [1]), LegacyTensor(name: "b", key: "0", numel: 4, shape: [2, 2], stride: [2, 1])]
        let okPath = Fixtures.temporaryPath("tied.pth")
        defer { try? FileManager.default.removeItem(atPath: okPath) }
        try Fixtures.write(legacyFile(tied, storages: [("0", 4)]), to: okPath)
        let ckpt = try Checkpoint.load(path: okPath)
        #expect(ckpt.keys == ["a", "b"])
        #expect(try ckpt.tensor("b").shape == [2, 2])
    }

    @Test func aShapeOfThousandsOfDimensionsIsRefusedShortly() throws {
        let file = legacyFile([LegacyTensor(name: "w", key: "0", numel: 1, shape: Array(repeating: 1, count: 3000), stride: Array(repeating: 1, count: 3000))],
                              storages: [("0", 1)])
        let (e, path) = try load(file, "rank.pth")
        guard case .invalidTensor(_, "w", let detail)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(detail.contains("3000 dimensions (at most 64)"), "\(detail)")
        expectTerminalSafe(e!.description, path: path)
    }

    @Test func aZipEntryClaimingGigabytesIsRefusedBeforeReading() throws {
        // the pickle names one 4-element storage; its entry claims 4 GiB - 1 in a file of a few hundred bytes
        var dict = PickleWriter()
        dict.global("collections", "OrderedDict"); dict.op(0x29, 0x52)
        dict.string("w"); dict.global("torch._utils", "_rebuild_tensor_v2")
        dict.op(0x28, 0x28); dict.string("storage"); dict.global("torch", "FloatStorage"); dict.string("0"); dict.string("cpu"); dict.int(4)
        dict.op(0x74, 0x51); dict.int(0); dict.ints([4]); dict.ints([1]); dict.op(0x89, 0x4E, 0x74, 0x52, 0x73); dict.stop()
        let dir = Array("arc\u{1B}[2J\u{1B}]0;x\u{07}".utf8) + [UInt8](repeating: 0x41, count: 300)
        let zip = zipFile([(dir + Array("/data.pkl".utf8), dict.bytes, nil), (dir + Array("/data/0".utf8), [UInt8](repeating: 0, count: 16), 0xFFFF_FFFF)])
        let (e, path) = try load(zip, "huge-entry.pth")
        guard case .malformedArchive(_, let detail)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(detail.contains("claims 4294967295 bytes, more than the whole"), "\(detail)")
        #expect(detail.contains(#"arc\x1B[2J\x1B]0;x\x07AAA"#), "\(detail)")
        expectTerminalSafe(e!.description, path: path)
    }

    @Test func aZip64DirectoryOffsetPastTheFileIsRefusedBeforeZIPFoundationReadsIt() throws {
        // ZIPFoundation 0.9.20 converts such an offset to off_t and traps (fuzz finding
        // Tests/FuzzCorpus/pth-zip/regressions/zipfoundation-offset-past-int64.pth): a ZIP64 end record
        // placing the central directory at 2^63 + 5 in a file of a few hundred bytes
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: UInt64) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        func le64(_ v: UInt64) -> [UInt8] { le32(v) + le32(v >> 32) }
        var zip = zipFile([(Array("arc/data.pkl".utf8), [0x80, 0x02, 0x7D, 0x2E], nil)])
        let eocd = zip.count - 22
        let record = le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0) + le64(1) + le64(1)
            + le64(100) + le64(1 << 63 + 5)
        let locator = le32(0x0706_4B50) + le32(0) + le64(UInt64(eocd)) + le32(1)
        zip.insert(contentsOf: record + locator, at: eocd)
        let (e, path) = try load(zip, "zip64-offset.pth")
        guard case .malformedArchive(_, let detail)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(detail.contains("central directory's offset (9223372036854775813) lies past the end"), "\(detail)")
        expectTerminalSafe(e!.description, path: path)
        // the same record with the directory where it is: the zip is read, and the pickle (an empty dict) judged
        var fine = zip
        let offsetAt = eocd + 48
        fine.replaceSubrange(offsetAt..<(offsetAt + 8), with: le64(UInt64(zip.count - 22 - 56 - 20 - 58)))
        let (ok, _) = try load(fine, "zip64-fine.pth")
        #expect(ok?.description.contains("not a state dict (the top-level dict holds no tensors)") == true, "\(String(describing: ok))")
    }

    @Test func safetensorsKeysAndDtypesAreEscaped() throws {
        let key = "w\u{1B}[31m\n\u{202E}" + String(repeating: "é\u{1B}", count: 1000)
        func json(_ s: String) -> String {
            "\"" + s.unicodeScalars.map { $0.value < 0x20 || $0 == "\"" || $0 == "\\" ? String(format: "\\u%04x", $0.value) : String($0) }.joined() + "\""
        }
        // data offsets outside the data: refused by the entry's name
        let h1 = "{\(json(key)): {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 80]}}"
        let (e1, p1) = try load(SafetensorsTests.file(header: h1, data: [UInt8](repeating: 0, count: 8)), "key.safetensors")
        guard case .malformedSafetensors? = e1 else { Issue.record("got \(String(describing: e1))"); return }
        expectTerminalSafe(e1!.description, path: p1)
        #expect(e1!.description.contains(#"'w\x1B[31m\x0A\u{202E}é\x1Bé"#), "\(e1!.description)")
        // an unknown dtype full of control characters
        let h2 = "{\(json(key)): {\"dtype\": \(json("\u{1B}]0;title\u{07}" + String(repeating: "\n", count: 500))), \"shape\": [2], \"data_offsets\": [0, 8]}}"
        let (e2, p2) = try load(SafetensorsTests.file(header: h2, data: [UInt8](repeating: 0, count: 8)), "dtype.safetensors")
        guard case .unsupportedDType? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        expectTerminalSafe(e2!.description, path: p2)
        #expect(e2!.description.contains(#"dtype \x1B]0;title\x07\x0A"#))
    }

    @Test func safetensorsHeaderAndOverlapLimits() throws {
        // a header claiming 2^40 bytes: refused by the bound, not read
        var bytes = SafetensorsTests.file(header: "{}", data: [])
        bytes.replaceSubrange(0..<8, with: [0, 0, 0, 0, 0, 1, 0, 0])
        let (e, _) = try load(bytes, "huge-header.safetensors")
        guard case .malformedSafetensors(_, let d)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(d.contains("more than the 100000000"), "\(d)")
        // two entries over the same bytes
        let h = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#
        let (e2, _) = try load(SafetensorsTests.file(header: h, data: [UInt8](repeating: 0, count: 8)), "overlap.safetensors")
        guard case .malformedSafetensors(_, let d2)? = e2 else { Issue.record("got \(String(describing: e2))"); return }
        #expect(d2.contains("'a' and 'b' overlap"), "\(d2)")
    }

    @Test func missingTensorListsEscapedNames() throws {
        let ckpt = Checkpoint(path: "m.pth", format: .safetensors, tensors: [:], keys: ["a\u{1B}[2J\n" + String(repeating: "z", count: 500)])
        do { _ = try ckpt.tensor("x\ny"); Issue.record("no error") } catch {
            expectTerminalSafe(error.description, path: "m.pth")
            #expect(error.description.contains(#"no tensor named 'x\x0Ay'"#))
        }
    }
}
