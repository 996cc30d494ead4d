# What the built binary's own --help lists, for the manual's tests: the
# subcommands of `tcpscope --help`, and the options of `tcpscope CMD --help`
# (each of a line's names: "-h,--help" gives -h and --help). Sourced.

# help_subcommands TCPSCOPE
help_subcommands() {
    "$1" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

# help_options TCPSCOPE [CMD]
help_options() {
    local tcpscope=$1
    shift
    "$tcpscope" "$@" --help | awk '/^Options:/ { on = 1; next } /^[A-Z]/ { on = 0 }
        on && /^  -/ { n = split($1, names, ","); for (i = 1; i <= n; i++) print names[i] }'
}
