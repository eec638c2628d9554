// `PrintError`: every way making a print sheet can fail, each naming the input and what to do.
// Programmer errors (impossible layouts after validation) are preconditions, not cases here.

import Imaging

public enum PrintError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A length string like "10cm" could not be used; `reason` says why.
    case badLength(text: String, reason: String)
    case badDPI(Int)
    /// `--dpi` text that is not a whole number (e.g. "71.9", "nan", "1e9").
    case unreadableDPI(String)
    case badCopies(Int)
    case unknownPaper(String)
    /// Not even one copy fits; `largestMillimetres` is the biggest patch width that would.
    case patchTooLarge(size: String, paper: String, largestMillimetres: Double)
    /// More copies were asked for than fit; `maximum` is how many do.
    case tooManyCopies(requested: Int, maximum: Int, size: String, paper: String)
    /// The patch would be under `PrintSpec.minimumPatchMillimetres` on a side (or under one
    /// printer pixel); `heightMillimetres` is set when the height, not the width, is the problem.
    case patchTooSmall(size: String, widthMillimetres: Double, heightMillimetres: Double?)
    /// The sheet would exceed what an `Image` may hold.
    case sheetTooLarge(widthPixels: Int, heightPixels: Int)
    /// The output path does not end in ".png".
    case outputNotPNG(path: String)
    case writeFailed(path: String, reason: String)
    /// A wrap-around label for a 3D object cannot be made (see `WrapLabelProblem`).
    case wrapLabel(WrapLabelProblem)

    public var description: String {
        switch self {
        case .badLength(let text, let reason):
            return "--size \"\(text)\": \(reason). Give a positive length with a unit, e.g. 10cm, 100mm, 4in or \"4.5 in\"."
        case .badDPI(let dpi):
            return "--dpi \(dpi) is out of range: use \(PrintSpec.dpiRange.lowerBound)...\(PrintSpec.dpiRange.upperBound) (300 is typical for a photo printer)."
        case .unreadableDPI(let text):
            return "--dpi \(text): give a whole number of dots per inch from \(PrintSpec.dpiRange.lowerBound) to "
                + "\(PrintSpec.dpiRange.upperBound), e.g. 300 (typical for a photo printer)."
        case .badCopies(let n):
            return "--copies \(n): give a whole number from 1 to \(PrintSpec.maxCopies)."
        case .unknownPaper(let name):
            return "--paper \(name): unknown paper; use one of \(Paper.allNames.joined(separator: ", "))."
        case .patchTooLarge(let size, let paper, let largest) where largest < PrintSpec.minimumPatchMillimetres:
            return "a patch of \(size) does not fit on \(paper) with its margins, crop marks and caption, and no smaller one "
                + "would: the texture is so elongated that even the \(Self.minimum) minimum "
                + "width does not fit. Use --paper fit, or a less elongated texture."
        case .patchTooLarge(let size, let paper, let largest):
            let biggerPaper = paper.lowercased().hasPrefix("a3") ? "" : ", --paper a3"
            return "a patch of \(size) does not fit on \(paper) with its margins, crop marks and caption; "
                + "the largest that fits is \(Self.length(largest, like: size)). Use a smaller --size\(biggerPaper) or --paper fit."
        case .tooManyCopies(let requested, let maximum, let size, let paper):
            return "--copies \(requested): at most \(maximum) cop\(maximum == 1 ? "y" : "ies") of a \(size) patch fit on \(paper). "
                + "Use --copies \(maximum), a smaller --size, or --paper fit."
        case .patchTooSmall(let size, let width, let height):
            let minimum = Self.minimum
            if let height {
                return "--size \(size) is too small for this texture's shape: the patch would be \(Self.millimetres(width)) wide "
                    + "but only \(Self.belowMinimum(height)) tall on paper, and each side must be at least \(minimum). "
                    + "Give a larger --size, or a texture that is less elongated."
            }
            return "--size \(size) is too small: the patch would be \(Self.belowMinimum(width)) wide on paper, and it must be "
                + "at least \(minimum) across (smaller, a printer cannot reproduce its pattern). Give a larger --size, e.g. 5cm or 2in."
        case .sheetTooLarge(let w, let h):
            return "the sheet would be \(w) × \(h) pixels, more than an image may hold; lower --dpi or --copies."
        case .outputNotPNG(let path):
            return "--out \(path): the sheet must be a .png file (e.g. Printouts/toaster.png); "
                + "NAME_patch.png and NAME.json are written beside it."
        case .writeFailed(let path, let reason):
            // The reason carries its advice (AtomicFile: a full disk, a read-only folder, …).
            return "cannot write \(path): \(reason)"
        case .wrapLabel(let problem):
            return problem.description
        }
    }

    /// The smallest patch side, "5 mm".
    static var minimum: String { PhysicalLength(millimetres: PrintSpec.minimumPatchMillimetres).description }

    /// A length in the unit the user wrote `like` in: "7.17 in" for "8in", else `millimetres`.
    /// Rounded down, so that the size suggested fits ("7.16 in", "26.3 cm" for 263.9 mm).
    static func length(_ mm: Double, like: String) -> String {
        if like.lowercased().contains("in") { return String(format: "%.2f in", (mm / 25.4 * 100).rounded(.down) / 100) }
        return mm >= 10 ? String(format: "%.1f cm", mm.rounded(.down) / 10) : belowMinimum(mm)
    }

    /// A length just under the minimum, never rounded up to it ("4.99 mm", not "5.0 mm").
    static func belowMinimum(_ mm: Double) -> String {
        mm >= 1 ? String(format: "%.2f mm", (mm * 100).rounded(.down) / 100) : millimetres(mm)
    }

    /// "17.6 cm", "4.8 mm"; lengths under 1 mm with three significant digits ("0.001 mm").
    static func millimetres(_ mm: Double) -> String {
        mm >= 10 ? String(format: "%.1f cm", mm / 10) : mm >= 1 ? String(format: "%.1f mm", mm) : String(format: "%.3g mm", mm)
    }
}
