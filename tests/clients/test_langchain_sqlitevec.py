"""langchain-community's SQLiteVec vector store, on vecsql and on sqlite-vec 0.1.9.

SQLiteVec keeps texts in `{table}` and vectors in `{table}_vec` (vec0, l2) filled by a trigger,
and searches with `... FROM {table} AS e JOIN {table}_vec AS v ON v.rowid = e.rowid WHERE
v.text_embedding MATCH ? AND k = ? ORDER BY distance`. It loads the extension with
`sqlite_vec.load(conn)` (patched by the `use_lib` fixture, see conftest.py); the stores here
are built with `from_texts` (its own connection) and with a connection passed in.
"""
import pytest
from conftest import QUERIES, assert_distances, assert_loaded, corpus, embed, knn
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from langchain_community.vectorstores import SQLiteVec


class HashEmbeddings(Embeddings):
    """Deterministic fake embedder (no model): words hashed into a 64-dim unit vector."""

    def embed_documents(self, texts):
        return [embed(t) for t in texts]

    def embed_query(self, text):
        return embed(text)


TEXTS = corpus(40)
METAS = [{"i": i, "group": "even" if i % 2 == 0 else "odd"} for i in range(len(TEXTS))]


def oracle(query, texts, k):
    return knn(embed(query), [embed(t) for t in texts], k)


def check(results, query, texts, metas, k, what):
    """`results`: [(Document, distance)] from the store; compare with brute force."""
    want = oracle(query, texts, k)
    got_texts = [d.page_content for d, _ in results]
    assert got_texts == [texts[i] for i, _ in want], f"{what}: wrong documents for {query!r}"
    assert [d.metadata for d, _ in results] == [metas[i] for i, _ in want], f"{what}: metadata"
    assert_distances([s for _, s in results], [d for _, d in want], what)


@pytest.fixture
def store(use_lib, tmp_path):
    s = SQLiteVec.from_texts(
        TEXTS, HashEmbeddings(), metadatas=METAS, table="docs", db_file=str(tmp_path / "lc.db")
    )
    assert_loaded(s._connection, use_lib)
    yield s
    s._connection.close()


@pytest.mark.parametrize("k", [1, 3, 10])
def test_similarity_search_with_score(store, k):
    for q in QUERIES:
        check(store.similarity_search_with_score(q, k=k), q, TEXTS, METAS, k, f"k={k}")


def test_similarity_search(store):
    for q in QUERIES:
        want = oracle(q, TEXTS, 4)
        got = store.similarity_search(q, k=4)
        assert got == [Document(page_content=TEXTS[i], metadata=METAS[i]) for i, _ in want]


def test_similarity_search_by_vector(store):
    q = embed("graph neighbour cluster")
    want = knn(q, [embed(t) for t in TEXTS], 5)
    assert [d.page_content for d in store.similarity_search_by_vector(q, k=5)] == [
        TEXTS[i] for i, _ in want
    ]


def test_k_larger_than_table(store):
    got = store.similarity_search_with_score(QUERIES[0], k=100)
    check(got, QUERIES[0], TEXTS, METAS, len(TEXTS), "k > rows")


def test_as_retriever(store):
    retriever = store.as_retriever(search_kwargs={"k": 3})
    for q in QUERIES:
        want = oracle(q, TEXTS, 3)
        assert [d.page_content for d in retriever.invoke(q)] == [TEXTS[i] for i, _ in want]


def test_add_texts_with_metadata(store):
    extra = ["apple banana cherry painting", "sqlite vector index join filter", "ocean desert"]
    extra_meta = [{"i": 100 + j, "group": "extra"} for j in range(len(extra))]
    ids = store.add_texts(extra, metadatas=extra_meta)
    assert ids == list(range(len(TEXTS) + 1, len(TEXTS) + len(extra) + 1))
    texts, metas = TEXTS + extra, METAS + extra_meta
    for q in QUERIES + extra:
        check(store.similarity_search_with_score(q, k=5), q, texts, metas, 5, "after add_texts")
    # an exact text is its own nearest neighbour at distance 0
    (doc, dist), *_ = store.similarity_search_with_score(extra[1], k=1)
    assert doc.page_content == extra[1] and dist == pytest.approx(0.0, abs=1e-6)


def test_connection_passed_in(use_lib, lib_path):
    """A caller-made connection (the documented alternative to db_file): vecsql loaded by
    the caller, no sqlite_vec.load involved."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.enable_load_extension(True)
    conn.load_extension(lib_path)
    conn.enable_load_extension(False)
    assert_loaded(conn, use_lib)
    s = SQLiteVec(table="mine", connection=conn, embedding=HashEmbeddings())
    s.add_texts(TEXTS[:20], metadatas=METAS[:20])
    for q in QUERIES:
        check(s.similarity_search_with_score(q, k=3), q, TEXTS[:20], METAS[:20], 3, "own conn")


def test_two_tables_one_database(use_lib, tmp_path):
    db = str(tmp_path / "two.db")
    a = SQLiteVec.from_texts(TEXTS[:20], HashEmbeddings(), metadatas=METAS[:20], table="a", db_file=db)
    b = SQLiteVec.from_texts(TEXTS[20:], HashEmbeddings(), metadatas=METAS[20:], table="b", db_file=db)
    for q in QUERIES:
        check(a.similarity_search_with_score(q, k=2), q, TEXTS[:20], METAS[:20], 2, "table a")
        check(b.similarity_search_with_score(q, k=2), q, TEXTS[20:], METAS[20:], 2, "table b")


def test_reopen_file(use_lib, tmp_path):
    """Written by one connection, searched from a fresh one (the on-disk vec0 tables)."""
    db = str(tmp_path / "reopen.db")
    first = SQLiteVec.from_texts(TEXTS, HashEmbeddings(), metadatas=METAS, table="t", db_file=db)
    first._connection.close()
    again = SQLiteVec(table="t", connection=None, embedding=HashEmbeddings(), db_file=db)
    for q in QUERIES:
        check(again.similarity_search_with_score(q, k=4), q, TEXTS, METAS, 4, "reopened")
