// Every committed fuzz input (Tests/FuzzCorpus/<target>/: the seeds, and under regressions/ the
// inputs that once crashed, hung or leaked a reader) run through its reader in the ordinary build:
// each is accepted, or refused with the reader's own typed error, never a trap (which would end
// this test process) or an undocumented error. The fuzzing itself is Scripts/fuzz.sh.
import Foundation
import FuzzTargets
import Testing

@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus")

    /// The files under `folder`, recursively, sorted.
    static func files(in folder: URL) -> [URL] {
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        var out: [URL] = []
        while let url = walker?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { out.append(url) }
        }
        return out.sorted { $0.path < $1.path }
    }

    @Test func everyTargetHasACorpusFolderAndNoFolderLacksATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") }
        #expect(Set(folders) == Set(FuzzTargets.all.map(\.name)))
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func everyCorpusInputIsAcceptedOrRefusedWithATypedError(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let inputs = Self.files(in: Self.corpus.appendingPathComponent(name))
        #expect(!inputs.isEmpty, "no seeds in Tests/FuzzCorpus/\(name)")
        var accepted = 0
        for url in inputs {
            let outcome = target.run([UInt8](try Data(contentsOf: url)))
            switch outcome {
            case .accepted:
                accepted += 1
            case let .refused(why):
                #expect(!why.isEmpty, "\(name)/\(url.lastPathComponent): refused without a reason")
            case let .wrongError(what):
                Issue.record("\(name)/\(url.lastPathComponent): \(what)")
            }
        }
        // The seeds start the fuzzer inside the reader: at least one must get all the way through.
        let seeds = inputs.filter { !$0.path.contains("/regressions/") }
        #expect(accepted > 0 || seeds.isEmpty, "\(name): none of the \(seeds.count) seeds is accepted")
    }
}
