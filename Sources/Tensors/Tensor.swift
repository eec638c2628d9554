// Tensor: an NHWC, Float32, copy-on-write array with a shape. Not an autodiff tensor: ops in
// `Networks` carry their own forward/backward; this type only owns memory and shape.
//
// LAYOUT: every 4-D tensor in RobustPatch is (N, H, W, C), channels fastest. Pixels are in [0, 1].

/// 64-byte aligned storage, so SIMD loads never straddle cache lines at the start of a buffer.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

public struct Tensor: @unchecked Sendable {
    /// Dimensions, outermost first; (N, H, W, C) for images and activations.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    public var count: Int { shape.reduce(1, *) }

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
        storage.pointer.initialize(repeating: 0, count: max(storage.count, 1))
    }

    /// A tensor that takes its values from `values` (row-major over `shape`).
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape
        storage = TensorStorage(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: values.count) }
        }
    }

    /// A view of `storage` (at least as many floats as `shape` needs).
    init(shape: [Int], storage: TensorStorage) {
        precondition(storage.count >= shape.reduce(1, *), "storage of \(storage.count) floats for \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// An uninitialised tensor, for kernels that write every element.
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    public subscript(flat index: Int) -> Float {
        get { storage.pointer[index] }
        set { makeUnique(); storage.pointer[index] = newValue }
    }

    /// Read access to the values.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Write access; copies first if the storage is shared (value semantics).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The raw pointer, for kernels that manage aliasing themselves (workspaces). No copy-on-write.
    public var unsafePointer: UnsafeMutablePointer<Float> { storage.pointer }

    @usableFromInline
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(count: storage.count)
            copy.pointer.update(from: storage.pointer, count: storage.count)
            storage = copy
        }
    }

    /// Same values, new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    /// Largest absolute elementwise difference; shapes must match.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape)
        var m: Float = 0
        for i in 0..<count { m = max(m, abs(storage.pointer[i] - other.storage.pointer[i])) }
        return m
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shape)" }
}
