#!/bin/sh
# clfit export checked by ONNX Runtime: models trained 1 epoch on the real Fashion-MNIST (the
# tutorial's, and two with every other activation, dropout included),
# exported (with --softmax, and --flat without), run by ONNX Runtime (PyPI's onnxruntime
# in a virtual environment made here, kept in the build directory) on the whole test set:
# the same accuracy as clfit evaluate (as printed, 4 decimals), and probabilities within
# 1e-5 of clfit predict --csv for every test image (float32 both ways; the sums run in
# other orders); and a table's model (its standardisation inside the graph, its class names
# in the metadata) against clfit predict on the raw columns, and a regression model's
# estimates of two value columns likewise. Bad input gets one line.
# Skipped (exit 77) without the real data.
# usage: tests/onnx.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
clfit=$build/clfit
data=/usr/share/datasets/fashion-mnist
[ -f "$data/t10k-images-idx3-ubyte.gz" ] || { echo "onnx: $data not installed: skipped"; exit 77; }
venv=$build/onnx-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import onnxruntime, numpy' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q onnxruntime numpy
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export CLFIT_CACHE_DIR="$tmp" CLFIT_QUICK_TUNE=0
cat > check.py <<'PY'
import gzip, struct, sys
import numpy as np, onnxruntime as ort
data, acc = sys.argv[1], sys.argv[2]
def idx(path):
    b = gzip.open(path).read()
    nd = b[3]
    dims = struct.unpack(">" + "I" * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)
x = idx(data + "/t10k-images-idx3-ubyte.gz").astype(np.float32) / np.float32(255)
y = idx(data + "/t10k-labels-idx1-ubyte.gz")
run = lambda f, a: ort.InferenceSession(f, providers=["CPUExecutionProvider"]).run(None, {"input": a})[0]
p = run("soft.onnx", x)
logits = run("flat.onnx", x.reshape(len(x), -1)).astype(np.float64)
q = np.exp(logits - logits.max(1, keepdims=True)); q /= q.sum(1, keepdims=True)
got = "%.4f" % (p.argmax(1) == y).mean()
csv = np.loadtxt("probs.csv", delimiter=",", skiprows=1)
diff = np.abs(p[csv[:, 0].astype(int)] - csv[:, 2:]).max()
dflat = np.abs(q - p).max()
print("onnx: ONNX Runtime %s: test accuracy %s (clfit evaluate %s); probabilities of %d images within %.2g of clfit "
      "predict; the flat logits' softmax within %.2g" % (ort.__version__, got, acc, len(csv), diff, dflat))
ok = got == acc and diff <= 1e-5 and dflat <= 1e-5 and (csv[:, 1] == y[:len(csv)]).all()
sys.exit(0 if ok else 1)
PY
# check MODEL TRAIN-ARGS...: train, export, predict, and compare in ONNX Runtime
check() {
    name=$1
    shift
    "$clfit" train --epochs 1 "$@" --save m.safetensors > train.txt 2> /dev/null
    "$clfit" export --model m.safetensors -o soft.onnx --softmax > /dev/null
    "$clfit" export --model m.safetensors -o flat.onnx --flat > /dev/null
    acc=$("$clfit" evaluate --model m.safetensors 2> /dev/null | sed -n 's/^Test: .*accuracy: \([0-9.]*\)$/\1/p')
    rm -f probs.csv
    for s in $(seq 0 1000 9000); do # predict takes up to 1024 indices a call
        "$clfit" predict --model m.safetensors --index "$(seq -s, "$s" $((s + 999)))" --csv 2> /dev/null |
            { [ "$s" -eq 0 ] && cat || tail -n +2; } >> probs.csv
    done
    printf '%s ' "$name"
    "$venv/bin/python" check.py "$data" "$acc"
}
check "tutorial:"
check "gelu,silu,leaky_relu + dropout:" --hidden 48,32,16 --activation gelu,silu,leaky_relu --dropout 0.2,0.1,0 --batch 128
check "tanh,sigmoid,linear + adamw:" --hidden 32,16,8 --activation tanh,sigmoid,linear --optimizer adamw --weight-decay 0.01 --batch 64
# a table's model: its standardisation inside the graph (Sub, Div), its class names in the
# metadata; ONNX Runtime on the raw columns against clfit predict on the same file
cat > table.py <<'PY'
import csv, json, sys
import numpy as np, onnxruntime as ort
rng = np.random.default_rng(3)
if sys.argv[1] == "make":
    for name, n in (("t_train.csv", 400), ("t_test.csv", 150)):
        y = rng.integers(0, 3, n)
        x = np.stack([100 + 40 * y + rng.normal(0, 30, n), 0.01 * y + rng.normal(0, 0.01, n), rng.normal(5, 2, n)], 1)
        with open(name, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["big", "small", "noise", "kind"])
            for r, c in zip(x, y): w.writerow(["%.6g" % v for v in r] + [["a, first", "b", "c \"third\""][c]])
    sys.exit(0)
rows = list(csv.reader(open("t_test.csv")))[1:]
x = np.array([[float(v) for v in r[:3]] for r in rows], np.float32)
s = ort.InferenceSession("table.onnx", providers=["CPUExecutionProvider"])
p = s.run(None, {"input": x})[0]
names = json.loads(s.get_modelmeta().custom_metadata_map["class_names"])
pred = list(csv.reader(open("table_probs.csv")))
want = np.array([[float(v) for v in r[3:]] for r in pred[1:]])
diff = np.abs(p - want).max()
print("onnx: table: ONNX Runtime's probabilities within %.2g of clfit predict; classes %s" % (diff, names))
ok = diff <= 1e-5 and pred[0][3:] == names == ["a, first", "b", 'c "third"']
sys.exit(0 if ok else 1)
PY
"$venv/bin/python" table.py make
"$clfit" train --data t_train.csv --test t_test.csv --epochs 3 --hidden 8 --save t.safetensors > /dev/null 2>&1
"$clfit" export --model t.safetensors -o table.onnx --softmax > /dev/null
"$clfit" predict --model t.safetensors --data t_test.csv > table_probs.csv 2> /dev/null
"$venv/bin/python" table.py check
# a regression model: two value columns, its estimates through ONNX Runtime against clfit
# predict's on the same file, the targets' names and "values" in the metadata
cat > regress.py <<'PY'
import csv, json, sys
import numpy as np, onnxruntime as ort
rng = np.random.default_rng(4)
if sys.argv[1] == "make":
    for name, n in (("r_train.csv", 400), ("r_test.csv", 150)):
        x = np.stack([rng.normal(50, 20, n), rng.normal(0, 0.01, n)], 1)
        with open(name, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["a", "b", "price, usd", "z"])
            for r in x: w.writerow(["%.6g" % v for v in r] + ["%.6g" % (3 * r[0] + 100 * r[1]), "%.6g" % (r[0] * r[1])])
    sys.exit(0)
rows = list(csv.reader(open("r_test.csv")))[1:]
x = np.array([[float(v) for v in r[:2]] for r in rows], np.float32)
s = ort.InferenceSession("regress.onnx", providers=["CPUExecutionProvider"])
p = s.run(None, {"input": x})[0]
meta = s.get_modelmeta().custom_metadata_map
names = json.loads(meta["class_names"])
pred = list(csv.reader(open("regress_values.csv")))
want = np.array([[float(v) for v in r[3:]] for r in pred[1:]])
diff = np.abs(p - want).max() / max(1.0, np.abs(want).max())
print("onnx: regression: ONNX Runtime's estimates within %.2g (relative) of clfit predict; targets %s" % (diff, names))
ok = p.shape == (len(rows), 2) and diff <= 1e-5 and names == ["price, usd", "z"] and meta["targets"] == "values"
sys.exit(0 if ok else 1)
PY
"$venv/bin/python" regress.py make
"$clfit" train --data r_train.csv --test r_test.csv --loss mse --target "2,z" --epochs 3 --hidden 8 --save r.safetensors > /dev/null 2>&1
"$clfit" export --model r.safetensors -o regress.onnx > /dev/null
"$clfit" predict --model r.safetensors --data r_test.csv > regress_values.csv 2> /dev/null
"$venv/bin/python" regress.py check
# bad input: one line each, exit 1
printf 'not a model' > text.safetensors
if "$clfit" export --model text.safetensors -o x.onnx 2> err.txt; then echo "onnx: a text file exported"; exit 1; fi
[ "$(wc -l < err.txt)" -eq 1 ] && grep -q 'text.safetensors' err.txt || { echo "onnx: bad message:"; cat err.txt; exit 1; }
if "$clfit" export --model m.safetensors -o no/such/dir/x.onnx 2> err.txt; then echo "onnx: wrote into a missing directory"; exit 1; fi
grep -q 'no/such/dir/x.onnx: cannot write' err.txt || { echo "onnx: bad message:"; cat err.txt; exit 1; }
