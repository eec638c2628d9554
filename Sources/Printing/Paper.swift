// `Paper`: the sheet sizes a print can be laid out on (ISO A4/A3, US Letter) or `fit`, a sheet
// cut to the content. Not a printer driver: no printable-area queries, only fixed 10 mm margins.

public enum Paper: String, Sendable, Equatable, CaseIterable, Codable {
    case a4, letter, a3
    /// A sheet just big enough for the copies, marks, caption and margins.
    case fit

    public static var allNames: [String] { allCases.map(\.rawValue) }

    /// Parses "a4", "A4", "letter", "a3", "fit".
    public init(parsing name: String) throws(PrintError) {
        guard let paper = Paper(rawValue: name.lowercased()) else { throw .unknownPaper(name) }
        self = paper
    }

    /// Portrait width × height in millimetres, or nil for `fit`.
    public var millimetres: (width: Double, height: Double)? {
        switch self {
        case .a4: return (210, 297)
        case .letter: return (215.9, 279.4)
        case .a3: return (297, 420)
        case .fit: return nil
        }
    }

    /// Readable name with size, for messages: "A4 (210 × 297 mm)".
    public var displayName: String {
        switch self {
        case .a4: return "A4 (210 × 297 mm)"
        case .letter: return "Letter (8.5 × 11 in)"
        case .a3: return "A3 (297 × 420 mm)"
        case .fit: return "a fitted sheet"
        }
    }

    /// Whether the scale bar and caption use inches on this paper by default.
    public var prefersInches: Bool { self == .letter }
}
