#!/bin/sh
# Regenerates the picture in docs/run.md, scenarios/zero-byte-send/ladder.png, from a real
# run: `tcpscope run zero-byte-send --html`, then a screenshot of that page in
# headless chromium by the browser tests' own tooling (tests/browser/).
# Debian's python3 by its path: python3-pil is installed for it.
# Usage (root, after the build): tools/ladder-screenshot.sh [BUILD_DIR] [SCENARIO]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
scenario=${2:-zero-byte-send}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/tcpscope" run "$scenario" --html "$work/$scenario.html" >/dev/null
/usr/bin/python3 - "$root" "$work/$scenario.html" "$root/scenarios/$scenario/ladder.png" <<'PY'
import sys
sys.path.insert(0, sys.argv[1] + "/tests/browser")
import headless_chromium
page, png = sys.argv[2], sys.argv[3]
from PIL import Image, ImageOps
# Room for the facts and the "why" under the diagram; the blank below them
# is cut off afterwards.
w, h = headless_chromium.screenshot_window(page, extra=1000)
got = headless_chromium.load("file://" + page, [f"--screenshot={png}", f"--window-size={w},{h}"])
if got.console or got.page_requests or got.leftover:
    sys.exit(f"ladder-screenshot: console {got.console}, requests {got.page_requests}, left {got.leftover}")
with Image.open(png) as image:
    ink = ImageOps.invert(image.convert("L")).getbbox()
    cropped = image.crop((0, 0, w, min(h, ink[3] + 16))) if ink else image.copy()
# A palette of 64 colours keeps the text's anti-aliasing and a third of the bytes.
cropped.convert("RGB").quantize(colors=64).save(png, optimize=True)
print(f"ladder-screenshot: {png} ({cropped.size[0]}x{cropped.size[1]})")
PY
