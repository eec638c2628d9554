// ImageNet-1k class names (bundled resource, one per line in index order) and the lookup that
// turns a user's `--target` (an index or a name, any case) into a class index.
import Foundation
import TextSafety

public struct ClassLabels: Sendable {
    public let names: [String]

    public init(names: [String]) { self.names = names }

    /// The bundled ImageNet-1k labels (Sources/Networks/Resources/imagenet_classes.txt).
    public static func imageNet() throws -> ClassLabels {
        guard let url = Bundle.module.url(forResource: "imagenet_classes", withExtension: "txt"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw LabelError.resourceMissing
        }
        let names = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard names.count == 1000 else { throw LabelError.resourceMissing }
        return ClassLabels(names: names)
    }

    public subscript(index: Int) -> String { names.indices.contains(index) ? names[index] : "class \(index)" }

    /// Index for "859", "toaster", "Egyptian cat" (case-insensitive, spaces/underscores/hyphens
    /// alike). An unknown name throws with the closest names as suggestions.
    public func index(of spec: String) throws -> Int {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        if let i = Int(trimmed) {
            guard names.indices.contains(i) else { throw LabelError.indexOutOfRange(i, count: names.count) }
            return i
        }
        let key = Self.normalized(trimmed)
        let keys = names.map(Self.normalized)
        let exact = keys.indices.filter { keys[$0] == key }
        if exact.count == 1 { return exact[0] }
        // ImageNet has a few names twice ("crane": the bird 134 and the machine 517): ask for the index.
        if exact.count > 1 {
            throw LabelError.unknownName(spec, suggestions: exact.map { "\(untrustedText(names[$0], limit: 40)) (\($0))" }, ambiguous: true)
        }
        // Whole-word containment ("cat" is not unique, "toaster" is) before edit distance.
        let containing: [Int] = keys.indices.filter { (i: Int) -> Bool in
            let words: [String] = keys[i].split(separator: " ").map(String.init)
            return words.contains(key) || keys[i].hasPrefix(key + " ")
        }
        if containing.count == 1 { return containing[0] }
        let distances: [(Int, Int)] = keys.indices.map { (i: Int) -> (Int, Int) in (i, Self.editDistance(key, keys[i])) }
        let ranked = distances.sorted { (a: (Int, Int), b: (Int, Int)) -> Bool in a.1 < b.1 || (a.1 == b.1 && a.0 < b.0) }
        var suggestions = containing.prefix(5).map { "\(untrustedText(names[$0], limit: 40)) (\($0))" }
        if suggestions.isEmpty { suggestions = ranked.prefix(5).map { "\(untrustedText(names[$0.0], limit: 40)) (\($0.0))" } }
        throw LabelError.unknownName(spec, suggestions: suggestions, ambiguous: containing.count > 1)
    }

    static func normalized(_ s: String) -> String {
        s.lowercased().map { $0 == "_" || $0 == "-" ? " " : $0 }.reduce(into: "") { $0.append($1) }
            .split(separator: " ").joined(separator: " ")
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}

public enum LabelError: Error, CustomStringConvertible, Equatable {
    case resourceMissing
    case indexOutOfRange(Int, count: Int)
    case unknownName(String, suggestions: [String], ambiguous: Bool)

    public var description: String {
        switch self {
        case .resourceMissing:
            return "the bundled ImageNet labels (imagenet_classes.txt) are missing or damaged; rebuild the package."
        case let .indexOutOfRange(i, count):
            return "class index \(i) is out of range: give 0…\(count - 1) or a class name."
        case let .unknownName(name, suggestions, ambiguous):
            // Class names can come from a labels file: `index(of:)` escapes and cuts each suggestion, and at most
            // five are shown.
            let lead = ambiguous ? "'\(untrustedText(name))' matches several classes" : "no ImageNet class named '\(untrustedText(name))'"
            let shown = suggestions.prefix(5).joined(separator: ", ")
                + (suggestions.count > 5 ? ", …" : "")
            return "\(lead); did you mean: \(shown)? (A class index 0–999 also works.)"
        }
    }
}
