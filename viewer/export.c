/* Screenshots and layer exports: unique names from the model, layer and
 * local time; PNGs written to a temporary name and renamed into place so a
 * reader never sees half a file; layer grids and .npy through the library.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "export.h"

int vw_save_png(const char *path, const uint8_t *rgba, int w, int h, int pitch, char *err, size_t err_size)
{
    char tmp[1100] = {0};
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    if (!stbi_write_png(tmp, w, h, 4, rgba, pitch)) {
        snprintf(err, err_size, "cannot write '%s' (is the directory writable?)", tmp);
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, err_size, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

void vw_output_name(const vw_state *s, const char *ext, char *out, size_t size)
{
    char layer[96] = "none";
    if (s->m.g) {
        snprintf(layer, sizeof layer, "%s", cs_graph_node_name(s->m.g, s->cursor));
        for (char *p = layer; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
                *p = '_';
    }
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tm = {0};
    if (localtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    const char *model = s->m.info ? s->m.info->name : "viewer";
    snprintf(out, size, "convscope-%s-%s-%s.%s", model, layer, stamp, ext);
    for (int n = 2; access(out, F_OK) == 0 && n < 1000; n++)
        snprintf(out, size, "convscope-%s-%s-%s-%d.%s", model, layer, stamp, n, ext);
}

void vw_export_layer(vw_state *s)
{
    const float *out = vw_state_output(s, s->cursor);
    if (!out) {
        vw_state_message(s, 1, "export: this layer has not been computed yet");
        return;
    }
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, s->cursor, &c, &h, &w);
    char png[1024] = {0}, npy[1024] = {0};
    vw_output_name(s, "png", png, sizeof png);
    snprintf(npy, sizeof npy, "%.*s.npy", (int)(strlen(png) - 4), png);
    if (cs_grid_png(png, out, c, h, w) != CS_OK) {
        vw_state_message(s, 1, "export: %s", cs_last_error());
        return;
    }
    int64_t dims[4] = {1, c, h, w};
    if (cs_npy_write(npy, out, 4, dims) != CS_OK) {
        vw_state_message(s, 1, "export: %s", cs_last_error());
        return;
    }
    vw_state_message(s, 0, "exported %s and %s", png, npy);
}
