/* clfit export: a saved model as a standard ONNX graph, written with protobuf-c from
 * onnx.proto (the schema of Debian's python3-onnx, compiled at build time): Reshape
 * [N, rows, cols] -> [N, rows*cols] (or a flat [N, rows*cols] input with --flat), then per
 * layer Gemm (x W + b, W as [in, out] as clfit stores it) and its activation (Relu, Tanh,
 * Sigmoid, LeakyRelu alpha 0.01; exact GELU as x (1 + Erf(x / sqrt 2)) / 2 and SiLU as
 * x Sigmoid(x), opset 13 having neither; linear: none; dropout is training's alone), then the
 * logits, or with --softmax the probabilities. Inputs are pixels scaled to 0..1 (x / 255), as clfit
 * trains on. ONNX Runtime runs it (tests/onnx.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/parts.h"
#include "cli.h"

#ifdef CLFIT_HAVE_ONNX
#include "onnx.pb-c.h"

enum { MAXL = CLFIT_MAX_LAYERS, MAXN = 6 * CLFIT_MAX_LAYERS + 2 };

/* One float tensor initializer: name, dims, data (not copied). */
static void tensor(Onnx__TensorProto *t, int64_t *dims, size_t ndims, const char *name, float *data, size_t n)
{
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->n_dims = ndims;
    t->dims = dims;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_float_data = n;
    t->float_data = data;
}

/* A float tensor's type, [dims...] with dimension 0 named "N" when dims[0] < 0. */
typedef struct {
    Onnx__ValueInfoProto vi;
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor tt;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension dim[3], *dimp[3];
} value_info;

static void value(value_info *v, const char *name, const int64_t *dims, size_t n)
{
    onnx__value_info_proto__init(&v->vi);
    onnx__type_proto__init(&v->type);
    onnx__type_proto__tensor__init(&v->tt);
    onnx__tensor_shape_proto__init(&v->shape);
    for (size_t i = 0; i < n; i++) {
        onnx__tensor_shape_proto__dimension__init(&v->dim[i]);
        if (dims[i] < 0) {
            v->dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            v->dim[i].dim_param = "N";
        } else {
            v->dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            v->dim[i].dim_value = dims[i];
        }
        v->dimp[i] = &v->dim[i];
    }
    v->shape.n_dim = n;
    v->shape.dim = v->dimp;
    v->tt.has_elem_type = 1;
    v->tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    v->tt.shape = &v->shape;
    v->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    v->type.tensor_type = &v->tt;
    v->vi.name = (char *)name;
    v->vi.type = &v->type;
}

static void node(Onnx__NodeProto *nd, const char *op, char **in, size_t nin, char **out)
{
    onnx__node_proto__init(nd);
    nd->op_type = (char *)op;
    nd->name = out[0];
    nd->n_input = nin;
    nd->input = in;
    nd->n_output = 1;
    nd->output = out;
}

/* The graph being built: its nodes, their input and output names, and names made for them. */
typedef struct {
    Onnx__NodeProto nodes[MAXN], *nodep[MAXN];
    char *ins[MAXN][3], *outs[MAXN][1];
    char names[MAXN][40];
    size_t n;
} graph_nodes;

/* Adds op(a[, b]) with an output named after prefix and layer l; returns that name. */
static char *add_node(graph_nodes *g, const char *op, char *a, char *b, const char *prefix, int l)
{
    size_t i = g->n++;
    snprintf(g->names[i], sizeof g->names[i], "%s_%d", prefix, l);
    g->ins[i][0] = a;
    g->ins[i][1] = b;
    g->outs[i][0] = g->names[i];
    node(&g->nodes[i], op, g->ins[i], b ? 2 : 1, g->outs[i]);
    return g->names[i];
}

/* LeakyRelu's alpha */
static Onnx__AttributeProto leaky_alpha, *leaky_alphap = &leaky_alpha;

/* x -> act(x) for clfit_act a (hidden layer l), with the scalar constants c_half, c_one,
 * c_sqrt2 (initializers) where GELU needs them. Returns the output's name. */
static char *add_activation(graph_nodes *g, int a, char *x, int l)
{
    switch (a) {
    case CLFIT_ACT_RELU: return add_node(g, "Relu", x, NULL, "relu", l);
    case CLFIT_ACT_TANH: return add_node(g, "Tanh", x, NULL, "tanh", l);
    case CLFIT_ACT_SIGMOID: return add_node(g, "Sigmoid", x, NULL, "sigmoid", l);
    case CLFIT_ACT_LEAKY_RELU: {
        char *y = add_node(g, "LeakyRelu", x, NULL, "leaky_relu", l);
        g->nodes[g->n - 1].n_attribute = 1;
        g->nodes[g->n - 1].attribute = &leaky_alphap;
        return y;
    }
    case CLFIT_ACT_GELU: {
        char *t = add_node(g, "Div", x, "c_sqrt2", "gelu_scaled", l);
        t = add_node(g, "Erf", t, NULL, "gelu_erf", l);
        t = add_node(g, "Add", t, "c_one", "gelu_cdf2", l);
        t = add_node(g, "Mul", x, t, "gelu_prod", l);
        return add_node(g, "Mul", t, "c_half", "gelu", l);
    }
    case CLFIT_ACT_SILU: {
        char *s = add_node(g, "Sigmoid", x, NULL, "silu_sigmoid", l);
        return add_node(g, "Mul", x, s, "silu", l);
    }
    default: return x; /* linear */
    }
}

static clfit_status export_onnx(const char *path, const clfit_model *m, const clfit_model_meta *meta, int softmax,
                                int flat)
{
    int L = m->nlayers, D = m->desc.input, C = m->desc.classes;
    static graph_nodes gn;
    static char names[2 * MAXL][40];
    memset(&gn, 0, sizeof gn);
    int k = 0;
    Onnx__TensorProto init[2 * MAXL + 6], *initp[2 * MAXL + 7];
    int64_t ndims[1] = {D};
    int64_t wdims[MAXL][2], bdims[MAXL][1], sdims[1] = {2}, shape_data[2] = {-1, D};
    size_t ninit = 0;
    onnx__attribute_proto__init(&leaky_alpha);
    leaky_alpha.name = "alpha";
    leaky_alpha.has_type = 1;
    leaky_alpha.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    leaky_alpha.has_f = 1;
    leaky_alpha.f = 0.01f;
    /* the reshape's target shape, an int64 initializer */
    Onnx__TensorProto shape_t;
    onnx__tensor_proto__init(&shape_t);
    shape_t.name = "flat_shape";
    shape_t.n_dims = 1;
    shape_t.dims = sdims;
    shape_t.has_data_type = 1;
    shape_t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    shape_t.n_int64_data = 2;
    shape_t.int64_data = shape_data;
    /* GELU's scalar constants, as initializers of shape [] */
    static float consts[3] = {0.5f, 1.0f, 1.41421356237309505f};
    static const char *const const_names[3] = {"c_half", "c_one", "c_sqrt2"};
    int gelu = 0;
    for (int l = 0; l < m->desc.nhidden; l++) gelu |= m->desc.act[l] == CLFIT_ACT_GELU;
    char *x = "input";
    if (!flat) {
        initp[ninit++] = &shape_t;
        x = add_node(&gn, "Reshape", "input", "flat_shape", "flat", 0);
    }
    if (m->norm_mean) { /* a table's standardisation, as the model applies it: (x - mean) / std */
        tensor(&init[2 * L + 3], ndims, 1, "normalize.mean", m->norm_mean, (size_t)D);
        tensor(&init[2 * L + 4], ndims, 1, "normalize.std", m->norm_std, (size_t)D);
        initp[ninit++] = &init[2 * L + 3];
        initp[ninit++] = &init[2 * L + 4];
        x = add_node(&gn, "Sub", x, "normalize.mean", "centred", 0);
        x = add_node(&gn, "Div", x, "normalize.std", "standardised", 0);
    }
    for (int l = 0; l < L; l++) {
        const clfit_layer *ly = &m->layer[l];
        char *w = names[k++], *b = names[k++];
        snprintf(w, 40, "dense_%d.weight", l);
        snprintf(b, 40, "dense_%d.bias", l);
        wdims[l][0] = ly->in;
        wdims[l][1] = ly->out;
        bdims[l][0] = ly->out;
        tensor(&init[2 * l], wdims[l], 2, w, m->params + ly->w_off, (size_t)ly->in * ly->out);
        tensor(&init[2 * l + 1], bdims[l], 1, b, m->params + ly->b_off, (size_t)ly->out);
        initp[ninit++] = &init[2 * l];
        initp[ninit++] = &init[2 * l + 1];
        int last = l == L - 1;
        size_t i = gn.n++;
        snprintf(gn.names[i], 40, "%s", last ? (softmax ? "logits" : "output") : "");
        if (!last) snprintf(gn.names[i], 40, "dense_%d", l);
        gn.ins[i][0] = x;
        gn.ins[i][1] = w;
        gn.ins[i][2] = b;
        gn.outs[i][0] = gn.names[i];
        node(&gn.nodes[i], "Gemm", gn.ins[i], 3, gn.outs[i]);
        x = gn.names[i];
        if (!last) {
            x = add_activation(&gn, m->desc.act[l], x, l);
        } else if (softmax) {
            i = gn.n++;
            snprintf(gn.names[i], 40, "output");
            gn.ins[i][0] = x;
            gn.outs[i][0] = gn.names[i];
            node(&gn.nodes[i], "Softmax", gn.ins[i], 1, gn.outs[i]);
        }
    }
    if (gelu)
        for (int c = 0; c < 3; c++) {
            tensor(&init[2 * L + c], NULL, 0, const_names[c], &consts[c], 1);
            initp[ninit++] = &init[2 * L + c];
        }
    size_t nnode = gn.n;
    Onnx__NodeProto **nodep = gn.nodep;
    for (size_t i = 0; i < nnode; i++) nodep[i] = &gn.nodes[i];
    value_info in, out;
    int64_t idims[3] = {-1, meta->rows, meta->cols}, fdims[2] = {-1, D}, odims[2] = {-1, C};
    if (flat) value(&in, "input", fdims, 2);
    else value(&in, "input", idims, 3);
    value(&out, "output", odims, 2);
    Onnx__ValueInfoProto *inp = &in.vi, *outp = &out.vi;
    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    g.name = "clfit";
    g.n_node = nnode;
    g.node = nodep;
    g.n_initializer = ninit;
    g.initializer = initp;
    g.n_input = 1;
    g.input = &inp;
    g.n_output = 1;
    g.output = &outp;
    /* metadata: what trained it, on what, and how to feed it */
    char arch[128], epochs[32], classes[8192] = "", shape[64];
    clfit_arch_format(&m->desc, arch, sizeof arch);
    snprintf(epochs, sizeof epochs, "%ld", meta->epoch);
    snprintf(shape, sizeof shape, "%dx%d", meta->rows, meta->cols);
    if (m->class_names) { /* a table's own names, which may hold commas: the model file's JSON array */
        char *text = clfit_class_names_json(m);
        snprintf(classes, sizeof classes, "%s", text ? text : "");
        free(text);
    } else {
        for (int c = 0; c < C; c++) {
            char buf[32];
            snprintf(classes + strlen(classes), sizeof classes - strlen(classes), "%s%s", c ? "," : "",
                     cli_class_name(c, C, buf, sizeof buf));
        }
    }
    char acts[256];
    clfit_acts_format(&m->desc, acts, sizeof acts);
    const char *kv[][2] = {{"producer", "clfit " CLFIT_VERSION}, {"architecture", arch}, {"epochs", epochs},
                           {"class_names", classes}, {"input_shape", shape}, {"activations", acts},
                           {"loss", clfit_loss_names[m->desc.loss]},
                           {"input", m->norm_mean ? "[N, features] float32: the table's feature columns as they are "
                                                    "(standardised inside, by normalize.mean and normalize.std)"
                                     : flat ? "[N, rows*cols] float32 pixels / 255 (0..1)" : "[N, rows, cols] float32 pixels / 255 (0..1)"},
                           {"targets", m->desc.regression ? "values" : "classes"},
                           {"output", softmax ? "[N, classes] softmax probabilities"
                                      : m->desc.regression ? "[N, targets] the estimated values of the target columns "
                                                             "class_names names (a regression)"
                                      : m->desc.loss == CLFIT_LOSS_MSE ? "[N, classes] outputs (mse: the one-hot target's estimate)"
                                                                       : "[N, classes] logits"}};
    enum { NMD = sizeof kv / sizeof kv[0] };
    Onnx__StringStringEntryProto md[NMD], *mdp[NMD];
    for (int i = 0; i < NMD; i++) {
        onnx__string_string_entry_proto__init(&md[i]);
        md[i].key = (char *)kv[i][0];
        md[i].value = (char *)kv[i][1];
        mdp[i] = &md[i];
    }
    Onnx__OperatorSetIdProto opset, *opsetp = &opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1;
    opset.version = 13;
    Onnx__ModelProto model;
    onnx__model_proto__init(&model);
    model.has_ir_version = 1;
    model.ir_version = 8;
    model.n_opset_import = 1;
    model.opset_import = &opsetp;
    model.producer_name = "clfit";
    model.producer_version = CLFIT_VERSION;
    model.graph = &g;
    model.n_metadata_props = NMD;
    model.metadata_props = mdp;
    size_t n = onnx__model_proto__get_packed_size(&model);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path);
    onnx__model_proto__pack(&model, buf);
    clfit_status st = clfit_write_atomic(path, buf, n);
    free(buf);
    return st;
}
#endif

static void export_help(void)
{
    printf("usage: clfit export --model FILE -o FILE.onnx [--softmax] [--flat]\n\n"
           "Writes the trained network as a standard ONNX graph (opset 13): Reshape of the\n"
           "input [N, rows, cols] to [N, rows*cols] (--flat: the input is [N, rows*cols]\n"
           "already), then Gemm (x W + b) and Relu per hidden layer, then the logits, or with\n"
           "--softmax the probabilities. Inputs are float pixels scaled to 0..1 (x / 255), as\n"
           "clfit trains on. The graph's metadata names clfit's version, the architecture, the\n"
           "epochs trained, the classes and the input shape. ONNX Runtime runs it.\n"
           "A model trained on a table takes its feature columns as they are, [N, features]:\n"
           "its standardisation is in the graph (Sub, Div) and its class names in the\n"
           "metadata (class_names, a JSON array).\n");
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"output", required_argument, 0, 'o'},
        {"softmax", no_argument, 0, 's'}, {"flat", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *model = NULL, *out = NULL;
    int softmax = 0, flat = 0, c;
    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'o': out = optarg; break;
        case 's': softmax = 1; break;
        case 'f': flat = 1; break;
        case 'h': export_help(); return 0;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("--model FILE is required");
    if (!out) return cli_usage_error("-o FILE.onnx is required");
#ifdef CLFIT_HAVE_ONNX
    clfit_status st = clfit_check_writable(out);
    if (st) return cli_fail(st);
    clfit_model_meta meta;
    clfit_model *m = clfit_model_load(model, &meta, &st);
    if (!m) return cli_fail(st);
    if (softmax && m->desc.regression) {
        clfit_model_free(m);
        return cli_usage_error("--softmax: %s is a regression model; its outputs are values, not classes' logits", model);
    }
    /* a table's model (one row of features) takes its rows as they are: [N, features] */
    st = export_onnx(out, m, &meta, softmax, flat || meta.rows == 1);
    clfit_model_free(m);
    if (st) return cli_fail(st);
    printf("Wrote %s\n", out);
    return 0;
#else
    (void)softmax;
    (void)flat;
    fprintf(stderr, "clfit: this clfit was built without ONNX export (protobuf-c and python3-onnx's onnx.proto were "
                    "not found at build time: tools/install-deps.sh installs them)\n");
    return 1;
#endif
}
