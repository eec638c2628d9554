// `DigitsDataset`: scikit-learn's 8×8 handwritten digits (1797 images, fetched by
// Scripts/fetch-digits.sh) read from its CSV, checked line by line, and a seeded stratified
// train/test split. Not a general CSV reader and not a downloader (no gzip here).
import Foundation
import Transforms

/// Images of digits, 8 × 8 grey pixels scaled from 0...16 to [0, 1] (1 = ink), and their labels.
public struct DigitsDataset: Sendable, Equatable {
    public static let side = 8
    public static let pixelCount = 64
    public static let classCount = 10

    /// (N, 64) row-major: image i's pixel (x, y) is `pixels[i * 64 + y * 8 + x]`, in [0, 1].
    public var pixels: [Float]
    /// (N): digits 0...9.
    public var labels: [Int]

    public var count: Int { labels.count }

    public init(pixels: [Float], labels: [Int]) {
        precondition(pixels.count == labels.count * Self.pixelCount, "DigitsDataset: \(pixels.count) pixels for \(labels.count) labels")
        self.pixels = pixels
        self.labels = labels
    }

    /// Image `i`'s 64 pixels.
    public func image(_ i: Int) -> [Float] { Array(pixels[(i * Self.pixelCount)..<((i + 1) * Self.pixelCount)]) }

    /// The examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> DigitsDataset {
        var p: [Float] = []
        p.reserveCapacity(indices.count * Self.pixelCount)
        for i in indices { p.append(contentsOf: pixels[(i * Self.pixelCount)..<((i + 1) * Self.pixelCount)]) }
        return DigitsDataset(pixels: p, labels: indices.map { labels[$0] })
    }

    /// `$ROBUSTPATCH_DATA/digits.csv`, else `~/.cache/robustpatch/datasets/digits.csv` (where
    /// Scripts/fetch-digits.sh puts it).
    public static var defaultPath: String {
        let folder: String
        if let d = ProcessInfo.processInfo.environment["ROBUSTPATCH_DATA"], !d.isEmpty {
            folder = d
        } else {
            folder = (NSHomeDirectory() as NSString).appendingPathComponent(".cache/robustpatch/datasets")
        }
        return (folder as NSString).appendingPathComponent("digits.csv")
    }

    /// Reads and checks the CSV at `path` (see `init(parsing:source:)`).
    public init(contentsOf path: String) throws(LinearModelError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw .missingDataset(path: path) }
        guard !isFolder.boolValue else { throw .unreadable(path: path, reason: "it is a folder, not a CSV file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "permission denied or I/O error") }
        guard data.count <= 64 << 20 else { throw .unreadable(path: path, reason: "\(data.count) bytes is far more than a digits CSV (~260 kB)") }
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(path: path, reason: "not UTF-8 text (still gzip-compressed? Scripts/fetch-digits.sh decompresses it)") }
        try self.init(parsing: text, source: path)
    }

    /// Parses lines of 65 comma-separated integers: 64 pixel values 0...16 (row by row, top
    /// first) and the digit 0...9. Blank lines are skipped; anything else that does not fit
    /// throws `badLine` naming `source` and the 1-based line. Integral decimals ("3.0") are accepted.
    public init(parsing text: String, source: String) throws(LinearModelError) {
        var pixels: [Float] = [], labels: [Int] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == Self.pixelCount + 1 else {
                throw .badLine(path: source, line: lineNumber, reason: "\(fields.count) values, expected \(Self.pixelCount + 1)")
            }
            var values: [Int] = []
            values.reserveCapacity(fields.count)
            for (k, field) in fields.enumerated() {
                let s = field.trimmingCharacters(in: .whitespaces)
                let value: Int? = Int(s) ?? Double(s).flatMap { $0.isFinite && $0 == $0.rounded() && abs($0) < 1e6 ? Int($0) : nil }
                guard let value else {
                    throw .badLine(path: source, line: lineNumber, reason: "value \(k + 1) '\(s.prefix(20))' is not a whole number")
                }
                if k < Self.pixelCount {
                    guard (0...16).contains(value) else {
                        throw .badLine(path: source, line: lineNumber, reason: "pixel \(k + 1) is \(value), outside 0..16")
                    }
                } else {
                    guard (0...9).contains(value) else {
                        throw .badLine(path: source, line: lineNumber, reason: "the label (value 65) is \(value), not a digit 0..9")
                    }
                }
                values.append(value)
            }
            pixels.append(contentsOf: values.prefix(Self.pixelCount).map { Float($0) / 16 })
            labels.append(values[Self.pixelCount])
        }
        let perClass = (0..<Self.classCount).map { d in labels.lazy.filter { $0 == d }.count }
        if let missing = perClass.firstIndex(where: { $0 < 2 }) {
            throw .tooFewExamples(path: source, reason: "\(labels.count) examples, \(perClass[missing]) of digit \(missing)")
        }
        self.init(pixels: pixels, labels: labels)
    }

    /// A stratified split: each digit's examples are shuffled with `SplitMix64(seed)` and about
    /// `testCount / count` of them (largest remainders: the test set has exactly `testCount`
    /// unless a digit is too rare; every digit keeps at least one example on each side) go to
    /// the test set. Both sets
    /// keep the file's order. Deterministic for a seed.
    public func split(testCount: Int, seed: UInt64) -> (train: DigitsDataset, test: DigitsDataset) {
        let n = count, t = min(max(testCount, Self.classCount), n - Self.classCount)
        var rng = SplitMix64(seed: seed)
        let byClass = (0..<Self.classCount).map { d in labels.indices.filter { labels[$0] == d } }
        // Test examples per class: floor of the proportional share, then the largest remainders.
        let exact = byClass.map { Double($0.count) * Double(t) / Double(n) }
        var quota = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - exact[$0].rounded(.down), -$0) > (exact[$1] - exact[$1].rounded(.down), -$1) }
        for d in order.prefix(t - quota.reduce(0, +)) { quota[d] += 1 }
        for d in quota.indices { quota[d] = min(max(quota[d], 1), byClass[d].count - 1) }
        var testSet = Set<Int>()
        for (d, members) in byClass.enumerated() {
            var shuffled = members
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))   // modulo bias ~1e-16: irrelevant here
                shuffled.swapAt(i, j)
            }
            testSet.formUnion(shuffled.prefix(quota[d]))
        }
        let testIndices = labels.indices.filter { testSet.contains($0) }
        let trainIndices = labels.indices.filter { !testSet.contains($0) }
        return (subset(trainIndices), subset(testIndices))
    }
}
