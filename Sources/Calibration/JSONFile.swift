// Reading the calibration module's JSON files (chart layouts, calibrations): one place for the
// two ways such a read fails and how each is worded. Not validation: each type validates itself.
import Foundation
import Transforms

/// Decodes the JSON file at `path` as a `T`. A missing or unreadable file gives
/// `failure("cannot read the <what> file; check the path.")`, a file that does not decode
/// `failure("not a <what> JSON (<the field at fault>). <hint>")`.
func readJSONFile<T: Decodable>(_ type: T.Type, at path: String, what: String, hint: String,
                                failure: (_ reason: String) -> CalibrationError) throws(CalibrationError) -> T {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw failure("cannot read the \(what) file; check the path.")
    }
    return try decodeJSONData(type, data, what: what, hint: hint, failure: failure)
}

/// `readJSONFile` for bytes already in memory.
func decodeJSONData<T: Decodable>(_ type: T.Type, _ data: Data, what: String, hint: String,
                                  failure: (_ reason: String) -> CalibrationError) throws(CalibrationError) -> T {
    do { return try JSONDecoder().decode(T.self, from: data) } catch {
        throw failure("not a \(what) JSON (\(describeDecodingError(error))). \(hint)")
    }
}
