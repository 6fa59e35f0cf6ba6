/* clfit._clfit: the C library (include/clfit/) for the Python package. A model is a capsule
 * holding a clfit_model and its metadata; fit and predict take any C-contiguous buffer
 * (a NumPy array) as it is, without a copy, release the GIL while the device works, and
 * turn the library's errors into exceptions carrying its one-line message. The estimators
 * (clfit/_mlp.py) are built on these few functions:
 *   new_model, set_optimizer, center_outputs, fit, predict, to_bytes, from_bytes, info. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/fit.h"
#include "clfit/modelfile.h"
#include "clfit/parts.h"
#include "clfit/tune.h"

static PyObject *clfit_error; /* clfit.Error: the device's and the library's other failures */

typedef struct {
    clfit_model *m;
    clfit_model_meta meta;
} handle;

#define CAPSULE "clfit.model"

static void handle_free(PyObject *cap)
{
    handle *h = PyCapsule_GetPointer(cap, CAPSULE);
    if (h) {
        clfit_model_free(h->m);
        free(h);
    }
}

static handle *get(PyObject *cap)
{
    return PyCapsule_GetPointer(cap, CAPSULE);
}

/* The library's failure as an exception: bad arguments and data are ValueError, memory
 * MemoryError, the rest (the device, files) clfit.Error; the message is the library's. */
static PyObject *fail(clfit_status st)
{
    const char *msg = clfit_last_error();
    PyObject *type = st == CLFIT_ERR_ARG || st == CLFIT_ERR_FORMAT || st == CLFIT_ERR_NUMERIC ? PyExc_ValueError
                     : st == CLFIT_ERR_NOMEM                                                   ? PyExc_MemoryError
                                                                                               : clfit_error;
    PyErr_SetString(type, msg && *msg ? msg : clfit_status_name(st));
    return NULL;
}

static PyObject *wrap(clfit_model *m, const clfit_model_meta *meta)
{
    handle *h = malloc(sizeof *h);
    if (!h) {
        clfit_model_free(m);
        return PyErr_NoMemory();
    }
    h->m = m;
    h->meta = *meta;
    PyObject *cap = PyCapsule_New(h, CAPSULE, handle_free);
    if (!cap) {
        clfit_model_free(m);
        free(h);
    }
    return cap;
}

/* new_model(input, hidden, outputs, regression, activation, seed, batch) */
static PyObject *py_new_model(PyObject *self, PyObject *args)
{
    (void)self;
    int input, outputs, regression, batch;
    PyObject *hidden;
    const char *act;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "iOipsKi", &input, &hidden, &outputs, &regression, &act, &seed, &batch)) return NULL;
    clfit_model_desc d = {.input = input, .classes = outputs, .regression = regression,
                          .loss = regression ? CLFIT_LOSS_MSE : CLFIT_LOSS_XENT};
    PyObject *seq = PySequence_Fast(hidden, "hidden_layer_sizes must be a sequence of ints");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > CLFIT_MAX_LAYERS - 1) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "%zd hidden layers: clfit builds at most %d", n, CLFIT_MAX_LAYERS - 1);
    }
    int a = -1;
    for (int k = 0; k < CLFIT_ACT_COUNT; k++)
        if (!strcmp(clfit_acts[k].name, act)) a = k;
    if (a < 0) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "activation '%s' is not one clfit has", act);
    }
    d.nhidden = (int)n;
    for (Py_ssize_t i = 0; i < n; i++) {
        long w = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
        if (w == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return NULL;
        }
        if (w < 1 || w > CLFIT_MAX_WIDTH) {
            Py_DECREF(seq);
            return PyErr_Format(PyExc_ValueError, "hidden layer width %ld: clfit's are 1..%d", w, CLFIT_MAX_WIDTH);
        }
        d.hidden[i] = (int)w;
        d.act[i] = (clfit_act)a;
    }
    Py_DECREF(seq);
    if (batch < 1 || batch > CLFIT_MAX_BATCH)
        return PyErr_Format(PyExc_ValueError, "batch size %d: clfit's are 1..%d", batch, CLFIT_MAX_BATCH);
    clfit_status st;
    clfit_model *m = clfit_model_new(&d, (uint64_t)seed, &st);
    if (!m) return fail(st);
    clfit_model_meta meta = {.seed = (uint64_t)seed, .batch = batch, .rows = 1, .cols = input};
    return wrap(m, &meta);
}

/* set_optimizer(model, kind, lr, beta1, beta2, eps, momentum, nesterov, l2) */
static PyObject *py_set_optimizer(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    const char *kind;
    float lr, b1, b2, eps, momentum, l2;
    int nesterov;
    if (!PyArg_ParseTuple(args, "Osfffffpf", &cap, &kind, &lr, &b1, &b2, &eps, &momentum, &nesterov, &l2)) return NULL;
    handle *h = get(cap);
    if (!h) return NULL;
    int k = clfit_part_find(clfit_opt_names, CLFIT_OPT_COUNT, kind);
    if (k < 0) return PyErr_Format(PyExc_ValueError, "optimizer '%s' is not one clfit has", kind);
    if (!(lr > 0) || !(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1) || !(eps > 0) || !(momentum >= 0 && momentum <= 0.999f) ||
        !(l2 >= 0))
        return PyErr_Format(PyExc_ValueError, "optimizer settings out of range: learning rate %g > 0, betas in [0, 1), "
                            "epsilon > 0, momentum in [0, 0.999], alpha >= 0", (double)lr);
    if (nesterov && !(momentum > 0)) return PyErr_Format(PyExc_ValueError, "Nesterov's momentum needs momentum > 0");
    h->m->adam = (clfit_adam_cfg){lr, b1, b2, eps};
    h->m->opt.kind = (clfit_opt_kind)k;
    h->m->opt.momentum = k == CLFIT_OPT_SGD ? momentum : 0.0f;
    h->m->opt.nesterov = k == CLFIT_OPT_SGD && nesterov;
    h->m->opt.l2 = l2;
    Py_RETURN_NONE;
}

/* A C-contiguous buffer of `ndim` dimensions of format fmt ("f" float32, "B" uint8) with
 * shape[0] == rows (rows < 0: any) and, for 2, shape[1] == cols (cols < 0: any). */
static int view(PyObject *o, Py_buffer *b, const char *fmt, int ndim, Py_ssize_t rows, Py_ssize_t cols, const char *what)
{
    if (PyObject_GetBuffer(o, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *f = b->format ? b->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    if (strcmp(f, fmt) || b->ndim != ndim || (rows >= 0 && b->shape[0] != rows) || (ndim == 2 && cols >= 0 && b->shape[1] != cols)) {
        PyErr_Format(PyExc_ValueError, "%s: expected a C-contiguous %s array of %d dimensions", what,
                     !strcmp(fmt, "f") ? "float32" : "uint8", ndim);
        PyBuffer_Release(b);
        return -1;
    }
    return 0;
}

typedef struct {
    PyObject *callback;
    int failed;                 /* a Python exception is set (an interrupt, or the callback's) */
    long last_epoch;
    float *best;                /* the weights the callback asked to keep, or NULL */
    size_t nparams;
} fit_ctx;

/* During an epoch: a chance to see Ctrl-C. At its end: callback(epoch, loss, metric,
 * val_loss or None, val_metric or None, seconds) -> flags: 1 stop, 2 keep these weights. */
static clfit_status on_progress(const clfit_progress *p, const clfit_model *m, void *user)
{
    fit_ctx *c = user;
    PyGILState_STATE g = PyGILState_Ensure();
    clfit_status st = CLFIT_OK;
    if (PyErr_CheckSignals() < 0) {
        c->failed = 1;
        st = CLFIT_STOPPED;
    } else if (p->epoch_done) {
        c->last_epoch = p->epoch;
        PyObject *r = c->callback == Py_None ? (Py_INCREF(Py_None), Py_None)
                      : p->has_val ? PyObject_CallFunction(c->callback, "lddddd", p->epoch, p->loss, p->accuracy,
                                                           p->val_loss, p->val_accuracy, p->seconds)
                                   : PyObject_CallFunction(c->callback, "lddOOd", p->epoch, p->loss, p->accuracy,
                                                           Py_None, Py_None, p->seconds);
        long flags = r && r != Py_None ? PyLong_AsLong(r) : 0;
        Py_XDECREF(r);
        if (!r || (flags == -1 && PyErr_Occurred())) {
            c->failed = 1;
            st = CLFIT_STOPPED;
        } else {
            if ((flags & 2) && m && (c->best || (c->best = malloc(m->nparams * sizeof(float))))) {
                memcpy(c->best, m->params, m->nparams * sizeof(float));
                c->nparams = m->nparams;
            }
            if (flags & 1) st = CLFIT_STOPPED;
        }
    }
    PyGILState_Release(g);
    return st;
}

/* fit(model, X, labels or None, targets or None, epochs, shuffle, seed, validation_split,
 *     device or None, callback or None, restore_best) -> the line saying which parameters ran */
static PyObject *py_fit(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *xo, *yo, *to, *callback;
    int epochs, shuffle, restore;
    unsigned long long seed;
    double vsplit;
    const char *device;
    if (!PyArg_ParseTuple(args, "OOOOipKdzOp", &cap, &xo, &yo, &to, &epochs, &shuffle, &seed, &vsplit, &device,
                          &callback, &restore))
        return NULL;
    handle *h = get(cap);
    if (!h) return NULL;
    clfit_model *m = h->m;
    Py_buffer bx, by = {0}, bt = {0};
    if (view(xo, &bx, "f", 2, -1, m->desc.input, "X") < 0) return NULL;
    Py_ssize_t n = bx.shape[0];
    PyObject *result = NULL;
    uint8_t *zeros = NULL;
    if (n < 1 || n > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "X has %zd rows: 1..%d", n, INT_MAX);
        goto done;
    }
    if (yo != Py_None && view(yo, &by, "B", 1, n, -1, "labels") < 0) goto done;
    if (to != Py_None && view(to, &bt, "f", 2, n, m->desc.classes, "targets") < 0) goto done;
    if (m->desc.regression ? !bt.buf : !by.buf) {
        PyErr_SetString(PyExc_ValueError, m->desc.regression ? "a regression model trains on targets" : "a classifier trains on labels");
        goto done;
    }
    if (!by.buf && !(zeros = calloc((size_t)n, 1))) {
        PyErr_NoMemory();
        goto done;
    }
    clfit_dataset d = {.count = (int)n, .rows = 1, .cols = m->desc.input, .features = bx.buf,
                       .labels = by.buf ? by.buf : zeros, .targets = bt.buf, .ntargets = bt.buf ? m->desc.classes : 0};
    fit_ctx ctx = {.callback = callback, .last_epoch = h->meta.epoch};
    char from[512] = "";
    clfit_status st;
    Py_BEGIN_ALLOW_THREADS
    clfit_cl *cl = clfit_cl_open_tuned(device, &m->desc, h->meta.batch, &m->opt, from, sizeof from, &st);
    if (cl) {
        clfit_fit_opts o = {.epochs = epochs, .batch = h->meta.batch, .shuffle = shuffle, .seed = seed,
                            .validation_split = vsplit, .initial_epoch = h->meta.epoch, .refresh_seconds = 0.25,
                            .gemm = (clfit_gemm)cl->p.v[CLFIT_P_BACKEND], .progress = on_progress, .user = &ctx};
        st = clfit_fit(cl, m, &d, &o);
        clfit_cl_close(cl);
    }
    Py_END_ALLOW_THREADS
    h->meta.epoch = ctx.last_epoch;
    h->meta.validation_split = vsplit;
    if (restore && ctx.best && ctx.nparams == m->nparams) memcpy(m->params, ctx.best, m->nparams * sizeof(float));
    free(ctx.best);
    if (ctx.failed) goto done; /* the exception is set */
    if (st) {
        fail(st);
        goto done;
    }
    result = PyUnicode_FromString(from);
done:
    free(zeros);
    if (bt.obj) PyBuffer_Release(&bt);
    if (by.obj) PyBuffer_Release(&by);
    PyBuffer_Release(&bx);
    return result;
}

/* predict(model, X, device or None) -> bytes: (n, outputs) float32, softmax probabilities
 * or a regression's estimates */
static PyObject *py_predict(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *xo;
    const char *device;
    if (!PyArg_ParseTuple(args, "OOz", &cap, &xo, &device)) return NULL;
    handle *h = get(cap);
    if (!h) return NULL;
    clfit_model *m = h->m;
    Py_buffer bx;
    if (view(xo, &bx, "f", 2, -1, m->desc.input, "X") < 0) return NULL;
    Py_ssize_t n = bx.shape[0];
    PyObject *out = NULL;
    uint8_t *zeros = NULL;
    int *idx = NULL;
    if (n < 1 || n > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "X has %zd rows: 1..%d", n, INT_MAX);
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, n * m->desc.classes * (Py_ssize_t)sizeof(float));
    zeros = calloc((size_t)n, 1);
    idx = malloc((size_t)n * sizeof *idx);
    if (!out || !zeros || !idx) {
        if (out) PyErr_NoMemory();
        Py_CLEAR(out);
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) idx[i] = (int)i;
    clfit_dataset d = {.count = (int)n, .rows = 1, .cols = m->desc.input, .features = bx.buf, .labels = zeros};
    float *probs = (float *)PyBytes_AS_STRING(out);
    clfit_status st;
    Py_BEGIN_ALLOW_THREADS
    clfit_cl *cl = clfit_cl_open_tuned(device, &m->desc, h->meta.batch, NULL, NULL, 0, &st);
    if (cl) {
        st = clfit_predict(cl, m, &d, (clfit_gemm)cl->p.v[CLFIT_P_BACKEND], idx, (int)n, probs);
        clfit_cl_close(cl);
    }
    Py_END_ALLOW_THREADS
    if (st) {
        Py_CLEAR(out);
        fail(st);
    }
done:
    free(idx);
    free(zeros);
    PyBuffer_Release(&bx);
    return out;
}

/* center_outputs(model, targets): a regression's output bias at the targets' means */
static PyObject *py_center_outputs(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *to;
    if (!PyArg_ParseTuple(args, "OO", &cap, &to)) return NULL;
    handle *h = get(cap);
    if (!h) return NULL;
    Py_buffer bt;
    if (view(to, &bt, "f", 2, -1, h->m->desc.classes, "targets") < 0) return NULL;
    if (bt.shape[0] > INT_MAX) {
        PyBuffer_Release(&bt);
        return PyErr_Format(PyExc_ValueError, "too many rows");
    }
    clfit_model_center_outputs(h->m, bt.buf, (int)bt.shape[0]);
    PyBuffer_Release(&bt);
    Py_RETURN_NONE;
}

/* to_bytes(model) -> the model file's bytes (safetensors, as clfit train --save writes) */
static PyObject *py_to_bytes(PyObject *self, PyObject *cap)
{
    (void)self;
    handle *h = get(cap);
    if (!h) return NULL;
    uint8_t *buf;
    size_t size;
    clfit_status st = clfit_model_serialize(h->m, &h->meta, "model", &buf, &size);
    if (st) return fail(st);
    PyObject *b = PyBytes_FromStringAndSize((const char *)buf, (Py_ssize_t)size);
    free(buf);
    return b;
}

/* from_bytes(bytes) -> model: every header field checked, as clfit_model_load does */
static PyObject *py_from_bytes(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    clfit_model_meta meta;
    clfit_status st;
    clfit_model *m = clfit_model_parse(b.buf, (size_t)b.len, "model", &meta, &st);
    PyBuffer_Release(&b);
    if (!m) return fail(st);
    return wrap(m, &meta);
}

/* info(model) -> dict: architecture, epoch, step, parameters, outputs, regression */
static PyObject *py_info(PyObject *self, PyObject *cap)
{
    (void)self;
    handle *h = get(cap);
    if (!h) return NULL;
    char arch[128];
    clfit_arch_format(&h->m->desc, arch, sizeof arch);
    return Py_BuildValue("{s:s,s:l,s:l,s:n,s:i,s:i,s:i}", "architecture", arch, "epoch", h->meta.epoch, "step",
                         h->m->step, "parameters", (Py_ssize_t)h->m->nparams, "outputs", h->m->desc.classes,
                         "regression", h->m->desc.regression, "batch", h->meta.batch);
}

static PyMethodDef methods[] = {
    {"new_model", py_new_model, METH_VARARGS, "new_model(input, hidden, outputs, regression, activation, seed, batch)"},
    {"set_optimizer", py_set_optimizer, METH_VARARGS, "set_optimizer(model, kind, lr, beta1, beta2, eps, momentum, nesterov, l2)"},
    {"center_outputs", py_center_outputs, METH_VARARGS, "center_outputs(model, targets)"},
    {"fit", py_fit, METH_VARARGS, "fit(model, X, labels, targets, epochs, shuffle, seed, validation_split, device, callback, restore_best)"},
    {"predict", py_predict, METH_VARARGS, "predict(model, X, device) -> bytes of float32"},
    {"to_bytes", py_to_bytes, METH_O, "to_bytes(model) -> the model file's bytes"},
    {"from_bytes", py_from_bytes, METH_O, "from_bytes(bytes) -> model"},
    {"info", py_info, METH_O, "info(model) -> dict"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_clfit", "clfit's C library for the Python package", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__clfit(void)
{
    PyObject *mod = PyModule_Create(&module);
    if (!mod) return NULL;
    clfit_error = PyErr_NewExceptionWithDoc("clfit.Error", "A failure of clfit's library or device (its one-line message).",
                                            PyExc_RuntimeError, NULL);
    if (!clfit_error || PyModule_AddObject(mod, "Error", clfit_error) < 0) {
        Py_XDECREF(clfit_error);
        Py_DECREF(mod);
        return NULL;
    }
    Py_INCREF(clfit_error);
    return mod;
}
