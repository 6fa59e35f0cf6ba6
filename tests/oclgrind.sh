#!/bin/sh
# Runs one kernel suite under Oclgrind's simulated device at small sizes, with data-race
# and API checks on. Fails if the suite fails or Oclgrind reports anything at all
# (out-of-bounds access, race, bad API use) on stderr, where nothing else writes in
# these suites (Check reports on stdout). Not --log: every new context reopens and
# truncates the log file, so only the last test's diagnostics would survive.
# Not --uninitialized: Oclgrind 21.10's plugin stops on LLVM's `freeze` instruction
# ("Unsupported instruction"), which the fused kernels compile to.
# usage: oclgrind.sh OCLGRIND TEST_EXECUTABLE
set -u
oclgrind=$1 test=$2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# CLBlast's own kernels are not ours to check and take minutes simulated: skip them (tag).
CLFIT_TEST_SMALL=1 CK_EXCLUDE_TAGS=clblast \
    "$oclgrind" --data-races --check-api "$test" 2> "$log"
rc=$?
if [ -s "$log" ]; then
    echo "oclgrind reported:"; head -n 60 "$log"
    exit 1
fi
exit $rc
