/* libFuzzer harness for image loading and preprocessing: the input is the
 * image file. cs_image_load runs with an ImageNet-style model (resize the
 * shorter side, centre crop; at its default 224x224 and at 24x40), the
 * LeNet-style one (greyscale, scale to the input less padding) and a
 * 3-channel greyscale one; every output float must be written and finite.
 * run.sh sets -malloc_limit_mb so preprocessing that allocates far more than
 * the decoded image needs is reported (a decompression-bomb class finding);
 * FUZZ_IMAGE_SMALL=1 in the environment uses 32x32 instead of 224x224, to go
 * on fuzzing past such a finding until it is fixed.
 *
 * Debian's libstb is not instrumented: ASan sees its heap calls only and the
 * fuzzer gets no coverage from inside stb_image (build.sh STB=instrumented
 * compiles stb_image.h into the harness instead).
 */
#include <math.h>

#include <stb_image.h>

#include "fuzz_common.h"

/* Decoding is skipped above this many pixels (the library allows 2^28), so
 * slow inputs do not starve the fuzzer; the size checks themselves are cheap
 * and still run for images over the library's limits. */
#define FUZZ_MAX_PIXELS (1u << 20)
/* An ImageNet-style call is skipped when its shorter-side resize would make
 * between this many bytes and the 1 GiB malloc limit: legal, slow, and no
 * different from smaller inputs. Above the limit it runs, and is reported. */
#define FUZZ_SLOW_RESIZE (2.0 * 1024 * 1024)
#define FUZZ_MALLOC_LIMIT (1024.0 * 1024 * 1024)

static const cs_model_info *g_imagenet = NULL;
static const cs_model_info *g_lenet = NULL;
static cs_model_info g_grey3;
static int g_in_size = 0; /* ImageNet-style input side: the model's default or 32 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_imagenet = cs_model_find("resnet18");
    g_lenet = cs_model_find("lenet5");
    FUZZ_CHECK(g_imagenet && g_lenet && g_imagenet->resize > 0 && g_lenet->resize == 0 && g_lenet->in_c == 1);
    g_grey3 = *g_imagenet;
    g_grey3.name = "fuzz_grey3";
    g_grey3.grey = 1;
    g_grey3.resize = 0;
    g_grey3.pad = 1;
    g_in_size = getenv("FUZZ_IMAGE_SMALL") ? 32 : g_imagenet->in_h;
    return 0;
}

static void load(const char *path, const cs_model_info *m, int in_h, int in_w)
{
    static float out[3 * 224 * 224];
    const size_t count = (size_t)m->in_c * (size_t)in_h * (size_t)in_w;
    FUZZ_CHECK(count <= sizeof out / sizeof out[0]);
    for (size_t i = 0; i < count; i++)
        out[i] = NAN; /* canaries */
    cs_error_clear();
    cs_status st = cs_image_load(path, m, in_h, in_w, out, count);
    fuzz_log(m->name, st);
    FUZZ_CHECK_MESSAGE(st);
    if (st != CS_OK) {
        FUZZ_CHECK(st == CS_ERR_FORMAT || st == CS_ERR_INVALID_ARG || st == CS_ERR_NO_MEMORY);
        return;
    }
    for (size_t i = 0; i < count; i++)
        FUZZ_CHECK(isfinite(out[i]));
}

/* Bytes of the resized RGB image of an x-by-y source for an in_h x in_w
 * ImageNet-style input, as cs_image_load computes it (0 when not known). */
static double resize_bytes(int x, int y, int in_h, int in_w)
{
    if (x <= 0 || y <= 0)
        return 0.0;
    const int big = in_h > in_w ? in_h : in_w;
    const int mbig = g_imagenet->in_h > g_imagenet->in_w ? g_imagenet->in_h : g_imagenet->in_w;
    double r = g_imagenet->resize;
    if (in_h != g_imagenet->in_h || in_w != g_imagenet->in_w)
        r = (double)(int)(r * big / mbig);
    const double lo = x < y ? x : y, hi = x < y ? y : x;
    return r * (r * hi / lo) * 3.0;
}

static void load_imagenet(const char *path, int x, int y, int in_h, int in_w)
{
    const double bytes = resize_bytes(x, y, in_h, in_w);
    if (bytes > FUZZ_SLOW_RESIZE && bytes <= FUZZ_MALLOC_LIMIT)
        return;
    load(path, g_imagenet, in_h, in_w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    int x = 0, y = 0, comp = 0;
    int known = size > 0 && stbi_info_from_memory(data, (int)size, &x, &y, &comp);
    if (known && x > 0 && y > 0 && x <= 16384 && y <= 16384 && (uint64_t)x * (uint64_t)y > FUZZ_MAX_PIXELS &&
        (uint64_t)x * (uint64_t)y <= (1u << 28))
        return 0; /* the library would decode it: too slow for fuzzing */
    const char *path = fuzz_file(data, size);
    if (!known)
        x = y = 0;
    load_imagenet(path, x, y, g_in_size, g_in_size);
    load_imagenet(path, x, y, 24, 40);
    load(path, g_lenet, g_lenet->in_h, g_lenet->in_w);
    load(path, &g_grey3, 16, 16);
    return 0;
}
