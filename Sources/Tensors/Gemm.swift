// GEMM: the one matrix multiply the engine uses (OpenBLAS sgemm, row-major), and its naive
// reference. Not a general BLAS binding.
internal import CBLAS
internal import CKernels
import Foundation

public enum Transpose: Sendable { case none, transposed }

public enum Gemm {
    /// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, row-major with leading dimensions.
    @inlinable
    public static func multiply(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        _ = configured
        let ta = transA == .transposed, tb = transB == .transposed
        // Rows of C are independent: split them over our own threads, each running a
        // single-threaded sgemm. One thread pool (ours) instead of two that spin against each
        // other on two cores (OpenBLAS's workers busy-wait with sched_yield between calls).
        let chunks = Parallel.threadCount
        if chunks > 1 && m >= 2 * 16 && m &* n &* k >= 4 * Parallel.minimumWork {
            Parallel.forEachChunk(chunks, work: Int.max) { r in
                for i in r {
                    let lo = (m * i / chunks) & ~7, hi = i == chunks - 1 ? m : (m * (i + 1) / chunks) & ~7
                    if hi > lo {
                        sgemm(ta, tb, Int32(hi - lo), Int32(n), Int32(k), alpha, ta ? a + lo : a + lo * lda, Int32(lda),
                              b, Int32(ldb), beta, c + lo * ldc, Int32(ldc))
                    }
                }
            }
        } else {
            sgemm(ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// The same product on the calling thread only (for callers that tile and parallelise
    /// themselves, e.g. to apply an epilogue while a tile of C is still in cache).
    @inlinable
    public static func multiplyOnThisThread(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return multiply(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc) }
        _ = configured
        sgemm(transA == .transposed, transB == .transposed, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// OpenBLAS runs single-threaded; `multiply` parallelises over rows itself.
    @usableFromInline
    static let configured: Bool = { openblas_set_num_threads(1); return true }()

    @usableFromInline
    static func sgemm(_ ta: Bool, _ tb: Bool, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Plain triple loop in Double: the test oracle for `multiply`.
    public static func multiplyNaive(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float = 0, c: inout [Float], ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bv = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    s += Double(av) * Double(bv)
                }
                c[i * ldc + j] = Float(Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])))
            }
        }
    }

    /// Threads OpenBLAS may use (it is told once; our own kernels use `Parallel`).
    public static var threads: Int { Int(openblas_get_num_threads()) }
}

// MARK: - Packed operands and the AVX-512 kernel

/// A GEMM's B operand (k × n) packed once, e.g. a layer's weights at load, for the AVX-512
/// micro-kernel (panels of 32 columns). Only built where the CPU runs AVX-512F.
public struct PackedMatrix: Sendable {
    public let k: Int, n: Int
    let panels: [Float]

    /// B (k × n) from `b` with leading dimension `ldb`; `transposed`: B[r][c] is b[c · ldb + r].
    /// nil when this machine does not run the kernel (the caller keeps its portable path).
    public init?(b: UnsafePointer<Float>, k: Int, n: Int, ldb: Int, transposed: Bool) {
        guard Gemm.hasAVX512, k > 0, n > 0, k <= Int(Int32.max), n <= Int(Int32.max) else { return nil }
        self.k = k; self.n = n
        var p = [Float](repeating: 0, count: rp_packed32_count(Int32(k), Int32(n)))
        p.withUnsafeMutableBufferPointer { rp_pack32(b, Int32(k), Int32(n), Int32(ldb), transposed ? 1 : 0, $0.baseAddress!) }
        panels = p
    }
}

extension Gemm {
    /// Whether pointwise convolutions use the AVX-512 micro-kernel: only when asked with
    /// ROBUSTPATCH_KERNELS=avx512 and the CPU and OS support AVX-512F. Off by default: on the
    /// 2-core AMD EPYC (Zen 4) this was measured on, 512-bit FMAs are double-pumped and the
    /// kernel ran lite0's batch-16 forward at 86–88 samples/s against OpenBLAS's 94.
    public static let usesAVX512: Bool = hasAVX512 && ProcessInfo.processInfo.environment["ROBUSTPATCH_KERNELS"]?.lowercased() == "avx512"

    /// Whether convolutions other than pointwise ones run as an implicit GEMM on the AVX-512
    /// kernel (Conv2D): on machines with AVX-512F unless ROBUSTPATCH_KERNELS=openblas asks for
    /// im2col + OpenBLAS, the reference path.
    public static let usesImplicitConvolution: Bool = hasAVX512 && ProcessInfo.processInfo.environment["ROBUSTPATCH_KERNELS"]?.lowercased() != "openblas"

    /// Whether this CPU and OS run AVX-512F code (CPUID and XCR0).
    public static var hasAVX512: Bool { rp_cpu_has_avx512f() == 1 }

    /// C (m × n, ldc) = A (m × k, lda) · B (+ C when `accumulate`), on the calling thread, with
    /// the AVX-512 kernel. B's k and n are the packed operand's.
    public static func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, packed b: PackedMatrix,
                                accumulate: Bool = false, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(hasAVX512, "the AVX-512 kernel was called on a machine without it")
        guard m > 0 else { return }
        b.panels.withUnsafeBufferPointer { p in
            rp_gemm_packed32_avx512(Int32(m), Int32(b.n), Int32(b.k), a, Int32(lda), p.baseAddress!, c, Int32(ldc), accumulate ? 1 : 0)
        }
    }
}

// MARK: Implicit-GEMM convolution rows

extension PackedMatrix {
    /// Panels of 32 columns (the last zero-padded).
    public var panelCount: Int { (n + 31) / 32 }

    /// One output row segment of an NHWC convolution with this matrix as its weights (k = taps ·
    /// cin, tap-major; columns = output channels), on the calling thread with the AVX-512 kernel:
    /// for r < count and the panel's columns j, c[r·ldc + j] = act(bias[j] + Σ_t Σ_ci
    /// a[offsets[t] + r·rowStride + ci] · B[t·cin + ci][32·panel + j]) (+ c before the activation
    /// when `accumulate`). `activation`: 0 none, 1 ReLU, 2 ReLU6. `c` and `bias` point at the
    /// panel's first column.
    public func convolveRows(count: Int, panel: Int, taps: Int, offsets: UnsafePointer<Int>, inputChannels cin: Int,
                             a: UnsafePointer<Float>, rowStride: Int, bias: UnsafePointer<Float>?, activation: Int32,
                             accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(Gemm.hasAVX512 && taps * cin == k && panel < panelCount, "convolveRows: a panel of a k = taps · cin matrix on AVX-512")
        let cols = min(32, n - panel * 32)
        panels.withUnsafeBufferPointer { p in
            rp_conv_rows_avx512(Int32(count), Int32(taps), offsets, Int32(cin), a, rowStride, p.baseAddress! + panel * 32 * k,
                                bias, activation, accumulate ? 1 : 0, c, ldc, Int32(cols))
        }
    }
}
