// Why an .onnx file was refused: one to three lines naming the file, the part, and what to do.
import Foundation

public enum ONNXError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notONNX(path: String, reason: String)
    case tooLarge(path: String, what: String, size: String, limit: String)
    case unsupported(path: String, what: String, supported: String)
    case badTensor(path: String, name: String, reason: String)
    case externalData(path: String, name: String, reason: String)
    case graph(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): \(reason). Give the path of an .onnx model file."
        case let .notONNX(path, reason):
            return "\(path): not an ONNX model: \(reason)."
        case let .tooLarge(path, what, size, limit):
            return "\(path): \(what) is too large (\(size); at most \(limit)); refused before reading it."
        case let .unsupported(path, what, supported):
            return "\(path): \(what) is not supported.\nSupported: \(supported)."
        case let .badTensor(path, name, reason):
            return "\(path): tensor '\(name)' is damaged: \(reason)."
        case let .externalData(path, name, reason):
            return "\(path): the external data of tensor '\(name)' is refused: \(reason)."
        case let .graph(path, reason):
            return "\(path): \(reason)."
        }
    }
}
