// AtomicFile, the one writer of output files: whole replacement, the kept backup, no temporary
// files left, and on a full disk (a 64 KiB tmpfs) or a read-only folder an error that names the
// file and says what to do while the old file stays as it was. The full-disk and read-only cases
// need `mount` (root) or, for read-only, a non-root user (chmod 0555); they are skipped only when
// neither works. The injected failures (ROBUSTPATCH_FAIL_WRITES_AFTER) are tested through the CLI.
import Foundation
import Imaging
import Testing

/// A tmpfs mounted for one test (root only), unmounted when `body` returns.
enum Tmpfs {
    static func run(_ args: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Whether this process can mount a tmpfs here (tried once on a scratch folder).
    static let available: Bool = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tmpfs-probe-\(UUID().uuidString)").path
        guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]) else { return false }
        return run(["umount", dir])
    }()

    static func with<T>(size: String, readOnly: Bool = false, _ body: (String) throws -> T) throws -> T {
        try withScratchDirectory { dir in
            let mount = dir + "/mnt"
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
            try #require(run(["mount", "-t", "tmpfs", "-o", "size=\(size)" + (readOnly ? ",ro" : ""), "tmpfs", mount]))
            defer { _ = run(["umount", mount]) }
            return try body(mount)
        }
    }
}

/// A folder that refuses new files, holding kept.txt ("old"): chmod 0555 for a normal user; for
/// root, who ignores file modes, a read-only tmpfs (the caller checks `Tmpfs.available`).
func withReadOnlyFolder(_ body: (String) throws -> Void) throws {
    if getuid() != 0 {
        try withScratchDirectory { dir in
            let folder = dir + "/ro"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("old".utf8).write(to: URL(fileURLWithPath: folder + "/kept.txt"))
            chmod(folder, 0o555)
            defer { chmod(folder, 0o755) }
            try body(folder)
        }
    } else {
        try Tmpfs.with(size: "64k") { mount in
            try Data("old".utf8).write(to: URL(fileURLWithPath: mount + "/kept.txt"))
            try #require(Tmpfs.run(["mount", "-o", "remount,ro", mount]))
            try body(mount)
        }
    }
}

@Suite("AtomicFile", .serialized)
struct AtomicFileTests {
    @Test("replaces the whole file, keeps the previous one as the backup, leaves no temporary file")
    func replaceAndBackup() throws {
        try withScratchDirectory { dir in
            let path = dir + "/state.json", backup = dir + "/state.prev.json"
            try AtomicFile.write(Data("first".utf8), to: path, keepingPreviousAs: backup)
            #expect(!FileManager.default.fileExists(atPath: backup), "a backup of nothing")
            try AtomicFile.write(Data("second, longer".utf8), to: path, keepingPreviousAs: backup)
            try AtomicFile.write(Data("3rd".utf8), to: path, keepingPreviousAs: backup)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "3rd")
            #expect(try String(contentsOfFile: backup, encoding: .utf8) == "second, longer")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["state.json", "state.prev.json"])
            // The backup is a file of its own: replacing the current one does not change it.
            try AtomicFile.write("4th", to: path)
            #expect(try String(contentsOfFile: backup, encoding: .utf8) == "second, longer")
        }
    }

    @Test("a missing folder: the error names the file and the folder to create")
    func missingFolder() throws {
        try withScratchDirectory { dir in
            let path = dir + "/missing/out.csv"
            let error = #expect(throws: FileWriteError.self) { try AtomicFile.write("x", to: path) }
            #expect(error?.code == ENOENT && error?.description == "cannot write \(path): \(dir)/missing does not exist "
                    + "(cannot create a file in its folder: No such file or directory); create it first or write to another folder")
            try AtomicFile.createFolder(dir + "/a/b/c")
            try AtomicFile.write("x", to: dir + "/a/b/c/out.csv")
            try AtomicFile.write("x", to: dir + "/file")
            let inTheWay = #expect(throws: FileWriteError.self) { try AtomicFile.createFolder(dir + "/file/sub") }
            #expect(inTheWay?.description.contains("\(dir)/file") == true, "\(String(describing: inTheWay))")
        }
    }

    @Test("a full disk (64 KiB tmpfs): ENOSPC, the old file intact, no temporary file; a PNG says the same",
          .enabled(if: Tmpfs.available, "needs mount -t tmpfs (root)"))
    func fullDisk() throws {
        try Tmpfs.with(size: "64k") { dir in
            let path = dir + "/big.bin"
            let old = Data(repeating: 1, count: 40_000)
            try AtomicFile.write(old, to: path)
            let error = #expect(throws: FileWriteError.self) { try AtomicFile.write(Data(repeating: 2, count: 50_000), to: path) }
            #expect(error?.code == ENOSPC)
            #expect(error?.description.hasPrefix("cannot write \(path): the disk is full (") == true, "\(String(describing: error))")
            #expect(error?.description.contains("free some space") == true)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == old)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["big.bin"])
            // A PNG too big for the space left (noise does not compress).
            var rng = SystemRandomNumberGenerator()
            let noise = try Image(width: 128, height: 128, channels: 3, pixels: (0..<(128 * 128 * 3)).map { _ in Float.random(in: 0...1, using: &rng) })
            let png = #expect(throws: ImagingError.self) { try noise.writePNG(to: dir + "/noise.png") }
            #expect(png?.description.hasPrefix("cannot write \(dir)/noise.png: the disk is full") == true, "\(String(describing: png))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["big.bin"])
        }
    }

    @Test("a read-only folder: the error names the file and says to make it writable or write elsewhere; the old file stays",
          .enabled(if: getuid() != 0 || Tmpfs.available, "root without mount cannot make a read-only folder"))
    func readOnlyFolder() throws {
        try withReadOnlyFolder { (folder: String) throws in
            let path = folder + "/kept.txt"
            let error = #expect(throws: FileWriteError.self) { try AtomicFile.write("new", to: path) }
            let description = error?.description ?? ""
            #expect(description.hasPrefix("cannot write \(path): \(folder) is ") && description.contains("write to"), "\(description)")
            let code = error?.code ?? 0
            #expect(code == EACCES || code == EROFS, "errno \(code)")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["kept.txt"])
            let png = #expect(throws: ImagingError.self) { try Image(width: 2, height: 2, channels: 3, fill: 0).writePNG(to: folder + "/x.png") }
            #expect(png?.description.hasPrefix("cannot write \(folder)/x.png: \(folder) is ") == true, "\(String(describing: png))")
            #expect(throws: FileWriteError.self) { try AtomicFile.checkWritable(folder: folder) }
            let sub = #expect(throws: FileWriteError.self) { try AtomicFile.createFolder(folder + "/run") }
            #expect(sub?.description.hasPrefix("cannot write \(folder)/run: \(folder) is ") == true, "\(String(describing: sub))")
        }
    }
}
