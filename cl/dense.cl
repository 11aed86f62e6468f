/* Fully connected and classifier-head kernels (graph.h DENSE, SOFTMAX, RBF):
 * a float4 dot product per (output, sample), the bias add used after a CLBlast
 * GEMM, softmax over channels per spatial position, and LeNet's RBF output.
 */

/* y[n,o] = bias[o] + sum_i x[n,i] * w[o,i]. Global size (O, N). */
__kernel void dense_forward(__global const float *x,    // (N, I)
                            __global const float *w,    // (O, I)
                            __global const float *bias, // (O), read only when has_bias
                            __global float *y,          // (N, O)
                            int I, int O, int has_bias)
{
    const int o = (int)get_global_id(0);
    const size_t n = get_global_id(1);
    if (o >= O)
        return;

    __global const float *xn = x + n * (size_t)I;
    __global const float *wo = w + (size_t)o * (size_t)I;
    float4 acc4 = (float4)(0.0f);
    const int I4 = I / 4;
    for (int i = 0; i < I4; i++)
        acc4 += vload4(i, xn) * vload4(i, wo);
    float acc = (acc4.s0 + acc4.s1) + (acc4.s2 + acc4.s3);
    for (int i = I4 * 4; i < I; i++)
        acc += xn[i] * wo[i];
    if (has_bias)
        acc += bias[o];
    y[n * (size_t)O + (size_t)o] = acc;
}

/* y[n,o] += bias[o] (after a GEMM that wrote y). Global size (O, N). */
__kernel void dense_add_bias(__global float *y,          // (N, O)
                             __global const float *bias, // (O)
                             int O)
{
    const int o = (int)get_global_id(0);
    if (o >= O)
        return;
    y[get_global_id(1) * (size_t)O + (size_t)o] += bias[o];
}

/* Softmax over C at each spatial position, max-subtracted. Global size (H*W, N). */
__kernel void softmax_channels(__global const float *x, // (N, C, H, W)
                               __global float *y,       // (N, C, H, W)
                               int C, int HW)
{
    const int i = (int)get_global_id(0);
    if (i >= HW)
        return;
    const size_t base = get_global_id(1) * (size_t)C * (size_t)HW + (size_t)i;
    __global const float *xn = x + base;
    __global float *yn = y + base;

    float m = -INFINITY;
    for (int c = 0; c < C; c++)
        m = fmax(m, xn[c * HW]);
    float sum = 0.0f;
    for (int c = 0; c < C; c++) {
        const float e = exp(xn[c * HW] - m);
        yn[c * HW] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < C; c++)
        yn[c * HW] *= inv;
}

/* Euclidean RBF units: y[n,j] = sum_i (x[n,i] - w[j,i])^2. Global size (classes, N). */
__kernel void rbf_forward(__global const float *x, // (N, I)
                          __global const float *w, // (classes, I)
                          __global float *y,       // (N, classes)
                          int I, int classes)
{
    const int j = (int)get_global_id(0);
    const size_t n = get_global_id(1);
    if (j >= classes)
        return;

    __global const float *xn = x + n * (size_t)I;
    __global const float *wj = w + (size_t)j * (size_t)I;
    float acc = 0.0f;
    for (int i = 0; i < I; i++) {
        const float d = xn[i] - wj[i];
        acc += d * d;
    }
    y[n * (size_t)classes + (size_t)j] = acc;
}
