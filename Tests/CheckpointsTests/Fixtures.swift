// Test helpers: where the committed fixtures live and how their expected values are read.
// The fixtures and the JSON expectations are written by Scripts/make_checkpoint_fixtures.py (torch 1.13).

import Foundation
import Testing
import Checkpoints

enum Fixtures {
    static let directory: URL = {
        // `.copy("Fixtures")` puts the folder itself inside the bundle.
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    }()

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct Expected {
        var dtype: String
        var shape: [Int]
        var values: [Float]
        var integers: [Int64]?
    }

    /// name -> expectation, in file order.
    static func expected(_ jsonName: String) throws -> [(String, Expected)] {
        let data = try Data(contentsOf: directory.appendingPathComponent(jsonName))
        // JSONSerialization does not keep key order; the order is checked through the .pth keys instead,
        // so read the names in document order with a tiny scan of the top-level keys.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var out: [(String, Expected)] = []
        for name in topLevelKeysInOrder(data) {
            let e = try #require(object[name] as? [String: Any])
            let shape = try #require(e["shape"] as? [Any]).map { ($0 as! NSNumber).intValue }
            let values = try #require(e["values"] as? [Any]).map { Float(($0 as! NSNumber).doubleValue) }
            let integers = (e["integers"] as? [Any])?.map { ($0 as! NSNumber).int64Value }
            out.append((name, Expected(dtype: try #require(e["dtype"] as? String), shape: shape, values: values,
                                       integers: integers)))
        }
        return out
    }

    /// Keys of the outer object in document order (the generator writes one key per line at indent 1).
    private static func topLevelKeysInOrder(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard line.hasPrefix(" \""), line.hasSuffix(": {") else { return nil }
            let body = line.dropFirst(2)
            guard let end = body.firstIndex(of: "\"") else { return nil }
            return String(body[..<end])
        }
    }

    /// A scratch file path unique to this process.
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("checkpoints-tests-\(ProcessInfo.processInfo.processIdentifier)-\(name)").path
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// Runs `body`, which must throw a CheckpointError, and returns it.
func checkpointError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
    do {
        try body()
        Issue.record("expected a CheckpointError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let e as CheckpointError {
        return e
    } catch {
        Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
