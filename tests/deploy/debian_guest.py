#!/usr/bin/env python3
"""The Debian package, proven where users run it: a real Debian 12 with systemd.

For each kernel asked for (Debian 12's 6.1 and bookworm-security's 6.12, the kernels of
the matrix, by default),
this script
  - builds, once, a Debian 12 (bookworm) root file system with `debootstrap` from the
    machine's own apt sources: systemd as init, Debian's kernel packages of the kernel
    matrix (the same .debs, cached in BUILD/kernels/debs) with the initramfs Debian's
    initramfs-tools makes for them, and the libraries the package depends on (its
    `Depends`, so that `apt install` needs no network in the guest). The ext4 image, the
    kernels and their initramfs are cached in BUILD/deploy/<key>/; the key covers the
    recipe, the kernels and the package's Depends, so a new kernel or dependency builds a
    new image and nothing else does;
  - builds the package from the build tree (packaging/build-deb.sh, as `make deb` does);
  - boots the image under qemu (TCG), the image read-only (`snapshot=on`: every run starts
    from the same clean disk) and a second disk holding the package and
    tests/deploy/guest_check.sh, which a unit of the image runs once systemd has booted
    (multi-user.target). The check writes `@@ PASS|FAIL|NOTE ...` lines on the second serial
    port, then powers the machine off;
  - prints every line of the check and a verdict per kernel.
Exit status: 0 when every check passed on every kernel, 1 when one failed, 2 on a usage or
environment error, 77 without root (the check needs debootstrap, chroot and qemu).

Usage: debian_guest.py [BUILD_DIR] [--kernels 6.1,6.12] [--keep]
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "kernels"))
import run_matrix  # noqa: E402  (the kernel packages: one cache, one choice of ABI)

SUITE = "bookworm"
# What a small Debian server has, plus what the check itself runs: curl (the scrape),
# iproute2 (nstat, ss), bpftool (links left after stop), python3-minimal (a client and a
# process holding an old socket).
INCLUDE = ["systemd", "systemd-sysv", "dbus", "udev", "kmod", "initramfs-tools", "linux-base",
           "procps", "iproute2", "curl", "bpftool", "python3-minimal", "ca-certificates"]
# Changing how the image is made: bump, and every cached image is built again.
RECIPE = "4"
CHECK_UNIT = """\
[Unit]
Description=tcpscope's deployment check: runs the check on the second disk, then powers off
After=multi-user.target
ConditionPathExists=/dev/vdb

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /run/payload && mount -o ro /dev/vdb /run/payload && exec /bin/sh /run/payload/guest_check.sh /run/payload'
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS1
TimeoutStartSec=infinity
ExecStopPost=/bin/systemctl poweroff --no-block

[Install]
WantedBy=multi-user.target
"""
MARK = "@@ "


def log(msg):
    print(msg, flush=True)


def die(msg, code=2):
    print(f"debian_guest: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def sh(argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def apt_mirror():
    """The machine's own Debian mirror for bookworm (deb822 or one-line sources)."""
    deb822 = "/etc/apt/sources.list.d/debian.sources"
    if os.path.exists(deb822):
        for stanza in open(deb822).read().split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            if SUITE in fields.get("Suites", "").split() and "deb" in fields.get("Types", "deb").split():
                return fields["URIs"].split()[0]
    if os.path.exists("/etc/apt/sources.list"):
        for line in open("/etc/apt/sources.list"):
            words = line.split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                return words[1]
    return "http://deb.debian.org/debian"


def dependencies(deb):
    """The package names of a .deb's Depends (an alternative's first choice)."""
    depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], check=True, text=True,
                             stdout=subprocess.PIPE).stdout
    names = []
    for clause in depends.split(","):
        first = clause.split("|")[0].strip()
        if first:
            names.append(re.split(r"[\s(:]", first, 1)[0])
    return sorted(set(names))


def kernel_debs(build, columns):
    """{column: (package, path of its .deb)}, fetched through the matrix's cache."""
    kernels_dir = os.path.join(build, "kernels")
    os.makedirs(kernels_dir, exist_ok=True)
    out = {}
    for column in columns:
        k = run_matrix.fetch_kernel(column, kernels_dir)
        debs = os.path.join(kernels_dir, "debs")
        deb = next(f for f in sorted(os.listdir(debs)) if f.startswith(k["package"] + "_"))
        out[column] = (k["package"], k["release"], os.path.join(debs, deb))
    return out


class Mounts:
    """proc and sys mounted in a chroot while packages install, always unmounted."""

    def __init__(self, root):
        self.root, self.done = root, []

    def __enter__(self):
        for fs, where in (("proc", "proc"), ("sysfs", "sys")):
            path = os.path.join(self.root, where)
            sh(["mount", "-t", fs, fs, path])
            self.done.append(path)
        return self

    def __exit__(self, *exc):
        for path in reversed(self.done):
            subprocess.run(["umount", "-l", path], check=False)


def build_image(cache, kernels, depends):
    """Debootstraps, installs, configures, and writes cache/root.img plus each kernel's
    vmlinuz and initrd. Work happens in a directory that is removed afterwards."""
    work = tempfile.mkdtemp(prefix="rootfs-", dir=os.path.dirname(cache))
    root = os.path.join(work, "root")
    try:
        t0 = time.monotonic()
        mirror = apt_mirror()
        log(f"debian_guest: debootstrap {SUITE} from {mirror} (cached afterwards)")
        with open(os.path.join(work, "debootstrap.log"), "w") as out:
            r = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(INCLUDE),
                                SUITE, root, mirror], stdout=out, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            sys.stdout.write(open(os.path.join(work, "debootstrap.log")).read()[-3000:])
            die(f"debootstrap failed (exit {r.returncode})", 1)
        for _, _, deb in kernels.values():
            shutil.copy(deb, os.path.join(root, "tmp"))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")
        script = ("set -e; apt-get install -y -qq --no-install-recommends " + " ".join(depends) +
                  " >/dev/null; dpkg -i /tmp/linux-image-*.deb >/dev/null; rm -f /tmp/*.deb; "
                  "apt-get clean")
        with Mounts(root), open(os.path.join(work, "install.log"), "w") as out:
            r = subprocess.run(["chroot", root, "/bin/sh", "-c", script], env=env,
                               stdout=out, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            sys.stdout.write(open(os.path.join(work, "install.log")).read()[-3000:])
            die(f"installing the kernels and the package's dependencies failed (exit {r.returncode})", 1)
        configure(root)
        img = os.path.join(work, "root.img")
        sh(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, img, "2G"], stdout=subprocess.DEVNULL)
        for column, (_, release, _) in kernels.items():
            shutil.copy(os.path.join(root, "boot", "vmlinuz-" + release), os.path.join(work, "vmlinuz-" + column))
            shutil.copy(os.path.join(root, "boot", "initrd.img-" + release), os.path.join(work, "initrd-" + column))
        shutil.rmtree(root)
        os.rename(work, cache)
        log(f"debian_guest: image built in {time.monotonic() - t0:.0f} s: {cache}")
    finally:
        if os.path.exists(work):
            # A failed build leaves nothing mounted and nothing half-made to be reused.
            for where in ("proc", "sys"):
                subprocess.run(["umount", "-l", os.path.join(root, where)], check=False,
                               stderr=subprocess.DEVNULL)
            shutil.rmtree(work, ignore_errors=True)


def configure(root):
    """What the machine needs to boot from /dev/vda and run the check unattended."""
    with open(os.path.join(root, "etc", "hostname"), "w") as f:
        f.write("tcpscope-guest\n")
    with open(os.path.join(root, "etc", "fstab"), "w") as f:
        f.write("/dev/vda / ext4 rw,errors=remount-ro 0 1\n")
    units = os.path.join(root, "etc", "systemd", "system")
    # No login prompts: nobody logs in, and a getty on ttyS0 would fight the console. No
    # apt timers: nothing but the check's loads may make connections while it counts.
    for unit in ("serial-getty@ttyS0.service", "getty@tty1.service", "apt-daily.timer",
                 "apt-daily-upgrade.timer"):
        link = os.path.join(units, unit)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink("/dev/null", link)
    with open(os.path.join(units, "tcpscope-guest-check.service"), "w") as f:
        f.write(CHECK_UNIT)
    wants = os.path.join(units, "multi-user.target.wants")
    os.makedirs(wants, exist_ok=True)
    os.symlink("/etc/systemd/system/tcpscope-guest-check.service",
               os.path.join(wants, "tcpscope-guest-check.service"))


def ensure_image(build, kernels, depends):
    key_text = "\n".join([RECIPE, SUITE, " ".join(INCLUDE), CHECK_UNIT, " ".join(depends)] +
                         [f"{c}={p}" for c, (p, _, _) in sorted(kernels.items())])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    deploy = os.path.join(build, "deploy")
    os.makedirs(deploy, exist_ok=True)
    cache = os.path.join(deploy, "debian12-" + key)
    if not os.path.exists(os.path.join(cache, "root.img")):
        # Older images are of no further use.
        for old in os.listdir(deploy):
            if old.startswith("debian12-") or old.startswith("rootfs-"):
                shutil.rmtree(os.path.join(deploy, old), ignore_errors=True)
        build_image(cache, kernels, depends)
    else:
        log(f"debian_guest: image cached: {cache}")
    return cache


def make_payload(work, deb):
    """The second disk: the package and the check, on a small ext4 file system."""
    payload = os.path.join(work, "payload")
    os.makedirs(payload)
    shutil.copy(deb, payload)
    for name in ("guest_check.sh", "guest_load.py"):
        shutil.copy(os.path.join(HERE, name), payload)
    img = os.path.join(work, "payload.img")
    size_mb = 16 + sum(os.path.getsize(os.path.join(payload, f)) for f in os.listdir(payload)) // 2**20 * 2
    sh(["mkfs.ext4", "-q", "-F", "-d", payload, img, f"{size_mb}M"], stdout=subprocess.DEVNULL)
    return img


def boot(cache, column, payload, work, timeout):
    """Boots one kernel; returns (lines of the check, seconds, problem or None)."""
    check_log = os.path.join(work, f"check-{column}.log")
    console_log = os.path.join(work, f"console-{column}.log")
    # One host thread for both vCPUs, as the matrix does (tests/kernels/run_matrix.py: with
    # one thread per vCPU a patched tracepoint's stale translation once crashed 6.12).
    argv = ["qemu-system-x86_64", "-accel", "tcg,thread=single", "-cpu", "max", "-smp", "2",
            "-m", "2G", "-nodefaults", "-display", "none", "-no-reboot",
            "-kernel", os.path.join(cache, "vmlinuz-" + column),
            "-initrd", os.path.join(cache, "initrd-" + column),
            "-append", "root=/dev/vda ro console=ttyS0 panic=-1 systemd.show_status=0",
            "-drive", f"file={os.path.join(cache, 'root.img')},format=raw,if=virtio,snapshot=on",
            "-drive", f"file={payload},format=raw,if=virtio,readonly=on",
            "-serial", f"file:{console_log}", "-serial", f"file:{check_log}"]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    problem = None
    try:
        _, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            problem = f"qemu exited {proc.returncode}: {err.decode(errors='replace').strip()[-500:]}"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        problem = f"no power-off after {timeout} s"
    secs = time.monotonic() - start
    lines = []
    if os.path.exists(check_log):
        lines = open(check_log, errors="replace").read().replace("\r", "").splitlines()
    if problem or not any(l.startswith(MARK + "DONE") for l in lines):
        problem = problem or "the check did not finish"
        if os.path.exists(console_log):
            tail = open(console_log, errors="replace").read().replace("\r", "").splitlines()[-40:]
            lines += ["-- the guest's console, last lines:"] + tail
    return lines, secs, problem


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--kernels", default=",".join(run_matrix.KERNELS),
                    help="kernels to boot (default: %(default)s)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per boot (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the run's directory (logs, payload)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("debian_guest: SKIP: needs root (debootstrap, chroot, mount)", flush=True)
        return 77
    build = os.path.abspath(args.build)
    for tool in ("debootstrap", "qemu-system-x86_64", "mkfs.ext4", "dpkg-deb", "chroot"):
        if shutil.which(tool) is None:
            die(f"{tool} is missing: run tools/install-deps.sh")
    columns = [c for c in args.kernels.split(",") if c]
    for c in columns:
        if c not in run_matrix.KERNELS:
            die(f"unknown kernel {c} (known: {', '.join(run_matrix.KERNELS)})")
    if not os.path.exists(os.path.join(build, "tcpscope")):
        die(f"{build}/tcpscope does not exist: build first (make build)")

    work = tempfile.mkdtemp(prefix="run-", dir=build)
    try:
        made = subprocess.run([os.path.join(SOURCE, "packaging", "build-deb.sh"), build, work],
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if made.returncode != 0:
            die(f"packaging/build-deb.sh failed:\n{made.stdout[-3000:]}", 1)
        deb = next(os.path.join(work, f) for f in os.listdir(work) if f.endswith(".deb"))
        kernels = kernel_debs(build, columns)
        cache = ensure_image(build, kernels, dependencies(deb))
        payload = make_payload(work, deb)
        failed = False
        for column in columns:
            log(f"debian_guest: {column}: booting Debian 12 with systemd on {kernels[column][1]}")
            lines, secs, problem = boot(cache, column, payload, work, args.timeout)
            fails = [l for l in lines if l.startswith(MARK + "FAIL")]
            for line in lines:
                log(f"  {column}: {line}")
            verdict = "FAIL" if problem or fails else "pass"
            failed |= verdict != "pass"
            log(f"debian_guest: {column}: {verdict} in {secs:.0f} s" +
                (f" ({problem})" if problem else "") + (f", {len(fails)} failed" if fails else ""))
        return 1 if failed else 0
    finally:
        if args.keep:
            log(f"debian_guest: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
