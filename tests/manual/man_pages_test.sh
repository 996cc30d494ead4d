#!/bin/bash
# The man pages the build generated (build/man) against the built binary:
# a page for tcpscope and for every subcommand `tcpscope --help` lists;
# every option each command's --help lists is in its page; every page
# renders through man(1) and groff with no warning.
# Usage: man_pages_test.sh TCPSCOPE MAN_DIR
set -u
tcpscope=$1
man_dir=$2
. "$(dirname "$0")/help_options.sh"
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

command -v groff >/dev/null && command -v man >/dev/null || {
    echo "SKIP: groff and man are needed (tools/install-deps.sh: groff-base, man-db)"
    exit 77
}

commands=$(help_subcommands "$tcpscope")
[ -n "$commands" ] || fail "tcpscope --help lists no subcommand"
pages="tcpscope"
for c in $commands; do pages="$pages tcpscope-$c"; done
for page in $pages; do
    file=$man_dir/$page.1
    if [ ! -f "$file" ]; then
        fail "$page: no $file"
        continue
    fi
    # Warnings of every kind (-ww), no output (-z).
    warnings=$(groff -man -Tutf8 -ww -z "$file" 2>&1)
    [ -z "$warnings" ] || fail "$page: groff warns: $warnings"
    rendered=$(MANWIDTH=80 man -l "$file" 2>/tmp/man_pages_test.$$)
    [ -s /tmp/man_pages_test.$$ ] && fail "$page: man -l says: $(cat /tmp/man_pages_test.$$)"
    rm -f /tmp/man_pages_test.$$
    echo "$rendered" | grep -q "^NAME" || fail "$page: man -l rendered no NAME section"
    command=${page#tcpscope}
    command=${command#-}
    # shellcheck disable=SC2086 # no command: the top level's options
    options=$(help_options "$tcpscope" $command)
    [ -n "$options" ] || fail "$page: its --help lists no option"
    for option in $options; do
        # Whole word: --stuck must not be found inside --stuck-period only.
        echo "$rendered" | grep -qE -- "(^|[^-[:alnum:]])$option([^-[:alnum:].]|$)" ||
            fail "$page: $option (in \`tcpscope $command --help\`) is not in the page"
    done
    echo "ok: $page ($(echo $options | wc -w) options)"
done
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all man pages hold every option"
