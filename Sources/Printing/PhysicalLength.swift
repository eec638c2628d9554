// `PhysicalLength`: a length on paper ("10cm", "100mm", "4in"), kept in millimetres, and its size
// in printer pixels at a DPI. Not a general unit library: mm, cm and inches only.
import Foundation

/// A positive length on paper, stored in millimetres, remembering the unit it was written in
/// (so captions and scale bars can use inches for inch sizes).
public struct PhysicalLength: Sendable, Equatable, CustomStringConvertible {
    public enum Unit: String, Sendable, Codable {
        case millimetre = "mm", centimetre = "cm", inch = "in"
        public var millimetres: Double {
            switch self {
            case .millimetre: return 1
            case .centimetre: return 10
            case .inch: return 25.4
            }
        }
    }

    public static let millimetresPerInch = 25.4
    /// The largest accepted length: 1 m (larger patches do not fit any paper here, and their
    /// pixel counts at print resolution are impractical).
    public static let maximumMillimetres = 1000.0

    public let millimetres: Double
    /// The unit it was given in (for display only).
    public let unit: Unit

    /// - Precondition: `millimetres` is finite and positive (use `init(parsing:)` for user input).
    public init(millimetres: Double, unit: Unit = .millimetre) {
        precondition(millimetres.isFinite && millimetres > 0, "PhysicalLength(millimetres: \(millimetres))")
        self.millimetres = millimetres
        self.unit = unit
    }

    /// Parses a number and a unit, optionally separated by spaces: "10cm", "100 mm", "4in",
    /// "4.5 in", "2 inches", "3\"". Case-insensitive. Throws for a missing or unknown unit,
    /// a number that is not finite, zero or negative, or a length over 1 m.
    public init(parsing text: String) throws(PrintError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { throw .badLength(text: text, reason: "it is empty") }
        // Plain decimals only: no exponent (so "1e3mm" is refused, not 1000 mm), no "nan"/"inf".
        let numberEnd = trimmed.firstIndex(where: { !"0123456789.+-".contains($0) }) ?? trimmed.endIndex
        let unitText = trimmed[numberEnd...].trimmingCharacters(in: .whitespaces)
        guard let value = Double(trimmed[..<numberEnd]) else {
            throw .badLength(text: text, reason: "it does not start with a number")
        }
        let unit: Unit
        switch unitText {
        case "mm", "millimetre", "millimetres", "millimeter", "millimeters": unit = .millimetre
        case "cm", "centimetre", "centimetres", "centimeter", "centimeters": unit = .centimetre
        case "in", "inch", "inches", "\"": unit = .inch
        case "": throw .badLength(text: text, reason: "it has no unit")
        case _ where Self.startsWithExponent(unitText):
            throw .badLength(text: text, reason: "exponents are not accepted; write the number out plainly")
        default: throw .badLength(text: text, reason: "unknown unit \"\(unitText)\" (use mm, cm or in)")
        }
        guard value.isFinite else { throw .badLength(text: text, reason: "the number is not finite") }
        guard value > 0 else { throw .badLength(text: text, reason: "it must be greater than zero") }
        let mm = value * unit.millimetres
        guard mm <= Self.maximumMillimetres else {
            throw .badLength(text: text, reason: "it is over the 1 m limit")
        }
        self.init(millimetres: mm, unit: unit)
    }

    /// Whether what follows the number is an exponent ("e30mm", "E-3 cm"), not a unit.
    private static func startsWithExponent(_ unitText: String) -> Bool {
        var rest = Substring(unitText)
        guard rest.first == "e" else { return false }
        rest = rest.dropFirst()
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        return rest.first?.isASCII == true && rest.first?.isNumber == true
    }

    public var inches: Double { millimetres / Self.millimetresPerInch }

    /// Whole printer pixels spanning this length at `dpi`: round(mm / 25.4 · dpi).
    public func pixels(dpi: Int) -> Int { Int((inches * Double(dpi)).rounded()) }

    /// In its own unit, shortest form: "10 cm", "4.5 in", "100 mm".
    /// The length as typed, to 6 significant digits ("4.999 mm", where `description` says "5 mm"):
    /// for messages about a limit, which must not round a value onto the limit it breaks.
    public var exactDescription: String {
        "\(String(format: "%.6g", millimetres / unit.millimetres)) \(unit.rawValue)"
    }

    public var description: String {
        let value = millimetres / unit.millimetres
        let number = value == value.rounded() ? String(Int(value)) : String(format: "%.3g", value)
        return "\(number) \(unit.rawValue)"
    }
}
