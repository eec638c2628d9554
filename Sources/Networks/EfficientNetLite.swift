// EfficientNet-Lite (Tan & Le 2019; the "Lite" variants: no squeeze-excite, ReLU6, fixed stem
// and head) built from a PyTorch state dict with lukemelas/EfficientNet-PyTorch key names.
// Inference and backward-to-input only: BatchNorm (eps 1e-3, TF) is folded into each convolution.
import Tensors
import Foundation

/// One weight array from a checkpoint, row-major.
public struct WeightTensor: Sendable {
    public var shape: [Int]
    public var values: [Float]
    public init(shape: [Int], values: [Float]) { self.shape = shape; self.values = values }
}

/// MBConv block: [expand 1×1 + ReLU6] → depthwise k×k + ReLU6 → project 1×1 [+ input].
public struct MBConvBlock: Sendable {
    public let expand: Conv2D?
    public let depthwise: DepthwiseConv2D
    public let project: Conv2D
    public let residual: Bool
}

public struct EfficientNetLite: Sendable {
    public let name: String
    /// Native input side in pixels (224 / 240 / 260 for lite0 / 1 / 2).
    public let inputSize: Int
    /// (255·x − 127) / 128 for x in [0, 1] RGB.
    public let normalization = AffineNormalization(scale: 255.0 / 128.0, shift: -127.0 / 128.0)
    public let stem: Conv2D
    public let blocks: [MBConvBlock]
    public let head: Conv2D
    public let classifier: Linear
    public var classCount: Int { classifier.outputFeatures }

    /// Stage table of EfficientNet-B0/Lite: (kernel, stride) per stage. A stage begins at every
    /// block whose input and output channel counts differ; strides are not stored in the weights.
    static let stages: [(kernel: Int, stride: Int)] = [(3, 1), (3, 2), (5, 2), (3, 2), (5, 1), (5, 2), (3, 1)]
    static let batchNormEpsilon = 1e-3

    /// Builds the network from named weights. `source` names the file in errors.
    public init(name: String, inputSize: Int, source: String, weights: [String: WeightTensor]) throws {
        func tensor(_ key: String, _ rank: Int? = nil) throws -> WeightTensor {
            guard let t = weights[key] else { throw ModelError.missingWeight(file: source, key: key) }
            if let rank, t.shape.count != rank { throw ModelError.badShape(file: source, key: key, shape: t.shape, expected: "rank \(rank)") }
            return t
        }
        /// Folds BatchNorm `bn` into conv weight (Cout, …): w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε).
        func folded(_ convKey: String, _ bn: String) throws -> (weight: [Float], bias: [Float], shape: [Int]) {
            let w = try tensor(convKey + ".weight", 4)
            let gamma = try tensor(bn + ".weight").values, beta = try tensor(bn + ".bias").values
            let mean = try tensor(bn + ".running_mean").values, variance = try tensor(bn + ".running_var").values
            let cout = w.shape[0]
            guard gamma.count == cout, beta.count == cout, mean.count == cout, variance.count == cout else {
                throw ModelError.badShape(file: source, key: bn + ".weight", shape: [gamma.count], expected: "[\(cout)] to match \(convKey)")
            }
            let per = w.values.count / cout
            var fw = w.values, fb = [Float](repeating: 0, count: cout)
            for o in 0..<cout {
                let scale = Double(gamma[o]) / (Double(variance[o]) + Self.batchNormEpsilon).squareRoot()
                for j in 0..<per { fw[o * per + j] = Float(Double(w.values[o * per + j]) * scale) }
                fb[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
            }
            return (fw, fb, w.shape)
        }

        self.name = name
        self.inputSize = inputSize
        let s = try folded("_conv_stem", "_bn0")
        stem = Conv2D(torchWeight: s.weight, bias: s.bias, outputChannels: s.shape[0], inputChannels: s.shape[1],
                      kernelHeight: s.shape[2], kernelWidth: s.shape[3], stride: 2, padding: .same, activation: .relu6)
        guard s.shape[1] == 3 else { throw ModelError.badShape(file: source, key: "_conv_stem.weight", shape: s.shape, expected: "3 input channels (RGB)") }

        var blocks: [MBConvBlock] = []
        var channels = s.shape[0]
        var stage = -1
        var i = 0
        while weights["_blocks.\(i)._depthwise_conv.weight"] != nil {
            let p = "_blocks.\(i)."
            var expand: Conv2D? = nil
            var mid = channels
            if weights[p + "_expand_conv.weight"] != nil {
                let e = try folded(p + "_expand_conv", p + "_bn0")
                guard e.shape[1] == channels else { throw ModelError.badShape(file: source, key: p + "_expand_conv.weight", shape: e.shape, expected: "\(channels) input channels") }
                expand = Conv2D(torchWeight: e.weight, bias: e.bias, outputChannels: e.shape[0], inputChannels: e.shape[1],
                                kernelHeight: 1, kernelWidth: 1, activation: .relu6)
                mid = e.shape[0]
            }
            let d = try folded(p + "_depthwise_conv", p + "_bn1")
            guard d.shape[0] == mid, d.shape[1] == 1, d.shape[2] == d.shape[3] else {
                throw ModelError.badShape(file: source, key: p + "_depthwise_conv.weight", shape: d.shape, expected: "(\(mid), 1, k, k)")
            }
            let pr = try folded(p + "_project_conv", p + "_bn2")
            guard pr.shape[1] == mid else { throw ModelError.badShape(file: source, key: p + "_project_conv.weight", shape: pr.shape, expected: "\(mid) input channels") }
            let out = pr.shape[0]
            let startsStage = i == 0 || out != channels
            if startsStage { stage += 1 }
            guard stage < Self.stages.count, Self.stages[stage].kernel == d.shape[2] else {
                throw ModelError.unknownArchitecture(file: source, detail: "block \(i) has a \(d.shape[2])×\(d.shape[2]) depthwise kernel where EfficientNet-Lite has stage \(stage + 1)")
            }
            let stride = startsStage ? Self.stages[stage].stride : 1
            let dw = DepthwiseConv2D(torchWeight: d.weight, bias: d.bias, channels: mid, kernelSize: d.shape[2], stride: stride, activation: .relu6)
            let proj = Conv2D(torchWeight: pr.weight, bias: pr.bias, outputChannels: out, inputChannels: mid, kernelHeight: 1, kernelWidth: 1)
            blocks.append(MBConvBlock(expand: expand, depthwise: dw, project: proj, residual: stride == 1 && out == channels))
            channels = out
            i += 1
        }
        guard !blocks.isEmpty, stage == Self.stages.count - 1 else {
            throw ModelError.unknownArchitecture(file: source, detail: "found \(blocks.count) blocks in \(stage + 1) stages; EfficientNet-Lite has 7 stages")
        }
        self.blocks = blocks
        let h = try folded("_conv_head", "_bn1")
        guard h.shape[1] == channels else { throw ModelError.badShape(file: source, key: "_conv_head.weight", shape: h.shape, expected: "\(channels) input channels") }
        head = Conv2D(torchWeight: h.weight, bias: h.bias, outputChannels: h.shape[0], inputChannels: channels, kernelHeight: 1, kernelWidth: 1, activation: .relu6)
        let fw = try tensor("_fc.weight", 2), fb = try tensor("_fc.bias", 1)
        guard fw.shape[1] == h.shape[0], fb.shape[0] == fw.shape[0] else {
            throw ModelError.badShape(file: source, key: "_fc.weight", shape: fw.shape, expected: "(classes, \(h.shape[0]))")
        }
        classifier = Linear(weight: fw.values, bias: fb.values, inputFeatures: fw.shape[1], outputFeatures: fw.shape[0])
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
            return "\(file): no tensor named '\(key)'. This is not an EfficientNet-Lite state dict with lukemelas/EfficientNet-PyTorch key names."
        case let .badShape(file, key, shape, expected):
            return "\(file): tensor '\(key)' has shape \(shape), expected \(expected)."
        case let .unknownArchitecture(file, detail):
            return "\(file): not an EfficientNet-Lite checkpoint: \(detail)."
        case let .modelNotFound(name, path):
            return "model \(name) is not at \(path). Fetch it with: Scripts/fetch-models.sh \(name)  (set ROBUSTPATCH_MODELS to use another folder)"
        case let .unknownModel(name):
            return "unknown model '\(name)': give lite0, lite1, lite2 or the path of a .pth/.safetensors file."
        case let .badInput(detail):
            return detail
        }
    }
}
