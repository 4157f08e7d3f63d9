"""Shared fixtures: where the built extension is, and connections with it loaded."""
import os
import pathlib
import sqlite3

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def extension_path() -> str:
    """The extension without its suffix, as `.load` and `load_extension` take it."""
    return os.environ.get("VECSQL_EXT", str(REPO / "target" / "release" / "libvecsql"))


@pytest.fixture(scope="session")
def ext_path() -> str:
    path = extension_path()
    if not os.path.exists(path + ".so"):
        pytest.skip(f"{path}.so not built (cargo build --release -p vecsql)")
    return path


@pytest.fixture
def conn(ext_path):
    """A stdlib sqlite3 connection with vecsql loaded."""
    c = sqlite3.connect(":memory:")
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    c.enable_load_extension(False)
    yield c
    c.close()
