// The errors a checkpoint reader can raise; every case names the file and says what to do.
// Not a place for recovery logic: readers throw these and stop. Text taken from the file (pickle globals,
// storage keys, tensor names, dtypes) is stored raw and escaped and cut when described (TextSafety); free-form
// `detail`s are written by the readers, which escape what they quote from the file.

import TextSafety

/// A checkpoint could not be read. Every case carries `file` (the path as the caller gave it).
public enum CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file could not be opened or read at all.
    case unreadable(file: String, reason: String)
    /// The bytes are not any format this module knows (zip `.pth`, legacy `.pth`, `.safetensors`).
    case unrecognizedFormat(file: String, detail: String)
    /// The file ends before the structure it announces is complete.
    case truncated(file: String, detail: String)
    /// The pickle stream is inconsistent (stack underflow, wrong argument types, unknown memo slot...).
    case malformedPickle(file: String, offset: Int, detail: String)
    /// The pickle uses an opcode that PyTorch state dicts never contain.
    case unsupportedOpcode(file: String, offset: Int, opcode: UInt8, name: String)
    /// The pickle names a global outside the small allow-list a state dict needs. Nothing was executed.
    case forbiddenGlobal(file: String, module: String, name: String)
    /// The pickle is well formed but its top-level object is not a dictionary of tensors.
    case notAStateDict(file: String, detail: String)
    /// A tensor refers to a storage the file does not contain.
    case missingStorage(file: String, key: String)
    /// A storage holds fewer bytes than the tensors or its own header claim.
    case storageTooShort(file: String, key: String, neededBytes: Int, availableBytes: Int)
    /// A dtype this module does not convert.
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// A tensor's shape, strides or offset are invalid (negative, overflowing, or outside its storage).
    case invalidTensor(file: String, tensor: String, detail: String)
    /// A `.safetensors` header is malformed.
    case malformedSafetensors(file: String, detail: String)
    /// A `.pth` zip archive is malformed (for example, it has no `data.pkl`).
    case malformedArchive(file: String, detail: String)
    /// `Checkpoint.tensor(_:)` was asked for a key the file does not hold.
    case missingTensor(file: String, key: String, available: [String])

    /// The file this error is about.
    public var file: String {
        switch self {
        case .unreadable(let f, _), .unrecognizedFormat(let f, _), .truncated(let f, _),
             .malformedPickle(let f, _, _), .unsupportedOpcode(let f, _, _, _), .forbiddenGlobal(let f, _, _),
             .notAStateDict(let f, _), .missingStorage(let f, _), .storageTooShort(let f, _, _, _),
             .unsupportedDType(let f, _, _), .invalidTensor(let f, _, _), .malformedSafetensors(let f, _),
             .malformedArchive(let f, _), .missingTensor(let f, _, _):
            return f
        }
    }

    public var description: String {
        let damaged = "The file is damaged or incomplete; download it again."
        let f = displayPath(file)
        switch self {
        case .unreadable(_, let reason):
            return "\(f): cannot read the file (\(reason)). Check the path and its permissions."
        case .unrecognizedFormat(_, let detail):
            return "\(f): not a checkpoint this tool can read (\(detail)). Expected a PyTorch state dict (.pth, "
                + "saved with torch.save(model.state_dict(), ...)) or a .safetensors file."
        case .truncated(_, let detail):
            return "\(f): the file ends too early (\(detail)). \(damaged)"
        case .malformedPickle(_, let offset, let detail):
            return "\(f): malformed pickle at byte \(offset): \(detail). \(damaged)"
        case .unsupportedOpcode(_, let offset, let opcode, let name):
            let hex = String(opcode, radix: 16, uppercase: true)
            return "\(f): the pickle uses opcode \(name) (0x\(hex)) at byte \(offset), which PyTorch state dicts "
                + "never contain; refusing to interpret it. Re-save the weights with "
                + "torch.save(model.state_dict(), path) from a trusted copy."
        case .forbiddenGlobal(_, let module, let name):
            return "\(f): refusing to load: the pickle names the global \(untrustedText(module, limit: 40)).\(untrustedText(name, limit: 40)), "
                + "which a state dict never needs; the file may be malicious. Get the weights from a trusted source "
                + "(for a whole saved model, save model.state_dict() instead)."
        case .notAStateDict(_, let detail):
            return "\(f): the checkpoint is not a state dict (\(detail)). Save it with "
                + "torch.save(model.state_dict(), path)."
        case .missingStorage(_, let key):
            return "\(f): a tensor refers to storage '\(untrustedText(key))', which the file does not contain. \(damaged)"
        case .storageTooShort(_, let key, let needed, let available):
            return "\(f): storage '\(untrustedText(key))' needs \(needed) bytes but the file holds only \(available). \(damaged)"
        case .unsupportedDType(_, let tensor, let dtype):
            return "\(f): tensor '\(untrustedText(tensor, limit: 60))' has dtype \(untrustedText(dtype, limit: 20)), which is not supported (supported: float32, "
                + "float64, float16, bfloat16, int64, int32, uint8, bool). Convert it to float32 before saving."
        case .invalidTensor(_, let tensor, let detail):
            return "\(f): tensor '\(untrustedText(tensor))' is invalid: \(detail). \(damaged)"
        case .malformedSafetensors(_, let detail):
            return "\(f): malformed safetensors file: \(detail). \(damaged)"
        case .malformedArchive(_, let detail):
            return "\(f): malformed PyTorch zip archive: \(detail). \(damaged)"
        case .missingTensor(_, let key, let available):
            let shown = available.prefix(5).map { "'\(untrustedText($0, limit: 40))'" }.joined(separator: ", ")
            let more = available.count > 5 ? ", ..." : ""
            return "\(f): no tensor named '\(untrustedText(key))' (the file holds \(available.count) tensors: \(shown)\(more)). "
                + "Check that the checkpoint matches the model architecture."
        }
    }
}
