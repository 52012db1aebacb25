/* 2x2 max pooling with stride 2 on float32 channels_last (N, H, W, C) tensors, forward and backward.

   Equal to PyTorch's max_pool2d(kernel 2, stride 2, floor) bit for bit: the same element wins a
   window (the first maximum in row order; a NaN wins, the last NaN if there are several), the
   output is that element, and the input gradient is the output gradient at the winner and +0.0
   elsewhere. What differs is the memory traffic: the winner is kept as one byte, not as an int64
   index, and the backward writes each input gradient once instead of zero-filling the whole
   input and then scattering into it. Built and loaded by native_kernels.py. */

#include <stdint.h>

static inline int wins(float value, float best) { return value > best || value != value; }

void maxpool2x2_forward(const float *x, float *out, uint8_t *winner, int64_t n, int64_t h, int64_t w, int64_t c) {
    const int64_t oh = h / 2, ow = w / 2, rows = n * oh;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t image = row / oh, i = row % oh;
        for (int64_t j = 0; j < ow; j++) {
            const float *p0 = x + ((image * h + 2 * i) * w + 2 * j) * c, *p1 = p0 + c;
            const float *p2 = p0 + w * c, *p3 = p2 + c;
            float *o = out + (row * ow + j) * c;
            uint8_t *a = winner + (row * ow + j) * c;
            for (int64_t k = 0; k < c; k++) {
                float best = p0[k];
                int index = 0;
                if (wins(p1[k], best)) best = p1[k], index = 1;
                if (wins(p2[k], best)) best = p2[k], index = 2;
                if (wins(p3[k], best)) best = p3[k], index = 3;
                o[k] = best;
                a[k] = (uint8_t)index;
            }
        }
    }
}

void maxpool2x2_backward(const float *grad_out, const uint8_t *winner, float *grad_in, int64_t n, int64_t h, int64_t w,
                         int64_t c) {
    const int64_t oh = h / 2, ow = w / 2;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < n * h; row++) {
        const int64_t image = row / h, y = row % h, i = y / 2;
        float *q = grad_in + row * w * c;
        if (i >= oh) { /* the last row of an odd height is in no window */
            for (int64_t k = 0; k < w * c; k++) q[k] = 0.0f;
            continue;
        }
        const float *g = grad_out + (image * oh + i) * ow * c;
        const uint8_t *a = winner + (image * oh + i) * ow * c;
        const int top = (int)(y % 2) * 2;
        for (int64_t j = 0; j < ow; j++) {
            float *q0 = q + 2 * j * c, *q1 = q0 + c;
            const float *gj = g + j * c;
            const uint8_t *aj = a + j * c;
            for (int64_t k = 0; k < c; k++) {
                /* + 0.0f turns a -0.0 gradient into +0.0, as PyTorch's zero-fill-then-add does */
                const float value = gj[k] + 0.0f;
                q0[k] = aj[k] == top ? value : 0.0f;
                q1[k] = aj[k] == top + 1 ? value : 0.0f;
            }
        }
        for (int64_t k = 2 * ow * c; k < w * c; k++) q[k] = 0.0f; /* an odd width's last column */
    }
}
