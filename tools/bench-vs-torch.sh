#!/bin/sh
# Side by side, in one run: clfit bench and the PyTorch peer (../shared/peers/torch_mlp.py,
# Debian's python3-torch with single-threaded OpenBLAS, its fastest setup here), each
# ROUNDS times, interleaved, at the same batch size on the real data. Prints each run's
# seconds per epoch and the ratio of the medians; with several batch sizes, a table of
# them at the end. Machines are noisy: only ratios from one such run mean anything.
# clfit runs with the parameters tuned for each batch (a short tune first where there
# are none; run `build/clfit tune --batch 32,128,...` before for the full search).
# usage: tools/bench-vs-torch.sh [ROUNDS (3)] [EPOCHS per run (2)] [BATCH[,BATCH...] (32)]
#                                [clfit bench options...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} epochs=${2:-2} batches=${3:-32}
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
med() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for batch in $(echo "$batches" | tr ',' ' '); do
    for r in $(seq 1 "$rounds"); do
        "$clfit" bench --epochs "$epochs" --batch "$batch" "$@" > "$tmp/clfit.$batch.$r" 2>&1 ||
            { cat "$tmp/clfit.$batch.$r" >&2; exit 1; }
        c=$(sed -n 's/^bench: \([0-9.]*\) s\/epoch.*/\1/p' "$tmp/clfit.$batch.$r")
        LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
            /usr/bin/python3 "$peer" --epochs "$epochs" --batch "$batch" --threads 2 > "$tmp/torch.$batch.$r" 2>&1 ||
            { cat "$tmp/torch.$batch.$r" >&2; exit 1; }
        t=$(sed -n 's/^epoch seconds: mean \([0-9.]*\).*/\1/p' "$tmp/torch.$batch.$r")
        echo "batch $batch round $r: clfit $c s/epoch, torch $t s/epoch"
        echo "$c" >> "$tmp/c.$batch"; echo "$t" >> "$tmp/t.$batch"
    done
    cm=$(med "$tmp/c.$batch") tm=$(med "$tmp/t.$batch")
    grep -E '^(device|bench):' "$tmp/clfit.$batch.$rounds"
    grep -E '^(torch|test)' "$tmp/torch.$batch.$rounds" | head -2
    awk -v c="$cm" -v t="$tm" -v b="$batch" 'BEGIN { printf "median s/epoch at batch %d: clfit %.3f, torch %.3f: clfit takes %.2f of torch'"'"'s time (%.2fx faster)\n", b, c, t, c / t, t / c }' |
        tee -a "$tmp/summary"
done
if [ "$(wc -l < "$tmp/summary")" -gt 1 ]; then
    echo
    printf '%6s  %14s  %14s  %8s\n' batch "clfit s/epoch" "torch s/epoch" "speedup"
    sed -n 's/^median s\/epoch at batch \([0-9]*\): clfit \([0-9.]*\), torch \([0-9.]*\).*(\([0-9.]*x\) faster)$/\1 \2 \3 \4/p' "$tmp/summary" |
        while read -r b c t x; do printf '%6s  %14s  %14s  %8s\n' "$b" "$c" "$t" "$x"; done
fi
