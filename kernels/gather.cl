/* gather.cl: builds a training batch on the device from the dataset kept there.
 * Reference: gather_batch_ref (host/ref.c). Test: tests/check_gather.c. */
#ifndef WGS
#define WGS 64
#endif

/* images (N,D) uchar, labels (N) uchar, order (>= start+B) int; x (B,D) float, y (B) uchar.
 * One work-item per output pixel; global size is B*D rounded up to WGS. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void gather_batch(__global float *x, __global uchar *y, __global const uchar *images,
                  __global const uchar *labels, __global const int *order, int start, int B,
                  int D)
{
    int gid = get_global_id(0);
    if (gid >= B * D) return;
    int b = gid / D, k = gid - b * D;
    int src = order[start + b];
    x[gid] = (float)images[(size_t)src * D + k] / 255.0f;
    if (k == 0) y[b] = labels[src];
}
