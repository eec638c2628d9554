// File paths as the tool compares and saves them: absolute, standardized, with symbolic links in
// the folder resolved, so that two spellings of one file (`a/b.json`, `./a/../a/b.json`) are equal.
import Foundation

public enum FilePath {
    /// `path` made absolute from the current folder, `.`/`..` removed and symbolic links in its
    /// folder resolved. The file itself need not exist (an output about to be written).
    public static func resolved(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent).path
    }
}
