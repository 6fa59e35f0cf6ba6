/* The CPU reference (see include/clfit/ref.h). Deliberately plain: straight loops, float
 * accumulation in index order, no SIMD, no BLAS. Speed is the OpenCL path's job. */
#include "clfit/ref.h"

#include "clfit/model.h"

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

void batch_stats_ref(float loss_acc[2], int *correct, const float *loss_row, const int *right_row, int B)
{
    float sum = 0.0f;
    int right = 0;
    for (int b = 0; b < B; b++) {
        sum += loss_row[b];
        right += right_row[b];
    }
    float y = sum - loss_acc[1];  /* Kahan: the sum less what the last addition lost */
    float t = loss_acc[0] + y;
    loss_acc[1] = (t - loss_acc[0]) - y;
    loss_acc[0] = t;
    *correct += right;
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

/* ---- activations ---- */

static float act_one(int act, float x)
{
    switch (act) {
    case 0: return x > 0.0f ? x : 0.0f;
    case 2: return tanhf(x);
    case 3: return 1.0f / (1.0f + expf(-x));
    case 4: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case 5: return x > 0.0f ? x : 0.01f * x;
    case 6: return x / (1.0f + expf(-x));
    default: return x;
    }
}

/* act'(z) */
static float act_grad_one(int act, float z)
{
    switch (act) {
    case 0: return z > 0.0f ? 1.0f : 0.0f;
    case 2: { float t = tanhf(z); return 1.0f - t * t; }
    case 3: { float s = 1.0f / (1.0f + expf(-z)); return s * (1.0f - s); }
    case 4: /* Phi(z) + z phi(z), phi the standard normal density */
        return 0.5f * (1.0f + erff(z * 0.70710678118654752f)) + z * 0.39894228040143268f * expf(-0.5f * z * z);
    case 5: return z > 0.0f ? 1.0f : 0.01f;
    case 6: { float s = 1.0f / (1.0f + expf(-z)); return s * (1.0f + z * (1.0f - s)); }
    default: return 1.0f;
    }
}

void act_forward_ref(int act, float *out, const float *inp, int n)
{
    for (int i = 0; i < n; i++) out[i] = act_one(act, inp[i]);
}

void act_backward_ref(int act, float *dinp, const float *dout, const float *z, int n)
{
    for (int i = 0; i < n; i++) {
        if (act == 0) dinp[i] = z[i] > 0.0f ? dout[i] : 0.0f; /* exactly relu_backward_ref */
        else dinp[i] = dout[i] * act_grad_one(act, z[i]);
    }
}

/* ---- dropout: Philox4x32-10 ---- */

void clfit_philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

float dropout_uniform_ref(uint64_t seed, int layer, long step, int row, int col, int cols)
{
    uint32_t e = (uint32_t)row * (uint32_t)cols + (uint32_t)col;
    uint32_t c[4] = {e >> 2, (uint32_t)layer, (uint32_t)(uint64_t)step, (uint32_t)((uint64_t)step >> 32)};
    clfit_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
    return (float)(c[e & 3] >> 8) * (1.0f / 16777216.0f);
}

void dropout_forward_ref(float *x, int B, int cols, float rate, uint64_t seed, int layer, long step,
                         int row0)
{
    float scale = (float)(1.0 / (1.0 - (double)rate));
    for (int b = 0; b < B; b++)
        for (int j = 0; j < cols; j++) {
            float *p = x + (size_t)b * cols + j;
            *p = dropout_uniform_ref(seed, layer, step, row0 + b, j, cols) >= rate ? *p * scale : 0.0f;
        }
}

/* ---- mean squared error ---- */

void mse_ref(float *dout, float *loss_sum, int *correct, float *abs_sum, const float *out, const uint8_t *labels,
             const float *targets, int B, int C)
{
    float total = 0.0f, abs_total = 0.0f;
    int right = 0;
    for (int b = 0; b < B; b++) {
        const float *z = out + (size_t)b * C;
        int argmax = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > z[argmax]) argmax = c;
        right += argmax == labels[b];
        float sq = 0.0f, ab = 0.0f;
        for (int c = 0; c < C; c++) {
            float d = z[c] - (targets ? targets[(size_t)b * C + c] : c == labels[b] ? 1.0f : 0.0f);
            sq += d * d;
            ab += fabsf(d);
            if (dout) dout[(size_t)b * C + c] = 2.0f * d / ((float)C * (float)B);
        }
        total += sq / (float)C;
        abs_total += ab / (float)C;
    }
    *loss_sum = total;
    *correct = right;
    if (abs_sum) *abs_sum = abs_total;
}

/* ---- optimizers beyond Adam, and the optimizer step of a model ---- */


/* PyTorch's SGD on n parameters (weight decay already in grad): with momentum, the buffer
 * buf = momentum buf + g (one fma) and the step uses buf, or with nesterov g + momentum buf;
 * without, g. param -= lr * step. */
static void sgd_ref(float *param, float *buf, const float *grad, int n, float lr, float momentum, int nesterov)
{
    for (int i = 0; i < n; i++) {
        float g = grad[i];
        if (momentum > 0.0f) {
            buf[i] = fmaf(momentum, buf[i], g);
            g = nesterov ? fmaf(momentum, buf[i], g) : buf[i];
        }
        param[i] -= lr * g;
    }
}

/* PyTorch's RMSprop: v = rho v + (1 - rho) g^2 (one fma); a = sqrt(v) + eps; with momentum
 * buf = momentum buf + g / a and param -= lr buf, else param -= lr g / a. */
static void rmsprop_ref(float *param, float *v, float *buf, const float *grad, int n, float lr, float rho,
                 float eps, float momentum)
{
    for (int i = 0; i < n; i++) {
        float g = grad[i];
        v[i] = fmaf(rho, v[i], (1.0f - rho) * g * g);
        float a = sqrtf(v[i]) + eps;
        if (momentum > 0.0f) {
            buf[i] = fmaf(momentum, buf[i], g / a);
            param[i] -= lr * buf[i];
        } else {
            param[i] -= lr * g / a;
        }
    }
}

/* A new optimizer: its update above and its case here (docs/extending.md). */
void clfit_ref_optim_step(clfit_model *m, float *grads, float lr, int B)
{
    const clfit_optim *o = &m->opt;
    int n = (int)m->nparams;
    if (o->l2 > 0.0f) {
        float c = o->l2 / (float)B;
        for (int l = 0; l < m->nlayers; l++) {
            const clfit_layer *ly = &m->layer[l];
            for (size_t i = ly->w_off; i < ly->w_off + (size_t)ly->in * ly->out; i++)
                grads[i] = fmaf(c, m->params[i], grads[i]);
        }
    }
    if (o->clipnorm > 0.0f) {
        /* PyTorch's clip_grad_norm_: g *= max / (norm + 1e-6) when that is below 1. The sum of
         * squares in the order the device adds it: 64 partial sums of i = q, q+64, ..., then
         * those in order (host/optim.c) */
        float part[64] = {0};
        for (int i = 0; i < n; i++) part[i % 64] = fmaf(grads[i], grads[i], part[i % 64]);
        float sum = 0.0f;
        for (int q = 0; q < 64; q++) sum += part[q];
        float coef = o->clipnorm / (sqrtf(sum) + 1e-6f);
        if (coef < 1.0f)
            for (int i = 0; i < n; i++) grads[i] *= coef;
    }
    float wd = o->weight_decay;
    if (wd > 0.0f && o->kind != CLFIT_OPT_ADAMW)
        for (int i = 0; i < n; i++) grads[i] = fmaf(wd, m->params[i], grads[i]);
    switch (o->kind) {
    case CLFIT_OPT_ADAMW:
        if (wd > 0.0f) {
            float keep = 1.0f - lr * wd;
            for (int i = 0; i < n; i++) m->params[i] *= keep;
        }
        /* fall through */
    case CLFIT_OPT_ADAM: {
        float alpha = adam_alpha(lr, m->adam.beta1, m->adam.beta2, m->step);
        adam_ref(m->params, m->m, m->v, grads, n, alpha, m->adam.beta1, m->adam.beta2, m->adam.eps);
        break;
    }
    case CLFIT_OPT_SGD:
        sgd_ref(m->params, m->m, grads, n, lr, o->momentum, o->nesterov);
        break;
    case CLFIT_OPT_RMSPROP:
        rmsprop_ref(m->params, m->v, m->m, grads, n, lr, o->rho, m->adam.eps, o->momentum);
        break;
    default:
        break;
    }
}
