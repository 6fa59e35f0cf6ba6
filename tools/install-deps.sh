#!/bin/sh
# Installs every Debian package clfit needs to build, test and train (run as root, or
# with sudo available). Used by the README's quick start and by .ci/run.
set -eu
pkgs="gcc cmake make pkg-config ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo
      libclblast-dev check zlib1g-dev libcjson-dev libcairo2-dev fonts-dejavu-core
      dataset-fashion-mnist oclgrind clang libclang-rt-14-dev openmpi-bin libopenmpi-dev
      protobuf-c-compiler libprotobuf-c-dev python3-onnx python3-venv python3-dev libcsv-dev
      mesa-opencl-icd"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
