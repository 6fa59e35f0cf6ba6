#!/bin/sh
# The fuzz targets (tests/fuzz/fuzz_*.c): built with clang's libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer; every saved regression input replayed; then each target
# fuzzed for SECONDS (both at once) from the seed corpus checked in under corpus/. A crash,
# leak or sanitizer report fails the run, and its input is copied into
# regressions/<target>/ to be committed: from then on every run replays it.
# usage: tests/fuzz/run.sh [SECONDS (60)] [BUILD_DIR (build-fuzz)]
# Longer: tests/fuzz/run.sh 3600; or by hand, build-fuzz/fuzz_idx -jobs=4 DIR (see README).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
out=${2:-$top/build-fuzz}
cd "$top"
command -v clang >/dev/null || { echo "fuzz: clang not found (tools/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$out"
targets="idx safetensors csv npz"
# the parsing code and what it needs: no OpenCL
src="host/status.c host/io.c host/data.c host/modelfile.c host/model.c host/ref.c host/parts.c host/table.c host/npz.c"
for t in $targets; do
    clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wall \
        -I include -I host $src "tests/fuzz/fuzz_$t.c" -lz -lcjson -lcsv -lm -o "$out/fuzz_$t"
done
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
rc=0
for t in $targets; do
    set -- tests/fuzz/regressions/$t/*
    [ -e "$1" ] || continue
    if ! "$out/fuzz_$t" "$@" > "$out/replay-$t.log" 2>&1; then
        echo "fuzz: $t: a saved regression input fails again:" >&2
        tail -n 30 "$out/replay-$t.log" >&2
        rc=1
    fi
done
[ "$rc" -eq 0 ] || exit 1
for t in $targets; do
    rm -rf "$out/corpus-$t" "$out/crash-$t"
    mkdir -p "$out/corpus-$t" "$out/crash-$t"
    # new inputs go to the build's corpus; the checked-in seeds stay as they are
    "$out/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
        -artifact_prefix="$out/crash-$t/" -print_final_stats=1 "$out/corpus-$t" "tests/fuzz/corpus/$t" \
        > "$out/fuzz-$t.log" 2>&1 &
done
wait || true
for t in $targets; do
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz-$t.log")
    set -- "$out/crash-$t"/*
    if [ -e "$1" ]; then
        mkdir -p "tests/fuzz/regressions/$t"
        cp "$@" "tests/fuzz/regressions/$t/"
        echo "fuzz: $t: FAILED after ${runs:-?} runs; input(s) saved in tests/fuzz/regressions/$t/ (commit them):" >&2
        grep -E 'ERROR|SUMMARY|runtime error' "$out/fuzz-$t.log" | head -n 5 >&2
        rc=1
    else
        echo "fuzz: $t: ${runs:-?} inputs in ${secs} s, no crash"
    fi
done
exit $rc
