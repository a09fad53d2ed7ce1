#!/usr/bin/env bash
# report_browser.sh RUN_DIR [OUT.png] - render RUN_DIR/report.html in headless
# Chromium and check the screenshot is not blank.
#
# Skips (exit 0) when no chromium is installed. "Not blank": the PNG is over
# 20 KB (a blank page compresses to a few KB) and, when python3 is available,
# more than 1 % of its pixels are not white (decoded with zlib only).
set -euo pipefail

run_dir=${1:?usage: report_browser.sh RUN_DIR [OUT.png]}
run_dir=$(cd "$run_dir" && pwd)
html="$run_dir/report.html"
out=${2:-"$run_dir/report-screenshot.png"}

browser=""
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then
    browser=$b
    break
  fi
done
if [ -z "$browser" ]; then
  echo "report_browser: SKIPPED: chromium not installed"
  exit 0
fi
[ -f "$html" ] || { echo "report_browser: FAIL: $html not found" >&2; exit 1; }

# The page must need nothing from the network: run with no proxy reachable and
# a scratch profile so nothing of the user's is touched.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$profile" --no-first-run --proxy-server=127.0.0.1:9 \
  --screenshot="$out" --window-size=1280,2400 "file://$html" >"$profile/log" 2>&1 || {
  echo "report_browser: FAIL: $browser exited with an error:" >&2
  tail -20 "$profile/log" >&2
  exit 1
}
[ -f "$out" ] || { echo "report_browser: FAIL: no screenshot written" >&2; exit 1; }

size=$(stat -c %s "$out")
if [ "$size" -le 20480 ]; then
  echo "report_browser: FAIL: screenshot is only $size bytes (blank page?)" >&2
  exit 1
fi

if python3 -c 'import zlib' >/dev/null 2>&1; then
  python3 - "$out" <<'EOF'
# Decode an 8-bit RGB/RGBA, non-interlaced PNG with zlib and count the pixels
# that are not white.
import struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
w, h, depth, ctype, _, _, interlace = hdr
if depth != 8 or ctype not in (2, 6) or interlace:
    print("report_browser: PNG format not checked (depth %d, colour type %d)" % (depth, ctype))
    sys.exit(0)
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
nonwhite = 0
i = 0
for _ in range(h):
    f = raw[i]
    line = bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1:
            line[x] = (line[x] + a) & 255
        elif f == 2:
            line[x] = (line[x] + b) & 255
        elif f == 3:
            line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[x] = (line[x] + pred) & 255
    for x in range(0, stride, bpp):
        if line[x] < 245 or line[x + 1] < 245 or line[x + 2] < 245:
            nonwhite += 1
    prev = line
share = nonwhite / float(w * h)
print("report_browser: %dx%d, %.1f %% non-white pixels" % (w, h, 100 * share))
if share <= 0.01:
    print("report_browser: FAIL: the page is (almost) blank", file=sys.stderr)
    sys.exit(1)
EOF
fi
echo "report_browser: OK ($out, $size bytes)"
