#!/usr/bin/env python3
"""The kernel matrix: the kernel and scenario tiers on Debian's own kernels.

For each kernel of the matrix (Debian 12's 6.1 and bookworm-security's 6.12,
the newest ABI of each that apt knows), this script
  - fetches the kernel package with `apt-get download` (cached under
    BUILD/kernels/debs) and keeps its vmlinuz and the modules the tests need
    (veth, tcp_diag and what they depend on) under BUILD/kernels/<package>/;
  - builds a gzip'd newc initramfs: busybox-static, the tcpscope binary, the
    test binaries, the scenario programs and scripts, the tools the tests run
    (ip, nstat, ss, tcpstates, bpftool, nsenter, unshare, mount, setpriv,
    prlimit, stdbuf, pgrep, pkill, dash as /bin/sh) with every library ldd
    lists and the loader, and tests/kernels/init.sh as /init;
  - boots it under qemu (TCG: no /dev/kvm here) with a time limit; /init runs
    each kernel- and scenario-tier test exactly as ctest would (the commands
    come from `ctest --show-only=json-v1`) and prints @@TSK lines on the
    serial console;
  - prints one result line per kernel and a table at the end.
The host's own kernel is the matrix's third column: it runs the same tiers
through ctest (`make test`), not here.
Exit status: 0 when no test failed on any kernel, 1 otherwise, 2 on a usage
or environment error.

The kernels boot side by side, one qemu per host core (--jobs): each is one
host thread, so two cores run the two columns in the time of the longer.

Usage: run_matrix.py [BUILD_DIR] [--kernels 6.1,6.12] [--tests REGEX] [--repeat N] [--jobs N] [-v]
       run_matrix.py [BUILD_DIR] --kernels 6.1 --run 'SHELL COMMAND'   (debugging)
"""

import argparse
import concurrent.futures
import gzip
import json
import lzma
import os
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

# Matrix column -> apt package name pattern; group 1 orders the candidates.
KERNELS = {
    "6.1": r"linux-image-6\.1\.0-([0-9]+)-cloud-amd64",
    "6.12": r"linux-image-6\.12\.([0-9]+)\+deb12-cloud-amd64",
}
# Modules the tests need that Debian's cloud kernels build as modules:
# veth (peer-vanished, peer-rebooted, the retransmit tests) and tcp_diag
# (sock_diag queries of the scenarios, ss), with the modules they depend on
# (their .modinfo depends=), and sch_netem (the RTT test's delay: 6.18 on
# the host has no netem, Debian's 6.1 and 6.12 have it as a module), and
# nftables for the firewall scenarios: nf_tables (inet tables, filter
# chains, counters and payload matches are built into it) and
# nft_reject_inet (`reject with tcp reset`, with nft_reject and
# nf_reject_ipv4/ipv6). The VM has no modprobe for the kernel's own
# requests, so they are loaded at boot.
MODULES = ["veth", "tcp_diag", "sch_netem", "nf_tables", "nft_reject_inet"]
# Host programs the tests and scenarios run, copied with their libraries.
TOOLS = [
    "/usr/sbin/ip", "/usr/bin/nstat", "/usr/bin/ss", "/usr/sbin/tc",  # iproute2
    "/usr/sbin/tcpstates",  # libbpf-tools: the kernel tier's peer
    "/usr/sbin/bpftool",  # the scenario tests count BPF links with it
    "/usr/bin/nsenter", "/usr/bin/unshare", "/usr/bin/mount", "/usr/bin/umount",
    "/usr/bin/setpriv", "/usr/bin/prlimit",  # util-linux
    "/usr/bin/stdbuf", "/usr/libexec/coreutils/libstdbuf.so",  # coreutils
    "/usr/bin/pgrep", "/usr/bin/pkill",  # procps (busybox has neither)
    "/usr/bin/dash",  # /bin/sh, as on Debian (busybox's sh prefers its own applets)
    "/usr/bin/strace",  # KernelOwners: the start makes no pidfd_getfd or ptrace call
    "/usr/sbin/nft",  # nftables: the firewall scenarios' rules and counters
]
BUSYBOX = "/bin/busybox"
LABELS = ("kernel", "scenario")
MARK = "@@TSK "
CUSTOM_SCRIPT = "/etc/tcpscope-matrix/custom.sh"


def log(msg):
    print(msg, flush=True)


def die(msg, code=2):
    print(f"run_matrix: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def run(argv, **kw):
    return subprocess.run(argv, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


# ------------------------------------------------------------------ kernels

def newest_package(pattern):
    """The newest package apt knows whose name matches pattern, or None."""
    def search():
        out = subprocess.run(["apt-cache", "search", "--names-only", f"^{pattern}$"],
                             text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout
        names = [line.split(" ", 1)[0] for line in out.splitlines()]
        names = [n for n in names if re.fullmatch(pattern, n)]
        return max(names, key=lambda n: int(re.fullmatch(pattern, n).group(1)), default=None)

    name = search()
    if name is None and os.geteuid() == 0:
        log("run_matrix: apt-cache knows no such kernel; apt-get update")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        name = search()
    return name


def fetch_kernel(column, kernels_dir):
    """Downloads (once) and unpacks the newest kernel of a column; returns
    {package, release, dir, vmlinuz, modules: [(name, path)]}."""
    pattern = KERNELS[column]
    debs = os.path.join(kernels_dir, "debs")
    os.makedirs(debs, exist_ok=True)
    package = newest_package(pattern)
    if package is None:
        # Offline: the newest package fetched before, if any.
        cached = [f.split("_", 1)[0] for f in os.listdir(debs) if f.endswith(".deb")]
        cached = [n for n in cached if re.fullmatch(pattern, n)]
        package = max(cached, key=lambda n: int(re.fullmatch(pattern, n).group(1)), default=None)
        if package is None:
            die(f"no package matches {pattern} (apt-cache search), none cached in {debs}")
    deb = next((f for f in sorted(os.listdir(debs)) if f.startswith(package + "_")), None)
    if deb is None:
        log(f"run_matrix: apt-get download {package}")
        subprocess.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package],
                       cwd=debs, check=True, stdout=subprocess.DEVNULL)
        deb = next(f for f in sorted(os.listdir(debs)) if f.startswith(package + "_"))
        # Older packages of the same column are of no further use.
        for f in os.listdir(debs):
            other = f.split("_", 1)[0]
            if f != deb and other != package and re.fullmatch(pattern, other):
                os.unlink(os.path.join(debs, f))
    kdir = os.path.join(kernels_dir, package)
    stamp = os.path.join(kdir, "unpacked-from")
    # The stamp names the package and the modules kept: a changed MODULES
    # unpacks again.
    stamp_text = deb + "\n" + " ".join(MODULES)
    if not (os.path.exists(stamp) and open(stamp).read() == stamp_text):
        shutil.rmtree(kdir, ignore_errors=True)
        os.makedirs(kdir)
        tmp = tempfile.mkdtemp(prefix="unpack-", dir=kernels_dir)
        try:
            subprocess.run(["dpkg-deb", "-x", os.path.join(debs, deb), tmp], check=True)
            boot = os.path.join(tmp, "boot")
            vmlinuz = next(f for f in os.listdir(boot) if f.startswith("vmlinuz-"))
            release = vmlinuz[len("vmlinuz-"):]
            shutil.copy(os.path.join(boot, vmlinuz), os.path.join(kdir, "vmlinuz"))
            shutil.copy(os.path.join(boot, "config-" + release), os.path.join(kdir, "config"))
            moddir = os.path.join(tmp, "lib", "modules", release)
            os.makedirs(os.path.join(kdir, "modules"))
            order = []
            for name, data in module_closure(moddir, MODULES):
                with open(os.path.join(kdir, "modules", name + ".ko"), "wb") as f:
                    f.write(data)
                order.append(name)
            with open(os.path.join(kdir, "modules", "order"), "w") as f:
                f.write("\n".join(order) + "\n")
            with open(os.path.join(kdir, "release"), "w") as f:
                f.write(release)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        with open(stamp, "w") as f:
            f.write(stamp_text)
    modules_dir = os.path.join(kdir, "modules")
    order = open(os.path.join(modules_dir, "order")).read().split()
    return {
        "column": column,
        "package": package,
        "release": open(os.path.join(kdir, "release")).read(),
        "dir": kdir,
        "vmlinuz": os.path.join(kdir, "vmlinuz"),
        "modules": [(n, os.path.join(modules_dir, n + ".ko")) for n in order],
    }


def module_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if not path.endswith(".ko"):
        die(f"cannot decompress module {path}")
    return data


def module_name(path):
    return re.sub(r"\.ko(\.\w+)?$", "", os.path.basename(path)).replace("-", "_")


def module_closure(moddir, wanted):
    """[(name, uncompressed bytes)] of the wanted modules and of the modules
    they depend on (their .modinfo "depends="), in load order. The package
    has no modules.dep (depmod makes it at install time). Modules built into
    the kernel (modules.builtin) are left out."""
    paths = {}
    for root, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            if re.search(r"\.ko(\.\w+)?$", f):
                paths[module_name(f)] = os.path.join(root, f)
    builtin = set()
    bpath = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bpath):
        builtin = {module_name(l.strip()) for l in open(bpath)}
    out, seen = [], set()

    def visit(name):
        if name in seen or name in builtin:
            return
        seen.add(name)
        if name not in paths:
            die(f"module {name} is neither in {moddir} nor built in")
        data = module_bytes(paths[name])
        m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", data)
        for dep in (m.group(1).decode().split(",") if m and m.group(1) else []):
            visit(dep.replace("-", "_"))
        out.append((name, data))

    for name in wanted:
        visit(name)
    return out


# -------------------------------------------------------------------- suite

def ctest_plan(build, tests_regex, allow_empty=False):
    """The kernel- and scenario-tier tests as ctest would run them."""
    out = run(["ctest", "--test-dir", build, "--show-only=json-v1"])
    plan = []
    for t in json.loads(out).get("tests", []):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        labels = props.get("LABELS", [])
        if not any(l in LABELS for l in labels):
            continue
        if tests_regex and not re.search(tests_regex, t["name"]):
            continue
        if "command" not in t:
            die(f"ctest has no command for {t['name']}: is the build complete?")
        plan.append({
            "name": t["name"],
            "tier": next(l for l in labels if l in LABELS),
            "command": t["command"],
            "env": props.get("ENVIRONMENT", []),
            "dir": props.get("WORKING_DIRECTORY", build),
            # ctest's own limits; the gtest ones have none (1500 s default).
            "timeout": int(float(props.get("TIMEOUT", 300))),
            "skip_rc": props.get("SKIP_RETURN_CODE"),
            "skip_regex": props.get("SKIP_REGULAR_EXPRESSION", []),
        })
    if not plan and not allow_empty:
        die("ctest lists no kernel or scenario test" + (f" matching {tests_regex}" if tests_regex else ""))
    return plan


def suite_tsv(plan):
    lines = []
    for t in plan:
        words = (["env"] + t["env"] if t["env"] else []) + t["command"]
        cmd = " ".join(shlex.quote(w) for w in words)
        lines.append(f"{t['name']}\t{t['timeout']}\t{t['dir']}\t{cmd}\n")
    return "".join(lines)


# ---------------------------------------------------------------- initramfs

class Cpio:
    """A newc cpio archive, written through gzip as entries are added."""

    def __init__(self, path):
        self.f = gzip.open(path, "wb", compresslevel=3)
        self.ino = 1
        self.entries = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.lstrip("/")
        if name in self.entries:
            return
        self.entries.add(name)
        encoded = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 2 if mode & 0o040000 else 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(encoded), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.f.write(hdr + encoded + b"\0" * (-(len(hdr) + len(encoded)) % 4))
        self.f.write(data + b"\0" * (-len(data) % 4))

    def dir(self, name):
        parent = os.path.dirname(name.rstrip("/"))
        if parent not in ("", "/"):
            self.dir(parent)
        self._entry(name, 0o040755)

    def file(self, name, data, mode=0o755):
        self.dir(os.path.dirname(name))
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self.dir(os.path.dirname(name))
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self.dir(os.path.dirname(name))
        self._entry(name, 0o020000 | mode, rdev=(major, minor))

    def close(self):
        self._entry("TRAILER!!!", 0)
        self.f.close()


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def ldd(path):
    """Absolute paths of the libraries (and loader) a dynamic ELF needs."""
    r = subprocess.run(["ldd", path], text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        return []  # static
    libs = []
    for line in r.stdout.splitlines():
        m = re.search(r"=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if m:
            libs.append(m.group(1))
        elif "not found" in line:
            die(f"{path}: {line.strip()}")
    return libs


def in_image(path):
    """Where a host path lands in the image: its directory resolved (the
    image has the host's /lib -> usr/lib style links), its name kept."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def stripped(path, tmpdir):
    """The file's bytes, without debug sections when it is an ELF we built."""
    out = os.path.join(tmpdir, "stripped")
    if subprocess.run(["strip", "--strip-debug", "-o", out, path],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
        with open(out, "rb") as f:
            data = f.read()
        os.unlink(out)
        return data
    with open(path, "rb") as f:
        return f.read()


def build_common_image(path, build, plan, tmpdir, custom=None):
    """Everything but the kernel's modules."""
    cpio = Cpio(path)
    if custom is not None:
        cpio.file(CUSTOM_SCRIPT, custom.encode(), 0o755)
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = "/" + top
        if os.path.islink(host):
            cpio.symlink(top, os.readlink(host))
    for d in ("dev", "proc", "sys", "tmp", "run", "root", "etc", "mnt", "var"):
        cpio.dir(d)
    cpio.symlink("var/run", "/run")
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)

    files = set()
    for t in plan:
        for w in t["command"]:
            if w.startswith("/") and os.path.isfile(w):
                files.add(w)
                # A test script may source its siblings (bpf_links.sh).
                if w.endswith(".sh"):
                    d = os.path.dirname(w)
                    files.update(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".sh"))
    files.add(os.path.join(build, "tcpscope"))
    scen = os.path.join(build, "scenarios")
    for f in os.listdir(scen):
        p = os.path.join(scen, f)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            files.add(p)
    libs = set()
    for f in sorted(files):
        # Built by us: keep the build tree's own paths (the tests name the
        # binary by its absolute path, the runner finds scenarios beside it).
        cpio.file(f, stripped(f, tmpdir) if is_elf(f) else open(f, "rb").read(),
                  os.stat(f).st_mode & 0o777)
        if is_elf(f):
            libs.update(ldd(f))
    for tool in TOOLS:
        if not os.path.exists(tool):
            die(f"{tool} is missing: run tools/install-deps.sh")
        cpio.file(in_image(tool), open(tool, "rb").read(), 0o755)
        libs.update(ldd(tool))
    for lib in sorted(libs):
        cpio.file(in_image(lib), open(lib, "rb").read(), 0o755)
    # busybox-static: sh and every other applet not provided above.
    if not os.path.exists(BUSYBOX):
        die(f"{BUSYBOX} is missing: run tools/install-deps.sh (busybox-static)")
    bb = in_image(BUSYBOX)
    cpio.file(bb, open(BUSYBOX, "rb").read(), 0o755)
    cpio.symlink(in_image("/usr/bin/sh"), "dash")
    provided = {os.path.basename(t) for t in TOOLS} | {"sh"}
    for applet in run([BUSYBOX, "--list"]).split():
        if applet not in provided and applet not in ("busybox", "init", "linuxrc"):
            cpio.symlink(in_image("/usr/bin/" + applet), bb)
    cpio.file("init", open(os.path.join(HERE, "init.sh"), "rb").read(), 0o755)
    cpio.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
              b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0o644)
    cpio.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
    cpio.file("etc/nsswitch.conf", b"passwd: files\ngroup: files\nhosts: files\n", 0o644)
    cpio.file("etc/hosts", b"127.0.0.1 localhost\n::1 localhost\n", 0o644)
    cpio.file("etc/tcpscope-matrix/suite.tsv", suite_tsv(plan).encode(), 0o644)
    cpio.close()


def build_kernel_image(path, kernel):
    cpio = Cpio(path)
    for name, ko in kernel["modules"]:
        cpio.file(f"usr/lib/modules/tcpscope/{name}.ko", open(ko, "rb").read(), 0o644)
    cpio.file("etc/tcpscope-matrix/modules",
              "".join(n + "\n" for n, _ in kernel["modules"]).encode(), 0o644)
    # The kernel's config where a Debian system has it: tcpscope reads
    # CONFIG_HZ there (the RTO at a connection's end is in jiffies).
    cpio.file(f"boot/config-{kernel['release']}",
              open(os.path.join(kernel["dir"], "config"), "rb").read(), 0o644)
    cpio.close()


# --------------------------------------------------------------------- boot

class Result:
    def __init__(self, kernel, plan):
        self.kernel = kernel
        self.plan = {t["name"]: t for t in plan}
        self.order = [t["name"] for t in plan]
        self.tests = {}  # name -> {status, rc, secs, reason, output}
        self.boot_secs = None
        self.suite_secs = None
        self.wall_secs = None
        self.problem = None  # why the machine did not finish
        self.modules = {}

    def classify(self, name, rc, secs, output):
        t = self.plan.get(name, {})
        text = "\n".join(output)
        status, reason = "passed", ""
        if t.get("skip_rc") is not None and rc == int(t["skip_rc"]):
            status = "skipped"
        elif rc == 0 and any(re.search(r, text) for r in t.get("skip_regex", [])):
            status = "skipped"
        elif rc != 0:
            status = "failed"
            if rc in (124, 137, 143):
                reason = f"killed after its time limit ({t.get('timeout')} s), rc {rc}"
            else:
                reason = f"exit status {rc}"
        if status == "skipped":
            reason = skip_reason(output)
        self.tests[name] = {"status": status, "rc": rc, "secs": secs, "reason": reason,
                            "output": output}

    def counts(self):
        c = {"passed": 0, "failed": 0, "skipped": 0}
        for name in self.order:
            c[self.tests.get(name, {"status": "failed"})["status"]] += 1
        return c

    def failed(self):
        return self.problem is not None or self.counts()["failed"] > 0


def skip_reason(output):
    for i, line in enumerate(output):
        if line.startswith("SKIP:"):
            return line[5:].strip()
        if line.rstrip().endswith(": Skipped") and i + 1 < len(output):
            return output[i + 1].strip()
    return ""


# The machines running now: whatever way this script ends (an interrupt
# reaches the main thread only), none is left behind.
RUNNING = set()
RUNNING_LOCK = threading.Lock()
STOPPING = False


def kill_running():
    global STOPPING
    with RUNNING_LOCK:
        STOPPING = True
        for proc in list(RUNNING):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def boot(kernel, initrd, plan, timeout, verbose, log_path):
    res = Result(kernel, plan)
    # Two vCPUs (the tiers race softirq against process context), run by
    # one host thread (thread=single). With one host thread per vCPU
    # (MTTCG, the default) a vCPU can run a kernel instruction that another
    # vCPU has just patched (text_poke_bp: attaching or detaching a
    # tracepoint flips its static key) from stale translated code: once in
    # a 6.12 run it executed the temporary int3 after the patch was done
    # and the kernel died ("Oops: int3" in inet_sk_state_store).
    argv = ["qemu-system-x86_64", "-accel", "tcg,thread=single", "-cpu", "max", "-smp", "2",
            "-m", "2G",
            "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", kernel["vmlinuz"], "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 rdinit=/init quiet"]
    start = time.monotonic()
    with RUNNING_LOCK:
        if STOPPING:
            res.problem = "not booted: the matrix was stopped"
            res.wall_secs = 0
            return res
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        RUNNING.add(proc)
    current, output, partial = None, [], b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    done = False
    try:
        with open(log_path, "wb") as logf:
            while True:
                left = start + timeout - time.monotonic()
                if left <= 0:
                    res.problem = f"no end after {timeout} s" + (f", in {current}" if current else "")
                    break
                if not sel.select(min(left, 5)):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                logf.write(chunk)
                logf.flush()
                partial += chunk
                *lines, partial = partial.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    at = line.find(MARK)
                    if at < 0:
                        if current is not None:
                            output.append(line)
                        continue
                    # A test's last line may lack its newline: keep the part before the mark.
                    if at > 0 and current is not None:
                        output.append(line[:at])
                    words = line[at + len(MARK):].split()
                    if not words:
                        continue
                    fields = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                    if words[0] == "BOOTED":
                        res.boot_secs = time.monotonic() - start
                        res.guest_uptime = float(fields.get("uptime", 0))
                        if verbose:
                            log(f"  {kernel['column']}: booted {fields.get('kernel')} in "
                                f"{res.boot_secs:.1f} s (guest uptime {fields.get('uptime')} s)")
                    elif words[0] == "MODULE":
                        res.modules[words[1]] = words[2]
                        if words[2] != "ok":
                            log(f"  {kernel['column']}: module {words[1]} failed to load")
                    elif words[0] == "BEGIN":
                        current, output = words[1], []
                    elif words[0] == "END" and current == words[1]:
                        while output and not output[-1].strip():
                            output.pop()
                        res.classify(current, int(fields.get("rc", -1)),
                                     float(fields.get("secs", 0)), output)
                        t = res.tests[current]
                        if verbose or t["status"] == "failed":
                            log(f"  {kernel['column']}: {t['status']:7} {current} "
                                f"({t['secs']:.1f} s){' - ' + t['reason'] if t['reason'] else ''}")
                        current = None
                    elif words[0] == "DONE":
                        res.suite_secs = float(fields.get("secs", 0))
                        done = True
        if not done and res.problem is None:
            res.problem = "the machine stopped before the suite ended" + (
                f" (in {current})" if current else "")
        if current is not None:
            res.tests[current] = {"status": "failed", "rc": None, "secs": 0,
                                  "reason": res.problem, "output": output}
    finally:
        stop(proc, graceful=done)
        with RUNNING_LOCK:
            RUNNING.discard(proc)
        res.wall_secs = time.monotonic() - start
    return res


def stop(proc, graceful):
    if proc.poll() is None:
        try:
            # After DONE, poweroff -f is on its way; otherwise end it now.
            proc.wait(timeout=20 if graceful else 0.1)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    proc.stdout.close()


# ------------------------------------------------------------------- report

def report(results, host_release, out_json):
    log("")
    log("kernel matrix (qemu TCG, one host thread, -smp 2; the host's kernel runs the same tiers through ctest)")
    hdr = f"{'kernel':34} {'where':6} {'boot s':>7} {'suite s':>8} {'passed':>7} {'failed':>7} {'skipped':>8}  result"
    log(hdr)
    log("-" * len(hdr))
    for r in results:
        c = r.counts()
        boot = f"{r.boot_secs:.1f}" if r.boot_secs is not None else "-"
        suite = f"{r.suite_secs:.1f}" if r.suite_secs is not None else "-"
        verdict = "FAILED" if r.failed() else "ok"
        if r.problem:
            verdict += f" ({r.problem})"
        log(f"{r.kernel['release']:34} {'qemu':6} {boot:>7} {suite:>8} {c['passed']:>7} "
            f"{c['failed']:>7} {c['skipped']:>8}  {verdict}")
    log(f"{host_release:34} {'host':6} {'-':>7} {'-':>8} {'-':>7} {'-':>7} {'-':>8}  "
        "runs through ctest (make test), not here")
    for r in results:
        skipped = [(n, t) for n, t in r.tests.items() if t["status"] == "skipped"]
        failed = [n for n in r.order if r.tests.get(n, {"status": "failed"})["status"] == "failed"]
        if skipped:
            log(f"\n{r.kernel['column']} ({r.kernel['release']}) skipped:")
            for n, t in skipped:
                log(f"  {n}: {t['reason'] or 'no reason given'}")
        if failed:
            log(f"\n{r.kernel['column']} ({r.kernel['release']}) failed:")
            for n in failed:
                t = r.tests.get(n)
                log(f"  {n}: {t['reason'] if t else 'not run'}")
    with open(out_json, "w") as f:
        json.dump([{
            "column": r.kernel["column"], "package": r.kernel["package"],
            "release": r.kernel["release"], "boot_secs": r.boot_secs,
            "suite_secs": r.suite_secs, "wall_secs": r.wall_secs, "problem": r.problem,
            "counts": r.counts(), "modules": r.modules,
            "tests": {n: {k: v for k, v in t.items() if k != "output"} for n, t in r.tests.items()},
        } for r in results], f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--kernels", default=",".join(KERNELS),
                    help="matrix columns to run (default: %(default)s)")
    ap.add_argument("--tests", default="", help="only the tests whose ctest name matches")
    ap.add_argument("--repeat", type=int, default=1, help="run each test this many times")
    ap.add_argument("--run", metavar="SHELL_COMMAND",
                    help="run this command in the machine instead of the tests (debugging)")
    # CI's last 6.12 suite took 707 s of 900; each tier adds tests, and a
    # busier machine slows TCG: room to grow, still far inside CI's 90 min.
    ap.add_argument("--timeout", type=int, default=1500, help="seconds per kernel")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="kernels booted at once, each on one host thread (default: the cores, %(default)s)")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per test")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    if not os.path.exists(os.path.join(build, "tcpscope")):
        die(f"{build}/tcpscope does not exist: build first (make build)")
    for tool in ("qemu-system-x86_64", "apt-get", "dpkg-deb", "ctest", "strip"):
        if shutil.which(tool) is None:
            die(f"{tool} is missing: run tools/install-deps.sh")
    columns = [c for c in args.kernels.split(",") if c]
    for c in columns:
        if c not in KERNELS:
            die(f"unknown kernel {c} (known: {', '.join(KERNELS)})")

    kernels_dir = os.path.join(build, "kernels")
    os.makedirs(kernels_dir, exist_ok=True)
    kernels = [fetch_kernel(c, kernels_dir) for c in columns]
    plan = ctest_plan(build, args.tests or ("^$" if args.run else ""), allow_empty=bool(args.run))
    if args.run:
        plan.append({"name": "custom", "tier": "custom", "command": ["sh", CUSTOM_SCRIPT],
                     "env": [], "dir": "/", "timeout": args.timeout, "skip_rc": None,
                     "skip_regex": []})
    plan = [dict(t, name=t["name"] + (f"#{i + 1}" if args.repeat > 1 else ""))
            for t in plan for i in range(args.repeat)]

    tmpdir = tempfile.mkdtemp(prefix="image-", dir=kernels_dir)
    results = []
    try:
        t0 = time.monotonic()
        common = os.path.join(tmpdir, "common.cpio.gz")
        build_common_image(common, build, plan, tmpdir, args.run)
        log(f"run_matrix: initramfs with {len(plan)} tests, "
            f"{os.path.getsize(common) / 1e6:.0f} MB, in {time.monotonic() - t0:.1f} s")

        def run_kernel(k):
            initrd = os.path.join(tmpdir, "initrd-" + k["column"] + ".gz")
            part = os.path.join(tmpdir, "modules-" + k["column"] + ".cpio.gz")
            build_kernel_image(part, k)
            with open(initrd, "wb") as out:
                for p in (common, part):
                    with open(p, "rb") as f:
                        shutil.copyfileobj(f, out)
                    out.write(b"\0" * (-out.tell() % 4))
            os.unlink(part)
            log(f"run_matrix: {k['column']}: booting {k['release']} ({k['package']})")
            r = boot(k, initrd, plan, args.timeout, args.verbose,
                     os.path.join(k["dir"], "console.log"))
            os.unlink(initrd)
            c = r.counts()
            log(f"kernel {k['release']}: {'FAILED' if r.failed() else 'ok'}: passed {c['passed']}, "
                f"failed {c['failed']}, skipped {c['skipped']}; boot {r.boot_secs or 0:.1f} s, "
                f"suite {r.suite_secs or 0:.1f} s, total {r.wall_secs:.1f} s"
                + (f"; {r.problem}" if r.problem else "")
                + f" (console: {os.path.relpath(os.path.join(k['dir'], 'console.log'))})")
            return r

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
        try:
            results = list(pool.map(run_kernel, kernels))
        finally:
            kill_running()  # on an interrupt: the boots then end at once
            pool.shutdown(wait=True)
        # The failures' output once every machine is done, kernel by kernel.
        for k, r in zip(kernels, results):
            for n in r.order:
                t = r.tests.get(n)
                if t and t["status"] == "failed" and t["output"]:
                    log(f"---- {k['column']}: {n}: last lines of its output")
                    for line in t["output"][-40:]:
                        log("    " + line)
    finally:
        kill_running()
        shutil.rmtree(tmpdir, ignore_errors=True)
    report(results, os.uname().release, os.path.join(kernels_dir, "results.json"))
    return 1 if any(r.failed() for r in results) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
