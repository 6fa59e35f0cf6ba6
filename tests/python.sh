#!/bin/sh
# The Python package as a user installs it: `pip install ./python` from this checkout into
# a virtual environment made here (kept in the build directory, with PyPI's numpy,
# scikit-learn, pandas and pytest; the package itself is built afresh every run, by
# scikit-build-core through the project's CMake), then python/tests: scikit-learn's own
# estimator checks on both estimators, and pickling, errors, copies, Ctrl-C, partial_fit.
# usage: tests/python.sh BUILD_DIR SOURCE_DIR
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
venv=$build/python-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sklearn, numpy, pandas, pytest' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q numpy scikit-learn pandas pytest
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# (scikit-build-core builds in a directory of its own: the checkout stays as it is)
"$venv/bin/pip" install -q --force-reinstall --no-deps "$src/python"
cd "$tmp"
# a cache directory of its own: no tuned entry, so a small fit runs the class's defaults
CLFIT_CACHE_DIR="$tmp/cache" "$venv/bin/python" -m pytest -q -p no:cacheprovider -rs "$src/python/tests"
