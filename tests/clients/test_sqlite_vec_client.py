"""sqlite-vec-client (PyPI) on vecsql and on sqlite-vec 0.1.9.

The client keeps `{table}` (text, JSON metadata, embedding blob) and `{table}_vec` (vec0,
`distance_metric=` L1/L2/cosine) in step with insert/update/delete triggers, and searches with
`FROM {table} e JOIN {table}_vec v ON v.rowid = e.rowid WHERE v.text_embedding MATCH ? AND
k = ? ORDER BY v.distance`. It loads the extension with `sqlite_vec.load` (patched by
`use_lib`). Each answer is checked against brute force over what the table should hold.
"""
import pytest
from conftest import QUERIES, assert_distances, assert_loaded, corpus, embed, knn
from sqlite_vec_client import ConnectionPool, SQLiteVecClient

TEXTS = corpus(40, seed=11)
METAS = [{"i": i, "group": "even" if i % 2 == 0 else "odd"} for i in range(len(TEXTS))]
METRICS = ["L2", "L1", "cosine"]


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "svc.db")


def make(db, lib, metric="L2", unique_text=False, table="notes"):
    c = SQLiteVecClient(table=table, db_path=db)
    assert_loaded(c.connection, lib)
    c.create_table(dim=64, distance=metric, unique_text=unique_text)
    return c


def check_search(client, rows, query, k, metric, what=""):
    """`rows`: {rowid: text} the table should hold. Compares similarity_search with brute force."""
    ids = sorted(rows)
    want = knn(embed(query), [embed(rows[i]) for i in ids], min(k, len(ids)), metric, ids=ids)
    got = client.similarity_search(embed(query), top_k=k)
    assert [(r, t) for r, t, _ in got] == [(i, rows[i]) for i, _ in want], f"{what} {query!r}"
    assert_distances([d for *_, d in got], [d for _, d in want], f"{what} {query!r}")


@pytest.mark.parametrize("metric", METRICS)
def test_add_and_search(use_lib, db, metric):
    c = make(db, use_lib, metric)
    ids = c.add(TEXTS, [embed(t) for t in TEXTS], METAS)
    assert ids == list(range(1, len(TEXTS) + 1))
    rows = dict(zip(ids, TEXTS))
    for q in QUERIES:
        for k in (1, 5, 40):
            check_search(c, rows, q, k, metric, f"{metric} k={k}")
    c.close()


def test_search_with_metadata_filter(use_lib, db):
    c = make(db, use_lib)
    ids = c.add(TEXTS, [embed(t) for t in TEXTS], METAS)
    for q in QUERIES:
        # the client's documented semantics: k nearest first, then the metadata filter
        top = knn(embed(q), [embed(t) for t in TEXTS], 10, "l2", ids=ids)
        want = [(i, TEXTS[i - 1]) for i, _ in top if METAS[i - 1]["group"] == "even"]
        got = c.similarity_search_with_filter(embed(q), {"group": "even"}, top_k=10)
        assert [(r, t) for r, t, _ in got] == want, q
    assert c.count_by_metadata({"group": "odd"}) == 20
    assert [r[0] for r in c.filter_by_metadata({"i": 7})] == [8]
    c.close()


def test_update_delete_then_search(use_lib, db):
    c = make(db, use_lib)
    ids = c.add(TEXTS, [embed(t) for t in TEXTS], METAS)
    rows = dict(zip(ids, TEXTS))
    # update: new text and embedding (the trigger updates {table}_vec by rowid)
    assert c.update(5, text="apple banana cherry river", embedding=embed("apple banana cherry river"))
    rows[5] = "apple banana cherry river"
    c.update_many([(6, None, {"moved": True}, embed("rust client cache server")), (7, "x y", None, None)])
    rows[6] = "rust client cache server"  # text unchanged in the table, vector moved
    texts_now = {r: t for r, t, *_ in c.get_all()}
    assert texts_now[6] == TEXTS[5] and texts_now[7] == "x y"
    # delete (the trigger deletes from {table}_vec by rowid)
    assert c.delete(3)
    assert c.delete_many([10, 11, 12, 999]) == 3
    for r in (3, 10, 11, 12):
        del rows[r]
    vecs = {r: t for r, t in rows.items()}
    vecs[7] = TEXTS[6]  # text changed, vector did not
    for q in QUERIES + ["apple banana cherry river", "rust client cache server"]:
        ids_ = sorted(vecs)
        want = knn(embed(q), [embed(vecs[i]) for i in ids_], 6, "l2", ids=ids_)
        got = c.similarity_search(embed(q), top_k=6)
        assert [r for r, *_ in got] == [i for i, _ in want], q
        assert_distances([d for *_, d in got], [d for _, d in want], q)
    assert c.similarity_search(embed("apple banana cherry river"), top_k=1)[0][:2] == (
        5, "apple banana cherry river")
    assert c.get(3) is None and len(c.get_many([1, 2, 3])) == 2
    c.close()


def test_unique_text_upsert(use_lib, db):
    c = make(db, use_lib, unique_text=True)
    c.add(TEXTS[:10], [embed(t) for t in TEXTS[:10]])
    # same texts, new vectors: ON CONFLICT DO UPDATE fires the update trigger on {table}_vec
    moved = [embed(f"ocean desert {i}") for i in range(3)]
    assert c.add(TEXTS[:3], moved, on_conflict="replace") == [1, 2, 3]
    (new,) = c.add(TEXTS[:2] + ["brand new"], [embed(t) for t in TEXTS[:2] + ["brand new"]],
                   on_conflict="ignore")
    assert c.count() == 11
    vecs = {i + 1: embed(t) for i, t in enumerate(TEXTS[:10])}
    vecs.update({1: moved[0], 2: moved[1], 3: moved[2], new: embed("brand new")})
    ids = sorted(vecs)
    for q in QUERIES + ["ocean desert 1"]:
        want = knn(embed(q), [vecs[i] for i in ids], 4, "l2", ids=ids)
        assert [r for r, *_ in c.similarity_search(embed(q), top_k=4)] == [i for i, _ in want], q
    c.close()


def test_transaction_rollback(use_lib, db):
    c = make(db, use_lib)
    c.add(TEXTS[:20], [embed(t) for t in TEXTS[:20]])
    with pytest.raises(RuntimeError):
        with c.transaction():
            c.add(TEXTS[20:], [embed(t) for t in TEXTS[20:]])
            c.delete_many([1, 2, 3])
            raise RuntimeError("abort")
    assert c.count() == 20
    rows = dict(zip(range(1, 21), TEXTS[:20]))
    for q in QUERIES:
        check_search(c, rows, q, 5, "l2", "after rollback")
    c.close()


def test_backup_restore(use_lib, db, tmp_path):
    c = make(db, use_lib, "cosine")
    c.add(TEXTS, [embed(t) for t in TEXTS], METAS)
    assert c.backup(str(tmp_path / "b.jsonl")) == len(TEXTS)
    c.close()
    d = make(str(tmp_path / "restored.db"), use_lib, "cosine")
    assert d.restore(str(tmp_path / "b.jsonl")) == len(TEXTS)
    rows = {r: t for r, t, *_ in d.get_all()}
    for q in QUERIES:
        check_search(d, rows, q, 5, "cosine", "restored")
    d.close()


def test_pool_and_reopen(use_lib, db):
    c = make(db, use_lib)
    c.add(TEXTS, [embed(t) for t in TEXTS], METAS)
    c.close()
    pool = ConnectionPool(connection_factory=lambda: SQLiteVecClient.create_connection(db))
    rows = dict(zip(range(1, len(TEXTS) + 1), TEXTS))
    for _ in range(2):
        p = SQLiteVecClient(table="notes", pool=pool)
        assert_loaded(p.connection, use_lib)
        for q in QUERIES:
            check_search(p, rows, q, 3, "l2", "pooled")
        p.close()
