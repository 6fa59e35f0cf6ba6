#!/usr/bin/env python3
"""clfit.MLPClassifier against scikit-learn's MLPClassifier on Fashion-MNIST, side by side in
one run: the same recipe (one hidden layer, ReLU, Adam at 1e-3, alpha 1e-4, batch 32, the
pixels / 255, every epoch run: tol 0), seconds an epoch (the fit's wall time over its
epochs, device start and upload included for clfit) and test accuracy. Runs alternate
(clfit, scikit-learn, clfit, ...) so that the machine's drift falls on both. A benchmark:
not part of the test command.

usage: tools/bench_sklearn.py [EPOCHS (3)] [ROUNDS (2)] [HIDDEN (128)]
   (with the package installed: pip install ./python; scikit-learn from the same venv)
"""
import gzip
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import clfit

DATA = os.environ.get("CLFIT_DATA", "/usr/share/datasets/fashion-mnist")


def idx(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    hidden = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    xtr = (idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / np.float32(255)).astype(np.float32)
    ytr = idx("train-labels-idx1-ubyte.gz", 8)
    xte = (idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / np.float32(255)).astype(np.float32)
    yte = idx("t10k-labels-idx1-ubyte.gz", 8)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    params = dict(hidden_layer_sizes=(hidden,), batch_size=32, max_iter=epochs, tol=0, n_iter_no_change=epochs + 1,
                  random_state=1)
    results = {"clfit": [], "scikit-learn": []}
    for r in range(rounds):
        for name, make in (("clfit", lambda: clfit.MLPClassifier(**params)), ("scikit-learn", lambda: MLPClassifier(**params))):
            est = make()
            t0 = time.perf_counter()
            est.fit(xtr, ytr)
            sec = (time.perf_counter() - t0) / est.n_iter_
            acc = est.score(xte, yte)
            results[name].append((sec, acc))
            print("round %d %-12s %.3f s/epoch, test accuracy %.4f%s" % (r + 1, name, sec, acc,
                  "  (" + est.device_params_ + ")" if name == "clfit" else ""), flush=True)
    c = np.median([s for s, _ in results["clfit"]])
    s = np.median([s for s, _ in results["scikit-learn"]])
    print("median over %d rounds of %d epochs at batch 32, 784-%d-10: clfit %.3f s/epoch (test accuracy %s), "
          "scikit-learn %.3f s/epoch (%s): clfit %.1fx faster"
          % (rounds, epochs, hidden, c, " ".join("%.4f" % a for _, a in results["clfit"]), s,
             " ".join("%.4f" % a for _, a in results["scikit-learn"]), s / c))


if __name__ == "__main__":
    main()
