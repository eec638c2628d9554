// Typed errors of the Attack module: each names the input and says what to do.

public enum AttackError: Error, CustomStringConvertible, Equatable {
    case badPalette(String)
    case badOption(String)
    /// A `GenerateConfig` setting with an impossible value; `problem` follows the setting's name
    /// ("steps must be 1…1000000, got 0"). The CLI names the flag instead.
    case invalidSetting(GenerateSetting, String)
    case noScenes(String)
    case checkpoint(String)
    case interrupted

    public var description: String {
        switch self {
        case let .badPalette(s), let .badOption(s), let .noScenes(s), let .checkpoint(s): return s
        case let .invalidSetting(setting, problem): return "\(setting.rawValue) \(GenerateSetting.plain(problem))"
        case .interrupted: return "interrupted; a checkpoint was saved — continue with --resume"
        }
    }
}
