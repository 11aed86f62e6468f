/* Pooling kernels (graph.h MAXPOOL, AVGPOOL, ADAPTIVE_AVGPOOL): one work-item
 * per output element, global size (OW, OH, N * C). Output sizes (ceil_mode
 * included) are computed by the graph; the kernels take them as arguments.
 */

/* Max over the window clipped to the input: padding never wins. */
__kernel void maxpool2d(__global const float *x, // (N, C, H, W)
                        __global float *y,       // (N, C, OH, OW)
                        int H, int W, int OH, int OW,
                        int R, int S,
                        int stride_h, int stride_w,
                        int pad_top, int pad_left)
{
    const int ox = (int)get_global_id(0);
    const int oy = (int)get_global_id(1);
    const int nc = (int)get_global_id(2);
    if (ox >= OW || oy >= OH)
        return;

    const int h0 = oy * stride_h - pad_top;
    const int w0 = ox * stride_w - pad_left;
    const int hs = max(h0, 0), he = min(h0 + R, H);
    const int ws = max(w0, 0), we = min(w0 + S, W);
    __global const float *xc = x + (size_t)nc * (size_t)H * (size_t)W;
    float m = -INFINITY;
    for (int iy = hs; iy < he; iy++)
        for (int ix = ws; ix < we; ix++) {
            const float v = xc[iy * W + ix];
            m = (v > m || isnan(v)) ? v : m;                // NaN propagates, as in PyTorch
        }
    y[((size_t)nc * (size_t)OH + (size_t)oy) * (size_t)OW + (size_t)ox] = m;
}

/* Average with PyTorch's divisor: the window is first clipped to the padded
 * extent (H + pad_bottom, W + pad_right), that area is the divisor when
 * count_include_pad; then clipped to the input, whose area is the divisor
 * otherwise. */
__kernel void avgpool2d(__global const float *x, // (N, C, H, W)
                        __global float *y,       // (N, C, OH, OW)
                        int H, int W, int OH, int OW,
                        int R, int S,
                        int stride_h, int stride_w,
                        int pad_top, int pad_bottom, int pad_left, int pad_right,
                        int count_include_pad)
{
    const int ox = (int)get_global_id(0);
    const int oy = (int)get_global_id(1);
    const int nc = (int)get_global_id(2);
    if (ox >= OW || oy >= OH)
        return;

    int hs = oy * stride_h - pad_top;
    int ws = ox * stride_w - pad_left;
    int he = min(hs + R, H + pad_bottom);
    int we = min(ws + S, W + pad_right);
    const int pool = (he - hs) * (we - ws);
    hs = max(hs, 0);
    ws = max(ws, 0);
    he = min(he, H);
    we = min(we, W);
    const int divisor = count_include_pad ? pool : (he - hs) * (we - ws);

    __global const float *xc = x + (size_t)nc * (size_t)H * (size_t)W;
    float sum = 0.0f;
    for (int iy = hs; iy < he; iy++)
        for (int ix = ws; ix < we; ix++)
            sum += xc[iy * W + ix];
    y[((size_t)nc * (size_t)OH + (size_t)oy) * (size_t)OW + (size_t)ox] =
        divisor > 0 ? sum / (float)divisor : 0.0f;
}

/* Adaptive average: output (oy, ox) averages rows [floor(oy*H/OH),
 * ceil((oy+1)*H/OH)) and the matching columns. */
__kernel void adaptive_avgpool2d(__global const float *x, // (N, C, H, W)
                                 __global float *y,       // (N, C, OH, OW)
                                 int H, int W, int OH, int OW)
{
    const int ox = (int)get_global_id(0);
    const int oy = (int)get_global_id(1);
    const int nc = (int)get_global_id(2);
    if (ox >= OW || oy >= OH)
        return;

    const int hs = (oy * H) / OH;
    const int he = ((oy + 1) * H + OH - 1) / OH;
    const int ws = (ox * W) / OW;
    const int we = ((ox + 1) * W + OW - 1) / OW;
    __global const float *xc = x + (size_t)nc * (size_t)H * (size_t)W;
    float sum = 0.0f;
    for (int iy = hs; iy < he; iy++)
        for (int ix = ws; ix < we; ix++)
            sum += xc[iy * W + ix];
    y[((size_t)nc * (size_t)OH + (size_t)oy) * (size_t)OW + (size_t)ox] =
        sum / (float)((he - hs) * (we - ws));
}
