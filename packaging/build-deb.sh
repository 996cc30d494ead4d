#!/bin/sh
# Builds tcpscope_<version>_<arch>.deb with Debian's tooling (dpkg-buildpackage,
# debhelper's dh) from a build tree that is already built: nothing is
# compiled again (docs/packaging.md).
#
#   packaging/build-deb.sh BUILD_DIR [OUT_DIR]     (OUT_DIR: BUILD_DIR)
#
# dpkg-buildpackage wants ./debian at the top of a source tree; the tree's
# top level holds no debian/, so the package is built in a staging directory
# under BUILD_DIR (packaging/debian/ copied in, plus the changelog written
# here) that is removed afterwards. The version is CMake's
# project(VERSION), which configuring wrote to BUILD_DIR/packaging/version.
set -eu
usage() { echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
build_dir=$(cd "$1" && pwd)
out_dir=$(cd "${2:-$1}" && pwd)
source_dir=$(cd "$(dirname "$0")/.." && pwd)

for tool in dpkg-buildpackage dh cmake; do
  command -v "$tool" >/dev/null || {
    echo "build-deb: $tool not found: apt-get install dpkg-dev debhelper cmake (tools/install-deps.sh)" >&2
    exit 1
  }
done
[ -f "$build_dir/packaging/version" ] || {
  echo "build-deb: $build_dir/packaging/version missing: configure first (make configure)" >&2
  exit 1
}
for made in tcpscope man/tcpscope.1 completion/tcpscope; do
  [ -f "$build_dir/$made" ] || {
    echo "build-deb: $build_dir/$made missing: build first (cmake --build $build_dir --target tcpscope tcpscope_manual_files)" >&2
    exit 1
  }
done
version=$(cat "$build_dir/packaging/version")
case $version in
  [0-9]*) ;;
  *) echo "build-deb: '$version' is not a Debian version" >&2; exit 1 ;;
esac

stage=$(mktemp -d "$build_dir/deb-staging.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
package_dir="$stage/tcpscope-$version"
mkdir "$package_dir"
cp -R "$source_dir/packaging/debian" "$package_dir/debian"

# The changelog carries the version, the maintainer of debian/control and
# the date of the source's last commit (so that building the same commit
# twice gives the same package: dpkg clamps file times to that date).
maintainer=$(sed -n 's/^Maintainer: //p' "$package_dir/debian/control")
if date_line=$(git -C "$source_dir" log -1 --format=%cD 2>/dev/null) && [ -n "$date_line" ]; then
  commit=$(git -C "$source_dir" rev-parse --short=12 HEAD)
  changed=" from commit $commit"
else
  date_line=$(date -R)
  changed=""
fi
cat > "$package_dir/debian/changelog" <<CHANGELOG
tcpscope ($version) unstable; urgency=medium

  * tcpscope $version$changed, packaged by packaging/build-deb.sh.

 -- $maintainer  $date_line
CHANGELOG

# -b: the binary package only; -us -uc: unsigned.
(cd "$package_dir" && TCPSCOPE_BUILD_DIR="$build_dir" dpkg-buildpackage -b -us -uc)

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="tcpscope_${version}_${arch}.deb"
mv "$stage/$deb" "$out_dir/$deb"
echo "build-deb: $out_dir/$deb"
