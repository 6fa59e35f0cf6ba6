#!/bin/sh
# clfit and every peer a user would pick instead, side by side in one run: at each batch
# size, ROUNDS rounds, each round running clfit and then each peer once (interleaved, so
# that the machine's drift falls on all), EPOCHS epochs a run; then one table of the
# median seconds an epoch and clfit's speedup over each, and the speedups paired by round.
# The peers (../shared/peers/, README there): jax-scan (jit + lax.scan, an epoch a
# dispatch: the strongest), jax-step (a jitted step a batch), torch-debian (Debian's
# python3-torch, one-thread OpenBLAS), torch-pypi (PyPI's current release), keras-tf (the
# tutorial's own Keras code on TensorFlow) and keras-jax. PyPI's packages go into a venv
# kept in the build directory (build/peers-venv), made on first use, each package
# installed when a peer that needs it is asked for (PyPI's torch brings several GB of CUDA
# libraries). $PEERS picks them (comma-separated; default:
# jax-scan,jax-step,torch-debian). clfit runs `clfit bench` with the parameters tuned for
# each batch (run `build/clfit tune --batch 32,128,1024` first). A peer's epoch that
# compiles (JAX's epoch 0, Keras' first) is not counted. A benchmark: not part of the test
# command.
# usage: tools/bench-vs-peers.sh [ROUNDS (3)] [EPOCHS (2)] [BATCH[,BATCH...] (32,128,1024)]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} epochs=${2:-2} batches=${3:-32,128,1024}
peers=${PEERS:-jax-scan,jax-step,torch-debian}
dir="$top/../shared/peers"
clfit="$top/build/clfit"
venv="$top/build/peers-venv"
[ -x "$clfit" ] || { echo "bench-vs-peers: build clfit first (see README)" >&2; exit 1; }
[ -f "$dir/jax_mlp.py" ] || { echo "bench-vs-peers: $dir/jax_mlp.py not found" >&2; exit 1; }
need() { # need MODULE PIP-PACKAGE: the venv with it
    [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -c "import $1" 2>/dev/null && return 0
    echo "bench-vs-peers: installing $2 into $venv" >&2
    "$venv/bin/pip" install -q "$2" numpy
}
for p in $(echo "$peers" | tr ',' ' '); do
    case $p in
    jax-scan|jax-step) need jax "jax[cpu]" ;;
    torch-pypi) need torch torch ;;
    keras-tf) need tensorflow tensorflow-cpu ;;
    keras-jax) need jax "jax[cpu]"; need keras keras ;;
    torch-debian)
        /usr/bin/python3 -c 'import torch' 2>/dev/null || {
            SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
            $SUDO apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null; } ;;
    *) echo "bench-vs-peers: unknown peer '$p' (jax-scan, jax-step, torch-debian, torch-pypi, keras-tf, keras-jax)" >&2
       exit 2 ;;
    esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
med() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# the mean of a peer's "epoch N  T s" lines, its compiling epoch left out
epoch_mean() { awk -v skip="$2" '/^epoch +[0-9]+ +[0-9.]+ s/ { if ($2 != skip) { s += $3; n++ } } END { if (n) printf "%.4f\n", s / n }' "$1"; }
run_peer() { # run_peer NAME BATCH OUT: prints its s/epoch
    case $1 in
    jax-scan|jax-step)
        "$venv/bin/python" "$dir/jax_mlp.py" --mode "${1#jax-}" --epochs $((epochs + 1)) --batch "$2" > "$3" 2>&1
        epoch_mean "$3" 0 ;;
    torch-debian)
        LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
            /usr/bin/python3 "$dir/torch_mlp.py" --epochs "$epochs" --batch "$2" --threads 2 > "$3" 2>&1
        sed -n 's/^epoch seconds: mean \([0-9.]*\).*/\1/p' "$3" ;;
    torch-pypi)
        "$venv/bin/python" "$dir/torch_mlp.py" --epochs "$epochs" --batch "$2" --threads 2 > "$3" 2>&1
        sed -n 's/^epoch seconds: mean \([0-9.]*\).*/\1/p' "$3" ;;
    keras-tf|keras-jax)
        b=tensorflow; [ "$1" = keras-jax ] && b=jax
        KERAS_BACKEND=$b "$venv/bin/python" "$dir/keras_tutorial.py" --epochs $((epochs + 1)) --batch "$2" > "$3" 2>&1
        epoch_mean "$3" 1 ;;
    esac
}
for batch in $(echo "$batches" | tr ',' ' '); do
    for r in $(seq 1 "$rounds"); do
        "$clfit" bench --epochs "$epochs" --batch "$batch" > "$tmp/clfit.$batch.$r" 2>&1 ||
            { cat "$tmp/clfit.$batch.$r" >&2; exit 1; }
        c=$(sed -n 's/^bench: \([0-9.]*\) s\/epoch.*/\1/p' "$tmp/clfit.$batch.$r")
        echo "$c" >> "$tmp/clfit.$batch"
        line="batch $batch round $r: clfit $c"
        for p in $(echo "$peers" | tr ',' ' '); do
            t=$(run_peer "$p" "$batch" "$tmp/$p.$batch.$r") || true
            [ -n "$t" ] || { echo "bench-vs-peers: $p at batch $batch gave no epoch time:" >&2; tail -5 "$tmp/$p.$batch.$r" >&2; exit 1; }
            echo "$t" >> "$tmp/$p.$batch"
            line="$line, $p $t"
        done
        echo "$line s/epoch"
    done
done
grep -E '^(device|bench):' "$tmp/clfit.$(echo "$batches" | cut -d, -f1).1" | head -2
echo
printf '%-14s' "s/epoch"; for b in $(echo "$batches" | tr ',' ' '); do printf '  %8s %7s' "b=$b" "speedup"; done; echo
printf '%-14s' clfit; for b in $(echo "$batches" | tr ',' ' '); do printf '  %8.3f %7s' "$(med "$tmp/clfit.$b")" ""; done; echo
for p in $(echo "$peers" | tr ',' ' '); do
    printf '%-14s' "$p"
    for b in $(echo "$batches" | tr ',' ' '); do
        c=$(med "$tmp/clfit.$b") t=$(med "$tmp/$p.$b")
        printf '  %8.3f %6.2fx' "$t" "$(awk -v c="$c" -v t="$t" 'BEGIN { print t / c }')"
    done
    echo
done
echo "(medians of $rounds rounds of $epochs epochs; speedup: the peer's epoch over clfit's)"
# the same speedups paired by round (each round's peer epoch over that round's clfit epoch,
# then the median): a slow spell of the machine falls on both of a pair
printf '%-14s' "paired"; for b in $(echo "$batches" | tr ',' ' '); do printf '  %8s %7s' "b=$b" "speedup"; done; echo
for p in $(echo "$peers" | tr ',' ' '); do
    printf '%-14s' "$p"
    for b in $(echo "$batches" | tr ',' ' '); do
        paste "$tmp/$p.$b" "$tmp/clfit.$b" | awk '{ print $1 / $2 }' > "$tmp/ratio"
        printf '  %8s %6.2fx' "" "$(med "$tmp/ratio")"
    done
    echo
done
echo "(the median over rounds of each round's ratio)"
