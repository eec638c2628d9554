// Implicit-GEMM convolution (NHWC): a tile of output pixels × 32 output channels summed over the
// kernel's taps and the input channels straight from the (padded) input, with no im2col matrix
// and no packing of the activations. The weights are packed once (rp_pack32, k = taps · Cin in
// tap-major order); per k, two loads of the panel and one broadcast per pixel feed 2 × MR FMAs,
// accumulators in registers across all taps. Bias and ReLU / ReLU6 are applied at the store.
// AVX-512F through target attributes only (rp_cpu_has_avx512f() decides at run time).
#include "rp_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define RP_TARGET __attribute__((target("avx512f,fma")))
#ifndef RP_CONV_MR
#define RP_CONV_MR 10
#endif

#define RP_CONV_TILE(MR)                                                                                  \
    static inline RP_TARGET void conv_tile_##MR(int taps, const long *offsets, int cin, const float *a,  \
                                                long rs, const float *panel, const float *bias, int act,  \
                                                int accumulate, float *c, long ldc, __mmask16 m0,          \
                                                __mmask16 m1) {                                            \
        __m512 acc0[MR], acc1[MR];                                                                        \
        for (int r = 0; r < MR; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); }   \
        const float *bp = panel;                                                                          \
        for (int t = 0; t < taps; t++) {                                                                  \
            const float *at = a + offsets[t];                                                             \
            for (int ci = 0; ci < cin; ci++) {                                                            \
                __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);                           \
                bp += 32;                                                                                 \
                for (int r = 0; r < MR; r++) {                                                            \
                    __m512 av = _mm512_set1_ps(at[r * rs + ci]);                                          \
                    acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);                                           \
                    acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);                                           \
                }                                                                                         \
            }                                                                                             \
        }                                                                                                 \
        __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();                      \
        __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();                 \
        const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);                              \
        for (int r = 0; r < MR; r++) {                                                                    \
            float *cr = c + r * ldc;                                                                      \
            __m512 v0 = _mm512_add_ps(acc0[r], bias0), v1 = _mm512_add_ps(acc1[r], bias1);               \
            if (accumulate) {                                                                             \
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));                                    \
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));                               \
            }                                                                                             \
            if (act >= 1) { v0 = _mm512_max_ps(v0, zero); v1 = _mm512_max_ps(v1, zero); }                 \
            if (act == 2) { v0 = _mm512_min_ps(v0, six); v1 = _mm512_min_ps(v1, six); }                   \
            _mm512_mask_storeu_ps(cr, m0, v0);                                                            \
            _mm512_mask_storeu_ps(cr + 16, m1, v1);                                                       \
        }                                                                                                 \
    }

RP_CONV_TILE(1) RP_CONV_TILE(2) RP_CONV_TILE(3) RP_CONV_TILE(4) RP_CONV_TILE(5) RP_CONV_TILE(6)
RP_CONV_TILE(7) RP_CONV_TILE(8) RP_CONV_TILE(9) RP_CONV_TILE(10) RP_CONV_TILE(11) RP_CONV_TILE(12)

RP_TARGET void rp_conv_rows_avx512(int count, int taps, const long *offsets, int cin, const float *a, long rowStride,
                                   const float *panel, const float *bias, int activation, int accumulate,
                                   float *c, long ldc, int cols) {
    if (count <= 0 || cols <= 0) return;
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols <= 16 ? (__mmask16)0 : cols >= 32 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - 16)) - 1);
    // Tiles as even as the row count allows, at most RP_CONV_MR rows (more accumulators spill).
    int tiles = (count + RP_CONV_MR - 1) / RP_CONV_MR, base = count / tiles, extra = count % tiles;
    int i = 0;
#define RP_TAIL(MR) case MR: conv_tile_##MR(taps, offsets, cin, a + i * rowStride, rowStride, panel, bias, activation, accumulate, c + i * ldc, ldc, m0, m1); break;
    for (int t = 0; t < tiles; t++) {
        int mr = base + (t < extra ? 1 : 0);
        switch (mr) {
            RP_TAIL(12) RP_TAIL(11) RP_TAIL(10) RP_TAIL(9) RP_TAIL(8) RP_TAIL(7)
            RP_TAIL(6) RP_TAIL(5) RP_TAIL(4) RP_TAIL(3) RP_TAIL(2) RP_TAIL(1)
        default: break;
        }
        i += mr;
    }
#undef RP_TAIL
}

#else

void rp_conv_rows_avx512(int count, int taps, const long *offsets, int cin, const float *a, long rowStride,
                         const float *panel, const float *bias, int activation, int accumulate,
                         float *c, long ldc, int cols) {
    (void)count; (void)taps; (void)offsets; (void)cin; (void)a; (void)rowStride; (void)panel; (void)bias;
    (void)activation; (void)accumulate; (void)c; (void)ldc; (void)cols;
}

#endif
