#!/bin/sh
# Runs one kernel suite under Oclgrind's simulated device at small sizes, with data-race,
# uninitialised-value and API checks on. Fails if the suite fails or Oclgrind reports
# anything at all (out-of-bounds access, race, bad API use): its log must stay empty.
# usage: oclgrind.sh OCLGRIND TEST_EXECUTABLE
set -u
oclgrind=$1 test=$2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# CLBlast's own kernels are not ours to check and take minutes simulated: skip them (tag).
CLFIT_TEST_SMALL=1 CK_EXCLUDE_TAGS=clblast CK_DEFAULT_TIMEOUT=600 \
    "$oclgrind" --data-races --uninitialized --check-api --log "$log" "$test"
rc=$?
if [ -s "$log" ]; then
    echo "oclgrind reported:"; head -n 60 "$log"
    exit 1
fi
exit $rc
