/* The public header compiles on its own, with nothing included before it,
 * and its enums carry their prefix. Links nothing from the library. */
#include "convscope.h"

int main(void)
{
    cs_status st = CS_OK;
    cs_device_choice choice = {0, 0};
    cs_conv2d_params p = {0};
    return (int)st + choice.index + p.groups;
}
