// Networks: layers with forward and backward-to-input (weights are frozen), EfficientNet-Lite,
// model files and ImageNet labels. NHWC Float32 throughout; every API speaks [0, 1] pixels.
@_exported import Tensors
