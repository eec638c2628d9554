// C = A · B (+ C) with B packed in 32-column panels: an AVX-512F register-blocked micro-kernel
// of 12 rows × 32 columns (24 zmm accumulators; one broadcast of A and two loads of B per k).
// Compiled for AVX-512 through target attributes only, so the rest of the binary runs on any
// x86-64; rp_cpu_has_avx512f() decides at run time. Non-x86 builds get stubs that are never called.
#include "rp_kernels.h"
#include <string.h>

size_t rp_packed32_count(int k, int n) { return (size_t)((n + 31) / 32) * 32 * (size_t)k; }

void rp_pack32(const float *b, int k, int n, int ldb, int transposed, float *packed) {
    int panels = (n + 31) / 32;
    for (int p = 0; p < panels; p++) {
        float *dst = packed + (size_t)p * 32 * k;
        for (int r = 0; r < k; r++) {
            for (int j = 0; j < 32; j++) {
                int col = p * 32 + j;
                dst[(size_t)r * 32 + j] = col < n ? (transposed ? b[(size_t)col * ldb + r] : b[(size_t)r * ldb + col]) : 0.0f;
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

int rp_cpu_has_avx512f(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return cached;
}

#define RP_TARGET __attribute__((target("avx512f,fma")))

// One MR × 32 tile: rows a[0..MR) (stride lda), panel bp (k × 32), into c (stride ldc) under the
// column masks m0 (columns 0–15) and m1 (16–31).
#define RP_TILE(MR)                                                                                     \
    static inline RP_TARGET void tile_##MR(int k, const float *a, int lda, const float *bp, float *c,   \
                                           int ldc, __mmask16 m0, __mmask16 m1, int accumulate) {       \
        __m512 acc0[MR], acc1[MR];                                                                      \
        for (int r = 0; r < MR; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); } \
        for (int kk = 0; kk < k; kk++) {                                                                \
            __m512 b0 = _mm512_loadu_ps(bp + (size_t)kk * 32), b1 = _mm512_loadu_ps(bp + (size_t)kk * 32 + 16); \
            for (int r = 0; r < MR; r++) {                                                              \
                __m512 av = _mm512_set1_ps(a[(size_t)r * lda + kk]);                                    \
                acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);                                             \
                acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);                                             \
            }                                                                                           \
        }                                                                                               \
        for (int r = 0; r < MR; r++) {                                                                  \
            float *cr = c + (size_t)r * ldc;                                                            \
            if (accumulate) {                                                                           \
                acc0[r] = _mm512_add_ps(acc0[r], _mm512_maskz_loadu_ps(m0, cr));                        \
                acc1[r] = _mm512_add_ps(acc1[r], _mm512_maskz_loadu_ps(m1, cr + 16));                   \
            }                                                                                           \
            _mm512_mask_storeu_ps(cr, m0, acc0[r]);                                                     \
            _mm512_mask_storeu_ps(cr + 16, m1, acc1[r]);                                                \
        }                                                                                               \
    }

RP_TILE(1) RP_TILE(2) RP_TILE(3) RP_TILE(4) RP_TILE(5) RP_TILE(6)
RP_TILE(7) RP_TILE(8) RP_TILE(9) RP_TILE(10) RP_TILE(11) RP_TILE(12)

RP_TARGET void rp_gemm_packed32_avx512(int m, int n, int k, const float *a, int lda, const float *packed,
                                       float *c, int ldc, int accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate) for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
    int panels = (n + 31) / 32;
    for (int p = 0; p < panels; p++) {
        int cols = n - p * 32 < 32 ? n - p * 32 : 32;
        __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
        __mmask16 m1 = cols <= 16 ? (__mmask16)0 : cols >= 32 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - 16)) - 1);
        const float *bp = packed + (size_t)p * 32 * k;
        float *cp = c + p * 32;
        int i = 0;
        for (; i + 12 <= m; i += 12) tile_12(k, a + (size_t)i * lda, lda, bp, cp + (size_t)i * ldc, ldc, m0, m1, accumulate);
        const float *ai = a + (size_t)i * lda;
        float *ci = cp + (size_t)i * ldc;
        switch (m - i) {
        case 11: tile_11(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 10: tile_10(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 9: tile_9(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 8: tile_8(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 7: tile_7(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 6: tile_6(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 5: tile_5(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 4: tile_4(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 3: tile_3(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 2: tile_2(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        case 1: tile_1(k, ai, lda, bp, ci, ldc, m0, m1, accumulate); break;
        default: break;
        }
    }
}

int rp_cpu_has_avx2_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
    }
    return cached;
}

// Peak probes: 24 independent FMA chains (enough to cover 2 pipes × 4-cycle latency), so the
// loop runs at the FMA units' throughput. Each iteration is 24 vector FMAs.
RP_TARGET float rp_fma_loop_avx512(long iterations) {
    __m512 acc[24];
    for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iterations; it++) {
        for (int i = 0; i < 24; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    }
    __m512 s = acc[0];
    for (int i = 1; i < 24; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) float rp_fma_loop_avx2(long iterations) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(0.001f * (float)i);
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < 2 * iterations; it++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    }
    __m256 s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

#else

int rp_cpu_has_avx512f(void) { return 0; }
int rp_cpu_has_avx2_fma(void) { return 0; }
float rp_fma_loop_avx512(long iterations) { (void)iterations; return 0; }
float rp_fma_loop_avx2(long iterations) { (void)iterations; return 0; }

void rp_gemm_packed32_avx512(int m, int n, int k, const float *a, int lda, const float *packed,
                             float *c, int ldc, int accumulate) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)c; (void)ldc; (void)accumulate;
}

#endif
