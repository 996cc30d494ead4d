#!/bin/sh
# The command line's errors say what to type (#27), and exec's exit status
# tells its own failures from the command's:
# - every message starts "tcpscope <command>: ";
# - exec without "--" and an option after the command: the line to type,
#   exit 125;
# - run with a mistyped scenario name: the closest names, not all of them;
# - exec: 125 for its own failure (a bad option, an unknown --user), 126
#   for a command it cannot run, 127 for one that does not exist, with the
#   error alone (no empty ladder); the command's own 3 stays 3;
# - trace: a --pid, --comm or --cgroup that matches nothing running draws a
#   warning and the trace runs all the same; one that matches does not.
# Usage: cli_errors_test.sh TCPSCOPE_BINARY
# Plain sh and coreutils: it runs in the kernel matrix's VMs too.
set -u
bin=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs"
  exit 77
fi
dir=$(mktemp -d)
cgroup=""
cleanup() {
  [ -n "$cgroup" ] && rmdir "$cgroup" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail=0
check() {  # check DESCRIPTION COMMAND...
  _what=$1
  shift
  if "$@"; then echo "ok: $_what"; else echo "FAIL: $_what"; fail=1; fi
}
has() { grep -qF -e "$2" "$1"; }      # has FILE TEXT
lacks() { ! grep -qF -e "$2" "$1"; }  # lacks FILE TEXT
run() {  # run NAME ARGS...: stdout to $dir/NAME.out, stderr to $dir/NAME.err, status in $rc
  _name=$1
  shift
  "$bin" "$@" > "$dir/$_name.out" 2> "$dir/$_name.err"
  rc=$?
}

# 1. exec without "--": the line to type, nothing run.
run sep exec --json python3 -c 'print(1)'
check "exec python3 -c ...: exit 125 ($rc)" [ "$rc" -eq 125 ]
check "and the line to type" has "$dir/sep.err" \
  "tcpscope exec: put -- before the command: tcpscope exec --json -- python3 -c 'print(1)'"
check "not CLI11's 'not expected'" lacks "$dir/sep.err" "not expected"

# 2. run with a name close to one.
run near run close-wait
check "run close-wait: exit 2 ($rc)" [ "$rc" -eq 2 ]
check "did you mean close-wait-forever?" has "$dir/near.err" \
  "tcpscope run: no scenario named 'close-wait'; did you mean close-wait-forever?"
check "not the whole list" lacks "$dir/near.err" "zero-byte-send"
run typo run conect-refused
check "run conect-refused: did you mean connect-refused?" has "$dir/typo.err" "did you mean connect-refused?"

# 3. One prefix for every usage error.
run noname run
check "run with no name: 'tcpscope run: ...' ($(head -n 1 "$dir/noname.err"))" \
  has "$dir/noname.err" "tcpscope run: give a scenario name or --all"
run nocommand
check "no command: exit 2 and the commands to give ($rc)" \
  sh -c "[ $rc -eq 2 ] && grep -q '^tcpscope: give a command: trace, run, list, info, metrics, exec or top' '$dir/nocommand.err'"
run badport trace --port 0
check "trace --port 0: 'tcpscope trace: ...'" has "$dir/badport.err" "tcpscope trace: --port"
run badopt trace --bogus
check "trace --bogus: exit 2 and 'tcpscope trace: ...' ($rc)" \
  sh -c "[ $rc -eq 2 ] && grep -q '^tcpscope trace: ' '$dir/badopt.err'"

# 4. exec's exit status.
run execbad exec --bogus -- true
check "exec --bogus: 125, its own bad command line ($rc)" [ "$rc" -eq 125 ]
check "with the prefix" has "$dir/execbad.err" "tcpscope exec: "
run nouser exec --user tcpscope-no-such-user -- true
check "exec --user with no such user: 125 ($rc)" [ "$rc" -eq 125 ]
if command -v setpriv > /dev/null; then
  setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" exec -- true > /dev/null 2> "$dir/noroot.err"
  rc=$?
  # 126/127: setpriv could not run the binary as nobody (a directory on
  # its path closed to others): nothing to check then.
  [ "$rc" -eq 126 -o "$rc" -eq 127 ] && echo "note: nobody cannot run $bin: exec without root not checked"
  [ "$rc" -eq 126 -o "$rc" -eq 127 ] || check "exec without root: 125, its own failure ($rc: $(cat "$dir/noroot.err"))" \
    sh -c "[ $rc -eq 125 ] && grep -q '^tcpscope exec: needs root' '$dir/noroot.err'"
fi
run missing exec -- /nonexistent/tcpscope-no-such-command
check "a command that does not exist: 127 ($rc)" [ "$rc" -eq 127 ]
check "its error" has "$dir/missing.err" \
  "tcpscope exec: cannot run '/nonexistent/tcpscope-no-such-command': command not found"
check "and nothing else: no ladder, no legend, no tally on stdout" [ ! -s "$dir/missing.out" ]
# (An older kernel's warnings about what it lacks may come first.)
others=$(grep -v -e '^tcpscope exec: warning: ' "$dir/missing.err" | wc -l)
check "nor on stderr ($others lines but the kernel's warnings)" [ "$others" -eq 1 ]
run missingout exec --output "$dir/never-made.txt" -- /nonexistent/tcpscope-no-such-command
check "--output for a command that does not exist: 127 ($rc)" [ "$rc" -eq 127 ]
check "and no empty file left behind" [ ! -e "$dir/never-made.txt" ]
printf 'kept\n' > "$dir/was-there.txt"
run missingkept exec --output "$dir/was-there.txt" -- /nonexistent/tcpscope-no-such-command
check "a file that was there before stays ($rc)" [ -e "$dir/was-there.txt" ]
printf 'not a program\n' > "$dir/not-executable"
chmod 644 "$dir/not-executable"
run noexec exec -- "$dir/not-executable"
check "a file that cannot be executed: 126 ($rc)" [ "$rc" -eq 126 ]
check "its error alone" sh -c "grep -q 'cannot run .*Permission denied' '$dir/noexec.err' && [ ! -s '$dir/noexec.out' ]"
run three exec -- sh -c 'exit 3'
check "the command's own 3 stays 3 ($rc)" [ "$rc" -eq 3 ]
check "and its ladder is printed" has "$dir/three.out" "calls,"

# 5. Filters that match nothing at start: a warning, the trace runs.
sleep 0 &
gone=$!
wait "$gone"
run pid trace --pid "$gone" --duration 0.2
check "trace --pid of no process: exit 0 ($rc)" [ "$rc" -eq 0 ]
check "and a warning" has "$dir/pid.err" "tcpscope trace: warning: --pid $gone: no process has that pid now"
comm="nomatch-$$"
run comm trace --comm "$comm" --duration 0.2
check "trace --comm of no process: a warning" has "$dir/comm.err" \
  "tcpscope trace: warning: --comm $comm: no process has that name now"
run self trace --pid $$ --comm "$(cat /proc/$$/comm)" --duration 0.2
check "trace --pid and --comm of this shell: no warning" lacks "$dir/self.err" "warning"
check "every line trace writes on stderr but its summary has the prefix" \
  sh -c "! grep -v -e '^tcpscope trace: ' -e '^summary: ' '$dir/self.err' '$dir/pid.err' '$dir/comm.err'"
# A thread's id is not a process's: --pid names the process it belongs to.
thread=""
for t in /proc/[0-9]*/task/[0-9]*; do
  _p=${t#/proc/}
  _p=${_p%%/*}
  [ "$_p" != "${t##*/}" ] && { thread="$_p ${t##*/}"; break; }
done
if [ -n "$thread" ]; then
  set -- $thread
  run tid trace --pid "$2" --duration 0.2
  check "trace --pid of a thread ($2 of $1): a warning naming its process" \
    has "$dir/tid.err" "--pid $2: that is a thread of process $1"
else
  echo "note: no multithreaded process running: a thread's id not checked"
fi
# metrics: the same warnings (wording "counting anyway"), before it serves.
port=$((20000 + $$ % 20000))
"$bin" metrics --listen "127.0.0.1:$port" --pid "$gone" --comm "$comm" > /dev/null 2> "$dir/metrics.err" &
mpid=$!
for _ in $(seq 1 600); do  # up to 60 s on a loaded machine
  grep -q -e "serving" -e "cannot" "$dir/metrics.err" 2>/dev/null && break
  kill -0 "$mpid" 2>/dev/null || break
  sleep 0.1
done
kill -INT "$mpid" 2>/dev/null
wait "$mpid"
if grep -q "serving" "$dir/metrics.err"; then
  check "metrics --pid and --comm of no process: warnings" sh -c \
    "grep -qF 'tcpscope metrics: warning: --pid $gone: no process has that pid now; counting anyway' '$dir/metrics.err' &&
     grep -qF 'tcpscope metrics: warning: --comm $comm: no process has that name now' '$dir/metrics.err'"
else
  echo "note: metrics did not serve on port $port: $(cat "$dir/metrics.err")"
fi
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -n "$cg2" ] && mkdir "$cg2/tcpscope-cli-empty-$$" 2>/dev/null; then
  cgroup="$cg2/tcpscope-cli-empty-$$"
  run cg trace --cgroup "$cgroup" --duration 0.2
  check "trace --cgroup with no process: exit 0 and a warning ($rc)" \
    sh -c "[ $rc -eq 0 ] && grep -qF 'tcpscope trace: warning: --cgroup $cgroup: no process is in it' '$dir/cg.err'"
  run cgroot trace --cgroup "$cg2" --duration 0.2
  check "trace --cgroup of the whole hierarchy: no warning" lacks "$dir/cgroot.err" "warning"
else
  echo "note: no cgroup2 mount to make a cgroup in: --cgroup not checked"
fi
exit $fail
