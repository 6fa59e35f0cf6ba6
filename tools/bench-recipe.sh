#!/bin/sh
# The recipe beyond the tutorial (issue 16), clfit against PyTorch on this machine, one seed
# after the other, interleaved: test accuracy and training seconds of each run, then the
# means. A benchmark: not part of the test command.
# usage: tools/bench-recipe.sh [SEEDS] [EPOCHS]     (defaults 5 20; from the repository root,
#        after the README's build; PyTorch: Debian's python3-torch with libopenblas0-pthread, as
#        ../shared/peers/README.md runs it)
set -eu
seeds=${1:-5}
epochs=${2:-20}
clfit=${CLFIT:-build/clfit}
recipe="--hidden 512,256 --activation gelu --dropout 0.2 --optimizer adamw --weight-decay 1e-4 --lr-schedule cosine --warmup-epochs 1 --batch 128"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in $(seq 1 "$seeds"); do
    "$clfit" train $recipe --epochs "$epochs" --seed "$s" > "$tmp/c$s.txt" 2> /dev/null
    c_acc=$(sed -n 's/^Test: .*accuracy: \([0-9.]*\)$/\1/p' "$tmp/c$s.txt")
    c_s=$(sed -n 's/^Trained [0-9]* epochs* in \([0-9.]*\) s.*/\1/p' "$tmp/c$s.txt")
    echo "clfit seed $s: test accuracy $c_acc, $c_s s training"
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/recipe_torch.py --seed "$s" --epochs "$epochs" | tee "$tmp/t$s.txt"
    echo "$c_acc $c_s $(sed -n 's/.*test accuracy \([0-9.]*\), \([0-9.]*\) s training.*/\1 \2/p' "$tmp/t$s.txt")" >> "$tmp/all"
done
awk '{ca += $1; cs += $2; ta += $3; ts += $4; n++} END {
    printf "means over %d seeds: clfit test accuracy %.4f, %.1f s; PyTorch %.4f, %.1f s; clfit %.2fx faster\n",
           n, ca / n, cs / n, ta / n, ts / n, ts / cs }' "$tmp/all"
