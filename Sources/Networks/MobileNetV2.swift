// MobileNetV2 (Sandler et al. 2018) built from torchvision's state dict (`features.N…`,
// `classifier.1…`; torchvision's ImageNet weights mobilenet_v2-b0353104.pth): a 3×3 stride-2
// stem, 17 inverted-residual blocks, a 1×1 head to 1280 channels, a linear classifier. ReLU6
// everywhere, BatchNorm (eps 1e-5) folded into each convolution, PyTorch's symmetric padding
// (k − 1) / 2 — not TF's "same", which puts the odd pixel of a stride-2 layer last. Input:
// torchvision's ImageNet normalisation of [0, 1] RGB, a 224 crop of a photo resized to 256.
import Tensors
import Foundation

extension InvertedResidualNetwork {
    /// (expansion t, output channels c, blocks n, stride of the first s) per stage: torchvision's
    /// `inverted_residual_setting`. Strides are not stored in the weights; a stage begins at
    /// every block whose output channel count differs from its input's.
    static let mobileNetV2Stages: [(t: Int, c: Int, n: Int, s: Int)] =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    static let mobileNetV2BatchNormEpsilon = 1e-5
    /// torchvision's ImageNet mean and standard deviation.
    public static let imageNetNormalization = AffineNormalization(mean: SIMD3(0.485, 0.456, 0.406), std: SIMD3(0.229, 0.224, 0.225))

    static func mobileNetV2(name: String, inputSize: Int, source: String, weights: [String: WeightTensor]) throws -> Self {
        func folded(_ conv: String, _ bn: String) throws -> (weight: [Float], bias: [Float], shape: [Int]) {
            try Self.folded(conv, bn, epsilon: Self.mobileNetV2BatchNormEpsilon, source: source, weights: weights)
        }
        func symmetric(_ k: Int) -> Padding { let p = (k - 1) / 2; return .explicit(top: p, bottom: p, left: p, right: p) }
        func pointwise(_ f: (weight: [Float], bias: [Float], shape: [Int]), key: String, inputs: Int, relu: Bool) throws -> Conv2D {
            guard f.shape.count == 4, f.shape[1] == inputs, f.shape[2] == 1, f.shape[3] == 1 else {
                throw ModelError.badShape(file: source, key: key, shape: f.shape, expected: "(C, \(inputs), 1, 1)")
            }
            return Conv2D(torchWeight: f.weight, bias: f.bias, outputChannels: f.shape[0], inputChannels: inputs, kernelHeight: 1, kernelWidth: 1,
                          padding: .valid, activation: relu ? .relu6 : .none)
        }

        let s = try folded("features.0.0", "features.0.1")
        guard s.shape[1] == 3, s.shape[2] == s.shape[3], s.shape[2] % 2 == 1 else {
            throw ModelError.badShape(file: source, key: "features.0.0.weight", shape: s.shape, expected: "(C, 3, k, k) with k odd")
        }
        let stem = Conv2D(torchWeight: s.weight, bias: s.bias, outputChannels: s.shape[0], inputChannels: 3, kernelHeight: s.shape[2],
                          kernelWidth: s.shape[3], stride: 2, padding: symmetric(s.shape[2]), activation: .relu6)
        var blocks: [MBConvBlock] = []
        var channels = s.shape[0], stage = -1
        var i = 1
        while weights["features.\(i).conv.0.0.weight"] != nil {
            let p = "features.\(i).conv."
            // With an expansion: conv.0 = expand (ConvBNReLU), conv.1 = depthwise, conv.2 / conv.3 =
            // project conv / BN. Without (t = 1): conv.0 = depthwise, conv.1 / conv.2 = project.
            let hasExpand = weights[p + "3.weight"] != nil
            var expand: Conv2D? = nil
            var mid = channels
            if hasExpand {
                let e = try folded(p + "0.0", p + "0.1")
                expand = try pointwise(e, key: p + "0.0.weight", inputs: channels, relu: true)
                mid = e.shape[0]
            }
            let dwKey = hasExpand ? p + "1" : p + "0"
            let d = try folded(dwKey + ".0", dwKey + ".1")
            guard d.shape[0] == mid, d.shape[1] == 1, d.shape[2] == d.shape[3], d.shape[2] % 2 == 1 else {
                throw ModelError.badShape(file: source, key: dwKey + ".0.weight", shape: d.shape, expected: "(\(mid), 1, k, k) with k odd")
            }
            let projKey = hasExpand ? p + "2" : p + "1", projBN = hasExpand ? p + "3" : p + "2"
            let pr = try folded(projKey, projBN)
            let project = try pointwise(pr, key: projKey + ".weight", inputs: mid, relu: false)
            let out = pr.shape[0]
            let startsStage = blocks.isEmpty || out != channels
            if startsStage { stage += 1 }
            guard stage < Self.mobileNetV2Stages.count, Self.mobileNetV2Stages[stage].c == out else {
                throw ModelError.unknownArchitecture(file: source, detail: "block \(i) outputs \(out) channels where MobileNetV2 (width 1.0) has stage \(stage + 1) of \(Self.mobileNetV2Stages.map(\.c))")
            }
            let stride = startsStage ? Self.mobileNetV2Stages[stage].s : 1
            let dw = DepthwiseConv2D(torchWeight: d.weight, bias: d.bias, channels: mid, kernelSize: d.shape[2], stride: stride,
                                     padding: symmetric(d.shape[2]), activation: .relu6)
            blocks.append(MBConvBlock(expand: expand, depthwise: dw, project: project, residual: stride == 1 && out == channels))
            channels = out
            i += 1
        }
        guard stage == Self.mobileNetV2Stages.count - 1 else {
            throw ModelError.unknownArchitecture(file: source, detail: "found \(blocks.count) blocks in \(stage + 1) stages; MobileNetV2 has 17 in 7")
        }
        let h = try folded("features.\(i).0", "features.\(i).1")
        let head = try pointwise(h, key: "features.\(i).0.weight", inputs: channels, relu: true)
        let fw = try Self.tensor("classifier.1.weight", rank: 2, source: source, weights: weights)
        let fb = try Self.tensor("classifier.1.bias", rank: 1, source: source, weights: weights)
        guard fw.shape[1] == h.shape[0], fb.shape[0] == fw.shape[0] else {
            throw ModelError.badShape(file: source, key: "classifier.1.weight", shape: fw.shape, expected: "(classes, \(h.shape[0]))")
        }
        let classifier = Linear(weight: fw.values, bias: fb.values, inputFeatures: fw.shape[1], outputFeatures: fw.shape[0])
        return Self(name: name, family: .mobileNetV2, inputSize: inputSize, cropFraction: 0.875, normalization: imageNetNormalization,
                    stem: stem, blocks: blocks, head: head, classifier: classifier)
    }
}
