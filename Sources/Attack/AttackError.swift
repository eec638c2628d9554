// Typed errors of the Attack module: each names the input and says what to do.

public enum AttackError: Error, CustomStringConvertible, Equatable {
    case badPalette(String)
    case badOption(String)
    case noScenes(String)
    case checkpoint(String)
    case interrupted

    public var description: String {
        switch self {
        case let .badPalette(s), let .badOption(s), let .noScenes(s), let .checkpoint(s): return s
        case .interrupted: return "interrupted; a checkpoint was saved — continue with --resume"
        }
    }
}
