// SceneLibrary: the installed library of real photos (Scripts/fetch-scenes.sh builds it from
// pinned Debian packages; Samples/SCENES.md): where it is, whether it is complete, and each
// photo's category from its manifest. Not the fetcher, and not a loader (SceneSet loads).
import Foundation

public struct SceneLibrary: Sendable {
    /// `$ROBUSTPATCH_SCENES`, else `~/.cache/robustpatch/scenes`.
    public static var directory: String {
        if let d = ProcessInfo.processInfo.environment["ROBUSTPATCH_SCENES"], !d.isEmpty { return d }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".cache/robustpatch/scenes")
    }

    /// The bundled photos (8, in train/ and val/) used when the library is not installed.
    public static let bundledFolder = "Samples/scenes"

    public let directory: String
    /// Relative file (train/NAME.jpg) → category (scenes, buildings, animals, objects, …).
    public let categories: [String: String]

    /// The library at `directory`, checked: its manifest.tsv, train/ and val/, and every photo
    /// the manifest lists. Throws a one-line error naming what is missing and what to run.
    public init(directory: String = SceneLibrary.directory) throws {
        self.directory = directory
        let fix = "run Scripts/fetch-scenes.sh (it resumes and verifies)"
        let manifest = (directory as NSString).appendingPathComponent("manifest.tsv")
        guard FileManager.default.fileExists(atPath: directory) else {
            throw AttackError.noScenes("the scene library is not installed at \(directory); \(fix)")
        }
        guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else {
            throw AttackError.noScenes("the scene library at \(directory) has no manifest.tsv (an interrupted fetch?); \(fix)")
        }
        var rows = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        guard let header = rows.first, let file = header.firstIndex(of: "file"), let category = header.firstIndex(of: "category") else {
            throw AttackError.noScenes("\(manifest) has no header with file and category columns; \(fix)")
        }
        rows.removeFirst()
        var categories: [String: String] = [:]
        for row in rows where row.count > max(file, category) {
            let path = (directory as NSString).appendingPathComponent(row[file])
            guard FileManager.default.fileExists(atPath: path) else {
                throw AttackError.noScenes("the scene library lacks \(path), which its manifest lists; \(fix)")
            }
            categories[row[file]] = row[category]
        }
        guard categories.keys.contains(where: { $0.hasPrefix("train/") }), categories.keys.contains(where: { $0.hasPrefix("val/") }) else {
            throw AttackError.noScenes("the scene library at \(directory) lists no train/ or no val/ photos; \(fix)")
        }
        self.categories = categories
    }

    /// The installed library, or nil (with the reason) when it is missing or incomplete.
    public static func installed() -> (library: SceneLibrary?, problem: String?) {
        do { return (try SceneLibrary(), nil) } catch { return (nil, "\(error)") }
    }

    /// The scene folder commands use when none is given: the library when it is installed, else
    /// the bundled photos; `notice` says why the library was not used.
    public static func defaultFolder() -> (folder: String, notice: String?) {
        let (library, problem) = installed()
        if let library { return (library.directory, nil) }
        return (bundledFolder, "using the \(bundledFolder) photos: \(problem ?? "no scene library")")
    }

    /// The category of a photo given by its path (nil for a photo outside the library).
    public func category(of path: String) -> String? {
        let rel = (path as NSString).lastPathComponent
        let split = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        return categories["\(split)/\(rel)"]
    }
}
