#!/bin/sh
# Runs clfit on Mesa's rusticl through llvmpipe (mesa-opencl-icd, RUSTICL_ENABLE=llvmpipe):
# the compiler path of Mesa's GPU drivers (clang, SPIR-V, NIR), with its known defect, a
# cap of 65,535 loop passes a work-item (clfit/canary.h). Exit 77 (skipped) where there is
# no llvmpipe device. The cache directory is a fresh one: the canary and the first-contact
# check run for real.
# usage: rusticl.sh suite TEST_EXECUTABLE   a kernel suite, at full sizes
#        rusticl.sh verify CLFIT            clfit verify --small and the full verify
#        rusticl.sh train CLFIT             a small model trained end to end, then predict
set -u
what=$1 exe=$2
export RUSTICL_ENABLE=llvmpipe CLFIT_DEVICE=llvmpipe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CLFIT_CACHE_DIR="$tmp/cache"
devices=$(mktemp -p "$tmp")
case $what in
suite) probe=$(dirname "$exe")/../clfit ;;
*) probe=$exe ;;
esac
"$probe" devices > "$devices" 2>&1
grep -q llvmpipe "$devices" || { echo "rusticl.sh: no llvmpipe device (install mesa-opencl-icd)"; exit 77; }
fail() { echo "rusticl.sh: $*"; exit 1; }
case $what in
suite)
    "$exe" ;;
verify)
    "$exe" verify --small > "$tmp/small.txt" 2>&1 || { cat "$tmp/small.txt"; fail "verify --small failed"; }
    tail -n 1 "$tmp/small.txt"
    "$exe" verify > "$tmp/full.txt" 2>&1 || { cat "$tmp/full.txt"; fail "verify failed"; }
    grep -E 'skipped|FAIL' "$tmp/full.txt"
    tail -n 1 "$tmp/full.txt"
    grep -q '^[0-9]* comparisons, 0 failed' "$tmp/full.txt" || fail "verify reported failures" ;;
train)
    # 1,500 + 300 8x8 images whose bright pixels say the class, as IDX files
    python3 - "$tmp" <<'PY' || fail "could not write the data"
import gzip, random, struct, sys
random.seed(7)
for split, n in (("train", 1500), ("t10k", 300)):
    imgs, labs = bytearray(), bytearray()
    for _ in range(n):
        y = random.randrange(10)
        labs.append(y)
        imgs.extend(max(0, min(255, (200 if k % 10 == y else 0) + random.randint(-60, 60))) for k in range(64))
    with gzip.open(f"{sys.argv[1]}/{split}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 8, 8) + imgs)
    with gzip.open(f"{sys.argv[1]}/{split}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labs)
PY
    "$exe" train --data "$tmp" --epochs 5 --hidden 32 --save "$tmp/m.safetensors" > "$tmp/train.txt" 2>&1 ||
        { cat "$tmp/train.txt"; fail "train failed"; }
    grep -v '^MESA' "$tmp/train.txt"
    acc=$(sed -n 's/^Test: .*accuracy: \([0-9.]*\).*/\1/p' "$tmp/train.txt")
    [ -n "$acc" ] || fail "no test accuracy printed"
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "test accuracy $acc below 0.95"
    ls "$CLFIT_CACHE_DIR"/checks/*.txt > /dev/null 2>&1 || fail "no first-contact check was cached"
    # a forced set past the loop cap is refused before training, naming the kernel
    if CLFIT_TUNE=HS=64,SWGS=16,KS=1 "$exe" train --data "$tmp" --epochs 1 --hidden 128 --gemm slice \
        > "$tmp/forced.txt" 2>&1; then
        cat "$tmp/forced.txt"; fail "a forced set past the loop cap trained"
    fi
    grep -q "slice_step's .* past the device's loop cap (65535)" "$tmp/forced.txt" ||
        { cat "$tmp/forced.txt"; fail "the refusal does not name slice_step and the cap"; }
    "$exe" evaluate --model "$tmp/m.safetensors" --data "$tmp" > "$tmp/eval.txt" 2>&1 ||
        { cat "$tmp/eval.txt"; fail "evaluate failed"; } ;;
*) echo "usage: rusticl.sh suite|verify|train EXECUTABLE" >&2; exit 2 ;;
esac
