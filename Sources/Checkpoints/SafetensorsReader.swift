// Reader for Hugging Face `.safetensors`: u64 LE header length, a JSON header
// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the raw little-endian data.
// It validates every offset against the file; it does not write safetensors. Header keys and dtypes that an
// error quotes are escaped and cut (TextSafety).

import Foundation
import TextSafety

enum SafetensorsReader {
    /// The largest JSON header read: the safetensors library's own limit (MAX_HEADER_SIZE, 100 MB); a header claiming
    /// more is refused before it is parsed.
    static let maxHeaderBytes = 100_000_000

    static let dtypes: [String: DType] = [
        "F32": .float32, "F64": .float64, "F16": .float16, "BF16": .bfloat16,
        "I64": .int64, "I32": .int32, "U8": .uint8, "BOOL": .bool,
    ]

    /// A plausible header: a length that fits in the file, then `{`.
    static func looksLikeSafetensors(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 10 else { return false }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(bytes[i]) }
        return n >= 2 && n <= UInt64(bytes.count - 8) && bytes[8] == UInt8(ascii: "{")
    }

    static func read(path: String, bytes: [UInt8]) throws(CheckpointError) -> Checkpoint {
        func bad(_ d: String) -> CheckpointError { .malformedSafetensors(file: path, detail: d) }
        guard bytes.count >= 8 else { throw .truncated(file: path, detail: "\(bytes.count) bytes, too short for a safetensors header") }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(bytes[i]) }
        guard n <= UInt64(maxHeaderBytes) else {
            throw bad("the header claims \(n) bytes, more than the \(maxHeaderBytes) a safetensors header may have")
        }
        guard n <= UInt64(bytes.count - 8) else {
            throw .truncated(file: path, detail: "the header claims \(n) bytes but the file has \(bytes.count - 8) after the length")
        }
        let headerEnd = 8 + Int(n)
        let header: [String: HeaderEntry]
        do {
            header = try JSONDecoder().decode([String: HeaderEntry].self, from: Data(bytes[8..<headerEnd]))
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw bad("the header is not a JSON object")
        } catch {
            throw bad("the header is not valid JSON")
        }
        let data = headerEnd..<bytes.count

        struct Item { var name: String; var dtype: DType; var shape: [Int]; var begin: Int; var end: Int }
        var items: [Item] = []
        for (name, entry) in header where name != "__metadata__" {
            let shownName = untrustedText(name, limit: 60)
            guard case let .object(dtypeName, shape, offsets) = entry else { throw bad("entry '\(shownName)' is not an object") }
            guard let dtypeName else { throw bad("entry '\(shownName)' has no dtype") }
            guard let dtype = dtypes[dtypeName] else {
                throw .unsupportedDType(file: path, tensor: name, dtype: dtypeName)
            }
            guard let shape else { throw bad("entry '\(shownName)' has no integer shape") }
            guard let offsets, offsets.count == 2 else {
                throw bad("entry '\(shownName)' has no [begin, end] data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= data.count else {
                throw bad("entry '\(shownName)' has data_offsets [\(begin), \(end)] outside the \(data.count)-byte data section")
            }
            let count = try elementCount(shape, file: path, tensor: name)
            let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytesNeeded == end - begin else {
                throw bad("entry '\(shownName)' (\(untrustedText(dtypeName)) \(shown(shape))) needs \(overflow ? "too many" : String(bytesNeeded)) bytes "
                    + "but data_offsets span \(end - begin)")
            }
            items.append(Item(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        items.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        // The format's tensors do not overlap (the safetensors library refuses overlaps too); overlapping ones would let
        // a small file decode the same bytes many times over.
        for (a, b) in zip(items, items.dropFirst()) where b.begin < a.end {
            throw bad("entries '\(untrustedText(a.name, limit: 40))' and '\(untrustedText(b.name, limit: 40))' overlap "
                + "(data_offsets [\(a.begin), \(a.end)] and [\(b.begin), \(b.end)])")
        }

        var tensors: [String: CheckpointTensor] = [:]
        var keys: [String] = []
        for it in items {
            let count = it.shape.reduce(1, *)  // already checked above
            var stride = [Int](repeating: 1, count: it.shape.count)
            var s = 1
            for d in stride.indices.reversed() { stride[d] = s; s &*= max(it.shape[d], 1) }
            let result: Result<CheckpointTensor, CheckpointError> = bytes.withUnsafeBytes { all in
                let src = UnsafeRawBufferPointer(rebasing: all[(data.lowerBound + it.begin)..<(data.lowerBound + it.end)])
                do throws(CheckpointError) {
                    return .success(try decodeTensor(src: src, storageNumel: count, dtype: it.dtype, offset: 0,
                                                     shape: it.shape, stride: stride, file: path, name: it.name))
                } catch {
                    return .failure(error)
                }
            }
            tensors[it.name] = try result.get()
            keys.append(it.name)
        }
        return Checkpoint(path: path, format: .safetensors, tensors: tensors, keys: keys)
    }

    /// One value of the header object: a tensor entry `{dtype, shape, data_offsets}` (each field
    /// nil when missing or of the wrong type: refused above with the entry's name) or anything
    /// else (refused unless it is `__metadata__`).
    enum HeaderEntry: Decodable {
        case object(dtype: String?, shape: [Int]?, offsets: [Int]?)
        case other

        enum Key: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }

        init(from decoder: any Decoder) throws {
            guard let c = try? decoder.container(keyedBy: Key.self) else { self = .other; return }
            self = .object(dtype: try? c.decode(String.self, forKey: .dtype), shape: try? c.decode([Int].self, forKey: .shape),
                           offsets: try? c.decode([Int].self, forKey: .dataOffsets))
        }
    }
}
