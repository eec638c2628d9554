// Errors of loading and building a network: one to three lines naming the file and what to do.

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingWeight(file: String, key: String)
    case badShape(file: String, key: String, shape: [Int], expected: String)
    case unknownArchitecture(file: String, detail: String)
    case modelNotFound(name: String, path: String)
    case unknownModel(String)
    case badInput(String)

    public var description: String {
        switch self {
        case let .missingWeight(file, key):
            return "\(file): no tensor named '\(key)'. This is not a complete EfficientNet-Lite (lukemelas/EfficientNet-PyTorch key names) or torchvision MobileNetV2 state dict."
        case let .badShape(file, key, shape, expected):
            return "\(file): tensor '\(key)' has shape \(shape), expected \(expected)."
        case let .unknownArchitecture(file, detail):
            return "\(file): not a model this tool can run: \(detail)."
        case let .modelNotFound(name, path):
            return "model \(name) is not at \(path). Fetch it with: Scripts/fetch-models.sh \(name)  (set ROBUSTPATCH_MODELS to use another folder)"
        case let .unknownModel(name):
            return "unknown model '\(name)': give \(ModelZoo.variants.map(\.name).joined(separator: ", ")) or the path of a .pth/.safetensors file."
        case let .badInput(detail):
            return detail
        }
    }
}
