/* Elementwise kernels (graph.h ACT, FLATTEN, DROPOUT, CONCAT, ADD, SCALE): one
 * work-item per element. Most take global size (count per sample, N) so no
 * index overflows int within a sample; scale_channels takes (H*W, C, N).
 */

/* Activations, one kernel per kind: y = f(x) over (count, N). */
__kernel void act_relu(__global const float *x, // (N, count)
                       __global float *y,       // (N, count)
                       int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const size_t at = get_global_id(1) * (size_t)count + (size_t)i;
    y[at] = x[at] < 0.0f ? 0.0f : x[at]; // NaN passes through, as in PyTorch
}

__kernel void act_tanh(__global const float *x, // (N, count)
                       __global float *y,       // (N, count)
                       int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const size_t at = get_global_id(1) * (size_t)count + (size_t)i;
    y[at] = tanh(x[at]);
}

/* LeCun 1998: 1.7159 * tanh(2/3 * x). */
__kernel void act_scaled_tanh(__global const float *x, // (N, count)
                              __global float *y,       // (N, count)
                              int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const size_t at = get_global_id(1) * (size_t)count + (size_t)i;
    y[at] = 1.7159f * tanh((2.0f / 3.0f) * x[at]);
}

__kernel void act_sigmoid(__global const float *x, // (N, count)
                          __global float *y,       // (N, count)
                          int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const size_t at = get_global_id(1) * (size_t)count + (size_t)i;
    y[at] = 1.0f / (1.0f + exp(-x[at]));
}

/* y = x (FLATTEN, DROPOUT at inference). */
__kernel void copy_eltwise(__global const float *x, // (N, count)
                           __global float *y,       // (N, count)
                           int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const size_t at = get_global_id(1) * (size_t)count + (size_t)i;
    y[at] = x[at];
}

/* One CONCAT input into its channel slice of the output: per sample, the
 * input's in_count = Ci*H*W floats go to out[offset, offset + in_count) of the
 * output's out_count = C*H*W floats (offset = first channel * H*W).
 * Global size (in_count, N). */
__kernel void concat_copy(__global const float *x, // (N, Ci, H, W)
                          __global float *y,       // (N, C, H, W)
                          int in_count, int out_count, int offset)
{
    const int i = (int)get_global_id(0);
    if (i >= in_count)
        return;
    const size_t n = get_global_id(1);
    y[n * (size_t)out_count + (size_t)(offset + i)] = x[n * (size_t)in_count + (size_t)i];
}

/* y = a + b, then max(y, 0) when relu. */
__kernel void add_eltwise(__global const float *a, // (N, count)
                          __global const float *b, // (N, count)
                          __global float *y,       // (N, count)
                          int count, int relu)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const size_t at = get_global_id(1) * (size_t)count + (size_t)i;
    const float v = a[at] + b[at];
    y[at] = (relu && v < 0.0f) ? 0.0f : v;
}

/* y[n,c,:,:] = x[n,c,:,:] * s[n,c] (squeeze-and-excitation scaling).
 * Global size (H*W, C, N). */
__kernel void scale_channels(__global const float *x, // (N, C, H, W)
                             __global const float *s, // (N, C, 1, 1)
                             __global float *y,       // (N, C, H, W)
                             int C, int HW)
{
    const int i = (int)get_global_id(0);
    if (i >= HW)
        return;
    const size_t nc = get_global_id(2) * (size_t)C + get_global_id(1);
    const size_t at = nc * (size_t)HW + (size_t)i;
    y[at] = x[at] * s[nc];
}
