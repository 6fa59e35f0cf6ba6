/* clfit model files: safetensors (an 8-byte little-endian header length, a JSON header,
 * then raw little-endian F32 data), the format PyTorch, JAX and numpy users already read.
 *
 * Tensors, for each layer l = 0 .. nlayers-1:
 *   dense_<l>.weight          F32 [in, out]   y = x W + b: input index first (Keras' kernel;
 *                                             PyTorch's nn.Linear.weight is its transpose)
 *   dense_<l>.bias            F32 [out]
 *   adam_m.dense_<l>.weight / adam_m.dense_<l>.bias   Adam's first moments, same shapes
 *   adam_v.dense_<l>.weight / adam_v.dense_<l>.bias   Adam's second moments
 * __metadata__ (all strings): format "clfit", architecture "784-128-10", input_shape
 * "28x28", epoch, step (Adam steps), seed, batch, validation_split, adam_lr, adam_beta1,
 * adam_beta2, adam_epsilon; since format_version 2 also the model's parts (clfit/parts.h):
 * activations ("relu,gelu"), dropout ("0,0.2"), loss, optimizer, momentum, nesterov, rho,
 * weight_decay, l2, clipnorm, lr_schedule, warmup_epochs, lr_gamma, plateau_factor,
 * plateau_patience and the schedule's state (schedule_epochs, schedule_steps, lr_scale,
 * plateau_best, plateau_bad_epochs). A file without them (written by clfit before) is a
 * ReLU, cross-entropy, plain Adam model. adam_m / adam_v hold the optimizer's state: Adam's
 * moments, SGD's momentum buffer (m), RMSprop's mean square (v) and momentum buffer (m).
 * Files are written atomically: "<path>.tmp" in the same directory, then rename. */
#ifndef CLFIT_MODELFILE_H
#define CLFIT_MODELFILE_H

#include <stdint.h>

#include "clfit/model.h"

typedef struct {
    long epoch;                 /* epochs trained so far */
    uint64_t seed;              /* initialisation and shuffling seed */
    int batch;                  /* batch size used */
    double validation_split;    /* fraction held out at the end of the training set */
    int rows, cols;             /* image shape the model was trained on */
} clfit_model_meta;

/* Writes m (weights, biases, Adam state and step) and meta to path, atomically.
 * Returns CLFIT_ERR_IO naming the path on failure; an existing file is then untouched. */
clfit_status clfit_model_save(const char *path, const clfit_model *m, const clfit_model_meta *meta);
/* The same file's bytes in memory: *out (malloc'd, caller frees) of *size bytes, what
 * clfit_model_parse reads back (`path` names the model in messages; may be "model"). */
clfit_status clfit_model_serialize(const clfit_model *m, const clfit_model_meta *meta, const char *path,
                                   uint8_t **out, size_t *size);

/* A table's class names (m->class_names) as the JSON array the model file and the ONNX
 * export's metadata hold ("class_names"); malloc'd (caller frees); NULL when the model has
 * none or memory runs out. */
char *clfit_class_names_json(const clfit_model *m);

/* Reads a model written by clfit_model_save. Checks the header length against the file
 * size, the JSON, every tensor's dtype, shape and offsets against the architecture in
 * the metadata. NULL and *st set (CLFIT_ERR_IO or CLFIT_ERR_FORMAT) on failure, with a
 * message naming the file and what is wrong. */
clfit_model *clfit_model_load(const char *path, clfit_model_meta *meta, clfit_status *st);

/* The same from the file's bytes (buf, size; `path` names it in messages): every metadata
 * value parsed whole and within its range, the header's keys exactly the architecture's
 * tensors (each once), their data_offsets whole numbers that cover the data exactly with
 * no overlap or gap, the header padded with spaces only, the data's length checked before
 * anything is allocated for it, and every weight and moment finite (v not negative). Also
 * the fuzz target's entry (tests/fuzz/). */
clfit_model *clfit_model_parse(const uint8_t *buf, size_t size, const char *path, clfit_model_meta *meta,
                               clfit_status *st);

/* "784-128-10" into buf; parses the same form back (CLFIT_ERR_ARG if malformed). */
void clfit_arch_format(const clfit_model_desc *d, char *buf, size_t size);
clfit_status clfit_arch_parse(const char *s, clfit_model_desc *d);

#endif
