// The scene library (Scripts/fetch-scenes.sh): installed by the set-up, so under CI=true its
// absence is a failure; its photos decode to 8-bit squares; a broken library is named.
import Attack
import Foundation
import Testing

@Suite("Scene library")
struct SceneLibraryTests {
    static let isCI = ["true", "1"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "")

    @Test("the installed library: ≥ 400 photos, ≥ 100 held out, categories from its manifest, 8-bit squares")
    func installed() throws {
        let (library, problem) = SceneLibrary.installed()
        guard let library else {
            if Self.isCI { Issue.record("CI must install the scene library: \(problem ?? "")") }
            else { print("SceneLibraryTests: library not installed (\(problem ?? "")); run Scripts/fetch-scenes.sh — skipped outside CI") }
            return
        }
        let (train, validation) = try SceneSet.trainValidation(directory: library.directory)
        #expect(train.count + validation.count >= 400 && validation.count >= 100, "\(train.count) + \(validation.count)")
        #expect(Set(validation.paths.compactMap(library.category(of:))).isSuperset(of: ["animals", "scenes", "buildings", "objects"]))
        let few = try SceneSet.load(paths: Array(validation.paths.prefix(3)))
        let squares = try few.squares(size: 224)
        #expect(squares.count == 3 && squares.allSatisfy { $0.count == 224 * 224 * 3 })
        // Many photos get 2 training views each (centre and mirror), few get 8.
        #expect(try SceneSet.load(paths: Array(train.paths.prefix(SceneSet.fewPhotos + 1))).augmentedSquares(size: 32).count == 2 * (SceneSet.fewPhotos + 1))
        #expect(try few.augmentedSquares(size: 32).count == 8 * 3)
    }

    @Test("a missing, half-written or incomplete library is named with what to run")
    func broken() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect { try SceneLibrary(directory: dir) } throws: { "\($0)".contains("not installed") && "\($0)".contains("fetch-scenes.sh") }
        try FileManager.default.createDirectory(atPath: dir + "/train", withIntermediateDirectories: true)
        #expect { try SceneLibrary(directory: dir) } throws: { "\($0)".contains("no manifest.tsv") }
        try Data("file\tsplit\tcategory\ntrain/a.jpg\ttrain\tscenes\nval/b.jpg\tval\tanimals\n".utf8).write(to: URL(fileURLWithPath: dir + "/manifest.tsv"))
        #expect { try SceneLibrary(directory: dir) } throws: { "\($0)".contains("lacks \(dir)/train/a.jpg") }
        // A photo that is there but corrupt is named when it is decoded.
        try FileManager.default.createDirectory(atPath: dir + "/val", withIntermediateDirectories: true)
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/train/a.jpg"))
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/val/b.jpg"))
        let library = try SceneLibrary(directory: dir)
        #expect(library.category(of: dir + "/val/b.jpg") == "animals")
        #expect { try SceneSet.load(directory: dir + "/train").squares(size: 32) } throws: { "\($0)".contains("\(dir)/train/a.jpg") }
    }
}
