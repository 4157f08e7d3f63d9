"""The Datasette and sqlite-utils plugins in plugins/, against numpy brute force.

The plugins are normally installed into .venv (scripts/setup.sh). So that the in-process
tests also run from a checkout where they are not, a plugin missing from its plugin manager
is registered from plugins/ for the test. sqlite-vec's own plugins (datasette-sqlite-vec,
sqlite-utils-sqlite-vec, installed for tests/clients) are set aside during in-process tests,
so that vecsql is the only library loaded; subprocess (CLI) tests run with everything
installed and check that vecsql's hook, which runs last, is the one that answers.
"""
from __future__ import annotations

import importlib
import pathlib
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
# In-process tests import the plugins from this checkout even when an older copy is installed
# (before datasette/sqlite-utils load their entry points, which import them by name).
for _d in (PLUGINS / "datasette-vecsql", PLUGINS / "sqlite-utils-vecsql"):
    if str(_d) not in sys.path:
        sys.path.insert(0, str(_d))


def swap_plugins(pm, module_name: str, others=("sqlite_vec",)):
    """Make sure `pm` has our plugin (entry point name "vecsql") and not `others`; returns a
    function that undoes it."""
    added, removed = None, []
    if pm.get_plugin("vecsql") is None:
        added = importlib.import_module(module_name)
        pm.register(added, name="vecsql")
    for name in others:
        plugin = pm.get_plugin(name)
        if plugin is not None:
            pm.unregister(name=name)
            removed.append((name, plugin))

    def undo():
        if added is not None:
            pm.unregister(name="vecsql")
        for name, plugin in removed:
            pm.register(plugin, name=name)

    return undo


def require_vecsql_package():
    try:
        import vecsql

        vecsql.loadable_path()
    except (ImportError, FileNotFoundError) as e:
        pytest.fail(f"the vecsql Python package is not installed ({e}): pip install ./python")


def brute_force(query, vectors: np.ndarray, metric: str = "l2") -> np.ndarray:
    """Distances from `query` to each row of `vectors` (float32 values, float64 maths)."""
    q = np.asarray(query, dtype=np.float32).astype(np.float64)
    m = np.asarray(vectors, dtype=np.float32).astype(np.float64)
    if metric == "l2":
        return np.sqrt(((m - q) ** 2).sum(axis=1))
    if metric == "cosine":
        return 1.0 - (m @ q) / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
    if metric == "l1":
        return np.abs(m - q).sum(axis=1)
    raise ValueError(metric)


def nearest(query_index: int, vectors: np.ndarray, k: int, metric: str = "l2", ids=None):
    """[(id, distance)] of the k rows nearest to row `query_index`, itself excluded. Fails if
    the data has near-ties at the cut, so the oracle cannot be ambiguous."""
    ids = list(range(1, len(vectors) + 1)) if ids is None else list(ids)
    d = brute_force(vectors[query_index], vectors, metric)
    order = [i for i in np.argsort(d, kind="stable") if i != query_index]
    top = d[order[: k + 1]]
    assert len(top) < 2 or float(np.diff(top).min()) > 1e-6, "tied distances in the test data"
    return [(ids[i], float(d[i])) for i in order[:k]]
