"""The ANN index of vec0 (`indexed by hnsw(...)`) against the release extension, at sizes the
debug-built Rust suite cannot afford:

- recall@10 on a real slice of the shared set (`data/pypi-5k.f16.npy`, 5000 x 384 embeddings,
  and `data/queries-100.f16.npy`) against `exact = 1` and a numpy brute force, for float and
  float16 columns and each quantizer;
- filtered search at selectivities 50%, 10%, 1% and 0.1% on 20k rows, metadata and partition
  filters, including forced graph walks at low selectivity;
- churn (delete half, insert as many) against a freshly built index of the same rows;
- duplicates, reopening a file, and two processes sharing a WAL database (a writer subprocess
  commits, this process has a warm cache and must see exactly what was committed).
"""
from __future__ import annotations

import json
import pathlib
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "data"
K = 10
# The planner scans tables of up to 50 x ef_search rows unless the query gives ef_search; tests
# of the index on smaller tables give it (64 is the default).
WALK = "and ef_search = 64"


def connect(ext_path, path=":memory:"):
    c = sqlite3.connect(path, isolation_level=None, timeout=30)
    c.enable_load_extension(True)
    c.load_extension(ext_path)
    c.enable_load_extension(False)
    return c


@pytest.fixture(scope="module")
def corpus():
    """The real slice as float32 (values exactly the float16 ones), and the queries."""
    x = np.load(DATA / "pypi-5k.f16.npy")
    q = np.load(DATA / "queries-100.f16.npy")
    assert x.shape == (5000, 384) and q.shape == (100, 384)
    return x.astype(np.float32), q.astype(np.float32)


def cosine_distances(x, q):
    """Cosine distances of every row of x to q, in float64 (the oracle)."""
    x = x.astype(np.float64)
    q = q.astype(np.float64)
    return 1.0 - (x @ q) / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))


def fill(c, table, rows, extra_cols=""):
    """rows: iterable of tuples (rowid, blob, *extra)."""
    rows = list(rows)
    marks = ", ".join("?" * len(rows[0]))
    cols = "rowid, emb" + extra_cols
    c.execute("begin")
    c.executemany(f"insert into {table}({cols}) values ({marks})", rows)
    c.execute("commit")


def knn(c, table, q, k=K, extra="", params=()):
    return c.execute(
        f"select rowid, distance from {table} where emb match ? and k = ? {extra}",
        (q, k, *params),
    ).fetchall()


def assert_ordered(got, context=""):
    for a, b in zip(got, got[1:]):
        assert (a[1], a[0]) < (b[1], b[0]), f"{context}: not ascending by (distance, rowid): {a} {b}"
    assert len({r for r, _ in got}) == len(got), f"{context}: a row twice"


def tie_recall(got, exact):
    """Share of the exact k found; a result counts when its distance is within the k-th exact
    distance (ties are equally right)."""
    if not exact:
        return 1.0
    worst = exact[-1][1]
    return min(sum(1 for _, d in got if d <= worst + 1e-9), len(exact)) / len(exact)


def recall_vs_exact(c, table, queries, extra="", k=K):
    rs = []
    for q in queries:
        qb = q.tobytes()
        got = knn(c, table, qb, k, extra)
        exact = knn(c, table, qb, k, f"{extra} and exact = 1")
        assert_ordered(got, extra)
        assert len(got) == len(exact), f"{extra}: count {len(got)} vs {len(exact)}"
        rs.append(tie_recall(got, exact))
    return float(np.mean(rs))


# ---------------------------------------------------------------------------------------------
# Recall on real embeddings


@pytest.fixture(scope="module")
def real_table(ext_path, corpus):
    x, _ = corpus
    c = connect(ext_path)
    c.execute("create virtual table t using vec0(emb float[384] distance_metric=cosine indexed by hnsw())")
    start = time.perf_counter()
    fill(c, "t", ((i + 1, x[i].tobytes()) for i in range(len(x))))
    print(f"\nbuilt hnsw() over 5000 x 384 in {time.perf_counter() - start:.2f}s")
    yield c
    c.close()


def test_recall_on_real_data_against_numpy_and_exact(real_table, corpus):
    c = real_table
    x, queries = corpus
    recalls, recalls_exact_scan = [], []
    for qi, q in enumerate(queries):
        got = knn(c, "t", q.tobytes())
        assert_ordered(got, f"query {qi}")
        assert len(got) == K
        d = cosine_distances(x, q)
        order = np.lexsort((np.arange(len(d)), d))[:K]
        truth = [(int(i) + 1, float(d[i])) for i in order]
        recalls.append(tie_recall([(r, float(d[r - 1])) for r, _ in got], truth))
        # Each returned distance is that row's exact distance.
        for rowid, dist in got:
            assert dist == pytest.approx(d[rowid - 1], abs=2e-5), (qi, rowid)
        exact = dict(knn(c, "t", q.tobytes(), 200, "and exact = 1"))
        for rowid, dist in got:
            assert dist == exact[rowid], "indexed and exact distances must be identical"
        recalls_exact_scan.append(tie_recall(got, knn(c, "t", q.tobytes(), K, "and exact = 1")))
    r, r2 = float(np.mean(recalls)), float(np.mean(recalls_exact_scan))
    print(f"recall@10 at the default ef: {r:.4f} (numpy), {r2:.4f} (exact = 1)")
    assert r >= 0.95
    assert r2 >= 0.95


def test_ef_search_raises_recall_on_real_data(real_table, corpus):
    _, queries = corpus
    efs = [10, 20, 40, 80, 160, 400]
    recalls = [recall_vs_exact(real_table, "t", queries[:50], f"and ef_search = {ef}") for ef in efs]
    print("recall@10 by ef_search:", dict(zip(efs, recalls)))
    for a, b in zip(recalls, recalls[1:]):
        assert b >= a - 0.002, f"recall fell as ef grew: {dict(zip(efs, recalls))}"
    assert recalls[-1] >= recalls[0] + 0.05
    assert recalls[-1] >= 0.99


def test_every_real_row_is_found_by_its_own_vector(real_table, corpus):
    x, _ = corpus
    lost = [
        i + 1
        for i in range(len(x))
        if i + 1 not in [r for r, _ in knn(real_table, "t", x[i].tobytes())]
    ]
    assert lost == []


@pytest.mark.parametrize(
    "column, encode, ef_default, floor_default, ef_high",
    [
        ("float16[384] distance_metric=cosine indexed by hnsw()", "f2", 64, 0.95, 200),
        ("float[384] distance_metric=cosine indexed by hnsw(quantizer=int8)", "f4", 64, 0.95, 200),
        ("float[384] distance_metric=l2 indexed by hnsw(quantizer=int8)", "f4", 64, 0.95, 200),
        # Sign bits of 384-d embeddings: the walk ranks coarsely, the rescoring is exact; the
        # default candidate list (64) gives about 0.9, a larger one the target.
        ("float[384] distance_metric=cosine indexed by hnsw(quantizer=binary)", "f4", 64, 0.85, 200),
        ("float[384] distance_metric=cosine indexed by diskann(neighbor_quantizer=binary, n_neighbors=32, search_list_size=100)", "f4", 100, 0.9, 300),
        ("float[384] distance_metric=cosine indexed by rescore(quantizer=int8, oversample=8)", "f4", 80, 0.95, 200),
        ("bfloat16[384] distance_metric=cosine indexed by hnsw()", "f4", 64, 0.95, 200),
    ],
)
def test_element_types_and_quantizers_on_real_data(ext_path, corpus, column, encode, ef_default, floor_default, ef_high):
    x, queries = corpus
    c = connect(ext_path)
    c.execute(f"create virtual table t using vec0(emb {column})")
    fill(c, "t", ((i + 1, x[i].astype(encode).tobytes()) for i in range(3000)))
    qs = [q.astype(encode) for q in queries[:50]]
    # 3000 rows would be scanned: walk at the table's default ef.
    r = recall_vs_exact(c, "t", qs, f"and ef_search = {ef_default}")
    r_high = recall_vs_exact(c, "t", qs, f"and ef_search = {ef_high}")
    print(f"{column}: recall@10 {r:.4f} at the default ef, {r_high:.4f} at {ef_high}")
    assert r >= floor_default
    assert r_high >= 0.95
    for q in qs[:5]:
        exact = dict(knn(c, "t", q.tobytes(), 500, "and exact = 1"))
        for rowid, d in knn(c, "t", q.tobytes(), K, WALK):
            assert d == exact[rowid]
    c.close()


# ---------------------------------------------------------------------------------------------
# Filtered search at several selectivities

N_FILTERED = 20_000
DIMS_FILTERED = 32


@pytest.fixture(scope="module")
def filtered(ext_path):
    rng = np.random.default_rng(2024)
    x = rng.standard_normal((N_FILTERED, DIMS_FILTERED)).astype(np.float32)
    cat = rng.integers(0, 1000, N_FILTERED)
    c = connect(ext_path)
    c.execute(
        f"create virtual table f using vec0(emb float[{DIMS_FILTERED}] indexed by hnsw(), "
        "cat integer, part integer partition key)"
    )
    start = time.perf_counter()
    fill(
        c,
        "f",
        ((i + 1, x[i].tobytes(), int(cat[i]), int(cat[i] // 10)) for i in range(N_FILTERED)),
        ", cat, part",
    )
    print(f"\nbuilt {N_FILTERED} x {DIMS_FILTERED} with 100 partitions in {time.perf_counter() - start:.2f}s")
    queries = rng.standard_normal((40, DIMS_FILTERED)).astype(np.float32)
    yield c, x, cat, queries
    c.close()


FILTERS = [
    # (sql, predicate on cat, nominal selectivity)
    ("and cat < 500", lambda c: c < 500, "50%"),
    ("and part < 50", lambda c: c // 10 < 50, "50% (partition)"),
    ("and cat < 100", lambda c: c < 100, "10%"),
    ("and part < 10", lambda c: c // 10 < 10, "10% (partition)"),
    ("and cat < 10", lambda c: c < 10, "1%"),
    ("and part = 7", lambda c: c // 10 == 7, "1% (partition)"),
    ("and cat = 1", lambda c: c == 1, "0.1%"),
    ("and part = 7 and cat = 73", lambda c: c == 73, "0.1% (partition and metadata)"),
    ("and cat in (3, 300, 600)", lambda c: np.isin(c, [3, 300, 600]), "0.3% (IN)"),
]


@pytest.mark.parametrize("sql, pred, label", FILTERS, ids=[f[2] for f in FILTERS])
@pytest.mark.parametrize(
    "k, ef",
    [(10, None), (10, 64), (10, 10), (5, 5), (1, 1)],
    ids=["k10-planned", "k10-walk-ef64", "k10-ef10", "k5-ef5", "k1-ef1"],
)
def test_filtered_knn_at_selectivities(filtered, sql, pred, label, k, ef):
    """Only matching rows, min(k, matching) of them, recall >= 0.95 against exact filtered
    search at the default ef, both as planned (the planner scans when few rows match) and
    through a forced walk (any query that gives ef_search walks). Smaller ef_search values ask
    for less recall (ef_search = 1 walks with a list of 2 at 50%), so only validity and count
    are held there and the recall is printed."""
    c, x, cat, queries = filtered
    mask = pred(cat)
    matching = np.flatnonzero(mask)
    extra = sql + (f" and ef_search = {ef}" if ef else "")
    recalls = []
    for q in queries:
        got = knn(c, "f", q.tobytes(), k, extra)
        assert_ordered(got, extra)
        assert len(got) == min(k, len(matching)), f"{label}: count {len(got)}, matching {len(matching)}"
        ids = np.array([r for r, _ in got], dtype=np.int64) - 1
        assert mask[ids].all(), f"{label}: rows outside the filter: {ids[~mask[ids]] + 1}"
        d = np.linalg.norm(x[matching].astype(np.float64) - q.astype(np.float64), axis=1)
        order = matching[np.lexsort((matching, d))][:k]
        truth = [(int(i) + 1, float(np.linalg.norm(x[i].astype(np.float64) - q))) for i in order]
        true_d = {rowid: float(np.linalg.norm(x[rowid - 1].astype(np.float64) - q)) for rowid, _ in got}
        for rowid, dist in got:
            assert dist == pytest.approx(true_d[rowid], abs=1e-4)
        recalls.append(tie_recall([(rowid, true_d[rowid]) for rowid, _ in got], truth))
    r = float(np.mean(recalls))
    print(f"{label} k={k} ef={ef}: {len(matching)} matching, recall {r:.4f}")
    if ef is None or ef == 64:
        # A filter must not cost recall: at least 0.95, or what the same ef_search gives
        # unfiltered where that is lower (these 32-d Gaussian vectors are hard for any graph:
        # about 0.92 at the default 64, while real embeddings reach 0.96+).
        floor = min(0.95, unfiltered_recall(filtered, k, ef))
        assert r >= floor, f"{label}: recall {r} (unfiltered at the same ef_search: {floor})"


def unfiltered_recall(filtered, k, ef):
    c, x, _, queries = filtered
    extra = f" and ef_search = {ef}" if ef else ""
    recalls = []
    for q in queries:
        got = knn(c, "f", q.tobytes(), k, extra)
        d = np.linalg.norm(x.astype(np.float64) - q.astype(np.float64), axis=1)
        order = np.lexsort((np.arange(len(x)), d))[:k]
        truth = [(int(i) + 1, float(d[i])) for i in order]
        recalls.append(tie_recall([(rowid, float(d[rowid - 1])) for rowid, _ in got], truth))
    return float(np.mean(recalls))


# ---------------------------------------------------------------------------------------------
# Churn, duplicates, reopening


def test_churn_recall_stays_within_0_01_of_a_fresh_index(ext_path, corpus):
    """Build 2500 real rows, delete half, insert 1250 others; compare with a table built from
    scratch over the same rows, at low ef where a damaged graph would show."""
    x, queries = corpus
    c = connect(ext_path)
    params = "float[384] distance_metric=cosine indexed by hnsw()"
    c.execute(f"create virtual table t using vec0(emb {params})")
    fill(c, "t", ((i + 1, x[i].tobytes()) for i in range(2500)))
    c.execute("delete from t where rowid % 2 = 0")
    fill(c, "t", ((i + 1, x[i].tobytes()) for i in range(2500, 3750)))
    assert c.execute("select count(*) from t").fetchone() == (2500,)
    c.execute(f"create virtual table fresh using vec0(emb {params})")
    c.execute("insert into fresh(rowid, emb) select rowid, emb from t order by rowid")
    # The 100 queries and 300 of the deleted rows (no longer in either table) as queries:
    # enough that sampling noise between two graphs stays well under 0.01.
    qs = list(queries) + [x[i] for i in range(1, 600, 2)]
    efs = [10, 16, 24, 40]
    churned = [recall_vs_exact(c, "t", qs, f"and ef_search = {ef}") for ef in efs]
    fresh = [recall_vs_exact(c, "fresh", qs, f"and ef_search = {ef}") for ef in efs]
    print(f"recall@10 by ef {efs}: churned {churned}, fresh {fresh}")
    assert np.mean(churned) >= np.mean(fresh) - 0.01
    assert recall_vs_exact(c, "t", queries, WALK) >= 0.95
    lost = [
        r
        for (r,) in c.execute("select rowid from t").fetchall()
        if r not in [g for g, _ in knn(c, "t", x[r - 1].tobytes(), K, WALK)]
    ]
    assert lost == [], f"rows not found by their own vector after churn: {lost}"
    c.close()


def test_duplicates_remain_findable_after_deleting_some(ext_path, corpus):
    x, _ = corpus
    c = connect(ext_path)
    c.execute("create virtual table t using vec0(emb float[384] distance_metric=cosine indexed by hnsw())")
    dup = x[0]
    rng = np.random.default_rng(5)
    dup_ids = set(int(i) for i in rng.choice(np.arange(1, 3301), 300, replace=False))
    others = iter(range(1, 5000))
    fill(c, "t", ((i, (dup if i in dup_ids else x[next(others)]).tobytes()) for i in range(1, 3301)))
    got = {r for r, d in knn(c, "t", dup.tobytes(), 300, WALK)}
    assert got == dup_ids
    deleted = sorted(dup_ids)[::3]
    c.execute(f"delete from t where rowid in ({','.join(map(str, deleted))})")
    c.execute("delete from t where rowid % 10 = 0")
    remaining = {i for i in dup_ids if i not in deleted and i % 10 != 0}
    got = knn(c, "t", dup.tobytes(), len(remaining), WALK)
    missing = remaining - {r for r, _ in got}
    assert not missing, f"{len(missing)} of {len(remaining)} remaining duplicates never returned"
    assert all(abs(d) < 1e-6 for _, d in got)
    c.close()


def test_reopen_answers_the_first_query_from_the_stored_graph(ext_path, corpus, tmp_path):
    x, queries = corpus
    path = str(tmp_path / "idx.db")
    c = connect(ext_path, path)
    c.execute("create virtual table t using vec0(emb float[384] distance_metric=cosine indexed by hnsw())")
    fill(c, "t", ((i + 1, x[i].tobytes()) for i in range(len(x))))
    before = [knn(c, "t", q.tobytes()) for q in queries[:20]]
    nodes = c.execute("select count(*) from t_hnsw00_nodes").fetchone()[0]
    assert nodes == len(x)
    # Index size per vector, as vec_index_status reports it: modest next to the 1536 bytes of
    # the vector itself (libSQL's DiskANN inflates databases 20-50x).
    (status,) = json.loads(c.execute("select vec_index_status('t')").fetchone()[0])
    print(f"index: {status['bytes_per_vector']:.0f} bytes per vector")
    assert status["rows"] == status["indexed"] == len(x)
    assert status["state"] == "ready"
    assert 0 < status["bytes_per_vector"] <= 512
    c.close()
    c = connect(ext_path, path)
    start = time.perf_counter()
    first = knn(c, "t", queries[0].tobytes())
    elapsed = time.perf_counter() - start
    print(f"first query after reopening 5000 x 384: {elapsed * 1000:.1f} ms")
    assert first == before[0]
    assert [knn(c, "t", q.tobytes()) for q in queries[:20]] == before
    # Loading is proportional to the table, not a rebuild: generous bound for a shared runner.
    assert elapsed < 1.0
    c.close()


# ---------------------------------------------------------------------------------------------
# Two processes

WRITER = textwrap.dedent(
    """
    import json, sqlite3, sys
    path, ext = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    db.enable_load_extension(True)
    db.load_extension(ext)
    def say(*words):
        print(*words, flush=True)
    say("ready")
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op in ("begin", "commit", "rollback"):
            db.execute(op if op != "begin" else "begin immediate")
        elif op == "insert":
            db.executemany("insert into t(rowid, emb, cat, part) values (?, ?, ?, ?)",
                           [(r, bytes.fromhex(h), c, r % 2) for r, h, c in cmd["rows"]])
        elif op == "update":
            db.execute("update t set emb = ? where rowid = ?", (bytes.fromhex(cmd["emb"]), cmd["id"]))
        elif op == "move":
            db.execute("update t set part = ? where rowid = ?", (cmd["part"], cmd["id"]))
        elif op == "delete":
            db.execute("delete from t where rowid in (%s)" % ",".join(map(str, cmd["ids"])))
        elif op == "sql":
            db.execute(cmd["sql"])
        elif op == "exit":
            break
        say("done", op)
    """
)


class Writer:
    def __init__(self, path, ext_path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, path, ext_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.expect("ready")

    def expect(self, want):
        line = self.proc.stdout.readline().strip()
        if line != want:
            self.proc.kill()
            raise AssertionError(f"writer said {line!r}, expected {want!r}; stderr: {self.proc.stderr.read()}")

    def do(self, op, **kw):
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        self.expect(f"done {op}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"op": "exit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()


@pytest.fixture
def shared_index(tmp_path, ext_path, corpus):
    x, _ = corpus
    path = str(tmp_path / "wal.db")
    c = connect(ext_path, path)
    assert c.execute("pragma journal_mode = wal").fetchone() == ("wal",)
    c.execute(
        "create virtual table t using vec0(emb float[384] distance_metric=cosine indexed by hnsw(), "
        "cat integer, part integer partition key)"
    )
    fill(c, "t", ((i + 1, x[i].tobytes(), i % 10, i % 2) for i in range(1000)), ", cat, part")
    c.close()
    return path


def is_self(got, rowid):
    """`got` is exactly [(rowid, ~0)]: a row found by its own vector (cosine distances of a
    vector to itself come out within rounding of 0)."""
    return len(got) == 1 and got[0][0] == rowid and abs(got[0][1]) < 1e-6


def rows_of(x, ids):
    return [[i, x[i - 1].tobytes().hex(), i % 10] for i in ids]


def test_reader_with_a_warm_cache_sees_exactly_the_writers_commits(shared_index, ext_path, corpus):
    x, queries = corpus
    r = connect(ext_path, shared_index)
    w = Writer(shared_index, ext_path)
    try:
        live = set(range(1, 1001))

        def check(context):
            # No dead row, every live row that should be found is, and recall holds.
            for q in queries[:10]:
                got = knn(r, "t", q.tobytes(), 50, WALK)
                assert {g for g, _ in got} <= live, f"{context}: dead rows {set(g for g, _ in got) - live}"
            assert recall_vs_exact(r, "t", queries[:20], WALK) >= 0.95, context
            count = r.execute("select count(*) from t_hnsw00_nodes").fetchone()[0]
            assert count == len(live), context

        check("start")  # the reader's copy of the graph is now warm
        # New rows, uncommitted then committed.
        w.do("begin")
        w.do("insert", rows=rows_of(x, range(1001, 1301)))
        for i in (1001, 1150, 1300):
            got = knn(r, "t", x[i - 1].tobytes(), 1, WALK)
            assert got[0][0] != i, "an uncommitted row is visible"
        check("writer's transaction open")
        w.do("commit")
        live |= set(range(1001, 1301))
        for i in (1001, 1150, 1300):
            assert is_self(knn(r, "t", x[i - 1].tobytes(), 1, WALK), i), f"committed row {i} not found"
        check("after insert")
        # Deletes: never returned again, even for their own vector.
        dead = list(range(2, 400, 3))
        w.do("begin")
        w.do("delete", ids=dead)
        w.do("commit")
        live -= set(dead)
        for i in dead[:20]:
            got = knn(r, "t", x[i - 1].tobytes(), 5, WALK)
            assert i not in {g for g, _ in got}, f"deleted row {i} returned"
        check("after delete")
        # A vector update: found at the new place only.
        w.do("begin")
        w.do("update", id=500, emb=x[4999].tobytes().hex())
        w.do("commit")
        assert is_self(knn(r, "t", x[4999].tobytes(), 1, WALK), 500)
        assert 500 not in {g for g, _ in knn(r, "t", x[499].tobytes(), 5, WALK)}
        # Partition moves and optimize move rows between chunks.
        w.do("begin")
        for i in range(600, 640):
            w.do("move", id=i, part=7)
        w.do("sql", sql="insert into t(t) values ('optimize')")
        w.do("commit")
        assert is_self(knn(r, "t", x[619].tobytes(), 1, "and part = 7 " + WALK), 620)
        check("after moves")
        # A rolled-back transaction of the writer changes nothing.
        w.do("begin")
        w.do("insert", rows=rows_of(x, range(2001, 2011)))
        w.do("rollback")
        assert knn(r, "t", x[2000].tobytes(), 1, WALK)[0][0] != 2001
        check("after the writer's rollback")
        # Many small commits, each seen at once.
        for i in range(3001, 3013):
            w.do("begin")
            w.do("insert", rows=rows_of(x, [i]))
            w.do("commit")
            live.add(i)
            assert is_self(knn(r, "t", x[i - 1].tobytes(), 1, WALK), i)
        check("after small commits")
    finally:
        w.close()
        r.close()


def test_a_rolled_back_reader_write_is_not_served_after_the_writers_commit(shared_index, ext_path, corpus):
    """The copy in memory is checked against a change counter in the file: after this process
    rolls its own write back, a commit by the other process that moves the counter by the same
    amount must still invalidate the copy."""
    x, _ = corpus
    r = connect(ext_path, shared_index)
    w = Writer(shared_index, ext_path)
    try:
        ghost = x[4000].tobytes()
        knn(r, "t", ghost, 1, WALK)
        for undo in ("rollback", "rollback to s"):
            r.execute("begin")
            r.execute("savepoint s")
            r.execute("insert into t(rowid, emb, cat, part) values (7777, ?, 0, 0)", (ghost,))
            assert is_self(knn(r, "t", ghost, 1, WALK), 7777)
            r.execute(undo)
            if undo != "rollback":
                r.execute("commit")
            n = 8000 if undo == "rollback" else 8001
            w.do("begin")
            w.do("insert", rows=[[n, x[4100 + n - 8000].tobytes().hex(), 0]])
            w.do("commit")
            got = knn(r, "t", ghost, 3, WALK)
            assert 7777 not in {g for g, _ in got}, f"{undo}: stale copy served the undone row"
            assert is_self(knn(r, "t", x[4100 + n - 8000].tobytes(), 1, WALK), n), f"{undo}: commit not seen"
    finally:
        w.close()
        r.close()
