#!/bin/bash
# The bash completion the build generated (build/completion/tcpscope),
# sourced in bash and asked as bash would ask it at a <TAB> (COMP_WORDS,
# COMP_CWORD): the subcommands, options, option values and scenario names,
# and every option that the built binary's --help lists for each command.
# Usage: bash_completion_test.sh TCPSCOPE COMPLETION_FILE
set -u
tcpscope=$1
completion=$2
. "$(dirname "$0")/help_options.sh"
# shellcheck disable=SC1090
. "$completion" || { echo "FAIL: cannot source $completion"; exit 1; }
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

complete -p tcpscope | grep -q -- "-F _tcpscope" || fail "no completion registered for tcpscope"

# complete WORD... : what <TAB> offers with the last word under the cursor,
# sorted, one line.
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _tcpscope
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect "OFFERED" WORD...: <TAB> offers exactly OFFERED.
expect() {
    local want=$1
    shift
    local got
    got=$(complete_line "$@")
    if [ "$got" = "$want" ]; then
        echo "ok: '$*<TAB>' -> $got"
    else
        fail "'$*<TAB>': wanted '$want', got '$got'"
    fi
}

# offers "WORD" WORD...: <TAB> offers WORD among others.
offers() {
    local want=$1
    shift
    local got
    got=$(complete_line "$@")
    case " $got " in
        *" $want "*) echo "ok: '$*<TAB>' offers $want" ;;
        *) fail "'$*<TAB>' does not offer '$want' (got '$got')" ;;
    esac
}

expect "trace" tcpscope tr
expect "close-wait-forever" tcpscope run close-w
expect "--connections" tcpscope trace --conn
expect "--container" tcpscope trace --conta
expect "exec" tcpscope ex
expect "--stuck --stuck-period" tcpscope trace --stuck
expect "relative wall" tcpscope trace --timestamps ""
# --timestamps=w: bash splits the word at "=".
expect "wall" tcpscope trace --timestamps = w
expect "comm container netns port" tcpscope metrics --labels ""
# A number, a pid: nothing to offer.
expect "" tcpscope trace --pid ""
expect "" tcpscope trace --duration ""
# An option's value is not taken for the subcommand.
expect "--json" tcpscope trace --comm run --js
# run's name after its options; --all's partner.
expect "epoll-edge-triggered epoll-rdhup" tcpscope run --json epoll
offers "--all" tcpscope run --
offers "--long" tcpscope list --l
offers "root" tcpscope exec --user ro
# exec: "--" is offered; after it a command, then files.
offers "--" tcpscope exec --json ""
offers "bash" tcpscope exec -- bas
tmp=$(mktemp -d)
touch "$tmp/request-body.txt"
expect "$tmp/request-body.txt" tcpscope exec --json -- curl "$tmp/request-b"
expect "$tmp/request-body.txt" tcpscope trace --output "$tmp/request-b"
rm -rf "$tmp"

# Everything the binary's own --help lists.
commands=$(help_subcommands "$tcpscope")
[ -n "$commands" ] || fail "tcpscope --help lists no subcommand"
for c in $commands; do
    offers "$c" tcpscope ""
    for option in $(help_options "$tcpscope" "$c"); do
        offers "$option" tcpscope "$c" -
    done
done
for option in $(help_options "$tcpscope"); do offers "$option" tcpscope -; done
# Every scenario `tcpscope list` names.
for name in $("$tcpscope" list | awk '{ print $1 }'); do
    offers "$name" tcpscope run ""
done

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "completion offers every command, option and scenario"
