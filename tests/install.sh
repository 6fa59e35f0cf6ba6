#!/bin/sh
# clfit installed and used as a stranger would: `cmake --install` of this build into a
# fresh prefix, then tests/outside/example.c built outside the source tree twice (with
# pkg-config and with find_package(clfit)), each run (one epoch on small data through the
# public API, a saved model), and the installed `clfit evaluate` reading that model; the
# man page and the bash completion name every command and option --help does.
# usage: tests/install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
clfit=$prefix/bin/clfit
[ -x "$clfit" ] || { echo "install: no bin/clfit"; exit 1; }
pc=$(find "$prefix" -name clfit.pc | head -n 1)
cfg=$(find "$prefix" -name clfitConfig.cmake | head -n 1)
man=$(find "$prefix" -name clfit.1 | head -n 1)
comp=$(find "$prefix" -path '*bash-completion/completions/clfit' | head -n 1)
for f in "$pc" "$cfg" "$man" "$comp" "$prefix/include/clfit/fit.h"; do
    [ -n "$f" ] && [ -f "$f" ] || { echo "install: missing $f"; cat "$tmp/install.log"; exit 1; }
done
libdir=$(dirname "$(find "$prefix" -name 'libclfit.so.0' | head -n 1)")
[ -f "$libdir/libclfit.a" ] || { echo "install: no static library beside the shared one"; exit 1; }
objdump -p "$libdir/libclfit.so.0" | grep -q 'SONAME *libclfit.so.0' || { echo "install: the shared library has no soname libclfit.so.0"; exit 1; }
# nothing of the source tree is needed: the kernels are embedded
cd "$tmp"
export CLFIT_CACHE_DIR="$tmp/cache" CLFIT_QUICK_TUNE=0 LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cp "$src/tests/outside/example.c" "$src/tests/outside/CMakeLists.txt" "$tmp/"
# 1. pkg-config
PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --exists clfit || { echo "install: pkg-config does not find clfit"; exit 1; }
cc -Wall -o example-pc example.c $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs clfit)
mkdir d1 && ./example-pc d1
"$clfit" evaluate --model d1/model.safetensors --data d1 | grep -q '^Test: loss: ' || { echo "install: clfit evaluate failed on d1"; exit 1; }
# 2. find_package(clfit)
cmake -S . -B b -DCMAKE_PREFIX_PATH="$prefix" > cmake.log 2>&1 || { cat cmake.log; exit 1; }
cmake --build b > build.log 2>&1 || { cat build.log; exit 1; }
mkdir d2 && ./b/example d2
"$clfit" evaluate --model d2/model.safetensors --data d2 | grep -q '^Test: loss: ' || { echo "install: clfit evaluate failed on d2"; exit 1; }
# 3. the man page and the completion cover every command and option of --help
for cmd in $("$clfit" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p'); do
    grep -q "^\.SH \"clfit $cmd\"" "$man" || { echo "install: the man page lacks clfit $cmd"; exit 1; }
    for opt in $("$clfit" "$cmd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -q -- "$opt" "$man" || { echo "install: the man page lacks $cmd $opt"; exit 1; }
        grep "^ *$cmd)" "$comp" | grep -q -- "$opt" || { echo "install: the completion lacks $cmd $opt"; exit 1; }
    done
done
echo "install: installed into a fresh prefix; example built with pkg-config and with find_package, run, and its models evaluated by the installed clfit"
