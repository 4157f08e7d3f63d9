"""The concurrency test's writer, replayed with a check of every committed state.

Rewriting a group of rows' vectors in one transaction once left a row with no link into it
on the graph's bottom layer, so walks never reached it: the commit unlinked the group's old
nodes while the writer's freshly loaded copy already held the new vectors of the rows not
unlinked yet, which their old links had not been chosen for. This sequence (the writer of
`test_concurrency.py` with seed 1) reached that state after 2,860 transactions; every state
must answer KNN walks exactly (16 to 48 rows, ef_search = 256).

The checks run in another process, in lock step with the writer: connections of one process
share their copy of the graph, and a writer that adopted a reader's copy (with the old
vectors) would not show the fault.
"""
import random
import sqlite3
import subprocess
import sys

import test_concurrency as tc

INDEX = " indexed by hnsw()"


def reader_main(path, ext):
    conn = sqlite3.connect(path, isolation_level=None)
    tc.load(conn, ext)
    check = random.Random(2)
    for _ in sys.stdin:
        problems = []
        conn.execute("begin")
        tc.check_snapshot(conn, check, problems, INDEX)
        conn.execute("commit")
        print(repr(problems), flush=True)


def test_group_rewrites_keep_every_row_reachable(tmp_path, ext_path):
    path = str(tmp_path / "w.db")
    conn = sqlite3.connect(path, isolation_level=None)
    tc.load(conn, ext_path)
    conn.execute("pragma journal_mode=wal")
    conn.execute(tc.table_sql(INDEX))
    conn.execute("create table meta(n integer not null, total integer not null)")
    conn.execute("insert into meta values (0, 0)")
    reader = subprocess.Popen(
        [sys.executable, __file__, path, ext_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    writer = tc.Writer(random.Random(1))
    try:
        for step in range(3000):
            writer.step(conn)
            reader.stdin.write("check\n")
            reader.stdin.flush()
            answer = reader.stdout.readline().strip()
            assert answer == "[]", f"after transaction {step}: {answer or reader.wait()}"
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)


if __name__ == "__main__":
    reader_main(sys.argv[1], sys.argv[2])
