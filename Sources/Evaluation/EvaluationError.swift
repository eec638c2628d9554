// Typed errors of the Evaluation module: each names the input that was wrong and what to do.

import TextSafety

public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// A patch file or folder that cannot be used (wrong PNG kind, missing files, bad run.json).
    case badPatch(String)
    /// A bad option value (zero samples, a rate outside [0, 1], …).
    case badOption(String)
    /// A factor name that is not one of `Factor.allCases`.
    case unknownFactor(name: String, valid: [String])
    /// A model that could not be loaded.
    case modelFailed(spec: String, reason: String)
    /// A samples file that cannot be read or does not fit the scenes.
    case badSamples(String)
    /// A file that could not be written.
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badPatch(s), let .badOption(s), let .badSamples(s): return s
        case let .unknownFactor(name, valid):
            return "unknown factor '\(untrustedText(name))'; valid factors: \(valid.joined(separator: ", "))"
        case let .modelFailed(spec, reason):
            return "--model \(spec) failed to load: \(reason)"
        case let .write(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}
