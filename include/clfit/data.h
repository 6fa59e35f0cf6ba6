/* clfit data: IDX files (the MNIST/Fashion-MNIST format), gzip-compressed or plain.
 * Images are idx3 unsigned bytes (count x rows x cols, any size), labels idx1 unsigned
 * bytes. Every header field is checked against the file's real length. This module only
 * reads files into host memory; scaling and batching happen in the trainer. */
#ifndef CLFIT_DATA_H
#define CLFIT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

#define CLFIT_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define CLFIT_FASHION_CLASSES 10

/* Fashion-MNIST's class names, indexed by label. */
extern const char *const clfit_fashion_classes[CLFIT_FASHION_CLASSES];

typedef struct {
    int count;        /* number of examples */
    int rows, cols;   /* image size in pixels (a table: 1 x its feature columns) */
    uint8_t *images;  /* count*rows*cols bytes, image-major then row-major; owned */
    float *features;  /* a table's instead of images (include/clfit/table.h): count*cols
                         floats taken as they are (images are scaled by 1/255); owned */
    uint8_t *labels;  /* count bytes, each < the class count given at load; owned */
    char **class_names; /* a table's string classes, nclasses of them, by label; owned */
    int nclasses;
    int unlabeled;    /* a table read without a target column: every label is 0 */
    long values;      /* its target cells are all numbers, not all class indices 0..255
                         (values to regress on, made into classes): the line of the first
                         that is no class index; 0 otherwise */
    float *targets;   /* a table's numeric target columns as values (count x ntargets
                         floats, for a regression), NULL where a target is a string;
                         owned */
    int ntargets;
    char **target_names; /* their column names (ntargets), NULL for an .npz; owned */
} clfit_dataset;

/* The data directory to use: `given` if not NULL, else $CLFIT_DATA if set and non-empty,
 * else CLFIT_DEFAULT_DATA_DIR. */
const char *clfit_data_dir(const char *given);

/* What clfit reads of an IDX file at most: the body's bytes, and pixels per image (the
 * model's input limit). */
#define CLFIT_IDX_MAX_BYTES (1ull << 32)
#define CLFIT_IDX_MAX_PIXELS (1 << 20)

/* Parses an IDX file's bytes (buf, len; gzip-compressed or plain) of unsigned bytes with
 * exactly ndim (1 or 3) dimensions: dims[] and *out (a malloc'd copy of the body, caller
 * frees). `name` names the file in messages. Every header field is checked before the body
 * is read, and the body is held only as far as the file really has it. Also the fuzz
 * target's entry (tests/fuzz/). */
clfit_status clfit_idx_parse(const uint8_t *buf, size_t len, const char *name, int ndim,
                             uint8_t **out, uint32_t dims[3]);

/* Reads an idx3 unsigned-byte file (a regular file: a FIFO or device is refused). On success *pixels (malloc'd, caller frees) holds
 * count*rows*cols bytes. On failure returns CLFIT_ERR_IO / CLFIT_ERR_FORMAT /
 * CLFIT_ERR_NOMEM, leaves the outputs untouched, and clfit_last_error() names the file
 * and what is wrong with it. */
clfit_status clfit_idx_read_images(const char *path, uint8_t **pixels, int *count,
                                   int *rows, int *cols);

/* Reads an idx1 unsigned-byte file; as above, with *labels holding count bytes. */
clfit_status clfit_idx_read_labels(const char *path, uint8_t **labels, int *count);

/* Loads `split` ("train" or "t10k") from dir: <dir>/<split>-images-idx3-ubyte[.gz] and
 * <dir>/<split>-labels-idx1-ubyte[.gz] (the .gz name is tried first). Checks that the two
 * files agree on the count and that every label is below `classes`. On failure *out is
 * zeroed and nothing is leaked. */
clfit_status clfit_dataset_load(const char *dir, const char *split, int classes,
                                clfit_dataset *out);

/* Frees what clfit_dataset_load allocated; safe on a zeroed dataset. */
void clfit_dataset_free(clfit_dataset *d);

#endif
