/* Normalisation kernels (graph.h LRN, BATCHNORM, AFFINE): one work-item per
 * element, global size (H*W, C, N) so dimension 0 walks a channel plane with
 * unit stride.
 */

/* Local response normalisation across channels (PyTorch LocalResponseNorm):
 * y = x / (k + alpha/size * sum_{c' in [c - size/2, c + (size-1)/2]} x[c']^2)^beta. */
__kernel void lrn_across_channels(__global const float *x, // (N, C, H, W)
                                  __global float *y,       // (N, C, H, W)
                                  int C, int HW,
                                  int size, float alpha, float beta, float k)
{
    const int i = (int)get_global_id(0);
    const int c = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    if (i >= HW)
        return;

    __global const float *xn = x + (size_t)n * (size_t)C * (size_t)HW;
    const int c0 = max(c - size / 2, 0);
    const int c1 = min(c + (size - 1) / 2, C - 1);
    float sum = 0.0f;
    for (int cc = c0; cc <= c1; cc++) {
        const float v = xn[cc * HW + i];
        sum += v * v;
    }
    const float d = pow(k + alpha / (float)size * sum, beta);
    y[((size_t)n * (size_t)C + (size_t)c) * (size_t)HW + (size_t)i] = xn[c * HW + i] / d;
}

/* Inference batch normalisation: y = (x - mean) / sqrt(var + eps) * weight + bias. */
__kernel void batchnorm_infer(__global const float *x,     // (N, C, H, W)
                              __global float *y,           // (N, C, H, W)
                              __global const float *gamma, // (C) weight
                              __global const float *beta,  // (C) bias
                              __global const float *mean,  // (C) running_mean
                              __global const float *var,   // (C) running_var
                              int C, int HW, float eps)
{
    const int i = (int)get_global_id(0);
    const int c = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    if (i >= HW)
        return;

    const float scale = gamma[c] / sqrt(var[c] + eps);
    const size_t at = ((size_t)n * (size_t)C + (size_t)c) * (size_t)HW + (size_t)i;
    y[at] = (x[at] - mean[c]) * scale + beta[c];
}

/* Per-channel affine: y = x * weight[c] + bias[c]. */
__kernel void affine_channels(__global const float *x,      // (N, C, H, W)
                              __global float *y,            // (N, C, H, W)
                              __global const float *weight, // (C)
                              __global const float *bias,   // (C)
                              int C, int HW)
{
    const int i = (int)get_global_id(0);
    const int c = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    if (i >= HW)
        return;

    const size_t at = ((size_t)n * (size_t)C + (size_t)c) * (size_t)HW + (size_t)i;
    y[at] = x[at] * weight[c] + bias[c];
}
