"""Writes the sqlite-vss fixture: a database file made by real sqlite-vss 0.1.2, and the
answers sqlite-vss gives on it, for vecsql's tests (crates/vecsql/tests/vss_files.rs and
tests/python/test_vss_compat.py).

    python -m venv /tmp/vss && /tmp/vss/bin/pip install sqlite-vss==0.1.2
    # Debian: apt-get install -y libgomp1 libblas3 liblapack3
    /tmp/vss/bin/python tests/python/gen_sqlite_vss_fixture.py

Needs a Python whose sqlite3 can load extensions (Debian's /usr/bin/python3 can).
Tables: `two` (Flat,IDMap2 x 2 columns, one INNER_PRODUCT, three rows deleted), `ivf`
(IVF4,Flat,IDMap2, trained), `hnsw` (HNSW8,IDMap2) and `pq` (IVF2,PQ2x4: lossy codes).
"""
import json
import os
import random
import sqlite3
import struct
import sys

import sqlite_vss

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crates", "vecsql", "tests", "fixtures")


def f32(v):
    return struct.pack("%df" % len(v), *v)


def unpack(b):
    return list(struct.unpack("%df" % (len(b) // 4), b))


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "sqlite_vss_0.1.2.db")
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    sqlite_vss.load(db)
    rnd = random.Random(1)
    db.execute(
        'create virtual table two using vss0(a(4), b(3) factory="Flat,IDMap2" '
        "metric_type=INNER_PRODUCT)"
    )
    inserted = {"two": {}, "ivf": {}, "hnsw": {}}
    for i in range(1, 21):
        a = [rnd.random() for _ in range(4)]
        b = [rnd.random() for _ in range(3)]
        inserted["two"][str(i)] = {"a": unpack(f32(a)), "b": unpack(f32(b))}
        db.execute("insert into two(rowid, a, b) values (?, ?, ?)", (i, f32(a), f32(b)))
    db.commit()
    db.execute("delete from two where rowid in (3, 7, 11)")
    for i in (3, 7, 11):
        del inserted["two"][str(i)]
    db.commit()
    train = [[rnd.random() for _ in range(8)] for _ in range(64)]
    db.execute('create virtual table ivf using vss0(v(8) factory="IVF4,Flat,IDMap2")')
    for t in train:
        db.execute("insert into ivf(operation, v) values ('training', ?)", (f32(t),))
    db.commit()
    for i in range(1, 31):
        db.execute("insert into ivf(rowid, v) values (?, ?)", (i * 10, f32(train[i])))
        inserted["ivf"][str(i * 10)] = {"v": unpack(f32(train[i]))}
    db.commit()
    db.execute('create virtual table hnsw using vss0(v(8) factory="HNSW8,IDMap2")')
    for i in range(1, 26):
        db.execute("insert into hnsw(rowid, v) values (?, ?)", (i, f32(train[i])))
        inserted["hnsw"][str(i)] = {"v": unpack(f32(train[i]))}
    db.commit()
    db.execute('create virtual table pq using vss0(v(8) factory="IVF2,PQ2x4")')
    for t in train:
        db.execute("insert into pq(operation, v) values ('training', ?)", (f32(t),))
    db.commit()
    for i in range(1, 5):
        db.execute("insert into pq(rowid, v) values (?, ?)", (i, f32(train[i])))
    db.commit()

    # Every row each table holds (IVF cannot give its vectors back in sqlite-vss: no direct
    # map), checked against what sqlite-vss lists and, for `two`, what it reads back.
    answers = {"rows": inserted, "searches": []}
    for table in inserted:
        rowids = [str(r[0]) for r in db.execute(f"select rowid from {table} order by rowid")]
        assert rowids == sorted(inserted[table], key=int), (table, rowids)
    for r in db.execute("select rowid, a, b from two"):
        assert inserted["two"][str(r[0])] == {"a": unpack(r[1]), "b": unpack(r[2])}
    for table, col, d in [("two", "a", 4), ("two", "b", 3)]:
        for qi in range(3):
            q = [rnd.random() for _ in range(d)]
            got = db.execute(
                f"select rowid, distance from {table} "
                f"where vss_search({col}, vss_search_params(?, 5))",
                (f32(q),),
            ).fetchall()
            answers["searches"].append(
                {"table": table, "column": col, "query": q, "k": 5, "answer": got}
            )
    db.close()
    with open(os.path.join(OUT, "sqlite_vss_0.1.2.json"), "w") as fh:
        json.dump(answers, fh, indent=1)
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
