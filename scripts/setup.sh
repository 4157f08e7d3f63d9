#!/usr/bin/env bash
# Installs what vecsql's build, demo and tests need on a fresh Debian machine (idempotent):
# the sqlite3 shell, a Python whose sqlite3 module can load extensions, and a venv in .venv;
# Node.js, npm and what building better-sqlite3 needs, for the npm package's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
/usr/bin/python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
# Node.js tests (scripts/node_tests.sh) build better-sqlite3 from source: node and npm, Node's
# C headers, make and g++. An existing Node (NodeSource's packages carry the headers) is kept;
# Debian's own nodejs needs libnode-dev for them (Debian 12's Node 18 is too old for
# better-sqlite3 12, so node_tests.sh then reports the tests as skipped).
# sqlite-vss (the reference in tests/python/test_vss_compat.py) links OpenMP, BLAS and LAPACK.
for lib in libgomp1 libblas3 liblapack3; do
  dpkg -s "$lib" >/dev/null 2>&1 || need_apt+=("$lib")
done
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node 2>/dev/null || echo /usr/bin/node)")")")
if [ ! -f "$node_prefix/include/node/node_api.h" ] && [ ! -f /usr/include/node/node_api.h ]; then
  need_apt+=(libnode-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Debian's Python is built with extension loading enabled (pyenv's default python3 is not).
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat tests/python/requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r tests/python/requirements.txt
  echo "$want" > "$stamp"
fi

# Client software tested against vecsql and sqlite-vec (tests/clients), and the sdists that
# carry the clients' own test suites (PyPI wheels do not ship tests).
stamp=.venv/.client-requirements.sha
want=$(cat tests/clients/requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q -r tests/clients/requirements.txt
  rm -rf .venv/client-sdists
  .venv/bin/pip download -q --no-deps --no-binary :all: -d .venv/client-sdists \
    langchain-community==0.4.2 sqlite-vec-client==2.4.1
  echo "$want" > "$stamp"
fi

# vecsql's Datasette and sqlite-utils plugins (plugins/; tests/plugins). --no-deps: they need
# datasette, sqlite-utils (above) and the vecsql package, which scripts/test.sh installs from
# ./python after the Rust build. Reinstalled when their files change.
stamp=.venv/.plugins.sha
want=$(find plugins -type f \( -name '*.py' -o -name '*.html' -o -name '*.toml' \) \
  -not -path '*/build/*' -not -path '*.egg-info/*' | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --no-deps ./plugins/datasette-vecsql ./plugins/sqlite-utils-vecsql
  echo "$want" > "$stamp"
fi
