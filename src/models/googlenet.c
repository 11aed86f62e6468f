/* GoogLeNet family: `googlenet`, exactly torchvision.models.googlenet
 * (aux_logits=False, transform_input=True), `googlenet_2014`, Szegedy et al.
 * 2014 as the paper's table and the seed notebook describe it, and
 * `se_googlenet` (built for the senet family through cs_build_inception_se):
 * googlenet_2014 with a squeeze-and-excitation block on every inception
 * module. One network builder; a style struct holds what the forms change.
 *
 * Node names are module paths as in torchvision's GoogLeNet, also for the paper
 * forms (tools/cs_reference.py defines those modules):
 *   "conv1.conv" (+ "conv1.bn" in torchvision) and "conv1", the ReLU output;
 *   "inception3a.branch2.0.conv" ... "inception3a.branch2.1"; the module output
 *   is "inception3a", or "inception3a.concat" + the SE output "inception3a.se".
 *
 * googlenet's first node "transform_input" is torchvision's _transform_input,
 * which its pretrained weights expect: x_c * std_c / 0.5 + (mean_c - 0.5) / 0.5
 * with ImageNet mean/std, turning ImageNet-normalised input into the [-1, 1]
 * scaling the weights were trained on. Its tensors are builder constants:
 * never loaded, saved or counted. The PyTorch reference is
 * googlenet(aux_logits=False, transform_input=True, init_weights=True).
 */
#include <string.h>

#include "core/status.h"
#include "models/models.h"

/* ------------------------------------------------------------------------ */
/* Forms                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct googlenet_style {
    int bn;              /* 1: conv (no bias) + BN (eps 1e-3) + ReLU; 0: conv (bias) + ReLU */
    int branch3_kernel;  /* second conv of branch 3: 3 (torchvision's known bug) or 5 (paper) */
    int lrn;             /* LRN after maxpool1 and after conv3 (paper) */
    int pool4_kernel;    /* maxpool4: 2x2/2 (torchvision) or 3x3/2 (paper) */
    float dropout;       /* before fc: 0.2 (torchvision) or 0.4 (paper) */
    int transform_input; /* torchvision's input rescaling for its pretrained weights */
    int se;              /* SE block on each inception module's output */
} googlenet_style;

static const googlenet_style style_torchvision = {1, 3, 0, 2, 0.2f, 1, 0};
static const googlenet_style style_2014 = {0, 5, 1, 3, 0.4f, 0, 0};
static const googlenet_style style_se = {0, 5, 1, 3, 0.4f, 0, 1};

/* The paper's Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj. */
typedef struct inception_spec {
    const char *name;
    int ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
} inception_spec;

/* clang-format off */
static const inception_spec inception3[] = {
    {"inception3a",  64,  96, 128, 16,  32,  32},
    {"inception3b", 128, 128, 192, 32,  96,  64},
};
static const inception_spec inception4[] = {
    {"inception4a", 192,  96, 208, 16,  48,  64},
    {"inception4b", 160, 112, 224, 24,  64,  64},
    {"inception4c", 128, 128, 256, 24,  64,  64},
    {"inception4d", 112, 144, 288, 32,  64,  64},
    {"inception4e", 256, 160, 320, 32, 128, 128},
};
static const inception_spec inception5[] = {
    {"inception5a", 256, 160, 320, 32, 128, 128},
    {"inception5b", 384, 192, 384, 48, 128, 128},
};
/* clang-format on */

/* Caffe's reference GoogLeNet (the paper gives no values): PyTorch
 * LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1). */
static const cs_lrn_params googlenet_lrn = {.size = 5, .alpha = 1e-4f, .beta = 0.75f, .k = 1.0f};

#define SE_REDUCTION 16

/* ------------------------------------------------------------------------ */
/* Layers                                                                   */
/* ------------------------------------------------------------------------ */

/* Gives nodes [first, end of graph) a role. */
static void tag_from(cs_graph *g, int first, cs_role role, int index)
{
    for (int i = first; i < g->n_nodes; i++)
        cs_node_set_role(g, i, role, index);
}

/* Conv unit "<name>": "<name>.conv", "<name>.bn" when st->bn, and the ReLU
 * output "<name>" (torchvision's BasicConv2d; the paper form drops the BN and
 * gives the conv a bias). */
static int conv_unit(cs_graph *g, const googlenet_style *st, const char *name, int x, int out_c, int k,
                     int stride, int pad)
{
    char nm[CS_NAME_MAX];
    x = cs_conv_sq(g, cs_name(nm, "%s.conv", name), x, out_c, k, stride, pad, !st->bn);
    if (st->bn)
        x = cs_batchnorm(g, cs_name(nm, "%s.bn", name), x, 1e-3f);
    return cs_act(g, name, x, CS_ACT_RELU);
}

/* SE block "<module>.se" on x (channels maps): mean over H, W -> 1x1 conv fc1
 * (channels/16, bias) -> ReLU -> 1x1 conv fc2 (channels, bias) -> sigmoid ->
 * x scaled per channel. Returns the scale node, named "<module>.se". */
static int se_block(cs_graph *g, const char *module, int x, int channels)
{
    char nm[CS_NAME_MAX], se[CS_NAME_MAX];
    cs_name(se, "%s.se", module);
    cs_block_begin(g, CS_BLOCK_SE, se);
    int first = g->n_nodes;
    int s = cs_adaptive_avgpool(g, cs_name(nm, "%s.squeeze", se), x, 1, 1);
    tag_from(g, first, CS_ROLE_SE_SQUEEZE, 0);
    first = g->n_nodes;
    s = cs_conv_sq(g, cs_name(nm, "%s.fc1", se), s, channels / SE_REDUCTION, 1, 1, 0, 1);
    s = cs_act(g, cs_name(nm, "%s.act", se), s, CS_ACT_RELU);
    s = cs_conv_sq(g, cs_name(nm, "%s.fc2", se), s, channels, 1, 1, 0, 1);
    s = cs_act(g, cs_name(nm, "%s.gate", se), s, CS_ACT_SIGMOID);
    tag_from(g, first, CS_ROLE_SE_EXCITE, 0);
    first = g->n_nodes;
    int out = cs_scale(g, se, x, s);
    tag_from(g, first, CS_ROLE_SE_SCALE, 0);
    cs_block_end(g);
    return out;
}

/* One inception module: four branches concatenated along channels, then the
 * SE block when st->se. Returns the module's output. */
static int inception(cs_graph *g, const googlenet_style *st, const inception_spec *m, int x)
{
    char nm[CS_NAME_MAX];
    const char *n = m->name;
    const int k3 = st->branch3_kernel;
    int br[4] = {-1, -1, -1, -1};
    cs_block_begin(g, CS_BLOCK_INCEPTION, n);

    int first = g->n_nodes;
    br[0] = conv_unit(g, st, cs_name(nm, "%s.branch1", n), x, m->ch1x1, 1, 1, 0);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 0);

    first = g->n_nodes;
    br[1] = conv_unit(g, st, cs_name(nm, "%s.branch2.0", n), x, m->ch3x3red, 1, 1, 0);
    br[1] = conv_unit(g, st, cs_name(nm, "%s.branch2.1", n), br[1], m->ch3x3, 3, 1, 1);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 1);

    first = g->n_nodes;
    br[2] = conv_unit(g, st, cs_name(nm, "%s.branch3.0", n), x, m->ch5x5red, 1, 1, 0);
    br[2] = conv_unit(g, st, cs_name(nm, "%s.branch3.1", n), br[2], m->ch5x5, k3, 1, k3 / 2);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 2);

    first = g->n_nodes;
    br[3] = cs_maxpool_sq(g, cs_name(nm, "%s.branch4.0", n), x, 3, 1, 1, 1);
    br[3] = conv_unit(g, st, cs_name(nm, "%s.branch4.1", n), br[3], m->pool_proj, 1, 1, 0);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 3);

    first = g->n_nodes;
    int out = cs_concat(g, st->se ? cs_name(nm, "%s.concat", n) : n, br, 4);
    tag_from(g, first, CS_ROLE_INCEPTION_CONCAT, 0);
    if (st->se)
        out = se_block(g, n, out, m->ch1x1 + m->ch3x3 + m->ch5x5 + m->pool_proj);
    cs_block_end(g);
    return out;
}

/* torchvision's _transform_input as a constant per-channel affine. */
static int transform_input(cs_graph *g, int x)
{
    static const double mean[3] = {0.485, 0.456, 0.406};
    static const double std[3] = {0.229, 0.224, 0.225};
    int t = cs_affine(g, "transform_input", x);
    if (t < 0)
        return t;
    cs_tensor *w = &g->nodes[t].params[0], *b = &g->nodes[t].params[1];
    for (int c = 0; c < 3; c++) {
        w->data[c] = (float)(std[c] / 0.5);
        b->data[c] = (float)((mean[c] - 0.5) / 0.5);
    }
    w->constant = 1;
    b->constant = 1;
    return t;
}

/* ------------------------------------------------------------------------ */
/* Network                                                                  */
/* ------------------------------------------------------------------------ */

static int inception_stage(cs_graph *g, const googlenet_style *st, const inception_spec *ms, int count, int x)
{
    for (int i = 0; i < count; i++)
        x = inception(g, st, &ms[i], x);
    return x;
}

static cs_status build_network(cs_graph *g, const cs_model_build_args *a, const googlenet_style *st)
{
    int x = cs_input(g, "input", 3, a->in_h, a->in_w);
    if (st->transform_input)
        x = transform_input(g, x);
    x = conv_unit(g, st, "conv1", x, 64, 7, 2, 3);
    x = cs_maxpool_sq(g, "maxpool1", x, 3, 2, 0, 1);
    if (st->lrn)
        x = cs_lrn(g, "lrn1", x, &googlenet_lrn);
    x = conv_unit(g, st, "conv2", x, 64, 1, 1, 0);
    x = conv_unit(g, st, "conv3", x, 192, 3, 1, 1);
    if (st->lrn)
        x = cs_lrn(g, "lrn2", x, &googlenet_lrn);
    x = cs_maxpool_sq(g, "maxpool2", x, 3, 2, 0, 1);
    x = inception_stage(g, st, inception3, 2, x);
    x = cs_maxpool_sq(g, "maxpool3", x, 3, 2, 0, 1);
    x = inception_stage(g, st, inception4, 5, x);
    x = cs_maxpool_sq(g, "maxpool4", x, st->pool4_kernel, 2, 0, 1);
    x = inception_stage(g, st, inception5, 2, x);
    x = cs_adaptive_avgpool(g, "avgpool", x, 1, 1); /* the paper's 7x7 average pool at 224 */
    x = cs_flatten(g, "flatten", x);
    x = cs_dropout(g, "dropout", x, st->dropout);
    cs_dense(g, "fc", x, a->num_classes, 1); /* logits */
    return g->status;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */
/* ------------------------------------------------------------------------ */

/* se_googlenet (senet family): declared for senet.c in models/models.h. */
cs_status cs_build_inception_se(cs_graph *g, const cs_model_build_args *a)
{
    return build_network(g, a, &style_se);
}

cs_status cs_build_googlenet(cs_graph *g, const cs_model_build_args *a)
{
    if (strcmp(a->info->name, "googlenet") == 0)
        return build_network(g, a, &style_torchvision);
    if (strcmp(a->info->name, "googlenet_2014") == 0)
        return build_network(g, a, &style_2014);
    return cs_error(CS_ERR_UNSUPPORTED, "%s: not a googlenet variant (googlenet, googlenet_2014)",
                    a->info->name);
}
