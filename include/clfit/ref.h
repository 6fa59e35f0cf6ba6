/* clfit CPU reference: plain C99 for every operation the trainer uses, written to be read.
 * The OpenCL path (the *_cl twins in include/clfit/cl.h) is tested against these; the
 * trainer's CPU path and `clfit verify` use them too. All matrices are row-major floats.
 * Backward functions overwrite their outputs (they never accumulate). */
#ifndef CLFIT_REF_H
#define CLFIT_REF_H

#include <stdint.h>

/* Gathers a batch: x (B,D) = images[order[b]] / 255, y (B) = labels[order[b]].
 * images (N,D) bytes, labels (N) bytes, order (B) indices into 0..N-1. */
void gather_batch_ref(float *x, uint8_t *y, const uint8_t *images, const uint8_t *labels,
                      const int *order, int B, int D);

/* inp is (B,IN), weight is (IN,OUT), bias is (OUT), out is (B,OUT): out = inp.weight + bias */
void dense_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                       int B, int IN, int OUT);

/* dout is (B,OUT), inp is (B,IN), weight is (IN,OUT).
 * dweight (IN,OUT) = inp^T.dout, dbias (OUT) = sum over b of dout, and, unless dinp is
 * NULL, dinp (B,IN) = dout.weight^T. */
void dense_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int B, int IN, int OUT);

/* out[i] = max(inp[i], 0); out may alias inp. */
void relu_forward_ref(float *out, const float *inp, int n);

/* dinp[i] = out[i] > 0 ? dout[i] : 0, where out is the ReLU's output; may alias dout. */
void relu_backward_ref(float *dinp, const float *dout, const float *out, int n);

/* Softmax cross-entropy from logits (B,C) against integer labels (B), numerically stable
 * (log-sum-exp with the row maximum subtracted). Returns the *sum* over the batch of the
 * per-example losses in *loss_sum and the number of rows whose first argmax equals the
 * label in *correct. Unless dlogits is NULL, dlogits (B,C) = (softmax - onehot) / B: the
 * gradient of the *mean* loss. */
void softmax_xent_ref(float *dlogits, float *loss_sum, int *correct, const float *logits,
                      const uint8_t *labels, int B, int C);

/* A batch's rows added into an epoch's accumulators: the B per-row losses summed in row
 * order, that sum added to loss_acc[0] with Kahan's compensation in loss_acc[1], and the
 * rows' right counts (0 or 1) added to *correct. */
void batch_stats_ref(float loss_acc[2], int *correct, const float *loss_row, const int *right_row, int B);

/* probs (B,C) = softmax of logits (B,C), row by row, max subtracted; may alias. */
void softmax_ref(float *probs, const float *logits, int B, int C);

/* Adam's bias-corrected step size for step t (1-based), as Keras computes it
 * (keras/src/optimizers/adam.py): alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t).
 * Computed in double, then rounded once to float. */
float adam_alpha(float lr, float beta1, float beta2, long t);

/* One Adam update of n parameters, as Keras defines it:
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
 *   param -= alpha m / (sqrt(v) + eps)        (alpha from adam_alpha; Keras' eps = 1e-7)
 * Note eps is added to sqrt(v) *after* bias correction folded into alpha, which differs
 * from PyTorch's placement. The moments' last multiply-add is one fma (fmaf): an OpenCL
 * compiler may or may not contract `a * b + c` (and need not honour FP_CONTRACT inside a
 * function), but fma() is correctly rounded on every conforming device, so written this
 * way the device's m and v are the reference's bit for bit everywhere. */
void adam_ref(float *param, float *m, float *v, const float *grad, int n, float alpha,
              float beta1, float beta2, float eps);

/* ---- the parts beyond the tutorial's (activations, dropout, MSE, optimizers) ---- */

/* out[i] = act(inp[i]) for activation `act` (a clfit_act: 0 relu, 1 linear, 2 tanh,
 * 3 sigmoid, 4 gelu (exact, erf), 5 leaky_relu (0.01), 6 silu); out may alias inp. */
void act_forward_ref(int act, float *out, const float *inp, int n);

/* dinp[i] = dout[i] * act'(z[i]), where z is the activation's input; may alias dout. ReLU's
 * is dout where z > 0, else 0 (as relu_backward_ref with z in place of its output). */
void act_backward_ref(int act, float *dinp, const float *dout, const float *z, int n);

/* The dropout mask's uniform number for element `col` of row `row` (of rows of `cols`
 * elements) of hidden layer `layer` at optimizer step `step`: Philox4x32-10 (Salmon et al.,
 * SC'11, as PyTorch and JAX use) keyed by the 64-bit seed, counter (e/4, layer, step's low
 * and high 32 bits) with e = row * cols + col, word e % 4, its top 24 bits / 2^24. The
 * element is kept when u >= rate. The same integers on every device: every backend,
 * tuning and process count draws the same mask. */
/* Philox4x32-10 of counter c (in place) with key (k0, k1). */
void clfit_philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1);

float dropout_uniform_ref(uint64_t seed, int layer, long step, int row, int col, int cols);

/* Inverted dropout of x (B,cols) in place: kept elements times scale = 1/(1-rate) (as a
 * float), dropped ones 0. Rows are row0 .. row0+B-1 of the step's batch. */
void dropout_forward_ref(float *x, int B, int cols, float rate, uint64_t seed, int layer, long step,
                         int row0);

/* Mean squared error of outputs (B,C) against targets t: the values (B,C) where targets is
 * not NULL (a regression's), else the one-hot labels (B). *loss_sum = the sum over rows of
 * mean_c (z_c - t_c)^2, *correct = rows whose first argmax is the label, and unless
 * abs_sum is NULL *abs_sum = the sum over rows of mean_c |z_c - t_c| (mae's); unless dout
 * is NULL, dout (B,C) = 2 (z - t) / (C B), the mean loss's gradient. */
void mse_ref(float *dout, float *loss_sum, int *correct, float *abs_sum, const float *out, const uint8_t *labels,
             const float *targets, int B, int C);


#endif
