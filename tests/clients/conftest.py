"""Real client software run against vecsql and against sqlite-vec 0.1.9.

Every test is parametrised over `lib` ("vecsql", "sqlite-vec") and checks the client's answer
against a brute-force numpy oracle, so a wrong answer from either library fails.

How the clients are made to load vecsql: every client here (langchain-community's SQLiteVec,
sqlite-vec-client, datasette-sqlite-vec, sqlite-utils-sqlite-vec) loads the extension with
`sqlite_vec.load(conn)`, which is `conn.load_extension(sqlite_vec.loadable_path())`, looked
up on the module at call time. The `use_lib` fixture monkeypatches `sqlite_vec.loadable_path`
(and `sqlite_vec.load`, for clarity) to return the chosen library, so the client code runs
unchanged. Subprocesses (pytest runs of the clients' own suites, CLIs) get the same swap from
`_swap.py`, a pytest plugin / import hook driven by the VECSQL_CLIENT_LIB environment variable.
Each test also checks which library answered (`vecsql_version()` exists only in vecsql).
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import random
import re
import sqlite3
import struct
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import _swap  # noqa: E402

LIBS = ("vecsql", "sqlite-vec")


def vecsql_path() -> str:
    """vecsql without its suffix (as load_extension takes it); VECSQL_EXT overrides."""
    return os.environ.get("VECSQL_EXT", str(REPO / "target" / "release" / "libvecsql"))


def lib_path_for(lib: str) -> str:
    if lib == "vecsql":
        return vecsql_path()
    return _swap.SQLITE_VEC_PATH


@pytest.fixture(params=LIBS)
def lib(request) -> str:
    return request.param


@pytest.fixture
def lib_path(lib) -> str:
    path = lib_path_for(lib)
    if lib == "vecsql" and not os.path.exists(path + ".so"):
        pytest.fail(f"{path}.so not built (cargo build --release -p vecsql), or set VECSQL_EXT")
    return path


@pytest.fixture
def use_lib(lib, lib_path, monkeypatch, request) -> str:
    """Make every `sqlite_vec.load(conn)` in this process load `lib`. Returns its name."""
    import sqlite_vec

    monkeypatch.setattr(sqlite_vec, "loadable_path", lambda: lib_path)
    monkeypatch.setattr(sqlite_vec, "load", lambda conn: conn.load_extension(lib_path))
    # vecsql's own plugins (plugins/: datasette-vecsql, sqlite-utils-vecsql, installed in
    # .venv) would load vecsql into every connection too; set them aside for the test.
    for manager in _swap.vecsql_plugin_managers():
        plugin = manager.get_plugin("vecsql")
        if plugin is not None:
            manager.unregister(name="vecsql")
            request.addfinalizer(lambda m=manager, p=plugin: m.register(p, name="vecsql"))
    return lib


@pytest.fixture
def sub_env(lib, lib_path) -> dict:
    """Environment for a subprocess that should load `lib` wherever it loads sqlite-vec."""
    env = dict(os.environ)
    env["VECSQL_CLIENT_LIB"] = lib_path
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def assert_loaded(conn, lib: str) -> None:
    """The connection really has `lib` loaded (and not the other one)."""
    names = {r[0] for r in conn.execute("pragma function_list")}
    assert "vec_version" in names, "no vector extension loaded"
    assert ("vecsql_version" in names) == (lib == "vecsql"), f"wrong library loaded for {lib}"


# --- deterministic fake embedder -----------------------------------------------------------

DIM = 64
WORD = re.compile(r"[a-z0-9]+")


def embed(text: str, dim: int = DIM) -> list[float]:
    """Hash each word into four coordinates with real-valued weights plus a small dense
    part seeded by the word (so that distances rarely tie); L2-normalise. Deterministic."""
    v = np.zeros(dim, dtype=np.float64)
    for w in WORD.findall(text.lower()):
        h = hashlib.sha256(w.encode()).digest()
        v += 0.15 * np.random.default_rng(int.from_bytes(h[24:32], "little")).standard_normal(dim)
        for j in range(4):
            b = h[6 * j : 6 * j + 6]
            weight = (int.from_bytes(b[2:6], "little") / 2**32) * 2.0 - 1.0
            v[int.from_bytes(b[:2], "little") % dim] += weight
    n = np.linalg.norm(v)
    if n == 0:
        v[0] = 1.0
        n = 1.0
    return [float(x) for x in (v / n).astype(np.float32)]


VOCAB = (
    "vector search sqlite index query table row column database embedding cosine distance "
    "neighbour graph cluster fast slow small large rust python client server cache disk "
    "memory page file write read join filter metadata text blob float integer model token "
    "apple banana cherry river mountain forest ocean desert city village music painting"
).split()


def corpus(n: int = 40, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    seen, out = set(), []
    while len(out) < n:
        s = " ".join(rnd.sample(VOCAB, rnd.randint(3, 7)))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


QUERIES = ["vector search in sqlite", "apple banana cherry", "rust client cache", "ocean river city"]


# --- brute-force oracle --------------------------------------------------------------------

def distances(query, vectors, metric: str = "l2") -> np.ndarray:
    """Distances from `query` to each of `vectors`, from float32 values, computed in float64."""
    q = np.asarray(query, dtype=np.float32).astype(np.float64)
    m = np.asarray(vectors, dtype=np.float32).astype(np.float64)
    metric = metric.lower()
    if metric == "l2":
        return np.sqrt(((m - q) ** 2).sum(axis=1))
    if metric == "l1":
        return np.abs(m - q).sum(axis=1)
    if metric == "cosine":
        return 1.0 - (m @ q) / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
    raise ValueError(metric)


def knn(query, vectors, k: int, metric: str = "l2", ids=None):
    """[(id, distance)] of the k nearest, ascending. Fails the test if the answer is ambiguous
    (near-ties among the first k+1), so a fixture change cannot make the oracle flaky."""
    d = distances(query, vectors, metric)
    ids = list(range(len(d))) if ids is None else list(ids)
    order = np.argsort(d, kind="stable")
    top = d[order[: k + 1]]
    gap = float(np.diff(top).min()) if len(top) > 1 else 1.0
    assert gap > 1e-5, f"test data has tied distances (gap {gap}); change the data"
    return [(ids[i], float(d[i])) for i in order[:k]]


def assert_distances(got, want, what=""):
    assert len(got) == len(want), f"{what}: {len(got)} results, want {len(want)}"
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=1e-5, abs=1e-5), f"{what}: distances {got} != {want}"


def f32(v) -> bytes:
    return struct.pack(f"{len(v)}f", *v)


def connect(lib_path: str, path: str = ":memory:") -> sqlite3.Connection:
    c = sqlite3.connect(path)
    c.enable_load_extension(True)
    c.load_extension(lib_path)
    c.enable_load_extension(False)
    return c


# --- the clients' own test suites, from their PyPI sdists -----------------------------------

SDISTS = pathlib.Path(os.environ.get("VECSQL_CLIENT_SDISTS", REPO / ".venv" / "client-sdists"))


@pytest.fixture(scope="session")
def sdists() -> pathlib.Path:
    if not SDISTS.is_dir():
        pytest.fail(f"{SDISTS} missing: run scripts/setup.sh (it downloads the clients' sdists)")
    return SDISTS
