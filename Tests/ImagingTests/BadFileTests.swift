// Bad inputs: each must throw an ImagingError naming the file, never crash or exit.
// Files are made at test time in a scratch directory from valid ones.
import Foundation
import Imaging
import Testing

/// Offset of the first chunk of `type` in PNG `data` (the position of its length field).
private func pngChunk(_ type: String, in data: [UInt8]) -> Int? {
    var at = 8
    let tag = Array(type.utf8)
    while at + 8 <= data.count {
        let length = Int(data[at]) << 24 | Int(data[at + 1]) << 16 | Int(data[at + 2]) << 8 | Int(data[at + 3])
        if Array(data[(at + 4)..<(at + 8)]) == tag { return at }
        at += 12 + length
    }
    return nil
}

/// Offset of the first JPEG marker 0xFF `code`.
private func jpegMarker(_ code: UInt8, in data: [UInt8]) -> Int? {
    data.indices.dropLast().first { data[$0] == 0xFF && data[$0 + 1] == code }
}

private func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

private func validPNG(in dir: String) throws -> [UInt8] {
    let path = dir + "/valid.png"
    try patternImage(width: 40, height: 30, channels: 3).writePNG(to: path)
    return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Reads `path`, expecting an ImagingError that names the file; returns it for further checks.
private func readError(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> ImagingError? {
    let error = #expect(throws: ImagingError.self, sourceLocation: sourceLocation) { _ = try Image.read(from: path) }
    let name = URL(fileURLWithPath: path).lastPathComponent
    #expect(error?.description.contains(name) == true, "\(error?.description ?? "no error")", sourceLocation: sourceLocation)
    #expect(error?.path == path, sourceLocation: sourceLocation)
    return error
}

@Test func pngWithFlippedIDATBytesIsCorrupt() throws {
    try withScratchDirectory { dir in
        var bytes = try validPNG(in: dir)
        let idat = try #require(pngChunk("IDAT", in: bytes))
        for k in 20..<24 { bytes[idat + 8 + k] ^= 0xFF }
        let path = dir + "/flipped.png"
        try write(bytes, to: path)
        let error = readError(path)
        // libpng inflates IDAT as it streams, so zlib usually objects before the CRC is reached.
        guard case .corrupt(_, "PNG", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        print("corrupt PNG:", error?.description ?? "")
    }
}

@Test func pngWithBadIDATCRCSaysCRC() throws {
    try withScratchDirectory { dir in
        var bytes = try validPNG(in: dir)
        let idat = try #require(pngChunk("IDAT", in: bytes))
        let length = Int(bytes[idat]) << 24 | Int(bytes[idat + 1]) << 16 | Int(bytes[idat + 2]) << 8 | Int(bytes[idat + 3])
        bytes[idat + 8 + length] ^= 0x5A
        let path = dir + "/badcrc.png"
        try write(bytes, to: path)
        guard case .corrupt(_, "PNG", let reason)? = readError(path) else { Issue.record("expected .corrupt"); return }
        #expect(reason.contains("CRC"), "\(reason)")
    }
}

@Test func pngWithBadZlibHeaderIsCorrupt() throws {
    try withScratchDirectory { dir in
        var bytes = try validPNG(in: dir)
        let idat = try #require(pngChunk("IDAT", in: bytes))
        let length = Int(bytes[idat]) << 24 | Int(bytes[idat + 1]) << 16 | Int(bytes[idat + 2]) << 8 | Int(bytes[idat + 3])
        bytes[idat + 8] = 0x00  // zlib CMF byte: compression method 0 does not exist
        let crc = crc32(bytes[(idat + 4)..<(idat + 8 + length)])
        for k in 0..<4 { bytes[idat + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
        let path = dir + "/badzlib.png"
        try write(bytes, to: path)
        guard case .corrupt(_, "PNG", _)? = readError(path) else { Issue.record("expected .corrupt"); return }
    }
}

@Test func truncatedPNGSaysTruncated() throws {
    try withScratchDirectory { dir in
        let bytes = try validPNG(in: dir)
        let idat = try #require(pngChunk("IDAT", in: bytes))
        let path = dir + "/cut.png"
        try write(Array(bytes[..<(idat + 8 + 30)]), to: path)
        let error = readError(path)
        guard case .truncated(_, "PNG", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.description.contains("truncated") == true)
    }
}

@Test func pngMissingOnlyIENDStillDecodes() throws {
    // Lenient like browsers: once every row is decoded, trouble in trailing chunks is ignored.
    try withScratchDirectory { dir in
        let bytes = try validPNG(in: dir)
        let path = dir + "/no-iend.png"
        try write(Array(bytes.dropLast(12)), to: path)
        #expect(try Image.read(from: path) == patternImage(width: 40, height: 30, channels: 3))
    }
}

@Test(arguments: ["jpeg_baseline.jpg", "jpeg_progressive.jpg"])
func truncatedJPEGSaysTruncated(_ fixture: String) throws {
    try withScratchDirectory { dir in
        let bytes = [UInt8](try Fixtures.data(fixture))
        let sos = try #require(jpegMarker(0xDA, in: bytes))
        let path = dir + "/cut-" + fixture
        try write(Array(bytes[..<(sos + (bytes.count - sos) / 2)]), to: path)
        let error = readError(path)
        guard case .truncated(_, "JPEG", let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("Premature end of JPEG file"), "\(reason)")
        print("truncated JPEG:", error?.description ?? "")
    }
}

@Test func jpegWithGarbageAfterSOIIsCorrupt() throws {
    try withScratchDirectory { dir in
        let path = dir + "/garbage.jpg"
        try write([0xFF, 0xD8, 0xFF] + (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }, to: path)
        guard case .corrupt(_, "JPEG", _)? = readError(path) else { Issue.record("expected .corrupt"); return }
    }
}

@Test func textFileNamedPNGIsRecognisedAsNotAnImage() throws {
    try withScratchDirectory { dir in
        let path = dir + "/cat.png"
        try Data("This is not an image\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = readError(path)
        #expect(error?.description == "\(path): not a PNG or JPEG file (starts with bytes 54 68 69 73). Give a PNG or JPEG image.")
    }
}

@Test func gifIsNamed() throws {
    try withScratchDirectory { dir in
        let path = dir + "/anim.png"
        try Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8).write(to: URL(fileURLWithPath: path))
        guard case .unrecognizedFormat(_, _, "GIF")? = readError(path) else { Issue.record("expected GIF"); return }
    }
}

@Test func emptyFileThrows() throws {
    try withScratchDirectory { dir in
        let path = dir + "/empty.png"
        try write([], to: path)
        #expect(readError(path) == .emptyFile(path: path))
    }
}

@Test func missingFileThrows() throws {
    try withScratchDirectory { dir in
        let path = dir + "/missing.jpg"
        #expect(readError(path) == .fileNotFound(path: path))
        #expect(throws: ImagingError.fileNotFound(path: path)) { _ = try Image.readDPI(from: path) }
    }
}

@Test func directoryThrows() throws {
    try withScratchDirectory { dir in
        let path = dir + "/folder.png"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(readError(path) == .isDirectory(path: path))
    }
}

@Test func absurdPNGDimensionsAreRefusedBeforeDecoding() throws {
    let path = try Fixtures.path("png_huge_dims.png")
    #expect(readError(path) == .tooLarge(path: path, width: 40000, height: 8))
}

@Test func absurdJPEGDimensionsAreRefusedBeforeDecoding() throws {
    try withScratchDirectory { dir in
        var bytes = [UInt8](try Fixtures.data("jpeg_baseline.jpg"))
        let sof = try #require(jpegMarker(0xC0, in: bytes))
        bytes[sof + 7] = UInt8(40000 >> 8)  // width, big-endian, after length(2) precision(1) height(2)
        bytes[sof + 8] = UInt8(40000 & 0xFF)
        let path = dir + "/wide.jpg"
        try write(bytes, to: path)
        #expect(readError(path) == .tooLarge(path: path, width: 40000, height: 24))
    }
}

/// CRC-32 (PNG / zlib polynomial), bitwise.
private func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

@Test func jpegMissingOnlyItsEOIStillDecodes() throws {
    try withScratchDirectory { dir in
        for fixture in ["jpeg_baseline.jpg", "jpeg_progressive.jpg"] {
            let bytes = [UInt8](try Fixtures.data(fixture))
            let path = dir + "/no-eoi-" + fixture
            try write(Array(bytes.dropLast(2)), to: path)
            #expect(try Image.read(from: path) == Image.read(from: Fixtures.path(fixture)), "\(fixture)")
        }
    }
}

@Test(arguments: ["jpeg_baseline.jpg", "jpeg_progressive.jpg", "jpeg_gray.jpg", "jpeg_cmyk.jpg"])
func everyCutJPEGThrowsTruncatedOrCorrupt(_ fixture: String) throws {
    // Cuts at every length short of losing only the EOI: each must throw, none may crash.
    try withScratchDirectory { dir in
        let bytes = [UInt8](try Fixtures.data(fixture))
        let path = dir + "/cut.jpg"
        var truncated = 0
        for length in stride(from: 1, to: bytes.count - 2, by: 1) {
            try write(Array(bytes[..<length]), to: path)
            do throws(ImagingError) {
                _ = try Image.read(from: path)
                Issue.record("\(fixture) cut to \(length) bytes decoded without error")
            } catch {
                if case .truncated = error { truncated += 1 }
                #expect(error.path == path)
            }
        }
        // Cuts inside the header can read as corrupt ("Bogus marker length"); most say truncated.
        #expect(truncated > (bytes.count - 3) / 2, "\(fixture): \(truncated) of \(bytes.count - 3) cuts said truncated")
    }
}

@Test(arguments: ["png_rgba16_interlaced.png", "png_pal4_trns.png", "png_gray1.png"])
func everyCutPNGThrowsOrDecodesWhole(_ fixture: String) throws {
    try withScratchDirectory { dir in
        let bytes = [UInt8](try Fixtures.data(fixture))
        let whole = try Image.read(from: Fixtures.path(fixture))
        let path = dir + "/cut.png"
        for length in 1..<bytes.count {
            try write(Array(bytes[..<length]), to: path)
            do throws(ImagingError) {
                // Only a cut inside the trailing IEND chunk may decode, and then completely.
                let image = try Image.read(from: path)
                #expect(image == whole, "\(fixture) cut to \(length) decoded differently")
                #expect(length >= bytes.count - 12, "\(fixture) cut to \(length) decoded")
            } catch {
                #expect(error.path == path)
            }
        }
    }
}

@Test(.enabled(if: getuid() != 0, "root can read any file"))
func unreadableFileSaysPermissionDenied() throws {
    try withScratchDirectory { dir in
        let path = dir + "/secret.png"
        try patternImage(width: 2, height: 2, channels: 3).writePNG(to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: path)
        #expect(readError(path) == .permissionDenied(path: path))
    }
}

/// CRC-32 (PNG's, ISO 3309) of `bytes`, bit by bit: enough for rewriting one header chunk.
private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
}

/// A small file that claims a huge image (within the pixel limits) is refused from its size
/// alone, before a pixel buffer is allocated: deflate compresses at most 1032:1, so 20000 × 10000
/// RGB pixels (600 MB) cannot come out of a few hundred bytes. Found by fuzzing: the reader used
/// to allocate the whole buffer, then fail on the missing data.
@Test func pngClaimingMorePixelsThanItsBytesCanHoldIsRefusedAtOnce() throws {
    try withScratchDirectory { dir in
        var bytes = try validPNG(in: dir)
        let ihdr = try #require(pngChunk("IHDR", in: bytes))
        func put(_ v: UInt32, at i: Int) { for k in 0..<4 { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) } }
        put(20_000, at: ihdr + 8)
        put(10_000, at: ihdr + 12)
        put(crc32(bytes[(ihdr + 4)..<(ihdr + 8 + 13)]), at: ihdr + 8 + 13)
        let path = dir + "/claims_huge.png"
        try write(bytes, to: path)
        let started = Date()
        let error = readError(path)
        guard case .truncated(_, "PNG", let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("20000 x 10000"), "\(reason)")
        #expect(Date().timeIntervalSince(started) < 0.5)
        // The header alone (the DPI) still reads: only decoding needs the pixel data.
        _ = try Image.readDPI(from: path)
    }
}
