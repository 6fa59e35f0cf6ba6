#!/usr/bin/python3
"""clfit on small public tables against scikit-learn's MLPClassifier and MLPRegressor, on
the same split.

The tables are scikit-learn's own (Debian's python3-sklearn ships them: iris, wine, breast
cancer to classify; diabetes (one target) and linnerud (three) to regress on). Each is
split 70/30 (the classes stratified), seed 0, and written as CSV with a header (a
classifier's classes' names as strings); then `clfit train --data train.csv --test
test.csv` (with --loss mse and --target listing the target columns for a regression) and
scikit-learn's StandardScaler + MLPClassifier / MLPRegressor run the same recipe: one
hidden layer of 100 ReLU units, Adam at 1e-3, L2 alpha 1e-4, batch min(200, n), 200
epochs (scikit-learn's defaults; its early stop on a flat loss is turned off so that both
run every epoch). Prints each table's test accuracy, or test MSE, for both, over seeds
1..SEEDS. A benchmark: not part of the test command.

usage: tools/compare_tables.py [SEEDS]   (from the repository root, after the README's build)
"""
import csv
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_squared_error
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

CLFIT = os.environ.get("CLFIT", "build/clfit")
SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def write(path, x, y, names, features):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(features) + ["class"])
        for row, c in zip(x, y):
            w.writerow(["%.9g" % v for v in row] + [names[c]])


def write_values(path, x, y, features, targets):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(features) + list(targets))
        for row, t in zip(x, y):
            w.writerow(["%.9g" % v for v in row] + ["%.9g" % v for v in np.atleast_1d(t)])


def regressions(tmp):
    tables = {"diabetes": datasets.load_diabetes(), "linnerud": datasets.load_linnerud()}
    for name, t in tables.items():
        names = ["target"] if t.target.ndim == 1 else list(t.target_names)
        xtr, xte, ytr, yte = train_test_split(t.data, t.target, test_size=0.3, random_state=0)
        tr, te = os.path.join(tmp, name + "_train.csv"), os.path.join(tmp, name + "_test.csv")
        write_values(tr, xtr, ytr, t.feature_names, names)
        write_values(te, xte, yte, t.feature_names, names)
        batch = min(200, len(xtr))
        c_mse, s_mse = [], []
        for seed in range(1, SEEDS + 1):
            out = subprocess.run([CLFIT, "train", "--data", tr, "--test", te, "--loss", "mse", "--target", ",".join(names),
                                  "--hidden", "100", "--batch", str(batch), "--epochs", "200", "--l2", "1e-4",
                                  "--seed", str(seed)], capture_output=True, text=True, check=True).stdout
            c_mse.append(float(re.search(r"^Test: mse: ([0-9.]+)", out, re.M).group(1)))
            mlp = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(100,), alpha=1e-4, batch_size=batch,
                                                               learning_rate_init=1e-3, max_iter=200, n_iter_no_change=200,
                                                               random_state=seed))
            mlp.fit(xtr, ytr)
            s_mse.append(mean_squared_error(yte, mlp.predict(xte)))
        print("%-14s %4d train %4d test, %d target%s: test MSE clfit %s (mean %.1f); scikit-learn %s (mean %.1f): "
              "clfit/scikit-learn %.3f" % (name, len(xtr), len(xte), len(names), "" if len(names) == 1 else "s",
                                           " ".join("%.1f" % a for a in c_mse), np.mean(c_mse),
                                           " ".join("%.1f" % a for a in s_mse), np.mean(s_mse),
                                           np.mean(c_mse) / np.mean(s_mse)))


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # 200 epochs, as asked
    tables = {"iris": datasets.load_iris(), "wine": datasets.load_wine(), "breast_cancer": datasets.load_breast_cancer()}
    tmp = tempfile.mkdtemp()
    for name, t in tables.items():
        xtr, xte, ytr, yte = train_test_split(t.data, t.target, test_size=0.3, stratify=t.target, random_state=0)
        tr, te = os.path.join(tmp, name + "_train.csv"), os.path.join(tmp, name + "_test.csv")
        write(tr, xtr, ytr, list(t.target_names), t.feature_names)
        write(te, xte, yte, list(t.target_names), t.feature_names)
        batch = min(200, len(xtr))
        c_acc, s_acc = [], []
        for seed in range(1, SEEDS + 1):
            out = subprocess.run([CLFIT, "train", "--data", tr, "--test", te, "--hidden", "100", "--batch", str(batch),
                                  "--epochs", "200", "--l2", "1e-4", "--seed", str(seed)],
                                 capture_output=True, text=True, check=True).stdout
            c_acc.append(float(re.search(r"^Test: .*accuracy: ([0-9.]+)$", out, re.M).group(1)))
            mlp = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(100,), alpha=1e-4, batch_size=batch,
                                                                 learning_rate_init=1e-3, max_iter=200, n_iter_no_change=200,
                                                                 random_state=seed))
            mlp.fit(xtr, ytr)
            s_acc.append(mlp.score(xte, yte))
        print("%-14s %4d train %4d test: clfit %s (mean %.4f); scikit-learn %s (mean %.4f)" % (
            name, len(xtr), len(xte), " ".join("%.4f" % a for a in c_acc), np.mean(c_acc),
            " ".join("%.4f" % a for a in s_acc), np.mean(s_acc)))
    regressions(tmp)


if __name__ == "__main__":
    main()
