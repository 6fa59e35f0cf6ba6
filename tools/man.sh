#!/bin/sh
# clfit(1) from the same text as --help: the overview, then each command's --help, as
# roff. Run by the build (the man page is generated, never edited by hand).
# usage: tools/man.sh CLFIT_BINARY VERSION > clfit.1
set -eu
clfit=$1 version=$2
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
echo ".TH CLFIT 1 \"\" \"clfit $version\" \"User Commands\""
echo ".SH NAME"
echo "clfit \\- train neural networks with OpenCL kernels checked against a CPU reference"
echo ".SH SYNOPSIS"
echo ".B clfit"
echo "COMMAND [OPTIONS]"
echo ".SH DESCRIPTION"
echo ".nf"
"$clfit" --help | esc
echo ".fi"
for cmd in $("$clfit" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p'); do
    echo ".SH \"clfit $cmd\""
    echo ".nf"
    "$clfit" "$cmd" --help | esc
    echo ".fi"
done
echo ".SH EXIT STATUS"
echo "0 on success, 1 when the work fails (a bad file, a device error, a NaN loss), 2 on bad usage."
echo ".SH SEE ALSO"
echo "mpirun(1); the README and PERFORMANCE.md of clfit's source."
