# Sourced by the exec tests (sh, dash and busybox alike): the checks and
# the readers of exec's text output and of nstat they share.

fail=0
check() {  # check DESCRIPTION COMMAND...
  _what=$1
  shift
  if "$@"; then echo "ok: $_what"; else echo "FAIL: $_what"; fail=1; fi
}
counter() {  # counter FILE NAME: a counter of an `nstat -asz` output
  awk -v n="$2" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}
why_of() {  # why_of FILE: the lines under "Why:" of an exec text output
  sed -n '/^Why:$/,/^[^ ]/p' "$1" | grep '^  '
}
