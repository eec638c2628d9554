// HeapTuning: glibc's malloc returns big blocks (≥ its mmap threshold) to the kernel on free, so
// the next pass's allocation of the same size page-faults and gets zeroed pages again (measured:
// 17 % of an ONNX ResNet-18 forward + backward in the kernel's clear_page). Keeping freed memory in
// the heap is what Scripts/bench_torch.sh gives PyTorch (MALLOC_MMAP_THRESHOLD_ etc.).
internal import CKernels

public enum HeapTuning {
    /// Once per process: blocks up to 1 GiB come from the heap and freed memory stays there
    /// (no trimming); 256 MiB of padding per heap growth. No-op where malloc is not glibc's.
    public static func keepFreedMemory() { _ = applied }

    private static let applied: Bool = {
        rp_keep_freed_memory()
        return true
    }()
}
