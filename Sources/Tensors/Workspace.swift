// Workspace: named, reusable scratch buffers. Allocating big activation buffers on every EOT step
// costs page faults (DESIGN.md: ~1.8× for PyTorch with default malloc); a workspace keeps them.
// Not thread-safe: one workspace per concurrently running model.

public final class Workspace {
    private var buffers: [String: TensorStorage] = [:]

    public init() {}

    /// A buffer of at least `count` floats under `name`; reused (contents kept) while big enough.
    public func buffer(_ name: String, count: Int) -> UnsafeMutablePointer<Float> {
        if let b = buffers[name], b.count >= count { return b.pointer }
        let b = TensorStorage(count: count)
        buffers[name] = b
        return b.pointer
    }

    /// A tensor of `shape` whose storage is the buffer `name` (grown when too small): what a
    /// runner keeps from call to call instead of allocating (and page-faulting) fresh memory.
    /// The next call for `name` reuses the same memory; the tensor copies on write.
    public func tensor(_ name: String, shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        if buffers[name].map({ $0.count < count }) ?? true { buffers[name] = TensorStorage(count: count) }
        return Tensor(shape: shape, storage: buffers[name]!)
    }

    /// Total floats held, for diagnostics.
    public var floatCount: Int { buffers.values.reduce(0) { $0 + $1.count } }

    public func removeAll() { buffers.removeAll() }
}
