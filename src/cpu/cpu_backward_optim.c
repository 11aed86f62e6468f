/* Reference optimizer steps, PyTorch's semantics as pure functions over one
 * parameter tensor: SGD with momentum, Nesterov and weight decay, and Adam
 * with bias correction (eps outside the sqrt, weight decay as L2).
 */
#include <math.h>

#include "cpu/cpu_backward.h"

void cs_cpu_sgd_step(const cs_sgd_params *o, size_t count, float *param, const float *grad, float *buf)
{
    for (size_t i = 0; i < count; i++) {
        double d = (double)grad[i] + o->weight_decay * (double)param[i];
        if (o->momentum != 0.0) {
            buf[i] = (float)(o->momentum * (double)buf[i] + d);
            d = o->nesterov ? d + o->momentum * (double)buf[i] : (double)buf[i];
        }
        param[i] = (float)((double)param[i] - o->lr * d);
    }
}

void cs_cpu_adam_step(const cs_adam_params *o, int t, size_t count, float *param, const float *grad, float *m,
                      float *v)
{
    const double bc1 = 1.0 - pow(o->beta1, (double)t);
    const double bc2_sqrt = sqrt(1.0 - pow(o->beta2, (double)t));
    const double step_size = o->lr / bc1;

    for (size_t i = 0; i < count; i++) {
        const double g = (double)grad[i] + o->weight_decay * (double)param[i];
        m[i] = (float)(o->beta1 * (double)m[i] + (1.0 - o->beta1) * g);
        v[i] = (float)(o->beta2 * (double)v[i] + (1.0 - o->beta2) * g * g);
        /* the update reads the stored (float) moments, as PyTorch's does */
        const double denom = sqrt((double)v[i]) / bc2_sqrt + o->eps;
        param[i] = (float)((double)param[i] - step_size * (double)m[i] / denom);
    }
}
