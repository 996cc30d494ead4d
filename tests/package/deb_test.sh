#!/bin/sh
# `make deb`'s package, built from this build tree the way `make deb` builds
# it (packaging/build-deb.sh), then held to what it promises:
#   - lintian reports no error;
#   - the version is CMake's project(VERSION) (passed in by ctest);
#   - it holds the binary, the unit, every generated man page and the
#     completion, byte for byte as built, and every file of dashboards/;
#   - Depends is computed from the shared libraries (libbpf, libc), and
#     debian/control names no library by hand;
#   - the maintainer scripts, run with systemd's helpers stubbed to log
#     their calls (nothing touches this host's systemd), neither enable nor
#     start the unit on a fresh install or an upgrade;
#   - apt would install it here (apt-get install -s: its Depends resolve);
#   - the unit's ExecStart is the packaged binary, and that binary, extracted
#     with dpkg-deb -x, runs and reports the version.
# Everything it makes is in one directory under the build tree, removed at
# the end. About 30 s (the package build ~20 s, lintian ~7 s).
#
#   deb_test.sh SOURCE_DIR BUILD_DIR VERSION
set -eu
source_dir=$1
build_dir=$2
version=$3

for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || {
    echo "SKIP: $tool not found (apt-get install dpkg-dev debhelper lintian, or tools/install-deps.sh)"
    exit 77
  }
done

work=$(mktemp -d "$build_dir/deb-test.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
# lintian leaves a cache (mldbm-elf-*) in $TMPDIR: in the test's own directory.
mkdir "$work/tmp"
export TMPDIR="$work/tmp"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$source_dir/packaging/build-deb.sh" "$build_dir" "$work" > "$work/build.log" 2>&1 || {
  cat "$work/build.log"; echo "FAIL: packaging/build-deb.sh"; exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="$work/tcpscope_${version}_${arch}.deb"
[ -f "$deb" ] || { ls -l "$work"; echo "FAIL: no $(basename "$deb")"; exit 1; }
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

# lintian: every tag shown (infos and overrides too), any error fails.
lintian_out=$(lintian --display-info --show-overrides "$deb" 2>&1) || true
echo "$lintian_out" | sed 's/^/lintian: /'
echo "$lintian_out" | grep -q '^E: ' && fail "lintian reports errors"

# The fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = tcpscope ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), project(VERSION) is $version"
depends=$(field Depends)
echo "Depends: $depends"
echo "$depends" | grep -Eq '(^|, )libbpf[0-9]+ ' || fail "Depends has no libbpf"
echo "$depends" | grep -Eq '(^|, )libc6 ' || fail "Depends has no libc6"
control_depends=$(sed -n 's/^Depends: //p' "$source_dir/packaging/debian/control")
# shellcheck disable=SC2016 # the literal substitution variables
[ "$control_depends" = '${shlibs:Depends}, ${misc:Depends}' ] ||
  fail "packaging/debian/control writes Depends by hand: $control_depends"

# The contents, against what the build made.
dpkg-deb -c "$deb" | awk '{print $NF}' > "$work/contents"
has() { grep -qx "./$1" "$work/contents" || fail "missing from the package: /$1"; }
has usr/bin/tcpscope
has lib/systemd/system/tcpscope-metrics.service
has usr/share/bash-completion/completions/tcpscope
has usr/share/doc/tcpscope/copyright
root="$work/root"
dpkg-deb -x "$deb" "$root"
man_pages=0
for page in "$build_dir"/man/*.1; do
  name=$(basename "$page")
  man_pages=$((man_pages + 1))
  has "usr/share/man/man1/$name.gz"
  [ -f "$root/usr/share/man/man1/$name.gz" ] &&
    { gzip -dc "$root/usr/share/man/man1/$name.gz" | cmp -s - "$page" || fail "$name differs from the build's"; }
done
[ "$man_pages" -gt 0 ] || fail "no man page in $build_dir/man"
has usr/share/man/man1/tcpscope.1.gz
cmp -s "$root/usr/share/bash-completion/completions/tcpscope" "$build_dir/completion/tcpscope" ||
  fail "the bash completion differs from the build's"
dashboards=0
for file in $(cd "$source_dir/dashboards" && find . -type f | sort); do
  file=${file#./}
  dashboards=$((dashboards + 1))
  has "usr/share/tcpscope/dashboards/$file"
  cmp -s "$root/usr/share/tcpscope/dashboards/$file" "$source_dir/dashboards/$file" ||
    fail "/usr/share/tcpscope/dashboards/$file differs from dashboards/$file"
done
has usr/share/tcpscope/dashboards/grafana/tcpscope.json
has usr/share/tcpscope/dashboards/prometheus/alerts.yml
echo "contents: $(grep -vc '/$' "$work/contents") files: binary, unit, $man_pages man pages, completion, $dashboards dashboard and rule files"

# The unit is the tree's, its ExecStart the packaged binary.
unit="$root/lib/systemd/system/tcpscope-metrics.service"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ "$exec_start" = /usr/bin/tcpscope ] || fail "ExecStart runs '$exec_start', not /usr/bin/tcpscope"
sed 's|^ExecStart=/usr/local/bin/tcpscope |ExecStart=/usr/bin/tcpscope |' "$source_dir/packaging/tcpscope-metrics.service" |
  cmp -s - "$unit" || fail "the packaged unit is not packaging/tcpscope-metrics.service (bindir aside)"

# The maintainer scripts on a fresh install and on an upgrade, systemd's
# helpers replaced by stubs that log. deb-systemd-helper answers as on a
# machine where the unit was never seen: not debian-installed, and
# was-enabled true (its default there, which is what makes a plain
# dh_installsystemd enable a new unit).
dpkg-deb -e "$deb" "$work/control"
mkdir "$work/stubs"
for helper in deb-systemd-helper deb-systemd-invoke systemctl; do
  cat > "$work/stubs/$helper" <<STUB
#!/bin/sh
echo "$helper \$*" >> "$work/calls"
case "$helper \$*" in
  "deb-systemd-helper debian-installed "*) exit 1 ;;
esac
exit 0
STUB
  chmod +x "$work/stubs/$helper"
done
: > "$work/calls"
for run in "preinst install" "postinst configure" "preinst upgrade 0.0.1" "postinst configure 0.0.1"; do
  script=${run%% *}
  [ -f "$work/control/$script" ] || continue
  # shellcheck disable=SC2086 # the arguments, split
  PATH="$work/stubs:$PATH" sh "$work/control/$script" ${run#* } || fail "$script ${run#* } failed"
done
sed 's/^/maintainer scripts called: /' "$work/calls"
grep -E ' (enable|start|restart|reload-or-restart|try-restart)( |$)' "$work/calls" &&
  fail "the maintainer scripts enable or start the unit"
# Starts hide behind /run/systemd/system (absent in a container) and
# variables ($_dh_action): any call of systemctl or deb-systemd-invoke but
# a stop or a daemon-reload fails as written.
grep -hE '(systemctl|deb-systemd-invoke) ' "$work/control"/*inst "$work/control"/*rm 2>/dev/null |
  grep -vE '(systemctl|deb-systemd-invoke)( --system)? (stop|daemon-reload) ' &&
  fail "a maintainer script would start or enable a unit"

# `apt install ./tcpscope_*.deb` would resolve here: apt simulates it
# (-s changes nothing, takes no lock) against this system's packages.
if command -v apt-get >/dev/null; then
  apt_out=$(apt-get install -s "$deb" 2>&1) || true
  if echo "$apt_out" | grep -q "^Inst tcpscope "; then
    echo "apt-get install -s: $(echo "$apt_out" | grep '^Inst ' | tr '\n' ' ')"
  else
    echo "$apt_out"
    fail "apt-get install -s $(basename "$deb") does not install it"
  fi
fi

# The packaged binary runs.
out=$("$root/usr/bin/tcpscope" --version 2>&1) || fail "/usr/bin/tcpscope --version failed: $out"
echo "extracted /usr/bin/tcpscope --version: $out"
[ "$out" = "tcpscope $version" ] || fail "--version says '$out', expected 'tcpscope $version'"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "ok"
