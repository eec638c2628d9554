// `--paper` for print sheets: Imaging's `Paper`, refused with PrintError's message.
import Imaging

extension Paper {
    /// Parses "a4", "A4", "letter", "a3", "fit".
    public init(parsing name: String) throws(PrintError) {
        guard let paper = Paper(name: name) else { throw .unknownPaper(name) }
        self = paper
    }
}
