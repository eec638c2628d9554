// `LinearModelError`: what can go wrong in the linear-model demo (the digits file, its lines,
// the ε values asked for, writing the pictures). Each case says which input and what to do.

public enum LinearModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The digits CSV is not at `path`.
    case missingDataset(path: String)
    /// The file exists but cannot be read (permissions, not UTF-8, a folder).
    case unreadable(path: String, reason: String)
    /// Line `line` (1-based) of `path` is malformed.
    case badLine(path: String, line: Int, reason: String)
    /// Too few examples (in all, or of some digit) to split into training and test sets.
    case tooFewExamples(path: String, reason: String)
    /// An ε outside [0, 1] or not a number.
    case badEpsilon(String)
    /// A file of the demo's output could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingDataset(let path):
            return "the digits dataset is not at \(path); run Scripts/fetch-digits.sh (or give --data PATH to a digits.csv)"
        case .unreadable(let path, let reason):
            return "cannot read the digits file \(path): \(reason)"
        case .badLine(let path, let line, let reason):
            return "\(path), line \(line): \(reason). Each line is 64 pixel values 0..16 and then the digit 0..9, comma-separated (Scripts/fetch-digits.sh fetches the real file)."
        case .tooFewExamples(let path, let reason):
            return "\(path): \(reason); the demo needs at least 2 examples of each digit 0..9"
        case .badEpsilon(let reason):
            return "epsilon: \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
