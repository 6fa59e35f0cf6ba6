/* gather.cl: the dataset on the device. scale_images turns the uploaded bytes into floats
 * once (x = p / 255, as gather_batch_ref); gather_batch copies a batch's rows through the
 * epoch order for the CLBlast path (the fused path reads rows through the order itself),
 * and gather_targets a regression's values likewise.
 * Reference: gather_batch_ref (host/ref.c). Test: tests/check_gather.c. */
#ifndef WGS
#define WGS 64
#endif

/* x[i] = images[i] / 255 for i < n. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void scale_images(__global float *x, __global const uchar *images, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    x[i] = (float)images[i] / 255.0f;
}

/* data (N,D) float, labels (N) uchar, order (>= start+B) int; x (B,D), y (B):
 * x[b] = data[order[start+b]], y[b] = labels[order[start+b]]. One work-item per element. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void gather_batch(__global float *x, __global uchar *y, __global const float *data,
                  __global const uchar *labels, __global const int *order, int start, int B,
                  int D)
{
    int gid = get_global_id(0);
    if (gid >= B * D) return;
    int b = gid / D, k = gid - b * D;
    int src = order[start + b];
    x[gid] = data[(size_t)src * D + k];
    if (k == 0) y[b] = labels[src];
}

/* targets (N,T) float, order (>= start+B) int; ty (B,T): ty[b] = targets[order[start+b]],
 * a regression's values for the batch gather_batch takes. One work-item per element. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void gather_targets(__global float *ty, __global const float *targets, __global const int *order, int start,
                    int B, int T)
{
    int gid = get_global_id(0);
    if (gid >= B * T) return;
    int b = gid / T, k = gid - b * T;
    ty[gid] = targets[(size_t)order[start + b] * T + k];
}
