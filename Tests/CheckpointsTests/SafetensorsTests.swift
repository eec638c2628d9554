// Tests: the hand-written safetensors fixture, and malformed safetensors headers made in the test.

import Foundation
import Testing
import Checkpoints

@Suite struct SafetensorsTests {
    @Test func fixtureHasExactValues() throws {
        let ckpt = try Checkpoint.load(path: Fixtures.path("tiny.safetensors"))
        let expected = try Fixtures.expected("tiny_safetensors_expected.json")
        #expect(ckpt.format == .safetensors)
        #expect(ckpt.keys == expected.map(\.0), "keys in data order")
        for (name, e) in expected {
            let t = try ckpt.tensor(name)
            #expect(t.shape == e.shape, "\(name)")
            #expect(t.dtype == e.dtype, "\(name)")
            #expect(t.floats == e.values, "\(name)")
            #expect(t.integers == e.integers, "\(name)")
        }
    }

    /// A safetensors file with one F32 tensor and the given header JSON.
    static func file(header: String, data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        var out: [UInt8] = []
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64(i)))) }
        return out + h + data
    }

    @Test(arguments: [
        (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}"#, "outside"),
        (#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, "span"),
        (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, "outside"),
        (#"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#, "overflows"),
        (#"{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, "negative"),
        (#"{"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}"#, "C64"),
        (#"{"w": {"dtype": "F32", "shape": [2]}}"#, "data_offsets"),
        (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]"#, "JSON"),
        (#"[1, 2]"#, "object"),
    ])
    func malformedHeadersAreRefused(header: String, mentions: String) throws {
        let path = Fixtures.temporaryPath("bad-\(abs(header.hashValue)).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Fixtures.write(Self.file(header: header, data: [UInt8](repeating: 0, count: 8)), to: path)
        let e = checkpointError { _ = try Checkpoint.load(path: path) }
        #expect(e?.file == path)
        #expect(e?.description.contains(mentions) == true, "\(e?.description ?? "no error")")
    }

    @Test func headerLongerThanFileIsTruncation() throws {
        let path = Fixtures.temporaryPath("long-header.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = Self.file(header: "{}", data: [])
        bytes[0] = 200
        try Fixtures.write(bytes, to: path)
        let e = checkpointError { _ = try Checkpoint.load(path: path) }
        guard case .truncated(let f, _)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(f == path)
    }
}
