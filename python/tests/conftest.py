"""Fixtures for the vecsql package's tests. They use the installed package (pip install
./python), never the source tree, so they check what the wheel ships."""
import sqlite3

import pytest

vecsql = pytest.importorskip(
    "vecsql", reason="the vecsql package is not installed (pip install ./python)"
)


@pytest.fixture
def conn():
    """An in-memory stdlib sqlite3 connection with vecsql loaded (and the numpy adapter)."""
    c = sqlite3.connect(":memory:")
    vecsql.load(c)
    yield c
    c.close()
