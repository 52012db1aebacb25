/* A 3x3 convolution (padding 1, stride 1) of a one-channel image into C channels, followed by a
   2x2 max pool with stride 2 and a ReLU, as one kernel, forward and weight gradient. The sums are
   float32; the output and its gradient are float32, or bfloat16 (as under autocast).

   Apart, the three layers write and read the convolution's full output, 4 bytes x C x H x W an
   image, several times (the convolution's output, the pool's input, the pool's input gradient,
   the convolution's weight gradient), for a layer with almost no arithmetic. Together, each
   pool window's four convolution values are computed from its 4x4 input patch and only their
   maximum is kept; the weight gradient is summed from the winners, the patches and the output
   gradient. The pool's choice is PyTorch's (the first maximum in row order; a NaN wins), and so
   is the ReLU's (a NaN and -0.0 pass; no gradient at or below zero). The sums run in a fixed order, whatever the number of threads: each image's weight gradient is
   summed on its own, and the images' sums are then added in order.

   The weight is passed transposed and its channels padded to a multiple of BLOCK with zeros, as
   weight_t[9][CB]; its gradient comes back the same way. Channels are computed BLOCK at a time,
   in GCC's vector extensions: 16 (AVX-512) or 8 (AVX2) lanes, as -march=native builds for this
   CPU; conv1_pool_block() says which. Built and loaded by native_kernels.py. */

#include <stdint.h>
#include <string.h>

#ifdef __AVX512F__
#define BLOCK 16
#else
#define BLOCK 8
#endif

typedef float floats __attribute__((vector_size(4 * BLOCK), aligned(4)));
typedef int32_t ints __attribute__((vector_size(4 * BLOCK), aligned(4)));
typedef uint32_t uints __attribute__((vector_size(4 * BLOCK), aligned(4)));
typedef uint16_t halves __attribute__((vector_size(2 * BLOCK), aligned(2)));
typedef uint8_t bytes __attribute__((vector_size(BLOCK), aligned(1)));

int conv1_pool_block(void) { return BLOCK; }

/* the lanes where value takes best's place: greater, or NaN */
static inline ints wins(floats value, floats best) { return (value > best) | (value != value); }

static inline floats choose(ints mask, floats yes, floats no) { return (floats)(((ints)yes & mask) | ((ints)no & ~mask)); }

/* the 4x4 input patch of the window at (i, j), zero outside the image */
static inline void patch(const float *image, int64_t h, int64_t w, int64_t i, int64_t j, float p[4][4]) {
    for (int r = 0; r < 4; r++) {
        const int64_t y = 2 * i - 1 + r;
        for (int s = 0; s < 4; s++) {
            const int64_t x = 2 * j - 1 + s;
            p[r][s] = (y >= 0 && y < h && x >= 0 && x < w) ? image[y * w + x] : 0.0f;
        }
    }
}

static inline int64_t padded(int64_t c) { return (c + BLOCK - 1) / BLOCK * BLOCK; }

/* bfloat16 <-> float32, rounded to the nearest even as PyTorch rounds; a NaN as 0x7FC0, as its
   scalar conversion writes one (its vectorized one writes 0xFFFF) */
static inline void store_bf16(uint16_t *to, floats value, int64_t m) {
    uints bits = (uints)value;
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
    const uints nan = (uints)(value != value);
    bits = (bits & ~nan) | (nan & 0x7FC0);
    if (m == BLOCK) {
        const halves narrow = __builtin_convertvector(bits, halves);
        memcpy(to, &narrow, sizeof narrow);
    } else {
        for (int64_t k = 0; k < m; k++) to[k] = (uint16_t)bits[k];
    }
}

static inline floats load_bf16(const uint16_t *from, int64_t m) {
    uints bits = {0};
    if (m == BLOCK) {
        halves narrow;
        memcpy(&narrow, from, sizeof narrow);
        bits = __builtin_convertvector(narrow, uints);
    } else {
        for (int64_t k = 0; k < m; k++) bits[k] = from[k];
    }
    return (floats)(bits << 16);
}

/* out: relu(maxpool(conv(x))), float32, or bfloat16 where out_bf16; winner: the window's element
   that won (0-3 in row order), or 4 where the ReLU zeroed the output (no gradient flows) */
void conv1_pool_forward(const float *restrict x, const float *restrict weight_t, const float *restrict bias,
                        void *restrict out, uint8_t *restrict winner, int64_t n, int64_t h, int64_t w, int64_t c,
                        int out_bf16) {
    const int64_t oh = h / 2, ow = w / 2, rows = n * oh, cb = padded(c);
    float bias_padded[cb];
    for (int64_t k = 0; k < cb; k++) bias_padded[k] = bias && k < c ? bias[k] : 0.0f;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t image = row / oh, i = row % oh;
        for (int64_t j = 0; j < ow; j++) {
            float p[4][4];
            patch(x + image * h * w, h, w, i, j, p);
            const int64_t at = (row * ow + j) * c;
            uint8_t *a = winner + at;
            for (int64_t k0 = 0; k0 < cb; k0 += BLOCK) {
                floats v0 = {0}, v1 = {0}, v2 = {0}, v3 = {0};
                for (int t = 0; t < 9; t++) {
                    const floats wt = *(const floats *)(weight_t + t * cb + k0);
                    const int ky = t / 3, kx = t % 3;
                    v0 += wt * p[ky][kx];
                    v1 += wt * p[ky][kx + 1];
                    v2 += wt * p[ky + 1][kx];
                    v3 += wt * p[ky + 1][kx + 1];
                }
                const floats b = *(const floats *)(bias_padded + k0), zero = {0};
                floats best = v0 + b, value;
                ints index = {0}, mask;
                value = v1 + b, mask = wins(value, best), best = choose(mask, value, best), index = (index & ~mask) | (mask & 1);
                value = v2 + b, mask = wins(value, best), best = choose(mask, value, best), index = (index & ~mask) | (mask & 2);
                value = v3 + b, mask = wins(value, best), best = choose(mask, value, best), index = (index & ~mask) | (mask & 3);
                /* the ReLU, as PyTorch's: a NaN and -0.0 pass; no gradient flows at or below 0 */
                mask = best <= zero, index = (index & ~mask) | (mask & 4), best = choose(best < zero, zero, best);
                const int64_t m = c - k0 < BLOCK ? c - k0 : BLOCK;
                if (out_bf16) {
                    store_bf16((uint16_t *)out + at + k0, best, m);
                } else if (m == BLOCK) {
                    memcpy((float *)out + at + k0, &best, sizeof best);
                } else {
                    for (int64_t k = 0; k < m; k++) ((float *)out)[at + k0 + k] = best[k];
                }
                if (m == BLOCK) {
                    const bytes narrow = __builtin_convertvector(index, bytes);
                    memcpy(a + k0, &narrow, sizeof narrow);
                } else {
                    for (int64_t k = 0; k < m; k++) a[k0 + k] = (uint8_t)index[k];
                }
            }
        }
    }
}

/* partial: scratch of n * 10 * CB floats (each image's 9 weight sums and its bias sum);
   grad_out: float32, or bfloat16 where grad_bf16 */
void conv1_pool_backward(const float *restrict x, const void *restrict grad_out, const uint8_t *restrict winner,
                         float *restrict partial, float *restrict grad_weight_t, float *restrict grad_bias, int64_t n,
                         int64_t h, int64_t w, int64_t c, int grad_bf16) {
    const int64_t oh = h / 2, ow = w / 2, cb = padded(c);
#pragma omp parallel for schedule(static)
    for (int64_t image = 0; image < n; image++) {
        float *sums = partial + image * 10 * cb;
        /* BLOCK channels at a time over every window: the ten sums stay in registers */
        for (int64_t k0 = 0; k0 < cb; k0 += BLOCK) {
            const int64_t m = c - k0 < BLOCK ? c - k0 : BLOCK;
            const floats zero = {0};
            floats acc[10];
            for (int t = 0; t < 10; t++) acc[t] = zero;
            for (int64_t i = 0; i < oh; i++) {
                for (int64_t j = 0; j < ow; j++) {
                    float p[4][4];
                    patch(x + image * h * w, h, w, i, j, p);
                    const int64_t at = ((image * oh + i) * ow + j) * c + k0;
                    floats g = zero;
                    ints d = (ints){0} + 4; /* no winner in a padding lane */
                    if (grad_bf16) {
                        g = load_bf16((const uint16_t *)grad_out + at, m);
                    } else if (m == BLOCK) {
                        memcpy(&g, (const float *)grad_out + at, sizeof g);
                    } else {
                        for (int64_t k = 0; k < m; k++) g[k] = ((const float *)grad_out)[at + k];
                    }
                    if (m == BLOCK) {
                        bytes narrow;
                        memcpy(&narrow, winner + at, sizeof narrow);
                        d = __builtin_convertvector(narrow, ints);
                    } else {
                        for (int64_t k = 0; k < m; k++) d[k] = winner[at + k];
                    }
                    /* the gradient goes to the winner only: three of the four terms are zero, all four
                       where the ReLU zeroed the output */
                    const floats g0 = choose(d == 0, g, zero), g1 = choose(d == 1, g, zero);
                    const floats g2 = choose(d == 2, g, zero), g3 = choose(d == 3, g, zero);
                    for (int t = 0; t < 9; t++) {
                        const int ky = t / 3, kx = t % 3;
                        acc[t] += g0 * p[ky][kx] + g1 * p[ky][kx + 1] + g2 * p[ky + 1][kx] + g3 * p[ky + 1][kx + 1];
                    }
                    acc[9] += choose(d < 4, g, zero);
                }
            }
            for (int t = 0; t < 10; t++) memcpy(sums + t * cb + k0, &acc[t], sizeof acc[t]);
        }
    }
    /* the images' sums, added in image order into the first image's */
    for (int64_t image = 1; image < n; image++)
        for (int64_t t = 0; t < 10 * cb; t++) partial[t] += partial[image * 10 * cb + t];
    memcpy(grad_weight_t, partial, sizeof(float) * 9 * cb);
    if (grad_bias) memcpy(grad_bias, partial + 9 * cb, sizeof(float) * c);
}
