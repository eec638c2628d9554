// Tests: SHA-256 against the FIPS 180-4 / `sha256sum` vectors, chunking independence, and files.

import Foundation
import Testing
import Checkpoints

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(message: String, digest: String) {
        #expect(sha256Hex(of: Array(message.utf8)) == digest)
    }

    @Test func oneMillionAsFromAFileAndInOddChunks() throws {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let digest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        let path = Fixtures.temporaryPath("million-a")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Fixtures.write(million, to: path)
        #expect(try sha256Hex(ofFileAt: path) == digest)

        var h = SHA256Hasher()
        var i = 0, step = 1
        while i < million.count {
            let n = min(step, million.count - i)
            million[i..<(i + n)].withUnsafeBytes { h.update($0) }
            i += n
            step = step * 3 % 1000 + 1
        }
        #expect(h.finalizeHex() == digest)
    }

    @Test func paddingBoundaries() {
        // lengths around the 55/56/64-byte padding edges, against sha256sum
        let expected: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
        ]
        for (n, d) in expected {
            #expect(sha256Hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: n)) == d, "\(n) bytes")
        }
    }

    @Test func missingFileIsAnError() {
        let path = Fixtures.temporaryPath("no-such-file")
        #expect(checkpointError { _ = try sha256Hex(ofFileAt: path) } == .unreadable(file: path, reason: "no such file"))
    }
}
