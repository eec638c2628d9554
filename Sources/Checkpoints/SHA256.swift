// SHA-256 (FIPS 180-4) in plain Swift, streaming, for recording which model file a run used.
// Not a general crypto library: no HMAC, no other digests. (CryptoKit is not available on Linux.)

import Foundation

/// Incremental SHA-256: `update` with any number of byte chunks, then `finalize`.
public struct SHA256Hasher: Sendable {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19)
    private var pending: [UInt8] = []   // < 64 bytes not yet compressed
    private var length: UInt64 = 0      // total bytes seen

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        length &+= UInt64(bytes.count)
        var rest = bytes
        if !pending.isEmpty {
            let take = min(64 - pending.count, rest.count)
            pending.append(contentsOf: rest.prefix(take))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            if pending.count == 64 {
                pending.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        let blocks = rest.count / 64
        if blocks > 0 { compress(rest.baseAddress!, blocks: blocks) }
        pending.append(contentsOf: rest.suffix(from: blocks * 64))
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex digits.
    public mutating func finalizeHex() -> String {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        tail.append(contentsOf: [UInt8](repeating: 0, count: (55 &- Int(length % 64) + 64) % 64))
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        let savedLength = length
        update(tail)
        length = savedLength
        let words = [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7]
        return words.map { w in
            let s = String(w, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }

    private static let k: [UInt32] = [
        0x428A_2F98, 0x7137_4491, 0xB5C0_FBCF, 0xE9B5_DBA5, 0x3956_C25B, 0x59F1_11F1, 0x923F_82A4, 0xAB1C_5ED5,
        0xD807_AA98, 0x1283_5B01, 0x2431_85BE, 0x550C_7DC3, 0x72BE_5D74, 0x80DE_B1FE, 0x9BDC_06A7, 0xC19B_F174,
        0xE49B_69C1, 0xEFBE_4786, 0x0FC1_9DC6, 0x240C_A1CC, 0x2DE9_2C6F, 0x4A74_84AA, 0x5CB0_A9DC, 0x76F9_88DA,
        0x983E_5152, 0xA831_C66D, 0xB003_27C8, 0xBF59_7FC7, 0xC6E0_0BF3, 0xD5A7_9147, 0x06CA_6351, 0x1429_2967,
        0x27B7_0A85, 0x2E1B_2138, 0x4D2C_6DFC, 0x5338_0D13, 0x650A_7354, 0x766A_0ABB, 0x81C2_C92E, 0x9272_2C85,
        0xA2BF_E8A1, 0xA81A_664B, 0xC24B_8B70, 0xC76C_51A3, 0xD192_E819, 0xD699_0624, 0xF40E_3585, 0x106A_A070,
        0x19A4_C116, 0x1E37_6C08, 0x2748_774C, 0x34B0_BCB5, 0x391C_0CB3, 0x4ED8_AA4A, 0x5B9C_CA4F, 0x682E_6FF3,
        0x748F_82EE, 0x78A5_636F, 0x84C8_7814, 0x8CC7_0208, 0x90BE_FFFA, 0xA450_6CEB, 0xBEF9_A3F7, 0xC671_78F2,
    ]

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 &- n) }

    /// Compresses `blocks` consecutive 64-byte blocks starting at `p`.
    private mutating func compress(_ p: UnsafeRawPointer, blocks: Int) {
        Self.k.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for b in 0..<blocks {
                    let block = p + b &* 64
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t &* 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let s0 = Self.rotr(w[t - 15], 7) ^ Self.rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                        let s1 = Self.rotr(w[t - 2], 17) ^ Self.rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    var (a, bb, c, d, e, f, g, hh) = h
                    for t in 0..<64 {
                        let s1 = Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)
                        let ch = (e & f) ^ (~e & g)
                        let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
                        let s0 = Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)
                        let maj = (a & bb) ^ (a & c) ^ (bb & c)
                        let t2 = s0 &+ maj
                        hh = g; g = f; f = e; e = d &+ t1; d = c; c = bb; bb = a; a = t1 &+ t2
                    }
                    h = (h.0 &+ a, h.1 &+ bb, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
                }
            }
        }
    }
}

/// SHA-256 of a byte buffer, as 64 lowercase hex digits.
public func sha256Hex(of bytes: [UInt8]) -> String {
    var hasher = SHA256Hasher()
    hasher.update(bytes)
    return hasher.finalizeHex()
}

/// SHA-256 of a file's contents, read in 1 MiB chunks, as 64 lowercase hex digits (what `sha256sum` prints).
public func sha256Hex(ofFileAt path: String) throws(CheckpointError) -> String {
    guard let fh = FileHandle(forReadingAtPath: path) else {
        let exists = FileManager.default.fileExists(atPath: path)
        throw .unreadable(file: path, reason: exists ? "permission denied or not a regular file" : "no such file")
    }
    defer { try? fh.close() }
    var hasher = SHA256Hasher()
    do {
        while let chunk = try fh.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
    } catch {
        throw .unreadable(file: path, reason: "\(error)")
    }
    return hasher.finalizeHex()
}
