#!/bin/sh
# The README's test command: installs what is missing, builds, and runs every suite on
# PoCL (unit + oclgrind labels), then again built with AddressSanitizer and UBSan, then
# the fuzz targets for a minute (tests/fuzz/run.sh; $CLFIT_FUZZ_SECONDS changes that).
# usage: tools/test.sh            (from anywhere inside the repository)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo) and test on PoCL, then under oclgrind"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs")

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer and test"
# (without MPI: Open MPI's allocations at exit are LeakSanitizer's noise, and the suite then
# checks that a build without it refuses mpirun's several processes)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCLFIT_SANITIZE=ON -DCLFIT_MPI=OFF >/dev/null
cmake --build build-asan -j "$jobs"
# fast_unwind_on_malloc=0: full allocation stacks, so that lsan.supp can name PoCL's
# kernel compiler. intercept_tls_get_addr=0: GCC 12's runtime misreads dynamic TLS blocks
# (which PoCL's dlopen'ed kernels create) as pre-2.25 glibc ones, and LeakSanitizer's
# tracer then crashes at exit now and then ("Tracer caught signal 11"; fixed upstream in
# GCC 14 / LLVM 17); seen once in a CI-like run of this suite.
# OCL_ICD_VENDORS: PoCL's ICD alone, so that Mesa's (mesa-opencl-icd, for the rusticl suites
# of the first build) is not loaded: its allocations at exit would be LeakSanitizer's reports.
(cd build-asan && OCL_ICD_VENDORS=/etc/OpenCL/vendors/pocl.icd ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0" ctest --output-on-failure -j "$jobs")
echo "== fuzz the file readers (libFuzzer, ASan, UBSan), replaying every saved regression input"
tests/fuzz/run.sh "${CLFIT_FUZZ_SECONDS:-60}"
echo "tools/test.sh: all suites passed"
