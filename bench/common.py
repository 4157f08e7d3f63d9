"""What the connection and freshness benchmarks share (bench/connections.py, bench/freshness.py,
bench/chunk_freshness.py): a connection with the extension loaded, resident memory, timing.

Each script runs as `python bench/<script>.py`, which puts bench/ first on the import path.
"""

import time

import numpy as np

DATA = "/work/shared/data"


def connect(ext, path, timeout=30):
    """A WAL-mode autocommit connection with `ext` loaded. sqlite3 is imported here, on first
    use, so a child process that times its first open counts the import as a user would."""
    import sqlite3

    c = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    c.enable_load_extension(True)
    c.load_extension(ext)
    c.execute("pragma journal_mode=wal")
    return c


def vm_rss_mb():
    """This process's resident memory (VmRSS), in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(f):
    """Runs `f()`; returns its (wall, CPU) time in ms."""
    w, c = time.perf_counter(), time.process_time()
    f()
    return (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000


def query_vectors(n):
    """The first `n` MiniLM query vectors of the shared data set, as float32 blobs."""
    q = np.load(f"{DATA}/minilm-pypi-dev-queries.f16.npy")[:n].astype("float32")
    return [v.tobytes() for v in q]
