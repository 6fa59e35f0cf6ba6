/* CSV tables (see include/clfit/table.h). The file is read whole (a regular file, within a
 * size limit) and handed to libcsv a line at a time, so that each record knows the line it
 * starts on; each record is checked and stored as it completes (features as floats, the
 * target cell as text until the whole column is seen), so memory grows only with the rows
 * the file really has. */
#include "clfit/table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "clfit/io.h"

typedef struct {
    const char *path;
    const clfit_csv_spec *spec;
    clfit_status st;
    long line, record_line;     /* the line being fed; the line the current record began on */
    char **header;              /* the column names, nheader of them */
    int nheader, header_done;
    int ncols, target;          /* once the header is done; target: the (first) target column,
                                   ncols where there is none */
    int *slot;                  /* each column's place: feature j >= 0, or target k as -1 - k */
    int nfeat, ntarget;         /* the feature and target columns (several: a regression's) */
    int field;                  /* fields of the current record so far */
    char *target_cell;          /* the current record's, malloc'd (a classifier's) */
    float *x;                   /* count rows of nfeat features */
    float *t;                   /* a regression's: count rows of ntarget values */
    char **cells;               /* each row's target cell */
    long *lines;                /* each row's line */
    int count, cap;
} csv_state;

static const char *column_name(const csv_state *s, int c, char *buf, size_t size)
{
    if (c < s->nheader) {
        char q[64];
        snprintf(buf, size, "%d (\"%s\")", c, clfit_quote(s->header[c], q, sizeof q));
    } else {
        snprintf(buf, size, "%d", c);
    }
    return buf;
}

static void fail_at(csv_state *s, int col, const char *what, const char *cell)
{
    char name[96], value[48];
    if (s->st) return;
    if (cell)
        s->st = clfit_fail(CLFIT_ERR_FORMAT, "%s: line %ld, column %s: %s \"%s\"", s->path, s->record_line,
                           column_name(s, col, name, sizeof name), what, clfit_quote(cell, value, sizeof value));
    else
        s->st = clfit_fail(CLFIT_ERR_FORMAT, "%s: line %ld, column %s: %s", s->path, s->record_line,
                           column_name(s, col, name, sizeof name), what);
}

/* A cell as a number: surrounding spaces allowed, then a decimal real (strtod's, without
 * hex, infinities or NaN). 1: a finite float; 0: not a number; -1: a number beyond float. */
static int cell_number(const char *cell, double *out)
{
    while (*cell == ' ' || *cell == '\t') cell++;
    if (!*cell) return 0;
    for (const char *p = cell; *p; p++)
        if (!strchr("0123456789+-.eE \t", *p)) return 0;
    char *end;
    errno = 0;
    double v = strtod(cell, &end);
    if (end == cell) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end) return 0;
    if (!isfinite(v) || fabs(v) > 3.4028234663852886e38) return -1;
    *out = v;
    return 1;
}

static int grow(csv_state *s)
{
    if (s->count < s->cap) return 1;
    if (s->count == 0x7fffffff) {
        s->st = clfit_fail(CLFIT_ERR_FORMAT, "%s: more than %d rows", s->path, 0x7fffffff);
        return 0;
    }
    int cap = s->cap ? (s->cap > 0x3fffffff ? 0x7fffffff : 2 * s->cap) : 256;
    size_t per = (size_t)s->nfeat;
    float *x = realloc(s->x, (size_t)cap * (per ? per : 1) * sizeof(float));
    if (x) s->x = x;
    if (x && s->spec && s->spec->regression) {
        float *t = realloc(s->t, (size_t)cap * (size_t)(s->ntarget ? s->ntarget : 1) * sizeof(float));
        if (t) s->t = t;
        else x = NULL;
    }
    char **cells = x ? realloc(s->cells, (size_t)cap * sizeof *cells) : NULL;
    if (cells) s->cells = cells;
    long *lines = cells ? realloc(s->lines, (size_t)cap * sizeof *lines) : NULL;
    if (lines) s->lines = lines;
    if (!x || !cells || !lines) {
        s->st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory at row %d", s->path, s->count);
        return 0;
    }
    s->cap = cap;
    return 1;
}


static char *copy_cell(const char *cell, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, cell, len);
        c[len] = '\0';
    }
    return c;
}

static void on_field(void *data, size_t len, void *user)
{
    csv_state *s = user;
    if (s->st) return;
    const char *cell = data ? data : "";
    if (!data) len = 0;
    if (s->field == 0) s->record_line = s->line;
    int c = s->field++;
    if (!s->header_done) {
        char **h = realloc(s->header, (size_t)(s->nheader + 1) * sizeof *h);
        if (h) s->header = h;
        char *name = h ? copy_cell(cell, len) : NULL;
        if (!name) { s->st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory in the header", s->path); return; }
        s->header[s->nheader++] = name;
        return;
    }
    if (c >= s->ncols) {
        if (c == s->ncols) fail_at(s, c, "a field beyond the header's columns (a ragged row)", NULL);
        return;
    }
    if (c == 0 && !grow(s)) return;
    int slot = s->slot[c];
    if (slot < 0 && s->spec && s->spec->regression) { /* a value to regress on */
        double v;
        int r = len ? cell_number(cell, &v) : 0;
        if (!len) fail_at(s, c, "the target is missing", NULL);
        else if (r == 0) fail_at(s, c, "the target is not a number (a regression's targets are values):", cell);
        else if (r < 0) fail_at(s, c, "the target is not a finite float:", cell);
        else s->t[(size_t)s->count * (size_t)s->ntarget + (size_t)(-1 - slot)] = (float)v;
        return;
    }
    if (slot < 0) {
        if (!len) { fail_at(s, c, "the target is missing", NULL); return; }
        s->target_cell = copy_cell(cell, len);
        if (!s->target_cell) s->st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", s->path);
        return;
    }
    double v;
    int r = len ? cell_number(cell, &v) : 0;
    if (!len) fail_at(s, c, "a missing value", NULL);
    else if (r == 0) fail_at(s, c, "not a number:", cell);
    else if (r < 0) fail_at(s, c, "not a finite float:", cell);
    else s->x[(size_t)s->count * (size_t)s->nfeat + (size_t)slot] = (float)v;
}

/* One target column's name or index t (len bytes) in the header; -1 (and the error) if none. */
static int find_column(csv_state *s, const char *t, size_t len)
{
    for (int c = 0; c < s->ncols; c++)
        if (strlen(s->header[c]) == len && !memcmp(s->header[c], t, len)) return c;
    char one[64];
    snprintf(one, sizeof one, "%.*s", (int)(len < 63 ? len : 63), t);
    long i;
    if (clfit_parse_long(one, 0, s->ncols - 1, &i)) return (int)i;
    char q[64];
    s->st = clfit_fail(CLFIT_ERR_ARG, "%s: no column \"%s\" (the header has %d columns; --target takes a name or an "
                       "index from 0)", s->path, clfit_quote(one, q, sizeof q), s->ncols);
    return -1;
}

/* Column c as target number *k (then *k + 1); 0 with s->st set where it is one already. */
static int add_target(csv_state *s, int c, int *k, const char *who)
{
    if (s->slot[c] < 0) {
        s->st = clfit_fail(CLFIT_ERR_ARG, "%s: %s column %s twice", s->path, who, s->header[c]);
        return 0;
    }
    if (*k == 0) s->target = c;
    s->slot[c] = -1 - (*k)++;
    return 1;
}

/* The target columns spec->target names in the header (a name, else an index from 0; a
 * regression's may be several, comma-separated), and so every column's slot. */
static void find_target(csv_state *s)
{
    const char *t = s->spec ? s->spec->target : NULL;
    int regression = s->spec && s->spec->regression;
    s->slot = malloc((size_t)s->ncols * sizeof *s->slot);
    if (!s->slot) { s->st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", s->path); return; }
    for (int c = 0; c < s->ncols; c++) s->slot[c] = 0;
    s->target = s->ncols - 1;
    if (s->spec && s->spec->features > 0 && s->ncols == s->spec->features) { /* no target: rows to predict */
        s->target = s->ncols;
        s->nfeat = s->ncols;
        for (int c = 0; c < s->ncols; c++) s->slot[c] = c;
        return;
    }
    int f = 0, k = 0, listed = !t && regression && s->spec->targets ? s->spec->ntargets : 0;
    if (!t && !listed) s->slot[s->target] = -1 - k++;
    for (int i = 0; i < listed; i++) { /* a model's targets, each by its whole name */
        const char *name = s->spec->targets[i];
        int c = find_column(s, name, strlen(name));
        if (c < 0 || !add_target(s, c, &k, "the targets name")) return;
    }
    while (t && !s->st) { /* the targets in the order listed */
        const char *comma = regression ? strchr(t, ',') : NULL;
        size_t len = comma ? (size_t)(comma - t) : strlen(t);
        int c = find_column(s, t, len);
        if (c < 0 || !add_target(s, c, &k, "--target names")) return;
        t = comma ? comma + 1 : NULL;
    }
    for (int c = 0; c < s->ncols; c++)
        if (s->slot[c] >= 0) s->slot[c] = f++;
    s->nfeat = f;
    s->ntarget = k;
    if (f < 1) s->st = clfit_fail(CLFIT_ERR_FORMAT, "%s: every column is a target: no features left", s->path);
}

static void on_record(int term, void *user)
{
    csv_state *s = user;
    (void)term;
    if (s->st) return;
    if (!s->header_done) {
        s->header_done = 1;
        s->ncols = s->nheader;
        if (s->ncols < 2 && !(s->spec && s->spec->features == s->ncols)) {
            s->st = clfit_fail(CLFIT_ERR_FORMAT, "%s: line %ld: the header has %d column%s; a table needs a feature and "
                               "a target", s->path, s->record_line, s->ncols, s->ncols == 1 ? "" : "s");
            return;
        }
        find_target(s);
    } else {
        if (s->field < s->ncols) {
            char msg[96];
            snprintf(msg, sizeof msg, "the row ends after %d of the header's %d columns (a ragged row)", s->field, s->ncols);
            fail_at(s, s->field, msg, NULL);
            return;
        }
        s->lines[s->count] = s->record_line;
        s->cells[s->count++] = s->target_cell; /* NULL for a regression's */
        s->target_cell = NULL;
    }
    s->field = 0;
}

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The target cells as labels (and, for a string target, the classes' names). */
static clfit_status make_labels(csv_state *s, clfit_dataset *out)
{
    const clfit_csv_spec *sp = s->spec;
    out->labels = calloc(s->count ? (size_t)s->count : 1, 1);
    if (!out->labels) return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", s->path);
    if (s->target == s->ncols) { /* no target column */
        out->unlabeled = 1;
        return CLFIT_OK;
    }
    if (sp && sp->regression) { /* values, already numbers; their columns' names */
        out->target_names = calloc((size_t)s->ntarget, sizeof *out->target_names);
        if (!out->target_names) return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", s->path);
        out->ntargets = s->ntarget;
        for (int c = 0; c < s->ncols; c++)
            if (s->slot[c] < 0 && !(out->target_names[-1 - s->slot[c]] = copy_cell(s->header[c], strlen(s->header[c]))))
                return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", s->path);
        out->targets = s->t;
        s->t = NULL;
        return CLFIT_OK;
    }
    int whole = !(sp && sp->class_names), numbers = whole, odd = -1;
    for (int i = 0; i < s->count && numbers; i++) {
        double v;
        numbers = cell_number(s->cells[i], &v) == 1;
        if (numbers && !(v >= 0 && v < CLFIT_MAX_CLASSES && v == floor(v)) && odd < 0) odd = i;
    }
    whole = numbers && odd < 0;
    if (whole) { /* class indices */
        for (int i = 0; i < s->count; i++) {
            double v;
            cell_number(s->cells[i], &v);
            out->labels[i] = (uint8_t)v;
        }
        return CLFIT_OK;
    }
    char **names = NULL;
    int n = 0;
    if (sp && sp->class_names) {
        names = calloc((size_t)sp->nclasses + 1, sizeof *names);
        for (int k = 0; names && k < sp->nclasses; k++)
            if (!(names[n++] = copy_cell(sp->class_names[k], strlen(sp->class_names[k])))) break;
        if (!names || n < sp->nclasses) goto nomem;
    } else { /* the distinct values, sorted */
        char **sorted = malloc((size_t)(s->count ? s->count : 1) * sizeof *sorted);
        if (!sorted) goto nomem;
        memcpy(sorted, s->cells, (size_t)s->count * sizeof *sorted);
        qsort(sorted, (size_t)s->count, sizeof *sorted, by_string);
        int distinct = 0;
        for (int i = 0; i < s->count; i++) distinct += i == 0 || strcmp(sorted[i], sorted[i - 1]);
        if (distinct > CLFIT_MAX_CLASSES) {
            free(sorted);
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: the target column %s has %d distinct values; at most %d classes",
                              s->path, s->header[s->target], distinct, CLFIT_MAX_CLASSES);
        }
        names = calloc((size_t)distinct + 1, sizeof *names);
        for (int i = 0; names && i < s->count; i++)
            if (i == 0 || strcmp(sorted[i], sorted[i - 1]))
                if (!(names[n++] = copy_cell(sorted[i], strlen(sorted[i])))) break;
        free(sorted);
        if (!names || n < distinct) goto nomem;
    }
    out->class_names = names;
    out->nclasses = n;
    out->values = numbers ? s->lines[odd] : 0; /* numbers, not all whole: odd >= 0 */
    for (int i = 0; i < s->count; i++) {
        char *const *hit = NULL;
        for (int k = 0; k < n && !hit; k++) /* classes are few: a scan */
            if (!strcmp(names[k], s->cells[i])) hit = &names[k];
        if (!hit) {
            char q[48], name[96];
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: line %ld, column %s: the target \"%s\" is none of the model's %d classes",
                              s->path, s->lines[i], column_name(s, s->target, name, sizeof name),
                              clfit_quote(s->cells[i], q, sizeof q), n);
        }
        out->labels[i] = (uint8_t)(hit - names);
    }
    return CLFIT_OK;
nomem:
    for (int k = 0; names && k < n; k++) free(names[k]);
    free(names);
    return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory for the class names", s->path);
}

clfit_status clfit_csv_load(const char *path, const clfit_csv_spec *spec, clfit_dataset *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *buf;
    size_t len;
    clfit_status st = clfit_read_regular(path, CLFIT_CSV_MAX_BYTES, "a CSV file", &buf, &len);
    if (st) return st;
    st = clfit_csv_parse(buf, len, path, spec, out);
    free(buf);
    return st;
}

clfit_status clfit_csv_parse(const uint8_t *buf, size_t len, const char *path, const clfit_csv_spec *spec,
                             clfit_dataset *out)
{
    memset(out, 0, sizeof *out);
    csv_state s = {.path = path, .spec = spec, .line = 1};
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL))
        return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory for the CSV parser", path);
    size_t pos = len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF ? 3 : 0; /* the BOM */
    while (pos < len && !s.st) { /* a line at a time: each record knows its line */
        const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
        if (csv_parse(&p, buf + pos, n, on_field, on_record, &s) != n && !s.st)
            s.st = clfit_fail(CLFIT_ERR_FORMAT, "%s: line %ld: %s", path, s.line, csv_strerror(csv_error(&p)));
        pos += n;
        s.line++;
    }
    if (!s.st && csv_fini(&p, on_field, on_record, &s) && !s.st)
        s.st = clfit_fail(CLFIT_ERR_FORMAT, "%s: line %ld: %s (a quote left open?)", path, s.line - 1,
                          csv_strerror(csv_error(&p)));
    csv_free(&p);
    if (!s.st && !s.header_done) s.st = clfit_fail(CLFIT_ERR_FORMAT, "%s: empty: no header row", path);
    if (!s.st && s.count == 0) s.st = clfit_fail(CLFIT_ERR_FORMAT, "%s: a header and no rows", path);
    if (!s.st) s.st = make_labels(&s, out);
    if (!s.st) {
        out->count = s.count;
        out->rows = 1;
        out->cols = s.nfeat;
        out->features = s.x;
        s.x = NULL;
    }
    free(s.x);
    free(s.t);
    free(s.slot);
    free(s.target_cell);
    for (int i = 0; i < s.count; i++) free(s.cells[i]);
    free(s.cells);
    free(s.lines);
    for (int i = 0; i < s.nheader; i++) free(s.header[i]);
    free(s.header);
    if (s.st) clfit_dataset_free(out);
    return s.st;
}

void clfit_standardize_fit(const float *x, int n, int cols, float *mean, float *std)
{
    for (int j = 0; j < cols; j++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < n; i++) sum += x[(size_t)i * cols + j];
        double mu = n ? sum / n : 0;
        for (int i = 0; i < n; i++) {
            double d = x[(size_t)i * cols + j] - mu;
            sq += d * d;
        }
        double sd = n ? sqrt(sq / n) : 0;
        mean[j] = (float)mu;
        std[j] = sd > 0 && (float)sd > 0 ? (float)sd : 1.0f;
    }
}

void clfit_standardize_apply(float *x, int count, int cols, const float *mean, const float *std)
{
    for (int i = 0; i < count; i++)
        for (int j = 0; j < cols; j++) {
            float *v = x + (size_t)i * cols + j;
            *v = (*v - mean[j]) / std[j];
        }
}
