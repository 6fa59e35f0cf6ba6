/* clfit tables: a CSV file of measurements as a dataset (its rows the examples, one column
 * the target), and the standardisation of a table's features. Parsed with libcsv (RFC
 * 4180: quoted fields, LF or CRLF), a header row of column names first, an optional UTF-8
 * byte-order mark. Every cell is checked: a missing, non-numeric or non-finite feature, a
 * ragged row or an unknown class is one message naming the file, the line and the column. */
#ifndef CLFIT_TABLE_H
#define CLFIT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/data.h"
#include "clfit/status.h"

/* What clfit reads of a CSV file at most, and the most classes a target may make (labels
 * are bytes). */
#define CLFIT_CSV_MAX_BYTES (1ull << 32)
#define CLFIT_MAX_CLASSES 256

typedef struct {
    const char *target;             /* the target column: its name, or its index from 0;
                                       NULL: the last column */
    /* The classes the target's values name, in order (a string target's); NULL: a training
     * file, whose target makes them: a column of whole numbers 0..255 is class indices,
     * anything else strings, the classes then their distinct values in byte order. */
    char *const *class_names;
    int nclasses;
    /* > 0 (a model's input count): a file of exactly this many columns has no target
     * column (rows to predict), whatever target says: the dataset is then `unlabeled`. */
    int features;
    /* 1: the target columns are values to regress on (numbers, into targets), and target
     * may name several, comma-separated (targets keeps that order); then no class names. */
    int regression;
    /* A regression model's target columns by their names (ntargets; names may hold commas),
     * used where target is NULL. */
    char *const *targets;
    int ntargets;
} clfit_csv_spec;

/* Loads path into *out: rows = 1, cols = the feature columns (every column but the
 * target, in order), features (count x cols floats), labels (count bytes), and for a
 * string target class_names/nclasses (with spec->class_names: a copy of those; a value
 * outside them is an error); with spec->regression, targets (count x ntargets values,
 * labels all 0) and target_names. On failure *out is zeroed and nothing is leaked. */
clfit_status clfit_csv_load(const char *path, const clfit_csv_spec *spec, clfit_dataset *out);

/* The same from the file's bytes in memory (buf, len; `name` names it in messages). Also
 * the fuzz target's entry (tests/fuzz/). */
clfit_status clfit_csv_parse(const uint8_t *buf, size_t len, const char *name, const clfit_csv_spec *spec,
                             clfit_dataset *out);

/* What clfit reads of an .npz file at most. */
#define CLFIT_NPZ_MAX_BYTES (1ull << 34)

/* Loads a NumPy .npz archive (np.savez or np.savez_compressed; zip64 too): set "train"
 * reads x_train.npy and y_train.npy, else x.npy and y.npy; "test" reads x_test.npy and
 * y_test.npy, and returns CLFIT_ERR_ARG without a message where the archive has none.
 * x: float32/float64/bool/integer, any byte order, C or Fortran order, any feature shape
 * (flattened); uint8 of shape (N, rows, cols) is images, as Keras' mnist.npz (scaled by
 * 1/255 as IDX images are), anything else a table's features. y: shape (N) or (N, T),
 * finite numbers, kept as targets (N x T values, for a regression); where T is 1 and every
 * one is a whole number 0..255 also the labels, else `values` is the first other row's
 * number from 1 (and the labels 0). Each header is checked against the member's bytes
 * before its body is read. On failure *out is zeroed and nothing is leaked. */
clfit_status clfit_npz_load(const char *path, const char *set, clfit_dataset *out);

/* The same from the archive's bytes in memory; the fuzz target's entry. */
clfit_status clfit_npz_parse(const uint8_t *buf, size_t len, const char *name, const char *set, clfit_dataset *out);

/* The per-feature mean and standard deviation (population, as scikit-learn's
 * StandardScaler and Keras' Normalization) of the first n rows of x (rows of cols floats),
 * in double precision; a constant feature gets std 1 (so that it divides by nothing). */
void clfit_standardize_fit(const float *x, int n, int cols, float *mean, float *std);

/* x[i][j] = (x[i][j] - mean[j]) / std[j] for the count rows of x. */
void clfit_standardize_apply(float *x, int count, int cols, const float *mean, const float *std);

#endif
