/* The CPU reference (see include/clfit/ref.h). Deliberately plain: straight loops, float
 * accumulation in index order, no SIMD, no BLAS. Speed is the OpenCL path's job. */
#include "clfit/ref.h"

#include <math.h>
#include <stddef.h>

void gather_batch_ref(float *x, uint8_t *y, const uint8_t *images, const uint8_t *labels,
                      const int *order, int B, int D)
{
    for (int b = 0; b < B; b++) {
        const uint8_t *img = images + (size_t)order[b] * D;
        for (int k = 0; k < D; k++)
            x[(size_t)b * D + k] = (float)img[k] / 255.0f;
        y[b] = labels[order[b]];
    }
}

void dense_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                       int B, int IN, int OUT)
{
    for (int b = 0; b < B; b++) {
        for (int o = 0; o < OUT; o++) {
            float acc = bias[o];
            for (int i = 0; i < IN; i++)
                acc += inp[(size_t)b * IN + i] * weight[(size_t)i * OUT + o];
            out[(size_t)b * OUT + o] = acc;
        }
    }
}

void dense_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int B, int IN, int OUT)
{
    for (int i = 0; i < IN; i++) {
        for (int o = 0; o < OUT; o++) {
            float acc = 0.0f;
            for (int b = 0; b < B; b++)
                acc += inp[(size_t)b * IN + i] * dout[(size_t)b * OUT + o];
            dweight[(size_t)i * OUT + o] = acc;
        }
    }
    for (int o = 0; o < OUT; o++) {
        float acc = 0.0f;
        for (int b = 0; b < B; b++)
            acc += dout[(size_t)b * OUT + o];
        dbias[o] = acc;
    }
    if (!dinp)
        return;
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < IN; i++) {
            float acc = 0.0f;
            for (int o = 0; o < OUT; o++)
                acc += dout[(size_t)b * OUT + o] * weight[(size_t)i * OUT + o];
            dinp[(size_t)b * IN + i] = acc;
        }
    }
}

void relu_forward_ref(float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void relu_backward_ref(float *dinp, const float *dout, const float *out, int n)
{
    for (int i = 0; i < n; i++)
        dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void softmax_xent_ref(float *dlogits, float *loss_sum, int *correct, const float *logits,
                      const uint8_t *labels, int B, int C)
{
    float total = 0.0f;
    int right = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * C;
        int argmax = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > z[argmax]) argmax = c;
        float zmax = z[argmax];
        float sum = 0.0f;
        for (int c = 0; c < C; c++)
            sum += expf(z[c] - zmax);
        /* loss = log(sum_c exp(z_c)) - z_y = log(sum) + zmax - z_y */
        total += logf(sum) - (z[labels[b]] - zmax);
        right += argmax == labels[b];
        if (dlogits) {
            for (int c = 0; c < C; c++) {
                float p = expf(z[c] - zmax) / sum;
                dlogits[(size_t)b * C + c] = (p - (c == labels[b] ? 1.0f : 0.0f)) / (float)B;
            }
        }
    }
    *loss_sum = total;
    *correct = right;
}

void softmax_ref(float *probs, const float *logits, int B, int C)
{
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * C;
        float *p = probs + (size_t)b * C;
        float zmax = z[0], sum = 0.0f;
        for (int c = 1; c < C; c++)
            if (z[c] > zmax) zmax = z[c];
        for (int c = 0; c < C; c++) {
            p[c] = expf(z[c] - zmax);
            sum += p[c];
        }
        for (int c = 0; c < C; c++)
            p[c] /= sum;
    }
}

float adam_alpha(float lr, float beta1, float beta2, long t)
{
    double b1t = pow((double)beta1, (double)t), b2t = pow((double)beta2, (double)t);
    return (float)((double)lr * sqrt(1.0 - b2t) / (1.0 - b1t));
}

void adam_ref(float *param, float *m, float *v, const float *grad, int n, float alpha,
              float beta1, float beta2, float eps)
{
    for (int i = 0; i < n; i++) {
        float g = grad[i];
        m[i] = fmaf(beta1, m[i], (1.0f - beta1) * g);
        v[i] = fmaf(beta2, v[i], (1.0f - beta2) * g * g);
        param[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
    }
}
