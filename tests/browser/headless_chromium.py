"""Debian's chromium, headless, for the browser tests and tools/ladder-screenshot.sh.

Each load is one chromium process tree, started in a network namespace of its
own that has only loopback (`unshare --net`): the page cannot reach anything
outside the machine, and neither can chromium's own background requests
(update checks, which --disable-background-networking does not stop all of).
Chromium logs what the page printed to the console (--enable-logging) and
every request it started (--log-net-log); the load reports both. It gets its
own --user-data-dir in a temporary directory, and its whole process group is
killed when the load ends; the caller becomes a child subreaper, so chromium's
orphaned helpers are its children and are reaped (no zombie for init either),
and any process still naming the profile is reported: no chromium is left behind.
As root chromium needs --no-sandbox.
"""

import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
    "--force-device-scale-factor=1", "--enable-logging=stderr", "--v=0",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--no-first-run", "--no-default-browser-check",
    "--disable-extensions", "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck",
]

# `INFO:CONSOLE:12] "message", source: file:///... (12)`: what the page printed,
# and what chromium says about it (a CSP violation is reported there).
CONSOLE_LINE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\]\s*(.*)")
# Chromium's own pages log there too (under load, chrome://resources says
# "Slow network is detected"): not the page's, so kept apart.
INTERNAL_SOURCE = re.compile(r', source: (chrome|chrome-extension|chrome-untrusted|devtools)://\S* \(\d+\)$')


class Load:
    """What one headless load of a page gave."""

    def __init__(self):
        self.returncode = None
        self.stdout = ""
        self.console = []          # console messages (all levels: a CSP refusal is INFO)
        self.internal_console = [] # chromium's own pages' messages, not the page's
        self.page_requests = []    # URLs the page itself asked for
        self.leftover = []         # chromium processes still alive after the load
        self.stderr_tail = ""


def _netlog_page_requests(path):
    """URLs of requests made for the page (its site is file://), not chromium's own."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return ["(no net log written)"]
    # Chromium may be killed before it closes the JSON; close it ourselves.
    try:
        log = json.loads(text)
    except json.JSONDecodeError:
        try:
            log = json.loads(text.rstrip().rstrip(",") + "]}")
        except json.JSONDecodeError:
            return ["(net log unreadable: cannot tell what the page asked for)"]
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log.get("events", []):
        if types.get(event.get("type")) != "URL_REQUEST_START_JOB":
            continue
        params = event.get("params", {})
        origin = params.get("network_isolation_key", "") + params.get("site_for_cookies", "")
        if "file://" in origin or params.get("initiator", "").startswith("file"):
            urls.append(params.get("url", "?"))
    return urls


def _processes_using(marker):
    """Pids of processes whose command line mentions `marker` (our profile dir)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper():
    """Chromium's helpers (zygote, GPU, renderer) are orphaned when the browser
    exits: as a subreaper this process inherits them, so it can reap them all
    instead of leaving zombies for init."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_all(deadline_s=10):
    """Waits for every child (and inherited orphan) of this process; returns
    how many were still running at the deadline (killed then)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == 0:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    stuck = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == os.getpid():
                stuck += 1
                os.kill(int(entry), signal.SIGKILL)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return stuck


def load(url, action, timeout_s=90):
    """Loads `url` headless; `action` is ["--dump-dom"] or ["--screenshot=F", "--window-size=W,H"]."""
    _become_subreaper()
    result = Load()
    work = tempfile.mkdtemp(prefix="tcpscope-chromium-")
    profile = os.path.join(work, "profile")
    netlog = os.path.join(work, "net.json")
    cmd = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", CHROMIUM,
           *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}", *action, url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n(chromium timed out after {timeout_s} s and was killed)"
    finally:
        # Whatever chromium forked (zygote, GPU, renderer) goes with it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    result.returncode = proc.returncode
    if _reap_all():
        err += "\n(chromium processes still running 10 s after the browser ended were killed)"
        result.leftover.append("(children of the browser still running after 10 s)")
    result.stdout = out
    result.stderr_tail = "\n".join(err.splitlines()[-15:])
    for line in err.splitlines():
        m = CONSOLE_LINE.search(line)
        if m:
            internal = INTERNAL_SOURCE.search(m.group(1))
            (result.internal_console if internal else result.console).append(m.group(1))
    result.page_requests = _netlog_page_requests(netlog)
    # A process that left our group (re-parented, new session) would still
    # name our profile directory: wait a little for it, then report it.
    deadline = time.monotonic() + 5
    while _processes_using(profile) and time.monotonic() < deadline:
        time.sleep(0.1)
    result.leftover += _processes_using(profile)
    for pid in result.leftover:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(work, ignore_errors=True)
    return result


def page_size(html_path):
    """The diagram's size the page declares (data-diagram-width/-height on <body>)."""
    with open(html_path) as f:
        text = f.read()
    w = re.search(r'data-diagram-width="(\d+)"', text)
    h = re.search(r'data-diagram-height="(\d+)"', text)
    return (int(w.group(1)), int(h.group(1))) if w and h else None


def screenshot_window(html_path, extra=0, max_height=8000):
    """A window that holds the whole diagram: its width and height plus the page's
    margins and title, and `extra` pixels below it (the facts)."""
    size = page_size(html_path)
    if size is None:
        return (1280, 900)
    width, height = size
    return (width + 40, min(height + 130 + extra, max_height))
