/* slice.cl: a training step shaped for GPUs (backend "slice") for models with one hidden
 * layer: ONE launch a step, with thousands of work-items. Work-group g owns the hidden units
 * j0 = g*HS .. j0+HS-1 and every parameter that belongs to them alone: W0's columns j,
 * b0[j] and W1's rows j, with their Adam moments; group 0 also owns b1. No two groups write
 * the same memory, so the kernel boundary is the only synchronisation between groups, and
 * launch t finishes step t-1 while it starts step t:
 *   1. step t-1's logits: the groups' partial logits (launch t-1 wrote them to part[prev])
 *      summed in group order; each row's softmax cross-entropy and dlogits (each group its
 *      own copy, in dl[g]); group 0 adds the rows' losses and right counts in row order
 *   2. dh = dlogits W1^T where h > 0, for the group's columns
 *   3. the gradients of the group's parameters, with Adam applied to them
 *   4. step t: h = relu(x W0 + b0) for the group's columns, with the new weights, and the
 *      rows of step t kept in rows[cur] for launch t+1
 *   5. the group's partial logits h W1 (+ b1 in group 0's) into part[cur]
 * Stages 1-3 run when there is a step t-1 (Bp > 0), 4-5 when there is a step t (B > 0); a
 * trainer ends an epoch with a launch of stages 1-3 alone (host/train.c). In evaluation
 * (want_grad 0) stage 1 leaves the logits in dl and adds the losses; 2 and 3 do not run.
 *
 * Every sum runs in one fixed order, whatever SWGS is: W0's, b0's, W1's and b1's gradients
 * exactly as fused.cl sums them, dh along C as fused.cl does, and with KS = 1 h along k as
 * fused.cl does. The logits differ: a group's HS terms, then the groups in order; so HS
 * (and KS, which splits h's sums) change the last bits, and verify bounds that like any
 * dot product.
 *
 * Tunables (-D; their search spaces in host/params.c): HS hidden units per work-group
 * (ceil(H/HS) groups), SWGS the work-group size, KS the items that share each of h's sums
 * (min(KS, SWGS); local memory: SWGS floats).
 * References: dense_forward_ref, relu_*_ref, softmax_xent_ref, dense_backward_ref,
 * adam_ref (host/ref.c). Launcher: host/slice.c. Test: tests/check_slice.c.
 * Needs softmax_xent.cl (softmax_xent_row), adam.cl (adam_one) and fused.cl (add_stats)
 * earlier in the program (CMakeLists.txt lists the order). */
#ifndef HS
#define HS 4
#endif
#ifndef SWGS
#define SWGS 64
#endif
#ifndef KS
#define KS 1
#endif
#define KSE (KS < SWGS ? KS : SWGS) /* both powers of 2: KSE divides SWGS */

/* params holds W0 (IN,H) at w0, b0 (H) at b0, W1 (H,C) at w1, b1 (C) at b1; m, v its
 * moments. x (N,IN) the dataset and labels (N). Step t's rows: order[start .. start+B).
 * rows (2, maxB): each step's dataset rows, rows[cur] written here for launch t+1.
 * h, dh (maxB,H); part (2, G, maxB, C) the partial logits; dl (G, maxB, C) each group's
 * dlogits (the logits in evaluation); loss_row, right_row (maxB); loss_acc 2 floats (sum,
 * Kahan compensation), correct_acc 1 int. Global size ceil(H/HS) * SWGS. */
__kernel __attribute__((reqd_work_group_size(SWGS, 1, 1)))
void slice_step(__global float *params, __global float *m, __global float *v,
                __global const float *x, __global const uchar *labels,
                __global const int *order, int start, int B, __global int *rows, int cur, int Bp,
                int want_grad, int maxB, int IN, int H, int C, int w0, int b0, int w1, int b1,
                __global float *h, __global float *dh, __global float *part, __global float *dl,
                __global float *loss_row, __global int *right_row, __global float *loss_acc,
                __global int *correct_acc, float alpha, float beta1, float beta2, float eps)
{
    __local float kpart[SWGS];
    int g = get_group_id(0), G = get_num_groups(0), lid = get_local_id(0);
    int j0 = g * HS, hs = min(HS, H - j0), prev = cur ^ 1;
    __global const int *prow = rows + (size_t)prev * maxB;
    __global float *mydl = dl + (size_t)g * maxB * C;
    if (Bp > 0) {
        /* 1. step t-1's logits, each the G partials added in group order; then, row by
         * row, the loss and dlogits */
        for (int e = lid; e < Bp * C; e += SWGS) {
            __global const float *p = part + (size_t)prev * G * maxB * C + e; /* row e / C, class e % C */
            float s = p[0];
            for (int q = 1; q < G; q++) s += p[(size_t)q * maxB * C];
            mydl[e] = s;
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
        for (int b = lid; b < Bp; b += SWGS) {
            __global float *z = mydl + (size_t)b * C;
            int right;
            float loss = softmax_xent_row(z, labels[prow[b]], C, want_grad ? z : 0, (float)Bp, &right);
            if (g == 0) {
                loss_row[b] = loss;
                right_row[b] = right;
            }
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
        if (g == 0 && lid == 0) add_stats(loss_row, right_row, Bp, 0, loss_acc, correct_acc);
        if (want_grad) {
            /* 2. dh (Bp, the group's columns), before W1 changes */
            for (int e = lid; e < Bp * hs; e += SWGS) {
                int b = e / hs, j = j0 + e % hs;
                __global const float *dz = mydl + (size_t)b * C, *w = params + w1 + (size_t)j * C;
                float s = 0.0f;
                for (int c = 0; c < C; c++) s = fma(dz[c], w[c], s);
                dh[(size_t)b * H + j] = h[(size_t)b * H + j] > 0.0f ? s : 0.0f;
            }
            barrier(CLK_GLOBAL_MEM_FENCE);
            /* 3. the group's parameters: W0 (IN, hs), b0 (hs), W1 (hs, C), and b1 (C) in
             * group 0; each gradient a sum over the rows in order, then Adam */
            int nw0 = IN * hs, nw1 = hs * C, np = nw0 + hs + nw1 + (g == 0 ? C : 0);
            for (int e = lid; e < np; e += SWGS) {
                float grad = 0.0f;
                size_t i;
                if (e < nw0) {
                    int k = e / hs, j = j0 + e % hs;
                    for (int b = 0; b < Bp; b++)
                        grad = fma(x[(size_t)prow[b] * IN + k], dh[(size_t)b * H + j], grad);
                    i = w0 + (size_t)k * H + j;
                } else if (e < nw0 + hs) {
                    int j = j0 + e - nw0;
                    for (int b = 0; b < Bp; b++) grad += dh[(size_t)b * H + j];
                    i = b0 + (size_t)j;
                } else if (e < nw0 + hs + nw1) {
                    int q = e - nw0 - hs, j = j0 + q / C, c = q % C;
                    for (int b = 0; b < Bp; b++) grad = fma(mydl[(size_t)b * C + c], h[(size_t)b * H + j], grad);
                    i = w1 + (size_t)j * C + c;
                } else {
                    int c = e - nw0 - hs - nw1;
                    for (int b = 0; b < Bp; b++) grad += mydl[(size_t)b * C + c];
                    i = b1 + (size_t)c;
                }
                adam_one(params + i, m + i, v + i, grad, alpha, beta1, beta2, eps);
            }
            barrier(CLK_GLOBAL_MEM_FENCE);
        }
    }
    if (B > 0) {
        /* 4. step t's hidden units, for the group's columns */
        if (g == 0)
            for (int b = lid; b < B; b += SWGS) rows[(size_t)cur * maxB + b] = order[start + b];
        /* KSE items share each (row, unit): item ks sums k in [ks*kl, (ks+1)*kl), and the
         * first adds the KSE partial sums in order; SWGS/KSE (row, unit) pairs a round */
        int per = SWGS / KSE, ks = lid % KSE, kl = (IN + KSE - 1) / KSE;
        int k0 = min(IN, ks * kl), k1 = min(IN, k0 + kl);
        for (int p0 = 0; p0 < B * hs; p0 += per) {
            int pr = p0 + lid / KSE, b = pr / hs, j = j0 + pr % hs;
            float acc = 0.0f;
            if (pr < B * hs) {
                __global const float *xr = x + (size_t)order[start + b] * IN, *w = params + w0 + j;
                for (int k = k0; k < k1; k++) acc = fma(xr[k], w[(size_t)k * H], acc);
            }
            kpart[lid] = acc;
            barrier(CLK_LOCAL_MEM_FENCE);
            if (ks == 0 && pr < B * hs) {
                for (int q = 1; q < KSE; q++) acc += kpart[lid + q];
                float z = acc + params[b0 + j];
                h[(size_t)b * H + j] = z > 0.0f ? z : 0.0f; /* NaN -> 0, as relu_forward_ref */
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
        /* 5. the group's partial logits */
        for (int e = lid; e < B * C; e += SWGS) {
            int b = e / C, c = e % C;
            float acc = g == 0 ? params[b1 + c] : 0.0f;
            for (int q = 0; q < hs; q++)
                acc = fma(h[(size_t)b * H + j0 + q], params[w1 + (size_t)(j0 + q) * C + c], acc);
            part[(((size_t)cur * G + g) * maxB + b) * C + c] = acc;
        }
    }
}
