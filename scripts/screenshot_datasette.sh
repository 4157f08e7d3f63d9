#!/usr/bin/env bash
# Manual check of datasette-vecsql in a real browser (not part of scripts/test.sh): builds a
# small vec0 table (CSS colours as RGB vectors), serves it with Datasette and the installed
# plugin on a loopback port, and screenshots a row page (with its "Nearest rows" panel) with
# headless Chromium into docs/img/datasette-vecsql-row.png (or $1).
# Needs: scripts/setup.sh, the vecsql package (pip install ./python), and Chromium
# (apt-get install -y chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/img/datasette-vecsql-row.png}
port=${PORT:-8765}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no chromium: apt-get install -y chromium" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${ds_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

.venv/bin/python - "$work/colors.db" <<'PY'
import sqlite3, sys, vecsql
COLORS = {
    "coral": "ff7f50", "tomato": "ff6347", "salmon": "fa8072", "darksalmon": "e9967a",
    "lightsalmon": "ffa07a", "orangered": "ff4500", "orange": "ffa500", "darkorange": "ff8c00",
    "gold": "ffd700", "khaki": "f0e68c", "crimson": "dc143c", "red": "ff0000",
    "firebrick": "b22222", "indianred": "cd5c5c", "lightcoral": "f08080", "hotpink": "ff69b4",
    "pink": "ffc0cb", "peachpuff": "ffdab9", "sandybrown": "f4a460", "chocolate": "d2691e",
    "sienna": "a0522d", "brown": "a52a2a", "maroon": "800000", "olive": "808000",
    "green": "008000", "lime": "00ff00", "seagreen": "2e8b57", "teal": "008080",
    "cyan": "00ffff", "skyblue": "87ceeb", "steelblue": "4682b4", "navy": "000080",
    "blue": "0000ff", "royalblue": "4169e1", "indigo": "4b0082", "purple": "800080",
    "violet": "ee82ee", "orchid": "da70d6", "plum": "dda0dd", "lavender": "e6e6fa",
    "white": "ffffff", "silver": "c0c0c0", "gray": "808080", "black": "000000",
}
c = sqlite3.connect(sys.argv[1])
vecsql.load(c)
c.execute("create virtual table colors using vec0(rgb float[3], +name text, +hex text)")
for i, (name, hx) in enumerate(COLORS.items(), 1):
    rgb = [int(hx[j:j + 2], 16) / 255 for j in (0, 2, 4)]
    c.execute("insert into colors(rowid, rgb, name, hex) values (?, vec_f32(?), ?, ?)",
              (i, str(rgb), name, "#" + hx))
c.commit()
PY

.venv/bin/datasette serve "$work/colors.db" --host 127.0.0.1 --port "$port" >"$work/ds.log" 2>&1 &
ds_pid=$!
for _ in $(seq 50); do
  curl -fsS "http://127.0.0.1:$port/-/versions.json" >/dev/null 2>&1 && break
  sleep 0.2
done
url="http://127.0.0.1:$port/colors/colors/1"        # coral
page=$(curl -fsS "$url")
grep -q 'Nearest rows' <<<"$page" || { echo "no panel at $url" >&2; cat "$work/ds.log" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port/-/vecsql/neighbours/colors/colors/1.json?k=3"; echo
mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,740 \
  --user-data-dir="$work/profile" --screenshot="$PWD/$out" "$url" 2>"$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; exit 1; }
echo "screenshot: $out"
