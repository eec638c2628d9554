// robustpatch-fuzz: the readers of untrusted bytes (FuzzTargets) under libFuzzer, or replayed.
// Built by Scripts/fuzz.sh with `-DLIBFUZZER` and `--sanitize fuzzer --sanitize address`, it is a
// libFuzzer binary (libFuzzer's main, its flags and corpus folders) that fuzzes the target named
// by ROBUSTPATCH_FUZZ_TARGET. Built normally (swift build), it replays files through a target:
// `robustpatch-fuzz TARGET FILE|FOLDER...` prints each input's outcome, e.g. to check a crasher
// after a fix. It is not a mutator of its own: libFuzzer is.
import Foundation
import FuzzTargets

#if LIBFUZZER

/// The target, chosen once from the environment (libFuzzer owns the command line).
let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["ROBUSTPATCH_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTargets.named(name) else {
        FileHandle.standardError.write(Data("robustpatch-fuzz: set ROBUSTPATCH_FUZZ_TARGET to one of \(FuzzTargets.all.map(\.name).joined(separator: ", ")) (got '\(name)')\n".utf8))
        exit(2)
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if case let .wrongError(what) = target.run(bytes) {
        // An undocumented error type is a finding: trap so libFuzzer saves the input.
        fatalError("\(target.name): the reader threw an undocumented error: \(what)")
    }
    return 0
}

#else

@main
struct FuzzMain {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        guard let name = args.first, name != "-h", name != "--help" else {
            print("""
                usage: robustpatch-fuzz TARGET FILE|FOLDER...   replay inputs through a reader, print each outcome
                       robustpatch-fuzz --list                  the targets
                Fuzzing runs in the libFuzzer build: Scripts/fuzz.sh. Targets: \(names)
                """)
            exit(args.isEmpty ? 2 : 0)
        }
        if name == "--list" {
            for t in FuzzTargets.all { print("\(t.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(t.summary)") }
            return
        }
        guard let target = FuzzTargets.named(name) else {
            FileHandle.standardError.write(Data("robustpatch-fuzz: no target '\(name)'; the targets are \(names)\n".utf8))
            exit(2)
        }
        args.removeFirst()
        var files: [String] = []
        for path in args {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("robustpatch-fuzz: \(path): no such file or folder\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let walker = FileManager.default.enumerator(atPath: path)
                while let item = walker?.nextObject() as? String {
                    let full = (path as NSString).appendingPathComponent(item)
                    var sub: ObjCBool = false
                    if FileManager.default.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { files.append(full) }
                }
            } else {
                files.append(path)
            }
        }
        var accepted = 0, refused = 0, wrong = 0
        for file in files.sorted() {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("robustpatch-fuzz: \(file): cannot be read\n".utf8))
                exit(2)
            }
            switch target.run([UInt8](data)) {
            case .accepted: accepted += 1; print("accepted  \(file)")
            case let .refused(why): refused += 1; print("refused   \(file): \(why.split(separator: "\n").first ?? "")")
            case let .wrongError(what): wrong += 1; print("WRONG     \(file): \(what)")
            }
        }
        print("\(target.name): \(files.count) inputs: \(accepted) accepted, \(refused) refused, \(wrong) undocumented errors")
        exit(wrong == 0 ? 0 : 1)
    }
}

#endif
