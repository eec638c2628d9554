// Why an .onnx file was refused: one to three lines naming the file, the part, and what to do.
import Foundation
import TextSafety

public enum ONNXError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notONNX(path: String, reason: String)
    case tooLarge(path: String, what: String, size: String, limit: String)
    case unsupported(path: String, what: String, supported: String)
    case badTensor(path: String, name: String, reason: String)
    case externalData(path: String, name: String, reason: String)
    case graph(path: String, reason: String)

    /// The file this error is about.
    public var path: String {
        switch self {
        case let .unreadable(p, _), let .notONNX(p, _), let .tooLarge(p, _, _, _), let .unsupported(p, _, _), let .badTensor(p, _, _),
             let .externalData(p, _, _), let .graph(p, _): return p
        }
    }

    public var description: String {
        let path = displayPath(self.path)
        switch self {
        case let .unreadable(_, reason):
            return "\(path): \(reason). Give the path of an .onnx model file."
        case let .notONNX(_, reason):
            return "\(path): not an ONNX model: \(reason)."
        case let .tooLarge(_, what, size, limit):
            return "\(path): \(what) is too large (\(size); at most \(limit)); refused before reading it."
        case let .unsupported(_, what, supported):
            return "\(path): \(what) is not supported.\nSupported: \(supported)."
        case let .badTensor(_, name, reason):
            return "\(path): tensor '\(name)' is damaged: \(reason)."
        case let .externalData(_, name, reason):
            return "\(path): the external data of tensor '\(name)' is refused: \(reason)."
        case let .graph(_, reason):
            return "\(path): \(reason)."
        }
    }
}
