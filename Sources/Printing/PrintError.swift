// `PrintError`: every way making a print sheet can fail, each naming the input and what to do.
// Programmer errors (impossible layouts after validation) are preconditions, not cases here.

public enum PrintError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A length string like "10cm" could not be used; `reason` says why.
    case badLength(text: String, reason: String)
    case badDPI(Int)
    case badCopies(Int)
    case unknownPaper(String)
    /// Not even one copy fits; `largestMillimetres` is the biggest patch width that would.
    case patchTooLarge(size: String, paper: String, largestMillimetres: Double)
    /// More copies were asked for than fit; `maximum` is how many do.
    case tooManyCopies(requested: Int, maximum: Int, size: String, paper: String)
    /// The sheet would exceed what an `Image` may hold.
    case sheetTooLarge(widthPixels: Int, heightPixels: Int)
    case missingPatch(path: String, reason: String)
    case badMask(path: String, reason: String)
    case badRunRecord(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .badLength(let text, let reason):
            return "size \"\(text)\": \(reason). Give a positive length with a unit, e.g. 10cm, 100mm, 4in or \"4.5 in\"."
        case .badDPI(let dpi):
            return "--dpi \(dpi) is out of range: use \(PrintSpec.dpiRange.lowerBound)...\(PrintSpec.dpiRange.upperBound) (300 is typical for a photo printer)."
        case .badCopies(let n):
            return "--copies \(n): give a whole number from 1 to \(PrintSpec.maxCopies)."
        case .unknownPaper(let name):
            return "--paper \(name): unknown paper; use one of \(Paper.allNames.joined(separator: ", "))."
        case .patchTooLarge(let size, let paper, let largest):
            return "a \(size) patch does not fit on \(paper) with its margins, crop marks and caption; "
                + "the largest that fits is \(Self.millimetres(largest)). Use a smaller --size, --paper a3 or --paper fit."
        case .tooManyCopies(let requested, let maximum, let size, let paper):
            return "--copies \(requested): at most \(maximum) cop\(maximum == 1 ? "y" : "ies") of a \(size) patch fit on \(paper). "
                + "Use --copies \(maximum), a smaller --size, or --paper fit."
        case .sheetTooLarge(let w, let h):
            return "the sheet would be \(w) × \(h) pixels, more than an image may hold; lower --dpi or --copies."
        case .missingPatch(let path, let reason):
            return "--patch \(path): \(reason). Give a generate run folder (with patch.png) or a PNG file."
        case .badMask(let path, let reason):
            return "\(path): \(reason). The mask must be a PNG the size of the texture (white = patch)."
        case .badRunRecord(let path, let reason):
            return "\(path): \(reason). Remove or fix run.json, or pass the PNG itself with --patch."
        case .writeFailed(let path, let reason):
            return "\(path): could not write (\(reason)). Check that the folder exists and is writable."
        }
    }

    static func millimetres(_ mm: Double) -> String {
        mm >= 10 ? String(format: "%.1f cm", mm / 10) : String(format: "%.1f mm", mm)
    }
}
