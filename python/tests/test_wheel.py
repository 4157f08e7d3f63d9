"""The wheel `pip install ./python` builds: where it is built and what it carries. Builds one
wheel (about 7 s, most of it pip's isolated build environment), with the library of the
installed package (VECSQL_PREBUILT_LIB) instead of a cargo build."""
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

import vecsql

REPO = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = REPO / "python"


def tree(directory: pathlib.Path) -> dict:
    """Every file under `directory` with its modification time (caches left out)."""
    return {
        str(p.relative_to(directory)): p.lstat().st_mtime_ns
        for p in directory.rglob("*")
        if not {"__pycache__", ".pytest_cache"} & set(p.parts)
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(the wheel, the package directory before, after)."""
    before = tree(PACKAGE)
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "VECSQL_PREBUILT_LIB": vecsql.loadable_path()}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(PACKAGE)],
        env=env,
        check=True,
        timeout=600,
    )
    [wheel] = out.glob("vecsql-*.whl")
    return wheel, before, tree(PACKAGE)


def test_building_writes_nothing_into_the_source_tree(built):
    # pip builds in place; setuptools' build/ and egg-info go to a directory of the build's own,
    # so two builds at once cannot overwrite each other's files.
    _, before, after = built
    assert after == before


def test_the_wheel_carries_the_library_and_the_licence_files(built):
    wheel, _, _ = built
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert any(n.endswith("/vecsql/" + os.path.basename(vecsql.loadable_path())) for n in names)
        for licence in ("LICENSE-MIT", "LICENSE-APACHE"):
            [entry] = [n for n in names if n.endswith(".dist-info/licenses/" + licence)]
            assert z.read(entry) == (REPO / licence).read_bytes()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = z.read(metadata).decode()
    assert "License-Expression: MIT OR Apache-2.0" in text
    assert "License-File: LICENSE-MIT" in text and "License-File: LICENSE-APACHE" in text
