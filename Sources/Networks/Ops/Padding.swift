// Padding and activation choices shared by the convolution ops. NHWC throughout.
import Tensors

/// How a convolution pads its input.
public enum Padding: Sendable, Equatable {
    /// TensorFlow "SAME": output = ceil(input / stride); total padding
    /// max((out − 1)·stride + kernel − input, 0), with the odd pixel at the bottom/right.
    /// EfficientNet-Lite weights come from TensorFlow and need exactly this.
    case same
    /// No padding: output = floor((input − kernel) / stride) + 1.
    case valid
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
}

/// Resolved geometry of one convolution on one input size.
public struct ConvGeometry: Sendable, Equatable {
    public var inputHeight, inputWidth, outputHeight, outputWidth: Int
    public var padTop, padLeft: Int

    public init(padding: Padding, inputHeight h: Int, inputWidth w: Int, kernelHeight kh: Int, kernelWidth kw: Int, stride s: Int) {
        inputHeight = h; inputWidth = w
        switch padding {
        case .same:
            outputHeight = (h + s - 1) / s; outputWidth = (w + s - 1) / s
            padTop = max((outputHeight - 1) * s + kh - h, 0) / 2
            padLeft = max((outputWidth - 1) * s + kw - w, 0) / 2
        case .valid:
            outputHeight = max((h - kh) / s + 1, 0); outputWidth = max((w - kw) / s + 1, 0)
            padTop = 0; padLeft = 0
        case let .explicit(top, bottom, left, right):
            outputHeight = max((h + top + bottom - kh) / s + 1, 0)
            outputWidth = max((w + left + right - kw) / s + 1, 0)
            padTop = top; padLeft = left
        }
    }
}

/// Activation fused into a convolution's output.
public enum Activation: Sendable, Equatable {
    case none
    /// min(max(x, 0), 6). Backward passes the gradient where 0 < y < 6 (PyTorch's hardtanh rule),
    /// which, read from the output y, is the same set as 0 < x < 6.
    case relu6
    /// max(x, 0) (ONNX graphs: a Relu fused into the convolution before it). Backward passes the
    /// gradient where y > 0 (PyTorch's rule). Conv2D only: its direct path and DepthwiseConv2D
    /// do not take it.
    case relu
}
