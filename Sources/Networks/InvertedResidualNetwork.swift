// InvertedResidualNetwork: the image classifiers the engine runs natively — a stem convolution,
// inverted-residual blocks ([expand 1×1 + ReLU6] → depthwise k×k + ReLU6 → project 1×1
// [+ input]), a 1×1 head, global average pooling and a linear classifier. EfficientNet-Lite
// (InvertedResidualNetwork.swift) and MobileNetV2 (MobileNetV2.swift) are both of this shape; their
// builders read a PyTorch state dict and fold BatchNorm into each convolution.
// Inference and backward-to-input only.
import Tensors
import Foundation

/// One weight array from a checkpoint, row-major.
public struct WeightTensor: Sendable {
    public var shape: [Int]
    public var values: [Float]
    public init(shape: [Int], values: [Float]) { self.shape = shape; self.values = values }
}

/// MBConv / inverted-residual block: [expand 1×1 + ReLU6] → depthwise k×k + ReLU6 → project 1×1 [+ input].
public struct MBConvBlock: Sendable {
    public let expand: Conv2D?
    public let depthwise: DepthwiseConv2D
    public let project: Conv2D
    public let residual: Bool
}

public struct InvertedResidualNetwork: Sendable {
    /// The architectures this type is built for.
    public enum Family: String, Sendable, Codable {
        case efficientNetLite = "efficientnet-lite"
        case mobileNetV2 = "mobilenet_v2"
    }

    public let name: String
    public let family: Family
    /// Native input side in pixels (224 / 240 / 260 for lite0 / 1 / 2, 224 for MobileNetV2).
    public let inputSize: Int
    /// What the classifier was trained on: the centred square crop of a photo, as a fraction of
    /// its shorter side, resized to `inputSize` (1 for EfficientNet-Lite; torchvision's
    /// resize-256-crop-224 is 0.875).
    public let cropFraction: Double
    /// From [0, 1] RGB to what the first convolution expects.
    public let normalization: AffineNormalization
    public let stem: Conv2D
    public let blocks: [MBConvBlock]
    public let head: Conv2D
    public let classifier: Linear
    public var classCount: Int { classifier.outputFeatures }

    public init(name: String, family: Family, inputSize: Int, cropFraction: Double, normalization: AffineNormalization,
                stem: Conv2D, blocks: [MBConvBlock], head: Conv2D, classifier: Linear) {
        self.name = name; self.family = family; self.inputSize = inputSize; self.cropFraction = cropFraction
        self.normalization = normalization; self.stem = stem; self.blocks = blocks; self.head = head; self.classifier = classifier
    }

    /// Builds the network from a PyTorch state dict, recognising the architecture by its key
    /// names: lukemelas/EfficientNet-PyTorch's EfficientNet-Lite (`_conv_stem…`) or torchvision's
    /// MobileNetV2 (`features.0.0…`). `source` names the file in errors.
    public init(name: String, inputSize: Int, source: String, weights: [String: WeightTensor]) throws {
        if weights["_conv_stem.weight"] != nil {
            self = try Self.efficientNetLite(name: name, inputSize: inputSize, source: source, weights: weights)
        } else if weights["features.0.0.weight"] != nil {
            self = try Self.mobileNetV2(name: name, inputSize: inputSize, source: source, weights: weights)
        } else {
            throw ModelError.unknownArchitecture(file: source, detail: "its tensors are neither EfficientNet-Lite's (lukemelas/EfficientNet-PyTorch names: _conv_stem.weight, _blocks.N.…) nor torchvision MobileNetV2's (features.0.0.weight, …)")
        }
    }

    /// Folds BatchNorm `bn` (weight, bias, running_mean, running_var) into the 4-D convolution
    /// weight `convKey`.weight (Cout, …): w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε).
    static func folded(_ convKey: String, _ bn: String, epsilon: Double, source: String, weights: [String: WeightTensor])
        throws -> (weight: [Float], bias: [Float], shape: [Int]) {
        let w = try tensor(convKey + ".weight", rank: 4, source: source, weights: weights)
        let gamma = try tensor(bn + ".weight", source: source, weights: weights).values, beta = try tensor(bn + ".bias", source: source, weights: weights).values
        let mean = try tensor(bn + ".running_mean", source: source, weights: weights).values
        let variance = try tensor(bn + ".running_var", source: source, weights: weights).values
        let cout = w.shape[0]
        guard gamma.count == cout, beta.count == cout, mean.count == cout, variance.count == cout else {
            throw ModelError.badShape(file: source, key: bn + ".weight", shape: [gamma.count], expected: "[\(cout)] to match \(convKey)")
        }
        let per = w.values.count / max(cout, 1)
        var fw = w.values, fb = [Float](repeating: 0, count: cout)
        for o in 0..<cout {
            let scale = Double(gamma[o]) / (Double(variance[o]) + epsilon).squareRoot()
            for j in 0..<per { fw[o * per + j] = Float(Double(w.values[o * per + j]) * scale) }
            fb[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
        }
        return (fw, fb, w.shape)
    }

    static func tensor(_ key: String, rank: Int? = nil, source: String, weights: [String: WeightTensor]) throws -> WeightTensor {
        guard let t = weights[key] else { throw ModelError.missingWeight(file: source, key: key) }
        if let rank, t.shape.count != rank { throw ModelError.badShape(file: source, key: key, shape: t.shape, expected: "rank \(rank)") }
        return t
    }

    /// Multiply-adds of one forward pass at `size`×`size` (for FLOP counts in benchmarks).
    public func multiplyAdds(size: Int) -> Int {
        var total = 0
        var g = stem.geometry(inputHeight: size, inputWidth: size)
        total += g.outputHeight * g.outputWidth * stem.patchSize * stem.outputChannels
        var hw = (g.outputHeight, g.outputWidth)
        for b in blocks {
            if let e = b.expand { total += hw.0 * hw.1 * e.inputChannels * e.outputChannels }
            g = b.depthwise.geometry(inputHeight: hw.0, inputWidth: hw.1)
            hw = (g.outputHeight, g.outputWidth)
            total += hw.0 * hw.1 * b.depthwise.channels * b.depthwise.kernelSize * b.depthwise.kernelSize
            total += hw.0 * hw.1 * b.project.inputChannels * b.project.outputChannels
        }
        total += hw.0 * hw.1 * head.inputChannels * head.outputChannels
        total += classifier.inputFeatures * classifier.outputFeatures
        return total
    }
}
