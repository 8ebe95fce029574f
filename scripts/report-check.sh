#!/usr/bin/env bash
# Check that a run's report.html renders in a real browser.
#
#   scripts/report-check.sh [DIR]        (DIR defaults to store/latest)
#
# Renders DIR/report.html again with `harness report DIR`, opens it in headless Chromium
# (Debian's `chromium` package, installed with apt-get if absent), saves a screenshot to
# DIR/report.png, and fails with one line if the screenshot is missing or blank (nearly all one
# colour), or if the page shows an error or lacks a section of the report.
#
# HARNESS names the harness binary (default: target/release/harness, built if absent).

set -euo pipefail

fail() {
    echo "report-check: FAIL: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/store/latest}"

if [ ! -d "$dir" ] || [ ! -f "$dir/history.jsonl" ]; then
    fail "no run folder at $dir; make one first, e.g.: make build && target/release/harness test -w broadcast --bin target/release/broadcast-eager --node-count 3 --time-limit 5 --nemesis partition"
fi
dir="$(cd "$dir" && pwd -P)"

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
    echo "report-check: installing Debian's chromium package" >&2
    log="$(mktemp)"
    if ! { apt-get install -y chromium >"$log" 2>&1 ||
        { apt-get update >>"$log" 2>&1 && apt-get install -y chromium >>"$log" 2>&1; }; }; then
        fail "apt-get install -y chromium failed: $(tail -n 1 "$log")"
    fi
    rm -f "$log"
    [ -x "$chromium" ] || fail "the chromium package did not install $chromium"
fi

harness="${HARNESS:-${CARGO_TARGET_DIR:-$root/target}/release/harness}"
if [ ! -x "$harness" ]; then
    echo "report-check: building $harness" >&2
    (cd "$root" && cargo build --release -p runner --bin harness --quiet) ||
        fail "cargo build --release -p runner --bin harness failed"
fi

rendered="$("$harness" report "$dir" 2>&1)" || fail "harness report $dir: $rendered"
page="$dir/report.html"
[ -s "$page" ] || fail "harness report did not write $page"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
shot="$dir/report.png"
rm -f "$shot"

browse() {
    # A fresh profile each time; nothing may reach the network.
    local profile
    profile="$(mktemp -d "$work/profile.XXXX")"
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" --window-size=1280,2400 \
        "$@" "file://$page"
}

browse --screenshot="$shot" >"$work/shot.log" 2>&1 ||
    fail "chromium could not take the screenshot: $(grep -v '^\s*$' "$work/shot.log" | tail -n 1)"
[ -s "$shot" ] || fail "chromium wrote no screenshot at $shot"
browse --dump-dom >"$work/dom.html" 2>"$work/dom.log" ||
    fail "chromium could not render the page: $(grep -v '^\s*$' "$work/dom.log" | tail -n 1)"

python3 - "$shot" "$work/dom.html" <<'PY' || exit 1
"""Fail with one line if the screenshot is blank or the rendered page shows an error."""
import re
import struct
import sys
import zlib


def fail(message):
    print(f"report-check: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def read_png(path):
    """Width, height and rows of pixels (bytes per pixel, rows) of an 8-bit RGB(A) PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        fail(f"{path} has no PNG header")
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4, 0: 1, 4: 2}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        fail(f"{path}: unexpected PNG format (depth {depth}, colour type {colour})")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1 : start + 1 + stride])
        bpp = channels
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif kind == 2:
            row = bytearray((a + b) & 255 for a, b in zip(row, prev))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 255
        elif kind != 0:
            fail(f"{path}: bad PNG row filter {kind}")
        rows.append(bytes(row))
        prev = row
    return width, height, channels, rows


shot, dom_path = sys.argv[1], sys.argv[2]
width, height, channels, rows = read_png(shot)
counts = {}
for row in rows[::2]:
    for x in range(0, len(row), channels * 2):
        pixel = row[x : x + 3]
        counts[pixel] = counts.get(pixel, 0) + 1
total = sum(counts.values())
top = max(counts.values())
if top / total > 0.985 or len(counts) < 8:
    fail(f"the screenshot is blank: {top / total:.1%} of it is one colour, {len(counts)} colours")

with open(dom_path, encoding="utf-8", errors="replace") as f:
    dom = f.read()
if not dom.strip():
    fail("chromium rendered an empty page")
for marker in ("neterror", "ERR_FILE_NOT_FOUND", "ERR_ACCESS_DENIED", "This page isn"):
    if marker in dom:
        fail(f"chromium shows an error page ({marker})")
verdict = re.search(r'<header id="verdict" class="verdict (valid|invalid|unknown)"', dom)
if not verdict:
    fail("the rendered page has no verdict")
missing = [
    s
    for s in ('id="checks"', 'id="figures"', 'id="latency"', 'id="throughput"', 'id="messages"',
              'id="problems"', 'id="run"')
    if s not in dom
]
if missing:
    fail(f"the rendered page lacks {', '.join(missing)}")
print(
    f"report-check: ok: {shot} ({width}x{height}, {len(counts)} colours, "
    f"verdict {verdict.group(1)})"
)
PY
