#!/bin/sh
# Side by side, in one run: clfit bench and the PyTorch peer (../shared/peers/torch_mlp.py,
# Debian's python3-torch with single-threaded OpenBLAS, its fastest setup here), each
# ROUNDS times, interleaved, at the same batch size on the real data. Prints each run's
# seconds per epoch and the ratio of the medians. Machines are noisy: only the ratio from
# one such run means anything.
# usage: tools/bench-vs-torch.sh [ROUNDS (3)] [EPOCHS per run (2)] [BATCH (32)] [clfit bench options...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} epochs=${2:-2} batch=${3:-32}
[ $# -ge 3 ] && shift 3 || shift $#
peer="$top/../shared/peers/torch_mlp.py"
clfit="$top/build/clfit"
[ -x "$clfit" ] || { echo "bench-vs-torch: build clfit first (see README)" >&2; exit 1; }
[ -f "$peer" ] || { echo "bench-vs-torch: $peer not found" >&2; exit 1; }
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "bench-vs-torch: installing python3-torch and libopenblas0-pthread" >&2
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$rounds"); do
    "$clfit" bench --epochs "$epochs" --batch "$batch" "$@" > "$tmp/clfit.$r" 2>&1
    c=$(sed -n 's/^bench: \([0-9.]*\) s\/epoch.*/\1/p' "$tmp/clfit.$r")
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
        /usr/bin/python3 "$peer" --epochs "$epochs" --batch "$batch" --threads 2 > "$tmp/torch.$r" 2>&1
    t=$(sed -n 's/^epoch seconds: mean \([0-9.]*\).*/\1/p' "$tmp/torch.$r")
    echo "round $r: clfit $c s/epoch, torch $t s/epoch"
    echo "$c" >> "$tmp/c"; echo "$t" >> "$tmp/t"
done
med() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
cm=$(med "$tmp/c") tm=$(med "$tmp/t")
grep '^bench:' "$tmp/clfit.$rounds"
grep -E '^(torch|test)' "$tmp/torch.$rounds" | head -2
awk -v c="$cm" -v t="$tm" -v b="$batch" 'BEGIN { printf "median s/epoch at batch %d: clfit %.3f, torch %.3f: clfit takes %.2f of torch'"'"'s time (%.2fx faster)\n", b, c, t, c / t, t / c }'
