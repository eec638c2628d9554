// Hand-written SIMD kernels the engine dispatches to at run time when the CPU has the
// instructions (AVX-512F here); the caller keeps a portable path for every other machine.
#ifndef RP_KERNELS_H
#define RP_KERNELS_H
#include <stddef.h>

/// 1 when this CPU and OS run AVX-512F code (CPUID and XCR0), else 0. Cached after the first call.
int rp_cpu_has_avx512f(void);

/// 1 when this CPU and OS run AVX2 + FMA code, else 0.
int rp_cpu_has_avx2_fma(void);

/// Peak probes for the benchmark: `iterations` × 24 independent 16-lane FMAs (AVX-512F), or the
/// same FLOPs as 8-lane AVX2 FMAs. Call each only where the CPU has it. The result keeps the work.
float rp_fma_loop_avx512(long iterations);
float rp_fma_loop_avx2(long iterations);

/// Floats in B packed for rp_gemm_packed32: ceil(n / 32) panels of k rows × 32 columns.
size_t rp_packed32_count(int k, int n);

/// Packs B (k × n) into panels of 32 columns, zero-padded: panel p, row r holds
/// B[r][32p ..< 32p + 32]. B is row-major with leading dimension ldb; `transposed` != 0 reads
/// B[r][c] from b[c * ldb + r] (B given as its n × k transpose).
void rp_pack32(const float *b, int k, int n, int ldb, int transposed, float *packed);

/// C (m × n, ldc) = A (m × k, row-major, lda) · B (packed by rp_pack32), plus C when
/// `accumulate` != 0. AVX-512F only: call it only when rp_cpu_has_avx512f() returns 1.
void rp_gemm_packed32_avx512(int m, int n, int k, const float *a, int lda, const float *packed,
                             float *c, int ldc, int accumulate);

/// Implicit-GEMM convolution rows (NHWC), AVX-512F only. For r < count and j < cols:
/// c[r·ldc + j] = act(bias[j] + Σ_t Σ_ci a[offsets[t] + r·rowStride + ci] · panel[(t·cin + ci)·32 + j])
/// (+ c[r·ldc + j] before the activation when `accumulate`); `panel` is one 32-column panel of
/// rp_pack32 with k = taps · cin, tap-major; `bias` may be NULL; activation 0 none, 1 ReLU, 2 ReLU6.
void rp_conv_rows_avx512(int count, int taps, const long *offsets, int cin, const float *a, long rowStride,
                         const float *panel, const float *bias, int activation, int accumulate,
                         float *c, long ldc, int cols);

/// Nonzero while this thread runs Parallel jobs inline (see Parallel.inline); push/pop nest.
int rp_parallel_inline(void);
void rp_parallel_inline_push(void);
void rp_parallel_inline_pop(void);
/// Atomically adds 1 to *counter and returns its previous value (a shared work queue's next item).
long rp_atomic_next(long *counter);

/// glibc: blocks up to 1 GiB from the heap, freed memory kept there (no trimming), 256 MiB of
/// padding per growth, so big blocks freed and allocated again do not page-fault. Elsewhere a no-op.
void rp_keep_freed_memory(void);

#endif
