#!/bin/sh
# The one script to run on a lent GPU machine (see ../shared/device/README.md). It builds
# nothing: it runs the clfit staged by ../shared/device/stage.sh.
#   here:    cmake --build build -j && ../shared/device/stage.sh
#   device:  carry [".device"], command ". .device/env.sh > /dev/null && sh tools/gpu-check.sh"
#            (env.sh is sourced again here, with its report kept)
#   here:    sh tools/gpu-check.sh   (the same run against PoCL, to try the script)
# Writes into $OUT (default /tmp/clfit-gpu-check), headline figures first:
#   summary.txt     devices; the tutorial (10 epochs at batch 32, no profiling): training
#                   seconds and test accuracy; the PyTorch peer on CUDA, eager and with CUDA
#                   graphs; tune; verify; bench of each backend at batch 32, 128 and 1024;
#                   one profiled epoch's kernel table
#   trace.json.gz   that epoch's Chrome trace
#   logs.tar.gz     every step's full output and the tuning database
# Each step has a timeout; together they stay under 8 minutes, below the device call's 10.
# A step that fails or times out is noted in the summary and the script goes on.
set -u
out=${OUT:-/tmp/clfit-gpu-check}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -f .device/env.sh ] && [ -x .device/bin/clfit ] ||
    { echo "gpu-check: no staged clfit: run ../shared/device/stage.sh first" >&2; exit 1; }
mkdir -p "$out"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
. .device/env.sh > "$logs/env.txt" 2>&1
clfit="$top/.device/bin/clfit"
peer="$top/.device/bin/torch_mlp.py"
export CLFIT_CACHE_DIR="$logs/cache"   # a fresh tuning database: the defaults first
export CLFIT_DATA="$top/.device/data"
sum="$out/summary.txt"
: > "$sum"
say() { echo "$*" | tee -a "$sum"; }
# step NAME SECONDS CMD...: runs CMD with a timeout, its output in $logs/NAME.txt
step() {
    name=$1 secs=$2
    shift 2
    t0=$(date +%s.%N)
    timeout "$secs" "$@" > "$logs/$name.txt" 2>&1
    rc=$?
    dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    [ "$rc" -eq 124 ] && what="TIMED OUT after ${secs}s" || what="exit $rc"
    say "-- $name: $what in ${dt}s"
    [ "$rc" -eq 0 ] || tail -n 2 "$logs/$name.txt" | sed 's/^/   | /' | tee -a "$sum"
    return $rc
}
pick() { grep -E "$2" "$logs/$1.txt" | tee -a "$sum"; }

say "clfit gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
grep -E '^env.sh|GPU|NVIDIA' "$logs/env.txt" | head -n 8 | tee -a "$sum"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null | tee -a "$sum"

step devices 20 "$clfit" devices
pick devices '^ *\*|device'

# the headline: the tutorial as a user runs it, with the device class's defaults
say ""
step train 75 env CLFIT_QUICK_TUNE=0 "$clfit" train --epochs 10 --batch 32 --history "$logs/history.csv"
pick train '^clfit:|^Epoch (1|10)/|^Trained|^Test'

say ""
for mode in eager graphs; do
    flag=; [ "$mode" = graphs ] && flag=--graphs
    step "torch-$mode" 45 env PYTHONUNBUFFERED=1 python3 "$peer" --device cuda $flag --epochs 10 --batch 32
    pick "torch-$mode" '^torch|^epoch( |  )(1|10) |seconds|test'
done

say ""
step tune 75 "$clfit" tune --batch 32 --budget 45
pick tune '^batch [0-9]+:'

say ""
step verify 45 "$clfit" verify --all
pick verify 'comparisons|FAIL' | head -n 12

# each backend at three batch sizes; the tuned parameters for batch 32 are reused (no
# quick tune) so that the backends differ only in themselves
say ""
say "bench: backend batch s/epoch ..."
t_end=$(( $(date +%s) + 130 ))
for b in 32 128 1024; do
    for g in slice own clblast; do
        left=$(( t_end - $(date +%s) ))
        [ "$left" -gt 5 ] || { say "bench $g $b: skipped (out of time)"; continue; }
        [ "$left" -gt 30 ] && left=30
        timeout "$left" env CLFIT_QUICK_TUNE=0 "$clfit" bench --epochs 1 --batch "$b" --gemm "$g" \
            > "$logs/bench-$g-$b.txt" 2>&1
        rc=$?
        line=$(grep '^bench:' "$logs/bench-$g-$b.txt")
        say "bench $g $b: ${line:-exit $rc$( [ "$rc" -eq 124 ] && echo ' (timed out)')}"
    done
done

say ""
step profile 45 "$clfit" train --epochs 1 --batch 32 --profile --trace "$logs/trace.json"
sed -n '/^Kernel times/,$p' "$logs/profile.txt" | head -n 30 | tee -a "$sum"
[ -s "$logs/trace.json" ] && gzip -c "$logs/trace.json" > "$out/trace.json.gz"

cp "$logs/cache/tuning.json" "$logs/" 2>/dev/null
tar -czf "$out/logs.tar.gz" -C "$logs" --exclude ./cache --exclude ./trace.json . 2>/dev/null
say ""
say "files: $(ls "$out" | tr '\n' ' ')"
