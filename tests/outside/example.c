/* Using clfit from C: make a small data set, train one epoch, evaluate, save. The README's
 * "Use clfit from C" shows this program; tests/install.sh builds it outside the source
 * tree against an installed clfit (with pkg-config and with CMake) and runs it.
 * usage: example DIR   (writes DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte and
 *                       DIR/model.safetensors) */
#include <stdio.h>
#include <stdlib.h>

#include <clfit/cl.h>
#include <clfit/data.h>
#include <clfit/fit.h>
#include <clfit/model.h>
#include <clfit/modelfile.h>

/* n learnable 6x6 images of 3 classes (class c lights up pixels k with k % 3 == c), as
 * the IDX files clfit reads, so that `clfit evaluate --data DIR` can read them too */
static int write_split(const char *dir, const char *split, int n, unsigned seed)
{
    char path[512];
    unsigned char *img = malloc((size_t)n * 36), *lab = malloc((size_t)n);
    if (!img || !lab) return 1;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        lab[i] = (unsigned char)(seed >> 16) % 3;
        for (int k = 0; k < 36; k++) {
            seed = seed * 1103515245u + 12345u;
            img[i * 36 + k] = (unsigned char)((k % 3 == lab[i] ? 160 : 0) + (seed >> 16) % 90);
        }
    }
    unsigned char ih[16] = {0, 0, 8, 3, (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                            (unsigned char)n, 0, 0, 0, 6, 0, 0, 0, 6};
    unsigned char lh[8] = {0, 0, 8, 1, (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                           (unsigned char)n};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, split);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(ih, 1, 16, f) == 16 && fwrite(img, 1, (size_t)n * 36, f) == (size_t)n * 36;
    if (f) ok = fclose(f) == 0 && ok;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, split);
    f = fopen(path, "wb");
    ok = ok && f && fwrite(lh, 1, 8, f) == 8 && fwrite(lab, 1, (size_t)n, f) == (size_t)n;
    if (f) ok = fclose(f) == 0 && ok;
    free(img);
    free(lab);
    return !ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: example DIR\n"); return 2; }
    const char *dir = argv[1];
    if (write_split(dir, "train", 600, 1) || write_split(dir, "t10k", 100, 2)) {
        fprintf(stderr, "example: cannot write the data in %s\n", dir);
        return 1;
    }
    clfit_status st;
    clfit_dataset train, test;
    if ((st = clfit_dataset_load(dir, "train", 3, &train)) || (st = clfit_dataset_load(dir, "t10k", 3, &test))) {
        fprintf(stderr, "example: %s\n", clfit_last_error());
        return 1;
    }
    clfit_model_desc desc = {.input = 36, .nhidden = 1, .hidden = {16}, .classes = 3};
    clfit_model *m = clfit_model_new(&desc, 42, &st);          /* Glorot-uniform weights, seed 42 */
    clfit_cl *cl = m ? clfit_cl_open(NULL, &st) : NULL;         /* the first GPU, else the first device */
    clfit_fit_opts o = {.epochs = 1, .batch = 32, .shuffle = 1, .seed = 42, .gemm = CLFIT_GEMM_OWN};
    double loss = 0, acc = 0;
    if (cl) st = clfit_fit(cl, m, &train, &o);
    if (cl && !st) st = clfit_evaluate(cl, m, &test, CLFIT_GEMM_OWN, &loss, &acc);
    clfit_model_meta meta = {.epoch = 1, .seed = 42, .batch = 32, .rows = 6, .cols = 6};
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (cl && !st) st = clfit_model_save(path, m, &meta);
    if (st) fprintf(stderr, "example: %s\n", clfit_last_error());
    else printf("example: 1 epoch on %d images; test loss %.4f, accuracy %.4f; saved %s\n", train.count, loss, acc, path);
    clfit_cl_close(cl);
    clfit_model_free(m);
    clfit_dataset_free(&train);
    clfit_dataset_free(&test);
    return st ? 1 : 0;
}
