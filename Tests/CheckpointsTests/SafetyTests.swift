// Tests: hostile and damaged files are refused with a CheckpointError naming the file; nothing is executed,
// nothing traps. Fixtures: Scripts/make_checkpoint_fixtures.py (the evil_* payloads really run under torch.load).

import Foundation
import Testing
import Checkpoints

@Suite struct SafetyTests {
    /// (fixture, module, name, marker file the payload would create if it ran)
    static let evil: [(String, String, String, String)] = [
        ("evil_os_system_legacy.pth", "os", "system", "/tmp/robustpatch_pwned_os_system"),
        ("evil_subprocess_legacy.pth", "subprocess", "Popen", "/tmp/robustpatch_pwned_subprocess"),
        ("evil_posix_system.pkl", "posix", "system", "/tmp/robustpatch_pwned_posix_system"),
        ("evil_getattr_legacy.pth", "__builtin__", "getattr", "/tmp/robustpatch_pwned_getattr"),
        ("evil_builtins_eval_zip.pth", "builtins", "eval", "/tmp/robustpatch_pwned_builtins_eval"),
        ("evil_os_system_zip.pth", "os", "system", "/tmp/robustpatch_pwned_os_system_zip"),
        ("evil_subprocess_zip.pth", "subprocess", "Popen", "/tmp/robustpatch_pwned_subprocess_zip"),
    ]

    @Test(arguments: evil)
    func forbiddenGlobalsAreRefusedAndNothingRuns(file: String, module: String, name: String, marker: String) throws {
        try? FileManager.default.removeItem(atPath: marker)
        let path = Fixtures.path(file)
        let e = checkpointError { _ = try Checkpoint.load(path: path) }
        #expect(e == .forbiddenGlobal(file: path, module: module, name: name))
        let text = e?.description ?? ""
        #expect(text.hasPrefix("\(path): refusing to load: the pickle names the global \(module).\(name)"))
        #expect(text.contains("may be malicious"))
        #expect(!FileManager.default.fileExists(atPath: marker), "the payload must not have run")
    }

    /// (fixture, what the error must be)
    static let broken: [(String, @Sendable (CheckpointError) -> Bool)] = [
        ("bad_short_storage_legacy.pth", { if case .storageTooShort(_, "k0", 24, 8) = $0 { true } else { false } }),
        ("bad_view_out_of_bounds_legacy.pth", { if case .invalidTensor(_, "w", _) = $0 { true } else { false } }),
        ("bad_huge_sizes_legacy.pth", { if case .invalidTensor(_, "w", let d) = $0 { d.contains("overflows") } else { false } }),
        ("bad_huge_storage_legacy.pth", { if case .storageTooShort(_, "k0", _, 8) = $0 { true } else { false } }),
        ("bad_no_data_pkl_zip.pth", { if case .malformedArchive(_, let d) = $0 { d.contains("data.pkl") } else { false } }),
        ("bad_short_storage_zip.pth", { if case .storageTooShort(_, "0", 8, 4) = $0 { true } else { false } }),
        ("bad_missing_storage_zip.pth", { if case .missingStorage(_, "0") = $0 { true } else { false } }),
        ("bad_opcode_legacy.pth", { if case .unsupportedOpcode(_, _, 0x69, "INST") = $0 { true } else { false } }),
    ]

    @Test(arguments: broken)
    func brokenFilesGiveClearErrors(file: String, matches: @Sendable (CheckpointError) -> Bool) throws {
        let path = Fixtures.path(file)
        let e = checkpointError { _ = try Checkpoint.load(path: path) }
        #expect(e.map(matches) == true, "\(file): \(e?.description ?? "no error")")
        #expect(e?.file == path)
        #expect(e?.description.hasPrefix(path) == true)
    }

    /// Every prefix of a valid file is an error (never a crash, never a silent partial load).
    @Test(arguments: ["tiny_legacy.pth", "tiny_zip.pth", "tiny.safetensors"])
    func everyTruncationIsAnError(file: String) throws {
        let bytes = try Fixtures.bytes(file)
        let path = Fixtures.temporaryPath("cut-" + file)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // every byte for the pickle-bearing head, then a stride through the rest
        var cuts = Array(0..<min(bytes.count, 700))
        cuts += Array(stride(from: 700, to: bytes.count, by: 7))
        for n in cuts {
            try Fixtures.write(Array(bytes[..<n]), to: path)
            let e = checkpointError { _ = try Checkpoint.load(path: path) }
            #expect(e?.file == path, "cut at \(n) of \(bytes.count)")
        }
    }

    /// Single-byte corruptions of a legacy file either load or fail with a CheckpointError; none traps.
    @Test func corruptedBytesNeverTrap() throws {
        var bytes = try Fixtures.bytes("tiny_legacy.pth")
        let path = Fixtures.temporaryPath("corrupt.pth")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SplitMix64(seed: 42)
        var errors = 0
        for _ in 0..<300 {
            let i = Int(rng.next() % UInt64(bytes.count))
            let old = bytes[i]
            bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            try Fixtures.write(bytes, to: path)
            do { _ = try Checkpoint.load(path: path) } catch { errors += 1; #expect(error.file == path) }
            bytes[i] = old
        }
        #expect(errors > 0)
    }

    @Test func garbageEmptyAndMissingFiles() throws {
        let path = Fixtures.temporaryPath("garbage.pth")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SplitMix64(seed: 7)
        // random bytes; the first is not a pickle opcode, a zip or a safetensors header
        try Fixtures.write([0xF0] + (1..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, to: path)
        if case .unrecognizedFormat(let f, _)? = checkpointError({ _ = try Checkpoint.load(path: path) }) {
            #expect(f == path)
        } else { Issue.record("garbage should be unrecognized") }

        try Fixtures.write([], to: path)
        #expect(checkpointError { _ = try Checkpoint.load(path: path) } == .unrecognizedFormat(file: path, detail: "the file is empty"))

        let missing = Fixtures.temporaryPath("does-not-exist.pth")
        #expect(checkpointError { _ = try Checkpoint.load(path: missing) } == .unreadable(file: missing, reason: "no such file"))

        // random bytes that happen to start like a pickle
        try Fixtures.write([0x80, 0x02] + (0..<200).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, to: path)
        #expect(checkpointError { _ = try Checkpoint.load(path: path) }?.file == path)
    }

    /// A pickle nested a million levels deep must not overflow the stack (containers live in arenas).
    @Test func deepNestingDoesNotOverflowTheStack() throws {
        let path = Fixtures.temporaryPath("deep.pth")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // PROTO 2, NONE, then TUPLE1 × 1_000_000, STOP: ((((None,),),)...)
        let bytes: [UInt8] = [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 1_000_000) + [0x2E]
        try Fixtures.write(bytes, to: path)
        let e = checkpointError { _ = try Checkpoint.load(path: path) }
        #expect(e?.file == path)
    }
}

/// A tiny seeded generator for the fuzz-style tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
