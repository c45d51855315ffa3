#!/usr/bin/env bash
# Exports a lesson's three diagrams as SVG (sockscope --export-svg), checks them with
# xmllint, renders each in headless Chromium and checks the picture is not blank: the
# text is real text, and Chinese renders in a browser (with --lang zh).
#
#   scripts/export_check.sh [BUILD_DIR] [OUT_DIR] [--lesson NAME] [--step K] [--lang en|zh]
#
# Defaults: build/debug, a fresh directory under /tmp, no-accept, step 3, zh. Needs
# xmllint (libxml2-utils), chromium and python3; not part of CI (chromium is large).
# Exit status 0 when every file passed.
set -euo pipefail

build=${1:-build/debug}
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/sockscope-export-XXXXXX")}
shift $(( $# >= 2 ? 2 : $# ))
lesson=no-accept step=3 lang=zh
while [ $# -gt 0 ]; do
  case "$1" in
    --lesson) lesson=$2; shift 2 ;;
    --step) step=$2; shift 2 ;;
    --lang) lang=$2; shift 2 ;;
    *) echo "export_check: unknown argument $1" >&2; exit 2 ;;
  esac
done
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
for tool in xmllint python3; do
  command -v "$tool" >/dev/null || { echo "export_check: needs $tool" >&2; exit 2; }
done
[ -n "$browser" ] || { echo "export_check: needs chromium (apt-get install chromium)" >&2; exit 2; }

mkdir -p "$out"
SOCKSCOPE_NO_SETTINGS=1 "$build/app/sockscope" --export-svg "$out" --lesson "$lesson" --step "$step" --lang "$lang"
status=0
for name in ladder packets states; do
  svg="$out/$name.svg" png="$out/$name-$lang-chromium.png"
  xmllint --noout "$svg" || { echo "FAIL $svg: not valid XML"; status=1; continue; }
  size=$(python3 - "$svg" <<'PY'
import re, sys, math
head = open(sys.argv[1], encoding="utf-8").read(2000)
m = re.search(r'<svg[^>]* width="([\d.]+)" height="([\d.]+)"', head)
print(f"{math.ceil(float(m.group(1)))},{math.ceil(float(m.group(2)))}")
PY
)
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --screenshot="$png" --window-size="$size" "file://$(realpath "$svg")" >/dev/null 2>&1 || true
  [ -s "$png" ] || { echo "FAIL $svg: chromium made no picture"; status=1; continue; }
  # Not blank: dark pixels (text and lines) on many rows. Reads the PNG with python3's zlib.
  if python3 - "$png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, width, height, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
bpp = {2: 3, 6: 4}[ctype]
raw, stride = zlib.decompress(idat), width * bpp
prev, rows, inky = bytearray(stride), 0, 0
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if any(sum(line[x:x + 3]) < 3 * 100 for x in range(0, stride, bpp)):
        inky += 1
sys.exit(0 if inky > height // 10 else 1)
PY
  then echo "ok   $svg -> $png"; else echo "FAIL $png: blank"; status=1; fi
done
exit $status
