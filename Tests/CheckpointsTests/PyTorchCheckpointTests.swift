// Tests: tiny state dicts saved by torch itself (zip and legacy) load with exactly torch's values.
// Fixtures and expectations: Scripts/make_checkpoint_fixtures.py.

import Foundation
import Testing
import Checkpoints

@Suite struct PyTorchCheckpointTests {
    static let formats: [(String, CheckpointFormat)] = [("tiny_zip.pth", .pytorchZip), ("tiny_legacy.pth", .pytorchLegacy)]

    @Test(arguments: formats)
    func tinyStateDictHasTorchsExactValues(file: String, format: CheckpointFormat) throws {
        let ckpt = try Checkpoint.load(path: Fixtures.path(file))
        let expected = try Fixtures.expected("tiny_expected.json")
        #expect(ckpt.format == format)
        #expect(ckpt.keys == expected.map(\.0), "keys must come in state-dict order")
        #expect(ckpt.tensors.count == expected.count)
        for (name, e) in expected {
            let t = try ckpt.tensor(name)
            #expect(t.shape == e.shape, "\(name) shape")
            #expect(t.dtype == e.dtype, "\(name) dtype")
            #expect(t.floats == e.values, "\(name) values")
            #expect(t.integers == e.integers, "\(name) integers")
            #expect(t.count == e.shape.reduce(1, *))
        }
    }

    @Test(arguments: formats)
    func viewsAreMaterialisedContiguously(file: String, format: CheckpointFormat) throws {
        let ckpt = try Checkpoint.load(path: Fixtures.path(file))
        // base = arange(12).reshape(3, 4); the views share its storage.
        #expect(try ckpt.tensor("transposed").floats == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(try ckpt.tensor("row1").floats == [4, 5, 6, 7])
        #expect(try ckpt.tensor("strided").floats == [1, 3, 5, 7, 9, 11])
        #expect(try ckpt.tensor("strided").shape == [3, 2])
        #expect(try ckpt.tensor("bn.num_batches_tracked").shape == [])
        #expect(try ckpt.tensor("bn.num_batches_tracked").integers == [7])
        #expect(try ckpt.tensor("scalar").floats == [-1.25])
        #expect(try ckpt.tensor("empty").shape == [0, 3])
        #expect(try ckpt.tensor("empty").floats.isEmpty)
        #expect(try ckpt.tensor("param").floats == [1.5, -2.5])
    }

    @Test func handCraftedLegacyFileLoads() throws {
        let ckpt = try Checkpoint.load(path: Fixtures.path("crafted_ok_legacy.pth"))
        #expect(ckpt.keys == ["w"])
        #expect(try ckpt.tensor("w").shape == [2, 3])
        #expect(try ckpt.tensor("w").floats == [0, 0, 0, 0, 0, 0])
    }

    /// Pre-1.0 legacy files could name a view into a root storage: (view_key, offset, size). torch 1.13 loads this
    /// fixture as whole = 0..9, part = [[5, 7], [6, 8]] (checked by the generator).
    @Test func legacyStorageViewsResolveIntoTheirRoot() throws {
        let ckpt = try Checkpoint.load(path: Fixtures.path("crafted_view_legacy.pth"))
        #expect(try ckpt.tensor("whole").floats == (0..<10).map(Float.init))
        #expect(try ckpt.tensor("part").shape == [2, 2])
        #expect(try ckpt.tensor("part").floats == [5, 7, 6, 8])
    }

    @Test func trainingCheckpointWrapperIsUnwrapped() throws {
        let ckpt = try Checkpoint.load(path: Fixtures.path("wrapped_zip.pth"))
        #expect(ckpt.keys == ["w", "b"])
        #expect(try ckpt.tensor("w").floats == [1, 2])
    }

    @Test func missingKeyNamesFileAndKey() throws {
        let path = Fixtures.path("tiny_zip.pth")
        let ckpt = try Checkpoint.load(path: path)
        let e = checkpointError { _ = try ckpt.tensor("_fc.weight") }
        #expect(e == .missingTensor(file: path, key: "_fc.weight", available: ckpt.keys))
        #expect(e?.description.contains("tiny_zip.pth") == true)
        #expect(e?.description.contains("'_fc.weight'") == true)
    }

    @Test func legacyAndZipAgree() throws {
        let a = try Checkpoint.load(path: Fixtures.path("tiny_zip.pth"))
        let b = try Checkpoint.load(path: Fixtures.path("tiny_legacy.pth"))
        #expect(a.keys == b.keys)
        #expect(a.tensors == b.tensors)
    }
}
