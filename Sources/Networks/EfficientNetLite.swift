// EfficientNet-Lite (Tan & Le 2019; the "Lite" variants: no squeeze-excite, ReLU6, fixed stem
// and head) built from a PyTorch state dict with lukemelas/EfficientNet-PyTorch key names.
// BatchNorm (eps 1e-3, TF) is folded into each convolution; TF "same" padding.
import Tensors
import Foundation

extension InvertedResidualNetwork {
    /// (255·x − 127) / 128 for x in [0, 1] RGB.
    static let liteNormalization = AffineNormalization(scale: 255.0 / 128.0, shift: -127.0 / 128.0)

    /// Stage table of EfficientNet-B0/Lite: (kernel, stride) per stage. A stage begins at every
    /// block whose input and output channel counts differ; strides are not stored in the weights.
    static let liteStages: [(kernel: Int, stride: Int)] = [(3, 1), (3, 2), (5, 2), (3, 2), (5, 1), (5, 2), (3, 1)]
    static let liteBatchNormEpsilon = 1e-3

    /// EfficientNet-Lite from lukemelas/EfficientNet-PyTorch's key names (BatchNorm eps 1e-3, TF).
    static func efficientNetLite(name: String, inputSize: Int, source: String, weights: [String: WeightTensor]) throws -> Self {
        func tensor(_ key: String, _ rank: Int? = nil) throws -> WeightTensor {
            try Self.tensor(key, rank: rank, source: source, weights: weights)
        }
        func folded(_ convKey: String, _ bn: String) throws -> (weight: [Float], bias: [Float], shape: [Int]) {
            try Self.folded(convKey, bn, epsilon: Self.liteBatchNormEpsilon, source: source, weights: weights)
        }

        let s = try folded("_conv_stem", "_bn0")
        let stem = Conv2D(torchWeight: s.weight, bias: s.bias, outputChannels: s.shape[0], inputChannels: s.shape[1],
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
            guard stage < Self.liteStages.count, Self.liteStages[stage].kernel == d.shape[2] else {
                throw ModelError.unknownArchitecture(file: source, detail: "block \(i) has a \(d.shape[2])×\(d.shape[2]) depthwise kernel where EfficientNet-Lite has stage \(stage + 1)")
            }
            let stride = startsStage ? Self.liteStages[stage].stride : 1
            let dw = DepthwiseConv2D(torchWeight: d.weight, bias: d.bias, channels: mid, kernelSize: d.shape[2], stride: stride, activation: .relu6)
            let proj = Conv2D(torchWeight: pr.weight, bias: pr.bias, outputChannels: out, inputChannels: mid, kernelHeight: 1, kernelWidth: 1)
            blocks.append(MBConvBlock(expand: expand, depthwise: dw, project: proj, residual: stride == 1 && out == channels))
            channels = out
            i += 1
        }
        guard !blocks.isEmpty, stage == Self.liteStages.count - 1 else {
            throw ModelError.unknownArchitecture(file: source, detail: "found \(blocks.count) blocks in \(stage + 1) stages; EfficientNet-Lite has 7 stages")
        }
        let h = try folded("_conv_head", "_bn1")
        guard h.shape[1] == channels else { throw ModelError.badShape(file: source, key: "_conv_head.weight", shape: h.shape, expected: "\(channels) input channels") }
        let head = Conv2D(torchWeight: h.weight, bias: h.bias, outputChannels: h.shape[0], inputChannels: channels, kernelHeight: 1, kernelWidth: 1, activation: .relu6)
        let fw = try tensor("_fc.weight", 2), fb = try tensor("_fc.bias", 1)
        guard fw.shape[1] == h.shape[0], fb.shape[0] == fw.shape[0] else {
            throw ModelError.badShape(file: source, key: "_fc.weight", shape: fw.shape, expected: "(classes, \(h.shape[0]))")
        }
        let classifier = Linear(weight: fw.values, bias: fb.values, inputFeatures: fw.shape[1], outputFeatures: fw.shape[0])
        return Self(name: name, family: .efficientNetLite, inputSize: inputSize, cropFraction: 1, normalization: liteNormalization,
                    stem: stem, blocks: blocks, head: head, classifier: classifier)
    }
}
