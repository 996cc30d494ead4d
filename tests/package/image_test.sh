#!/bin/sh
# `make image`'s container image, built from this build tree the way
# `make image` builds it (packaging/build-deb.sh, then
# packaging/image/build-image.sh), then held to what it promises:
#   - one layer, the version label is project(VERSION), the labels OCI
#     defines are set, the entrypoint and the default command are tcpscope
#     metrics on 0.0.0.0:19979;
#   - it is small: no documentation but copyright files, no man pages, no apt
#     lists, no package cache (read from the archive's layer itself);
#   - run as a DaemonSet runs it, it traces and counts the host
#     (tests/package/image_run_check.sh).
# The base (debootstrap) is the one `make image` keeps in BUILD_DIR/image/
# base.tar: built if missing (a few minutes, from the apt mirror), else
# reused. The image goes to local storage as localhost/tcpscope-test, is
# checked from its archive, and removed; everything else it makes is in one
# directory under the build tree, removed at the end. About 40 s with the
# base cached (over 90 s while both cores compile).
#
# Podman on a host whose OCI runtime cannot start containers (podman 4.3's
# crun on a hybrid cgroup layout, or with rlimits it may not raise) is
# retried with runc and rlimits no higher than podman's own; what failed is
# printed, and if nothing can run, the image is checked without running it
# and the test says so and fails.
#
#   image_test.sh SOURCE_DIR BUILD_DIR VERSION [WORK_ROOT]
# WORK_ROOT (default BUILD_DIR) holds the test's directory and the base:
# another tree's build can then be read without writing in it (but for
# build-deb.sh's staging directory, which it removes).
set -eu
source_dir=$1
build_dir=$2
version=$3
work_root=${4:-$2}

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (debootstrap, buildah's storage, BPF)"; exit 77; }
for tool in debootstrap buildah podman dpkg-buildpackage dh python3; do
  command -v "$tool" >/dev/null || {
    echo "SKIP: $tool not found (apt-get install debootstrap buildah podman runc dpkg-dev debhelper, or tools/install-deps.sh)"
    exit 77
  }
done

work=$(mktemp -d "$work_root/image-test.XXXXXX")
name=localhost/tcpscope-test
image="$name:$version"
cleanup() {
  podman rmi "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir "$work/tmp"
export TMPDIR="$work/tmp"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$source_dir/packaging/build-deb.sh" "$build_dir" "$work" > "$work/deb.log" 2>&1 || {
  cat "$work/deb.log"; echo "FAIL: packaging/build-deb.sh"; exit 1
}
base="$work_root/image/base.tar"
[ -f "$base" ] || echo "no base in $base: debootstrap makes it (a few minutes)"
start=$(date +%s)
TCPSCOPE_IMAGE_NAME=$name TCPSCOPE_IMAGE_BASE="$base" \
  "$source_dir/packaging/image/build-image.sh" "$build_dir" "$work" > "$work/image.log" 2>&1 || {
  cat "$work/image.log"; echo "FAIL: packaging/image/build-image.sh"; exit 1
}
sed 's/^/build: /' "$work/image.log"
archive="$work/tcpscope-image_$version.oci.tar"
echo "built in $(( $(date +%s) - start )) s: $archive, $(stat -c %s "$archive") bytes"

# What the image holds, from the archive: its manifest, config and layer.
python3 - "$archive" "$version" <<'PY' || failures=$((failures + 1))
import gzip, io, json, sys, tarfile
archive, version = sys.argv[1], sys.argv[2]
bad = []
with tarfile.open(archive) as oci:
    def blob(digest):
        return oci.extractfile("blobs/" + digest.replace(":", "/")).read()
    index = json.loads(oci.extractfile("index.json").read())
    manifest = json.loads(blob(index["manifests"][0]["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))["config"]
    layers = manifest["layers"]
    if len(layers) != 1:
        bad.append("%d layers, not one" % len(layers))
    labels = config.get("Labels", {})
    want = {"org.opencontainers.image.version": version, "org.opencontainers.image.title": "tcpscope",
            "org.opencontainers.image.source": "https://github.com/tcpscope/tcpscope",
            "org.opencontainers.image.licenses": "LGPL-2.1 OR BSD-2-Clause"}
    for key, value in want.items():
        if labels.get(key) != value:
            bad.append("label %s: %r" % (key, labels.get(key)))
    for key in ("org.opencontainers.image.revision", "org.opencontainers.image.created"):
        if not labels.get(key):
            bad.append("label %s missing" % key)
    if config.get("Entrypoint") != ["/usr/bin/tcpscope"]:
        bad.append("entrypoint %r" % config.get("Entrypoint"))
    if config.get("Cmd") != ["metrics", "--listen", "0.0.0.0:19979"]:
        bad.append("command %r" % config.get("Cmd"))
    unpacked = 0
    docs = other = 0
    found = {"tcpscope": False, "libbpf": False}
    with tarfile.open(fileobj=io.BytesIO(blob(layers[0]["digest"]))) as layer:
        for m in layer.getmembers():
            path = m.name.lstrip("./")
            unpacked += m.size if m.isfile() else 0
            if path == "usr/bin/tcpscope":
                found["tcpscope"] = True
            if path.startswith("usr/lib/x86_64-linux-gnu/libbpf.so"):
                found["libbpf"] = True
            if not m.isfile():
                continue
            if path.startswith("usr/share/doc/"):
                docs += 1
                if not path.endswith("/copyright"):
                    bad.append("documentation kept: " + path)
            for kept in ("usr/share/man/", "usr/share/info/", "var/lib/apt/lists/", "var/cache/apt/", "var/log/"):
                if path.startswith(kept):
                    bad.append("kept: " + path)
            if path.startswith("usr/share/locale/") and path != "usr/share/locale/locale.alias":
                bad.append("translation kept: " + path)
    for what, ok in found.items():
        if not ok:
            bad.append("no %s in the image" % what)
    print("image: one layer of %d bytes (%d unpacked), %d copyright files, labels %s" % (
        layers[0]["size"], unpacked, docs, json.dumps(labels, sort_keys=True)))
    for b in bad[:20]:
        print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY

# The image in local storage as built; the run check loads it again from
# the archive (a fresh load is what a node does).
podman rmi "$image" > /dev/null

# Can podman start a container here at all? (its default runtime first)
probe_ctr="tcpscope-image-probe-$$"
probe() {
  # shellcheck disable=SC2086
  podman run --rm --name "$probe_ctr" --pid=host --network=host $1 "$image" --version 2>&1
}
podman load -q -i "$archive" > /dev/null
if out=$(probe ""); then
  opts=""
  echo "podman run: works with the default runtime ($out)"
else
  echo "podman run: the default runtime fails: $out" | head -3
  # No higher than this process's hard limits, and than podman's own
  # (podman 4.3 lowers its RLIMIT_NPROC to 32768 before starting the runtime).
  hard() { awk -v n="$1" 'index($0, n) == 1 { print $(NF - 1) }' /proc/self/limits; }
  nofile=$(hard "Max open files"); [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
  nproc=$(hard "Max processes"); [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  opts="--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
  command -v runc >/dev/null && opts="--runtime runc $opts"
  if out=$(probe "$opts"); then
    echo "podman run: works with: $opts ($out)"
  else
    echo "podman run: fails with $opts too: $out" | head -3
    opts=none
  fi
fi
podman rmi "$image" > /dev/null

if [ "$opts" = none ]; then
  fail "podman cannot run a container on this host (see above): the image was checked without running it"
else
  TCPSCOPE_PODMAN_RUN_OPTS=$opts "$source_dir/tests/package/image_run_check.sh" "$archive" ||
    fail "image_run_check.sh"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
