/* 2x2 max pooling with stride 2 on channels_last (N, H, W, C) tensors, forward and backward, in
   float32 (maxpool2x2_*) and in bfloat16 (maxpool2x2_bf16_*, as under the fast recipe's autocast).

   Equal to PyTorch's max_pool2d(kernel 2, stride 2, floor) bit for bit: the same element wins a
   window (the first maximum in row order; a NaN wins, the last NaN if there are several), the
   output is that element, and the input gradient is the output gradient at the winner and +0.0
   elsewhere (in bfloat16 a NaN keeps its bits, where PyTorch writes a standard NaN). With relu set, the forward is relu(max_pool2d(x)) and a zeroed output's winner is 4,
   which takes no gradient: relu's gradient too. What differs is the memory traffic: the winner
   is kept as one byte, not as an int64 index, and the backward writes each input gradient once
   instead of zero-filling the whole input and then scattering into it. Built and loaded by
   native_kernels.py. */

#include <stdint.h>
#include <string.h>

/* a bfloat16 is the top half of a float32: compared as that float, copied as its 16 bits */
typedef uint16_t bf16;

static inline float f32_value(float x) { return x; }
static inline float bf16_value(bf16 x) {
    const uint32_t bits = (uint32_t)x << 16;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}
/* the winner's value back in its type: exact, since a bfloat16's float is its bits shifted */
static inline float f32_store(float x) { return x; }
static inline bf16 bf16_store(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bf16)(bits >> 16);
}
/* + 0.0f turns a -0.0 gradient into +0.0, as PyTorch's zero-fill-then-add does */
static inline float f32_plus_zero(float g) { return g + 0.0f; }
static inline bf16 bf16_plus_zero(bf16 g) { return g == 0x8000 ? 0 : g; }

static inline int wins(float value, float best) { return value > best || value != value; }

#define MAXPOOL2X2(NAME, T, VALUE, STORE, PLUS_ZERO)                                                                   \
    void NAME##_forward(const T *x, T *out, uint8_t *winner, int64_t n, int64_t h, int64_t w, int64_t c,               \
                        int relu) {                                                                                    \
        const int64_t oh = h / 2, ow = w / 2, rows = n * oh;                                                           \
        _Pragma("omp parallel for schedule(static)") for (int64_t row = 0; row < rows; row++) {                        \
            const int64_t image = row / oh, i = row % oh;                                                              \
            for (int64_t j = 0; j < ow; j++) {                                                                         \
                const T *p0 = x + ((image * h + 2 * i) * w + 2 * j) * c, *p1 = p0 + c;                                 \
                const T *p2 = p0 + w * c, *p3 = p2 + c;                                                                \
                T *o = out + (row * ow + j) * c;                                                                       \
                uint8_t *a = winner + (row * ow + j) * c;                                                              \
                for (int64_t k = 0; k < c; k++) {                                                                      \
                    float best = VALUE(p0[k]);                                                                         \
                    int index = 0;                                                                                     \
                    if (wins(VALUE(p1[k]), best)) best = VALUE(p1[k]), index = 1;                                      \
                    if (wins(VALUE(p2[k]), best)) best = VALUE(p2[k]), index = 2;                                      \
                    if (wins(VALUE(p3[k]), best)) best = VALUE(p3[k]), index = 3;                                      \
                    /* the ReLU, as PyTorch's: a NaN and -0.0 pass; no gradient flows at or below 0 */                 \
                    if (relu && best <= 0.0f) best = best < 0.0f ? 0.0f : best, index = 4;                             \
                    o[k] = STORE(best);                                                                                \
                    a[k] = (uint8_t)index;                                                                             \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    }                                                                                                                  \
                                                                                                                       \
    void NAME##_backward(const T *grad_out, const uint8_t *winner, T *grad_in, int64_t n, int64_t h, int64_t w,        \
                         int64_t c) {                                                                                  \
        const int64_t oh = h / 2, ow = w / 2;                                                                          \
        _Pragma("omp parallel for schedule(static)") for (int64_t row = 0; row < n * h; row++) {                       \
            const int64_t image = row / h, y = row % h, i = y / 2;                                                     \
            T *q = grad_in + row * w * c;                                                                              \
            if (i >= oh) { /* the last row of an odd height is in no window */                                         \
                memset(q, 0, (size_t)(w * c) * sizeof(T));                                                             \
                continue;                                                                                              \
            }                                                                                                          \
            const T *g = grad_out + (image * oh + i) * ow * c;                                                         \
            const uint8_t *a = winner + (image * oh + i) * ow * c;                                                     \
            const int top = (int)(y % 2) * 2;                                                                          \
            for (int64_t j = 0; j < ow; j++) {                                                                         \
                T *q0 = q + 2 * j * c, *q1 = q0 + c;                                                                   \
                const T *gj = g + j * c;                                                                               \
                const uint8_t *aj = a + j * c;                                                                         \
                for (int64_t k = 0; k < c; k++) {                                                                      \
                    const T value = PLUS_ZERO(gj[k]);                                                                  \
                    q0[k] = aj[k] == top ? value : 0;                                                                  \
                    q1[k] = aj[k] == top + 1 ? value : 0;                                                              \
                }                                                                                                      \
            }                                                                                                          \
            memset(q + 2 * ow * c, 0, (size_t)((w - 2 * ow) * c) * sizeof(T)); /* an odd width's last column */        \
        }                                                                                                              \
    }

MAXPOOL2X2(maxpool2x2, float, f32_value, f32_store, f32_plus_zero)
MAXPOOL2X2(maxpool2x2_bf16, bf16, bf16_value, bf16_store, bf16_plus_zero)
