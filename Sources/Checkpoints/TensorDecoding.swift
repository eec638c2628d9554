// Turns raw little-endian storage bytes plus (offset, shape, strides) into a contiguous row-major tensor.
// It validates every size against the bytes actually present; it does not know about file formats.

import Foundation

/// Tensors larger than this are refused rather than allocated (a hostile header could claim anything):
/// 2^28 elements is 1 GiB of Float, 4× VGG-16's largest weight (fc6, 103 M), the same bound as the ONNX reader's.
let maxTensorElements = 1 << 28

/// A view that repeats storage elements (a stride of 0, as `expand` makes) may show more elements than its storage
/// holds, but no more than this: otherwise a one-element storage could ask for `maxTensorElements` Floats plus as
/// many gather indices. 2^24 (64 MiB of Float) is far past any expanded buffer a state dict holds.
let maxRepeatedViewElements = 1 << 24

/// More dimensions than this are refused (NumPy's limit is 32, later 64; PyTorch's kernels stop at 25). It also
/// keeps a shape short enough to quote in an error.
let maxTensorRank = 64

/// A shape or stride list for an error message: its first 8 values, then how many there are.
func shown(_ values: [Int]) -> String {
    values.count <= 8 ? "\(values)" : "\(Array(values.prefix(8)).description.dropLast()), … (\(values.count) values)]"
}

/// Row-major element count, overflow-checked, with at most `maxTensorRank` dimensions.
func elementCount(_ shape: [Int], file: String, tensor: String) throws(CheckpointError) -> Int {
    guard shape.count <= maxTensorRank else {
        throw .invalidTensor(file: file, tensor: tensor, detail: "its shape has \(shape.count) dimensions (at most \(maxTensorRank))")
    }
    var n = 1
    for d in shape {
        guard d >= 0 else { throw .invalidTensor(file: file, tensor: tensor, detail: "negative size \(d) in shape \(shown(shape))") }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard !o else { throw .invalidTensor(file: file, tensor: tensor, detail: "shape \(shown(shape)) overflows 64 bits") }
        n = p
    }
    return n
}

/// Decodes `count` elements of `dtype` stored in `src`.
/// - Parameters:
///   - src: the visible storage (element 0 is the tensor's storage element 0), `storageNumel` elements long.
///   - offset, shape, stride: the tensor view, in elements.
func decodeTensor(src: UnsafeRawBufferPointer, storageNumel: Int, dtype: DType,
                  offset: Int, shape: [Int], stride: [Int],
                  file: String, name: String) throws(CheckpointError) -> CheckpointTensor {
    func bad(_ d: String) -> CheckpointError { .invalidTensor(file: file, tensor: name, detail: d) }
    guard shape.count == stride.count else { throw bad("\(shape.count) sizes but \(stride.count) strides") }
    let count = try elementCount(shape, file: file, tensor: name)
    guard count <= maxTensorElements else {
        throw bad("its shape \(shown(shape)) has \(count) elements, more than the \(maxTensorElements) this reader accepts")
    }
    guard count <= max(storageNumel, maxRepeatedViewElements) else {
        throw bad("its shape \(shown(shape)) shows \(count) elements of a \(storageNumel)-element storage (a view repeating "
            + "elements may show at most \(maxRepeatedViewElements))")
    }
    guard storageNumel >= 0, src.count / dtype.byteSize >= storageNumel else {
        throw bad("its storage holds \(src.count) bytes, fewer than \(storageNumel) \(dtype.rawValue) elements")
    }
    guard offset >= 0 else { throw bad("negative storage offset \(offset)") }
    if count == 0 {
        return CheckpointTensor(shape: shape, dtype: dtype.rawValue, floats: [], integers: dtype.isInteger ? [] : nil)
    }

    // Highest storage element touched: offset + Σ (size-1)·stride, all checked.
    var last = offset
    for (d, s) in zip(shape, stride) {
        guard s >= 0 else { throw bad("negative stride \(s) in strides \(shown(stride))") }
        let (p, o1) = (d - 1).multipliedReportingOverflow(by: s)
        let (q, o2) = last.addingReportingOverflow(p)
        guard !o1, !o2 else { throw bad("sizes \(shown(shape)) with strides \(shown(stride)) overflow 64 bits") }
        last = q
    }
    guard last < storageNumel else {
        throw bad("shape \(shown(shape)), strides \(shown(stride)) and offset \(offset) reach element \(last), past the end of "
            + "its \(storageNumel)-element storage")
    }

    // Contiguous (row-major, ignoring size-1 dimensions) views decode in one sweep; others gather by index.
    var contiguous = true
    var expected = 1
    for (d, s) in zip(shape, stride).reversed() where d != 1 {
        if s != expected { contiguous = false; break }
        expected &*= d
    }
    var indices: [Int] = []
    if !contiguous {
        indices = gatherIndices(offset: offset, shape: shape, stride: stride, count: count)
    }

    // Every element is written below, so the arrays start uninitialised.
    let floats = [Float](unsafeUninitializedCapacity: count) { dst, initialized in
        initialized = count
        indices.withUnsafeBufferPointer { idx in
            let base = src.baseAddress!
            switch dtype {
            case .float32:
                if contiguous {
                    #if _endian(little)
                    // a byte copy: storages in a legacy file need not be 4-byte aligned
                    UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: base + offset &* 4, byteCount: count &* 4)
                    #else
                    fill(dst, contiguous, offset, idx) { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 4, as: UInt32.self))) }
                    #endif
                } else {
                    fill(dst, contiguous, offset, idx) { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 4, as: UInt32.self))) }
                }
            case .float64:
                fill(dst, contiguous, offset, idx) { Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 8, as: UInt64.self)))) }
            case .float16:
                fill(dst, contiguous, offset, idx) { floatFromHalfBits(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 2, as: UInt16.self))) }
            case .bfloat16:
                fill(dst, contiguous, offset, idx) { Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 2, as: UInt16.self))) << 16) }
            case .int64:
                fill(dst, contiguous, offset, idx) { Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 8, as: Int64.self))) }
            case .int32:
                fill(dst, contiguous, offset, idx) { Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 4, as: Int32.self))) }
            case .uint8, .bool:
                fill(dst, contiguous, offset, idx) { Float(base.load(fromByteOffset: $0, as: UInt8.self)) }
            }
        }
    }
    var integers: [Int64]?
    if dtype.isInteger {
        integers = [Int64](unsafeUninitializedCapacity: count) { dst, initialized in
            initialized = count
            indices.withUnsafeBufferPointer { idx in
                let base = src.baseAddress!
                switch dtype {
                case .int64:
                    fill(dst, contiguous, offset, idx) { Int64(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 8, as: Int64.self)) }
                case .int32:
                    fill(dst, contiguous, offset, idx) { Int64(Int32(littleEndian: base.loadUnaligned(fromByteOffset: $0 &* 4, as: Int32.self))) }
                case .uint8, .bool:
                    fill(dst, contiguous, offset, idx) { Int64(base.load(fromByteOffset: $0, as: UInt8.self)) }
                default:
                    break
                }
            }
        }
    }
    return CheckpointTensor(shape: shape, dtype: dtype.rawValue, floats: floats, integers: integers)
}

/// Initialises `dst[j] = load(source element of j)`: `offset + j` when contiguous, else `idx[j]`.
@inline(__always)
private func fill<T>(_ dst: UnsafeMutableBufferPointer<T>, _ contiguous: Bool, _ offset: Int,
                     _ idx: UnsafeBufferPointer<Int>, _ load: (Int) -> T) {
    let out = dst.baseAddress!
    if contiguous {
        for j in 0..<dst.count { (out + j).initialize(to: load(offset &+ j)) }
    } else {
        let ix = idx.baseAddress!
        for j in 0..<dst.count { (out + j).initialize(to: load(ix[j])) }
    }
}

/// Storage element index of every tensor element, in row-major order (an odometer over the dimensions).
/// Callers have already checked that every index is inside the storage.
private func gatherIndices(offset: Int, shape: [Int], stride: [Int], count: Int) -> [Int] {
    let rank = shape.count
    var out = [Int](repeating: 0, count: count)
    var counter = [Int](repeating: 0, count: rank)
    let inner = shape[rank - 1], innerStride = stride[rank - 1]
    var rowStart = offset
    var j = 0
    out.withUnsafeMutableBufferPointer { o in
        while j < count {
            var e = rowStart
            for _ in 0..<inner { o[j] = e; j &+= 1; e &+= innerStride }
            // advance the odometer over dimensions 0..<rank-1
            var d = rank - 2
            while d >= 0 {
                counter[d] += 1
                rowStart &+= stride[d]
                if counter[d] < shape[d] { break }
                rowStart &-= stride[d] &* shape[d]
                counter[d] = 0
                d -= 1
            }
        }
    }
    return out
}

/// IEEE 754 binary16 → binary32, exact for every input (subnormals, infinities, NaN payloads).
@inline(__always)
func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign: UInt32 = UInt32(h & 0x8000) << 16
    let exponent = UInt32((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // zero or subnormal: mantissa · 2^-24, exact in Float
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
    return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
}
