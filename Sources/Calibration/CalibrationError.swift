// `CalibrationError`: every way making a chart or calibrating from a photo can fail, each naming
// the input and saying what to do. Not used for programmer errors inside the module.

public enum CalibrationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A chart option (dpi, paper, patch grid) is unusable.
    case badChartOptions(reason: String)
    /// The photo could not be read (the `ImagingError`'s description, which names the file).
    case photoUnreadable(reason: String)
    /// Not all four corner markers were found in the photo.
    case markersNotFound(photo: String, found: [String], missing: [String])
    /// The four marker positions (found or given) cannot be the corners of a chart.
    case degenerateCorners(reason: String)
    /// `--corners` text could not be parsed.
    case badCorners(text: String, reason: String)
    /// The chart JSON is unreadable, malformed, or does not match the photo.
    case chartMismatch(source: String, reason: String)
    /// Part of the chart lies outside the photo.
    case chartOutsidePhoto(reason: String)
    /// The colour fit has no unique solution.
    case fitFailed(reason: String)
    /// A calibration file could not be read or written.
    case calibrationFile(path: String, reason: String)
    /// An output path given to a command (`option`) cannot be written; `reason` says why.
    case outputPath(option: String, path: String, reason: String)
    /// Two outputs resolve to the same file: one would overwrite the other.
    case sameOutput(firstOption: String, secondOption: String, path: String)

    public var description: String {
        switch self {
        case let .badChartOptions(reason):
            return "calibration chart: \(reason)."
        case let .photoUnreadable(reason):
            return "photo: \(reason)"
        case let .markersNotFound(photo, found, missing):
            let got = found.isEmpty ? "none" : found.joined(separator: ", ")
            return "\(photo): found \(found.count) of the 4 corner markers (found: \(got); missing: "
                + "\(missing.joined(separator: ", "))). Photograph the whole chart, flat, in even light, with "
                + "all four black corner squares visible, or give their centres with "
                + "--corners x1,y1,x2,y2,x3,y3,x4,y4 (photo pixels; top-left, top-right, bottom-right, bottom-left)."
        case let .degenerateCorners(reason):
            return "the four chart corners are degenerate: \(reason). Give the marker centres in the order "
                + "top-left, top-right, bottom-right, bottom-left of the chart as printed."
        case let .badCorners(text, reason):
            return "--corners '\(text)': \(reason). Expected 8 numbers x1,y1,x2,y2,x3,y3,x4,y4 "
                + "(photo pixels of the marker centres: top-left, top-right, bottom-right, bottom-left)."
        case let .chartMismatch(source, reason):
            return "\(source): \(reason)"
        case let .chartOutsidePhoto(reason):
            return "the chart is not entirely inside the photo: \(reason). Photograph the whole chart."
        case let .fitFailed(reason):
            return "colour fit failed: \(reason)."
        case let .calibrationFile(path, reason):
            return "\(path): \(reason)"
        case let .outputPath(option, path, reason):
            return "\(option) \(path): \(reason)."
        case let .sameOutput(first, second, path):
            return "\(first) and \(second) are the same file, \(path): one would overwrite the other. Give them different paths."
        }
    }
}
