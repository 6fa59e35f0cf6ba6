#!/bin/sh
# A bash completion for clfit from the same text as --help: the commands, and each one's
# options as its --help lists them. Run by the build.
# usage: tools/completion.sh CLFIT_BINARY > clfit.bash-completion
set -eu
clfit=$1
cmds=$("$clfit" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p' | tr '\n' ' ')
echo "# bash completion for clfit (generated from clfit --help)"
echo "_clfit() {"
echo '    local cur=${COMP_WORDS[COMP_CWORD]} opts'
echo '    if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "'"$cmds"'--help" -- "$cur")); return; fi'
echo '    case ${COMP_WORDS[1]} in'
for cmd in $cmds; do
    opts=$("$clfit" "$cmd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ')
    echo "        $cmd) opts=\"$opts\" ;;"
done
echo '        *) opts="" ;;'
echo '    esac'
echo '    case $cur in'
echo '        -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;'
echo '        *) COMPREPLY=($(compgen -f -- "$cur")) ;;'
echo '    esac'
echo "}"
echo "complete -F _clfit clfit"
