#!/usr/bin/python3
"""The HTML ladder pages in a real browser (Debian's chromium, headless).

`tcpscope run --all --html DIR --json --output run.jsonl` runs every catalogue
scenario once, writing the pages and the JSON lines of the same run. Each page
is then loaded in headless chromium (headless_chromium.py: its own network
namespace with only loopback, its own profile, no process left behind):

- no console message at all (a page that tried to fetch something would log
  the Content-Security-Policy refusal there) and no request made for the page
  (chromium's net log);
- the DOM holds one arrow per segment, one step box per step, one state label
  per state change of that scenario in run.jsonl, and each element's hover
  text (<title>) is a JSON line of the run of the right type;
- a screenshot of the size asked for, not blank, with red in it when the run
  has an error, a RST or a signal to show.

A --html target that cannot be written is refused first (exit 2, before any
scenario runs). Two control pages show that the checks can fail: a fetch refused by the
same policy is seen in the console, and a fetch without the policy is seen in
the net log.

Usage: ladder_pages_test.py TCPSCOPE [--workdir DIR] [--reuse]
Root is needed (tcpscope run); without it the test says so and exits 77.
"""

import argparse
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless_chromium  # noqa: E402

FAILURES = []


def check(ok, what):
    if not ok:
        FAILURES.append(what)
        print("FAIL: " + what, flush=True)
    return ok


class DomCounter(html.parser.HTMLParser):
    """Counts the diagram's elements and collects each group's hover text."""

    def __init__(self):
        super().__init__()
        self.step_boxes = 0
        self.groups = []          # (classes, title text)
        self.links = []
        self._stack = []          # open <g> classes
        self._title = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "rect" and "step" in classes:
            self.step_boxes += 1
        if tag == "g":
            self._stack.append([classes, None])
        if tag == "title" and self._stack:
            self._title = ""
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "title" and self._stack and self._title is not None:
            self._stack[-1][1] = self._title
            self._title = None
        if tag == "g" and self._stack:
            self.groups.append(tuple(self._stack.pop()))

    def handle_data(self, data):
        if self._title is not None:
            self._title += data

    def count(self, cls):
        return sum(1 for classes, _ in self.groups if cls in classes)


def red_pixels(image):
    rgb = image.convert("RGB")
    return sum(1 for r, g, b in rgb.getdata() if r > 150 and g < 90 and b < 90)


def check_screenshot(name, png, size, expect_red):
    from PIL import Image

    if not check(os.path.exists(png), f"{name}: no screenshot written"):
        return
    with Image.open(png) as image:
        check(image.size == size, f"{name}: screenshot is {image.size}, asked for {size}")
        gray = image.convert("L")
        histogram = gray.histogram()
        total = image.size[0] * image.size[1]
        inked = total - sum(histogram[250:])
        colours = len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16))
        check(inked >= 0.01 * total,
              f"{name}: screenshot nearly blank ({inked} of {total} pixels not white)")
        check(colours >= 4, f"{name}: screenshot has {colours} colours")
        if expect_red:
            check(red_pixels(image) >= 20, f"{name}: the run has errors, the screenshot no red")
    return


def controls(work):
    """The checks themselves can fail."""
    refused = os.path.join(work, "control-csp.html")
    fetched = os.path.join(work, "control-open.html")
    img = '<img src="http://127.0.0.1:9/x.png">'
    with open(refused, "w") as f:
        f.write('<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv='
                '"Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
                f'</head><body><p>control</p>{img}</body></html>')
    with open(fetched, "w") as f:
        f.write(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{img}</body></html>')
    a = headless_chromium.load("file://" + refused, ["--dump-dom"])
    check(any("Content Security Policy" in m for m in a.console),
          f"control: a fetch refused by the policy is not in the console log: {a.console}")
    b = headless_chromium.load("file://" + fetched, ["--dump-dom"])
    check("http://127.0.0.1:9/x.png" in b.page_requests,
          f"control: the page's fetch is not in the net log: {b.page_requests}")
    check(not a.leftover and not b.leftover, "control: chromium processes left behind")


def bad_html_targets(tcpscope, work):
    """A --html target that cannot be written is refused before anything runs."""
    a_file = os.path.join(work, "a-file")
    with open(a_file, "w") as f:
        f.write("x")
    cases = [
        (["run", "zero-byte-send", "--html", os.path.join(work, "no-such-dir", "x.html")], "no-such-dir"),
        (["run", "zero-byte-send", "--html", work], "is a directory"),
        (["run", "--all", "--html", a_file], "not a directory"),
        (["exec", "--html", work, "--", "true"], "is a directory"),
    ]
    for args, words in cases:
        r = subprocess.run([tcpscope, *args], capture_output=True, text=True, timeout=30)
        # exec's own failures exit 125, apart from any status of its command.
        want = 125 if args[0] == "exec" else 2
        check(r.returncode == want and "--html" in r.stderr and words in r.stderr and not r.stdout,
              f"tcpscope {' '.join(args)}: exit {r.returncode}, stderr {r.stderr!r}, stdout {r.stdout[:200]!r}")


# A program with no reporting of its own for `tcpscope exec --html`: the
# zero-byte story on loopback (ephemeral port), its second send failing
# with EPIPE.
EXEC_PROGRAM = """
import signal, socket, time
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept(); conn.close(); time.sleep(0.05)
cli.send(b"x"); time.sleep(0.05)
try:
    cli.send(b"x")
except BrokenPipeError:
    print("EPIPE")
"""


def exec_page(tcpscope, work):
    """`tcpscope exec --html`: the page of a program with no reporting, held
    to the same checks as run's pages, against the same run's JSON."""
    page = os.path.join(work, "exec.html")
    jsonl = os.path.join(work, "exec.jsonl")
    r = subprocess.run([tcpscope, "exec", "--html", page, "--json", "--output", jsonl, "--",
                        "/usr/bin/python3", "-c", EXEC_PROGRAM], capture_output=True, text=True, timeout=120)
    if not check(r.returncode == 0 and os.path.exists(page), f"exec --html: exit {r.returncode}: {r.stderr[-1000:]}"):
        return
    counts = run_counts(jsonl)
    if not check(len(counts) == 1, f"exec.jsonl names one command: {sorted(counts)}"):
        return
    want = next(iter(counts.values()))
    check(want["step"] > 0 and want["state"] > 0 and want["errors"],
          f"exec captured calls, state changes and the EPIPE: {want}")
    got = headless_chromium.load("file://" + page, ["--dump-dom"])
    check(got.returncode == 0 and not got.console and not got.page_requests and not got.leftover,
          f"exec page: exit {got.returncode}, console {got.console}, requests {got.page_requests}")
    dom = DomCounter()
    dom.feed(got.stdout)
    seen = {"step": dom.step_boxes, "packet": dom.count("arrow"), "state": dom.count("state")}
    for key in ("step", "packet", "state"):
        check(seen[key] == want[key], f"exec page: {seen[key]} {key} elements in the DOM, {want[key]} in its JSON")
    print(f"exec page: {seen['step']} steps, {seen['packet']} arrows, {seen['state']} states", flush=True)


def run_counts(jsonl):
    """Per scenario: steps, segments, state changes, and whether it has errors to show."""
    counts = {}
    with open(jsonl) as f:
        for line in f:
            j = json.loads(line)
            name = j.get("scenario")
            if not name:
                continue
            c = counts.setdefault(name, {"step": 0, "packet": 0, "state": 0, "errors": False,
                                         "summary": None})
            t = j["type"]
            if t in c and t != "summary":
                c[t] += 1
            if t == "summary":
                c["summary"] = j
            if t in ("reset_sent", "reset_received", "sock_error", "signal") or \
                    (t == "step" and j.get("errno")):
                c["errors"] = True
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tcpscope")
    parser.add_argument("--workdir", help="keep the run, pages and screenshots here")
    parser.add_argument("--reuse", action="store_true", help="pages already in --workdir")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (tcpscope run loads BPF programs and makes network namespaces)")
        return 77
    if not os.path.exists(headless_chromium.CHROMIUM):
        print("FAIL: chromium is not installed (tools/install-deps.sh installs it)")
        return 1
    try:
        import PIL  # noqa: F401
    except ImportError:
        print("FAIL: python3-pil is not installed (tools/install-deps.sh installs it)")
        return 1

    work = args.workdir or tempfile.mkdtemp(prefix="tcpscope-browser-")
    os.makedirs(work, exist_ok=True)
    try:
        controls(work)
        bad_html_targets(args.tcpscope, work)
        exec_page(args.tcpscope, work)
        pages = os.path.join(work, "pages")
        jsonl = os.path.join(work, "run.jsonl")
        if not args.reuse:
            shutil.rmtree(pages, ignore_errors=True)
            r = subprocess.run([args.tcpscope, "run", "--all", "--html", pages, "--json",
                                "--output", jsonl], stderr=subprocess.PIPE, text=True, timeout=900)
            # A fact that does not hold is the scenario tier's failure; the
            # pages must render all the same.
            check(r.returncode in (0, 1), f"tcpscope run --all exited {r.returncode}: {r.stderr[-2000:]}")
        names = [json.loads(line)["name"] for line in subprocess.run(
            [args.tcpscope, "list", "--json"], capture_output=True, text=True, check=True).stdout.splitlines()]
        counts = run_counts(jsonl)
        check(sorted(counts) == sorted(names), f"run.jsonl has scenarios {sorted(counts)}, not {sorted(names)}")
        for name in names:
            page = os.path.join(pages, name + ".html")
            if not check(os.path.exists(page), f"{name}: no page {page}"):
                continue
            want = counts.get(name, {"step": -1, "packet": -1, "state": -1, "errors": False})
            got = headless_chromium.load("file://" + page, ["--dump-dom"])
            check(got.returncode == 0, f"{name}: chromium exited {got.returncode}: {got.stderr_tail}")
            check(not got.console, f"{name}: console messages: {got.console}")
            check(not got.page_requests, f"{name}: requests left the page: {got.page_requests}")
            check(not got.leftover, f"{name}: chromium processes left behind: {got.leftover}")
            dom = DomCounter()
            dom.feed(got.stdout)
            seen = {"step": dom.step_boxes, "packet": dom.count("arrow"), "state": dom.count("state")}
            for key, cls in (("step", "step"), ("packet", "arrow"), ("state", "state")):
                check(seen[key] == want[key],
                      f"{name}: {seen[key]} {cls} elements in the DOM, {want[key]} {key} lines in the run")
            # Hover: each element's title is its JSON line, of the right type.
            for classes, title in dom.groups:
                if "gap" in classes:
                    continue
                try:
                    j = json.loads(title or "")
                except json.JSONDecodeError:
                    check(False, f"{name}: a {classes} element's hover text is not JSON: {title!r}")
                    continue
                expected = {"step": "step", "return": "step", "arrow": "packet", "state": "state"}
                for cls, typ in expected.items():
                    if cls in classes:
                        check(j.get("type") == typ and j.get("scenario") == name,
                              f"{name}: a {cls} element's hover line is a {j.get('type')} of {j.get('scenario')}")
            size = headless_chromium.screenshot_window(page)
            png = os.path.join(work, name + ".png")
            shot = headless_chromium.load("file://" + page,
                                          [f"--screenshot={png}", f"--window-size={size[0]},{size[1]}"])
            check(not shot.console, f"{name}: console messages (screenshot): {shot.console}")
            check(not shot.leftover, f"{name}: chromium processes left behind: {shot.leftover}")
            check_screenshot(name, png, size, want["errors"])
            print(f"{name}: {seen['step']} steps, {seen['packet']} arrows, {seen['state']} states; "
                  f"screenshot {size[0]}x{size[1]}", flush=True)
        index = os.path.join(pages, "index.html")
        if check(os.path.exists(index), "no index.html"):
            got = headless_chromium.load("file://" + index, ["--dump-dom"])
            check(not got.console and not got.page_requests and not got.leftover,
                  f"index: console {got.console}, requests {got.page_requests}, left {got.leftover}")
            dom = DomCounter()
            dom.feed(got.stdout)
            check(sorted(dom.links) == sorted(n + ".html" for n in names),
                  f"index links {dom.links}")
        # Nothing of ours left anywhere: no process naming one of our
        # profiles (every load's is under a tcpscope-chromium-* directory).
        left = headless_chromium._processes_using("tcpscope-chromium-")
        check(not left, f"chromium processes left behind at the end: {left}")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("all pages render: no console message, no request, DOM counts equal the run's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
