// Checkpoint: the tensors of a PyTorch state dict (`.pth`, zip or legacy) or a `.safetensors` file, as Float arrays.
// It reads weights only; it never runs code from the file, and it knows nothing about model architectures.

import Foundation

/// One tensor, converted to `Float` and laid out contiguously in row-major order.
public struct CheckpointTensor: Sendable, Equatable {
    /// Sizes, outermost first; `[]` for a 0-d (scalar) tensor.
    public var shape: [Int]
    /// The dtype in the file: "float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8" or "bool".
    public var dtype: String
    /// Every element converted to Float, row-major (shape.reduce(1, *) elements).
    public var floats: [Float]
    /// The exact values of integer and bool tensors (`nil` for floating-point dtypes).
    public var integers: [Int64]?

    public init(shape: [Int], dtype: String, floats: [Float], integers: [Int64]? = nil) {
        self.shape = shape
        self.dtype = dtype
        self.floats = floats
        self.integers = integers
    }

    /// Number of elements.
    public var count: Int { floats.count }
}

/// The container format a checkpoint was read from.
public enum CheckpointFormat: String, Sendable {
    /// `torch.save` since PyTorch 1.6: a zip holding `<dir>/data.pkl` and `<dir>/data/<key>`.
    case pytorchZip
    /// `torch.save` before 1.6 (or `_use_new_zipfile_serialization=False`): pickles back to back, then raw storages.
    case pytorchLegacy
    /// Hugging Face safetensors.
    case safetensors
}

/// The tensors of one checkpoint file.
public struct Checkpoint: Sendable {
    /// The path the checkpoint was loaded from (as given).
    public var path: String
    public var format: CheckpointFormat
    public var tensors: [String: CheckpointTensor]
    /// Tensor names in file order (state-dict order for `.pth`, data order for `.safetensors`).
    public var keys: [String]

    public init(path: String, format: CheckpointFormat, tensors: [String: CheckpointTensor], keys: [String]) {
        self.path = path
        self.format = format
        self.tensors = tensors
        self.keys = keys
    }

    /// Reads a checkpoint, choosing the reader by the file's first bytes (zip magic, pickle) or its
    /// `.safetensors` extension. Only tensors are kept; other state-dict entries are dropped.
    public static func load(path: String) throws(CheckpointError) -> Checkpoint {
        try load(bytes: readWholeFile(path), path: path)
    }

    /// `load(path:)` for bytes already in memory (e.g. a fuzzer's input); `path` names the input
    /// in errors, and its `.safetensors` extension chooses that reader as for a file.
    public static func load(bytes: [UInt8], path: String) throws(CheckpointError) -> Checkpoint {
        guard !bytes.isEmpty else { throw .unrecognizedFormat(file: path, detail: "the file is empty") }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return try PyTorchZipReader.read(path: path, bytes: bytes)
        }
        if path.lowercased().hasSuffix(".safetensors") || SafetensorsReader.looksLikeSafetensors(bytes) {
            return try SafetensorsReader.read(path: path, bytes: bytes)
        }
        if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) {
            throw .unrecognizedFormat(file: path, detail: "a tar archive: the tar-based torch.save format of PyTorch "
                + "before 0.4 is not supported; load and re-save it with a current PyTorch")
        }
        guard pickleOpcodeNames[bytes[0]] != nil else {
            let head = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw .unrecognizedFormat(file: path, detail: "it starts with bytes \(head), which is neither a zip, a "
                + "pickle nor a safetensors header")
        }
        return try PyTorchLegacyReader.read(path: path, bytes: bytes)
    }

    /// The tensor named `name`, or an error naming the file and the key.
    public func tensor(_ name: String) throws(CheckpointError) -> CheckpointTensor {
        guard let t = tensors[name] else { throw .missingTensor(file: path, key: name, available: keys) }
        return t
    }
}

/// Reads a whole file into memory once (storages are then decoded from slices of it).
func readWholeFile(_ path: String) throws(CheckpointError) -> [UInt8] {
    guard let fh = FileHandle(forReadingAtPath: path) else {
        let exists = FileManager.default.fileExists(atPath: path)
        throw .unreadable(file: path, reason: exists ? "permission denied or not a regular file" : "no such file")
    }
    defer { try? fh.close() }
    do {
        let data = try fh.readToEnd() ?? Data()
        return [UInt8](data)
    } catch {
        throw .unreadable(file: path, reason: "\(error)")
    }
}

// MARK: - State dict interpretation (shared by the two .pth formats)

/// Finds the dictionary of tensors in an unpickled object: the top-level dict itself or, for training
/// checkpoints such as `{"state_dict": ..., "epoch": 3}`, its "state_dict" / "model" / "model_state_dict" entry.
func stateDictEntries(_ r: PickleResult, file: String) throws(CheckpointError) -> [(String, TensorRef)] {
    func tensorsOf(_ d: Int) -> [(String, TensorRef)] {
        var out: [(String, TensorRef)] = []
        for (k, v) in zip(r.dicts[d].keys, r.dicts[d].values) {
            if case .string(let name) = k, case .tensor(let t) = v { out.append((name, t)) }
        }
        return out
    }
    guard case .dict(let top) = r.value else {
        throw .notAStateDict(file: file, detail: "the pickled object is a \(r.value.kind), not a dict")
    }
    let direct = tensorsOf(top)
    if !direct.isEmpty { return direct }
    for wrapper in ["state_dict", "model_state_dict", "model"] {
        if let i = r.dicts[top].stringIndex[wrapper], case .dict(let inner) = r.dicts[top].values[i] {
            let nested = tensorsOf(inner)
            if !nested.isEmpty { return nested }
        }
    }
    throw .notAStateDict(file: file, detail: "the top-level dict holds no tensors")
}

/// Decodes every tensor of a state dict, given where each root storage's bytes are.
func decodeStateDict(_ entries: [(String, TensorRef)], storageBytes: [String: Range<Int>], in buffers: [String: [UInt8]]?,
                     file: [UInt8], path: String, format: CheckpointFormat) throws(CheckpointError) -> Checkpoint {
    var tensors: [String: CheckpointTensor] = [:]
    var keys: [String] = []
    // Many tensors may view one storage (tied weights), so the file's size alone does not bound what decoding
    // allocates: a small pickle could name one large storage thousands of times. All the views together may show
    // at most 4× the elements the storages hold (tied weights show 2×), plus one repeated-view allowance.
    var storageElements: [String: Int] = [:]
    for (_, t) in entries { storageElements[t.storage.key] = t.storage.rootNumel }
    let stored = storageElements.values.reduce(0, saturatingSum)
    let budget = saturatingSum(saturatingProduct([stored, 4]), maxRepeatedViewElements)
    var decodedElements = 0
    tensors.reserveCapacity(entries.count)
    for (name, t) in entries {
        let s = t.storage
        // (a shape past maxTensorElements or overflowing is refused by decodeTensor, with its shape)
        let view = saturatingProduct(t.shape)
        if view <= maxTensorElements { decodedElements = saturatingSum(decodedElements, view) }
        guard decodedElements <= budget else {
            throw .invalidTensor(file: path, tensor: name, detail: "the tensors up to this one show \(decodedElements) elements of "
                + "storages holding \(stored) (at most 4× as many, plus \(maxRepeatedViewElements), are decoded)")
        }
        let decoded: CheckpointTensor
        // The view storage starts `viewOffset` elements into the root storage.
        let (byteStart, overflow) = s.viewOffset.multipliedReportingOverflow(by: s.dtype.byteSize)
        guard !overflow else {
            throw .invalidTensor(file: path, tensor: name, detail: "its storage view offset \(s.viewOffset) overflows")
        }
        if let buffers {
            guard let buf = buffers[s.key] else { throw .missingStorage(file: path, key: s.key) }
            decoded = try decodeSlice(buf, 0..<buf.count, byteStart: byteStart, t, name: name, path: path)
        } else {
            guard let range = storageBytes[s.key] else { throw .missingStorage(file: path, key: s.key) }
            decoded = try decodeSlice(file, range, byteStart: byteStart, t, name: name, path: path)
        }
        if tensors.updateValue(decoded, forKey: name) == nil { keys.append(name) }
    }
    return Checkpoint(path: path, format: format, tensors: tensors, keys: keys)
}

private func decodeSlice(_ bytes: [UInt8], _ range: Range<Int>, byteStart: Int, _ t: TensorRef,
                         name: String, path: String) throws(CheckpointError) -> CheckpointTensor {
    let s = t.storage
    let viewBytes = s.viewNumel.multipliedReportingOverflow(by: s.dtype.byteSize)
    guard !viewBytes.overflow, byteStart >= 0, byteStart <= range.count, viewBytes.partialValue <= range.count - byteStart else {
        throw .storageTooShort(file: path, key: s.key, neededBytes: viewBytes.overflow ? Int.max : byteStart &+ viewBytes.partialValue,
                               availableBytes: range.count)
    }
    let result: Result<CheckpointTensor, CheckpointError> = bytes.withUnsafeBytes { all in
        let slice = UnsafeRawBufferPointer(rebasing: all[(range.lowerBound + byteStart)..<(range.lowerBound + byteStart + viewBytes.partialValue)])
        do throws(CheckpointError) {
            return .success(try decodeTensor(src: slice, storageNumel: s.viewNumel, dtype: s.dtype, offset: t.offset,
                                             shape: t.shape, stride: t.stride, file: path, name: name))
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}

/// The product of `values` (negative ones count as 0, which the decoder refuses by name later), Int.max on overflow.
func saturatingProduct(_ values: [Int]) -> Int {
    var n = 1
    for v in values {
        let (p, o) = n.multipliedReportingOverflow(by: max(v, 0))
        if o { return Int.max }
        n = p
    }
    return n
}

/// a + b for counts ≥ 0, Int.max on overflow.
func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (s, o) = a.addingReportingOverflow(b)
    return o ? Int.max : s
}
