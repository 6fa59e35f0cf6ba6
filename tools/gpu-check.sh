#!/bin/sh
# The one script to run on a lent NVIDIA machine (see ../shared/device/README.md):
#   here:   ../shared/device/stage.sh
#   device: run with carry [".device"] and command "sh tools/gpu-check.sh"
# Builds clfit against the carried CLBlast and ICD loader, then records into $OUT:
# the devices, verify on the GPU, bench with each backend, and the 10-epoch tutorial.
set -u
out=${OUT:-/tmp/clfit-gpu}
mkdir -p "$out"
. .device/env.sh > "$out/env.txt" 2>&1
cat "$out/env.txt"
log() { echo "== $*" | tee -a "$out/summary.txt"; }
{ clinfo -l; nvidia-smi; } > "$out/clinfo.txt" 2>&1
b=/tmp/clfit-build
cmake -S . -B "$b" -DCLFIT_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$PWD/.device" > "$out/cmake.txt" 2>&1 &&
    cmake --build "$b" -j16 >> "$out/cmake.txt" 2>&1 || { log "build failed"; tail -30 "$out/cmake.txt"; exit 1; }
export CLFIT_CACHE_DIR="$out/cache"
t() { s=$1; shift; timeout "$s" "$@"; }
log "devices"; t 60 "$b/clfit" devices 2>&1 | tee "$out/devices.txt"
log "verify"; t 120 "$b/clfit" verify --all > "$out/verify.txt" 2>&1; echo "verify rc=$?" | tee -a "$out/summary.txt"
tail -3 "$out/verify.txt"; grep FAIL "$out/verify.txt" | head -20
for g in clblast own; do
    log "bench --gemm $g"; t 120 "$b/clfit" bench --epochs 3 --gemm $g > "$out/bench-$g.txt" 2>&1
    grep -E '^bench|^device' "$out/bench-$g.txt" | tee -a "$out/summary.txt"
done
for bs in 128 1024; do
    log "bench --batch $bs (auto)"; t 120 "$b/clfit" bench --epochs 3 --batch $bs > "$out/bench-b$bs.txt" 2>&1
    grep -E '^bench|auto' "$out/bench-b$bs.txt" | tee -a "$out/summary.txt"
done
log "train (tutorial, 10 epochs, auto)"
t 180 "$b/clfit" train --trace "$out/trace.json" --profile > "$out/train.txt" 2>&1
grep -E '^Epoch|^Test' "$out/train.txt" | tee -a "$out/summary.txt"
