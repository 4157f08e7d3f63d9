"""The clients' own test suites, from their PyPI sdists, run with the library under test.

scripts/setup.sh downloads the sdists (pip download --no-binary) into .venv/client-sdists/.
Each suite runs in a pytest subprocess with `-p _swap` (VECSQL_CLIENT_LIB: every
`sqlite_vec.load` loads the chosen library) and `-c /dev/null` (the projects' pytest settings
need plugins they do not ship, e.g. syrupy), from the unpacked sdist's root.

- langchain-community 0.4.2: tests/integration_tests/vectorstores/test_sqlitevec.py (4 tests;
  needs vcrpy for the directory's conftest.py).
- sqlite-vec-client 2.4.1: tests/ (its conftest.py with the fixtures is not in the sdist;
  _svc_fixtures.py supplies the same fixtures).
"""
import re
import subprocess
import sys
import tarfile

import pytest

SUITES = {
    "langchain-community": ("langchain_community-0.4.2", ["tests/integration_tests/vectorstores/test_sqlitevec.py"], []),
    "sqlite-vec-client": ("sqlite_vec_client-2.4.1", ["tests"], ["-p", "_svc_fixtures"]),
}


@pytest.mark.parametrize("suite", list(SUITES))
def test_upstream_suite(suite, sdists, sub_env, lib, lib_path, tmp_path):
    name, paths, extra = SUITES[suite]
    archive = sdists / f"{name}.tar.gz"
    assert archive.exists(), f"{archive} missing: run scripts/setup.sh"
    with tarfile.open(archive) as tf:
        members = [m for m in tf.getmembers() if m.name.startswith(f"{name}/tests/")]
        tf.extractall(tmp_path, members=members)  # our own pinned sdist
    root = tmp_path / name
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-c", "/dev/null", "--rootdir", str(root),
         "-p", "no:cacheprovider", "-p", "_swap", *extra, "-W", "ignore::DeprecationWarning",
         "-W", "ignore::pytest.PytestUnknownMarkWarning", *paths],
        cwd=root, env=sub_env, capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    loads = re.search(r"vecsql-swap: (\d+) connections loaded (\S+)", out)
    assert loads and int(loads[1]) > 0 and loads[2] == lib_path, f"swap not applied:\n{out[-3000:]}"
    assert r.returncode == 0, f"{suite} suite failed on {lib}:\n{out[-6000:]}"
    assert re.search(r"\d+ passed", out) and not re.search(r"\d+ (failed|error)", out), out[-3000:]
