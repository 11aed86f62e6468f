/* Captions (key c): what the current layer does, in plain words for
 * students, one to three sentences per layer kind, in our own words; drawn
 * in a box beside the current row of the layer list, following the cursor.
 * A tour step's caption replaces it while the tour is on that layer.
 */
#include <stdio.h>
#include <string.h>

#include "panel.h"
#include "tour.h"

static const char *conv_text(const vw_state *s, int node, const char *desc)
{
    const vw_geom *g = &s->m.geom[node];
    if (strstr(desc, "depthwise"))
        return "Depthwise convolution: every channel gets its own small spatial filter and channels are not "
               "mixed. "
               "It finds spatial patterns cheaply; the 1x1 pointwise convolution after it mixes the "
               "channels.";
    if (strstr(desc, "connection table"))
        return "Convolution with LeCun's connection table: each of C3's 16 maps reads only some of S2's 6 "
               "maps "
               "(Table I of the 1998 paper). Different inputs force the maps to learn different features.";
    if (g->kind == VW_GEOM_WINDOW && g->kh == 1 && g->kw == 1)
        return "Pointwise (1x1) convolution: at each position, every output channel is a weighted sum of all "
               "input "
               "channels. It mixes and re-combines channels, and often shrinks or widens their number.";
    if (g->kind == VW_GEOM_WINDOW && (g->sh > 1 || g->sw > 1))
        return "Strided convolution: each filter slides over the input in steps of more than one pixel, "
               "adding up "
               "weight x input over its window. Each map shows where one filter's pattern appears, at a "
               "smaller size.";
    return "Convolution: each filter slides a small window over all input channels and adds up weight x "
           "input at "
           "every position. Each output map lights up where that filter's pattern appears in the input.";
}

static const char *op_text(const vw_state *s, int node)
{
    const cs_graph *g = s->m.g;
    char desc[256] = {0};
    cs_graph_node_describe(g, node, desc, sizeof desc);
    int idx = 0;
    cs_role role = cs_graph_node_role(g, node, &idx);
    switch (role) {
    case CS_ROLE_SE_SQUEEZE:
        return "Squeeze: global average pooling turns each channel into one number, how active that feature "
               "is "
               "across the whole image.";
    case CS_ROLE_SE_EXCITE:
        return "Excitation: two small fully connected layers (written as 1x1 convolutions) look at all the "
               "channel "
               "summaries together; the sigmoid at the end gives one gate per channel between 0 and 1.";
    case CS_ROLE_SE_SCALE:
        return "Scale: every channel is multiplied by its gate. Useful channels are kept and others turned "
               "down: "
               "the block recalibrates its own features for this image.";
    case CS_ROLE_RESIDUAL_SUM:
        return strstr(desc, "relu")
                   ? "Residual sum: the unit's output is ReLU(F(x) + x). The layers before only learn the "
                     "change "
                     "F(x); the shortcut carries x through untouched, which lets very deep networks train."
                   : "Residual sum: the block's output is F(x) + x. The layers only learn the change F(x); "
                     "the "
                     "shortcut carries x through untouched.";
    case CS_ROLE_INCEPTION_CONCAT:
        return "Depth concatenation: the four branches' maps (a 1x1 conv, two 1x1-then-wider convs and a "
               "pooling path; the panel below names each kernel) are stacked along the channel axis, so the "
               "next layer sees features of several sizes side by side.";
    case CS_ROLE_DENSE_CONCAT:
        return "Dense connectivity: the block's input and the new maps of every earlier layer are stacked, "
               "so each "
               "layer sees all the features before it. The stack grows by k (the growth rate) channels per "
               "layer.";
    default: break;
    }
    switch (cs_graph_node_op(g, node)) {
    case CS_OP_INPUT:
        return "The input: the image as the network sees it, resized, centred and normalised per colour "
               "channel. "
               "Every later layer is computed from these numbers.";
    case CS_OP_CONV2D: return conv_text(s, node, desc);
    case CS_OP_MAXPOOL:
        return "Max pooling keeps the largest value of each window: the maps get smaller, and a feature "
               "still "
               "counts if it moves by a pixel or two.";
    case CS_OP_AVGPOOL:
        return "Average pooling (subsampling) replaces each window by its mean: the maps get smaller and "
               "smoother.";
    case CS_OP_ADAPTIVE_AVGPOOL:
        return "Global average pooling: each channel becomes a single number, its mean, saying how much of "
               "that "
               "feature there is anywhere in the image.";
    case CS_OP_LRN:
        return "Local response normalisation: each value is divided by the activity of neighbouring channels "
               "at the "
               "same place, so a strongly responding channel damps its neighbours.";
    case CS_OP_BATCHNORM:
        return "Batch normalisation: each channel is shifted and scaled with a mean and variance measured "
               "during "
               "training, then a learnt scale and bias, keeping values in a steady range.";
    case CS_OP_AFFINE:
        return "Trainable subsampling (LeNet-5, 1998): each averaged map is multiplied by a learnt "
               "coefficient and "
               "a learnt bias is added, one pair per map.";
    case CS_OP_ACT:
        if (strcmp(desc, "relu") == 0)
            return "ReLU: negative values become 0 and positive ones pass unchanged. Dark areas are where "
                   "the "
                   "feature is absent; the info panel shows the fraction of zeros.";
        if (strstr(desc, "scaled"))
            return "Scaled tanh, 1.7159 tanh(2x/3) (LeCun 1998): squashes values into (-1.7, 1.7), with a "
                   "gain "
                   "chosen so that inputs of +-1 give outputs of about +-1.";
        if (strstr(desc, "tanh"))
            return "tanh squashes every value into (-1, 1): small values pass almost unchanged, large ones "
                   "saturate near -1 or 1.";
        return "Sigmoid squashes values into (0, 1). Used as a gate, 1 keeps a channel and 0 switches it "
               "off.";
    case CS_OP_DENSE:
        return "Fully connected layer: every output is a weighted sum of every input value, so position no "
               "longer "
               "matters. Each cell here is one output neuron.";
    case CS_OP_FLATTEN:
        return "Flatten: the maps are unrolled into one long vector for the fully connected layers. The "
               "values do "
               "not change, only their arrangement.";
    case CS_OP_DROPOUT:
        return "Dropout: while training it zeroes random values so neurons cannot rely on each other; at "
               "inference "
               "it does nothing, so this output equals its input.";
    case CS_OP_CONCAT: return "Concatenation: the inputs' maps are stacked along the channel axis.";
    case CS_OP_ADD: return "Element-wise sum of two tensors of the same shape.";
    case CS_OP_SCALE: return "Scale: every channel is multiplied by its own factor.";
    case CS_OP_SOFTMAX:
        return "Softmax turns the class scores into probabilities that add up to 1; the largest score gets "
               "the "
               "largest share.";
    case CS_OP_RBF:
        return "RBF output (LeNet-5, 1998): every class has a fixed prototype, and each output is the "
               "squared "
               "distance to it. The smallest distance is the prediction.";
    default: return "";
    }
}

const char *vw_caption_text(const vw_state *s, int node)
{
    static char buf[1024];
    if (!s->m.g || node < 0 || node >= s->m.n_nodes)
        return "";
    const char *text = op_text(s, node);
    int idx = 0;
    cs_role role = cs_graph_node_role(s->m.g, node, &idx);
    const char *extra = "";
    if (role == CS_ROLE_RESIDUAL_BRANCH)
        extra = " (Part of F(x), the residual branch.)";
    else if (role == CS_ROLE_RESIDUAL_SHORTCUT)
        extra = " (The shortcut's projection: a 1x1 convolution that matches x to F(x)'s shape.)";
    else if (role == CS_ROLE_INCEPTION_BRANCH)
        extra = idx == 3 ? " (Inception branch 4: pooling, then a 1x1 projection.)"
                         : " (One branch of the inception module.)";
    else if (vw_state_block_of_kind(s, node, CS_BLOCK_TRANSITION) >= 0)
        extra =
            " (Transition between dense blocks: BN, ReLU, a 1x1 convolution that compresses the channels, "
            "then 2x2 average pooling.)";
    snprintf(buf, sizeof buf, "%s%s", text, extra);
    return buf;
}

static int applies(const vw_state *s, int block)
{
    (void)block;
    return s->m.g && (s->captions || vw_tour_caption(s) != NULL);
}

static const char *current_text(const vw_state *s, const char **tour)
{
    *tour = vw_tour_caption(s);
    return *tour ? *tour : vw_caption_text(s, s->cursor);
}

int vw_caption_height(const vw_state *s, vw_render *r, int w)
{
    if (!applies(s, -1))
        return 0;
    const char *tour = NULL;
    const char *text = current_text(s, &tour);
    if (!text[0])
        return 0;
    int lh = vw_line_h(r, VW_FONT_NORMAL);
    int pad = lh / 2;
    return vw_text_wrap(r, VW_FONT_NORMAL, 0, 0, w - 2 * pad, vw_render_theme(r)->text, text, 0) + lh +
           pad * 3;
}

/* The box fills the band above the maps; a connector runs from the current
 * row of the layer list to it, so the caption follows the cursor. */
static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    if (area.h <= 0 || !applies(s, -1))
        return;
    const vw_theme *t = vw_render_theme(r);
    const char *tour = NULL;
    const char *text = current_text(s, &tour);
    int lh = vw_line_h(r, VW_FONT_NORMAL);
    int pad = lh / 2;
    char title[160] = {0};
    snprintf(title, sizeof title, "%s%s",
             tour ? "tour: " : "what this layer does: ", cs_graph_node_name(s->m.g, s->cursor));
    vw_fill(r, area, t->overlay);
    vw_frame(r, area, t->accent, 2);
    vw_text_fit(r, VW_FONT_NORMAL, area.x + pad, area.y + pad, area.w - 2 * pad, t->accent, title);
    vw_text_wrap(r, VW_FONT_NORMAL, area.x + pad, area.y + pad * 2 + lh, area.w - 2 * pad, t->text, text, 1);

    const vw_ui *ui = &s->ui;
    int row = s->m.node_row[s->cursor] - ui->list_first;
    if (row < 0 || row >= ui->list_visible)
        return;
    int ry = ui->list_y0 + row * ui->list_row_h + ui->list_row_h / 2;
    int x0 = ui->list.x + ui->list.w, x1 = area.x;
    int mx = (x0 + x1) / 2;
    int ty = area.y + area.h / 2;
    vw_fill(r, (vw_rect){x0, ry - 1, mx - x0 + 1, 3}, t->accent);
    vw_fill(r, (vw_rect){mx - 1, ry < ty ? ry : ty, 3, (ry < ty ? ty - ry : ry - ty) + 1}, t->accent);
    vw_fill(r, (vw_rect){mx, ty - 1, x1 - mx, 3}, t->accent);
}

const vw_panel vw_panel_caption = {"caption", CS_BLOCK_NONE, applies, draw};
