// `Paper`: the sheet sizes a print sheet or a calibration chart can be laid out on (ISO A4/A3,
// US Letter) or `fit`, a sheet cut to the content. One type for every command that prints. Not a
// printer driver: no printable-area queries.

public enum Paper: String, Sendable, Equatable, CaseIterable, Codable {
    case a4, letter, a3
    /// A sheet just big enough for the copies, marks, caption and margins.
    case fit

    public static var allNames: [String] { allCases.map(\.rawValue) }

    /// "a4", "A4", "letter", "a3", "fit"; nil for anything else.
    public init?(name: String) { self.init(rawValue: name.lowercased()) }

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
