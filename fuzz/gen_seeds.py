"""Writes the seed inputs in fuzz/seeds/<target>/ (committed; rerun only to change them).

Run from the repository root with the extension built:
    VECSQL_EXT=target/release/libvecsql .venv/bin/python fuzz/gen_seeds.py
Blob seeds are made by vecsql's own SQL functions, so every layout (sqlite-vec float32/int8/
bit, libSQL FLOAT32/64/16/B16/8/1BIT) starts valid; libFuzzer mutates from there.
"""
import hashlib
import os
import pathlib
import random
import sqlite3

ROOT = pathlib.Path(__file__).resolve().parent / "seeds"


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def main():
    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    conn.load_extension(os.environ.get("VECSQL_EXT", "target/release/libvecsql"))

    for text in ["[1, 2.5, -3e-2]", "[]", "[+1,.5,5.,1E+3]", "[-0]", " \n[ 1 ,\t2 ] \n",
                 "[1,", "[1e309]", "[nan]", "[-128, 127, 0]", "[1.0e-45, 3.4028235e38]",
                 "[" + ",".join(str(i % 7 - 3) for i in range(64)) + "]", "[0.1,0.2,0.3,0.4]"]:
        write("json", text)

    vectors = ["[1,2,3]", "[1,-2,3.5,4,5,6,7,8,9]", "[0.5]", "[1,1,1,1,1,1,1,1,1]", "[-1e30, 1e-30]"]
    for v in vectors:
        for fn in ["vector32", "vector64", "vector16", "vectorb16", "vector8", "vector1bit",
                   "vec_f32", "vec_int8"]:
            try:
                (blob,) = conn.execute(f"select {fn}(?)", (v.replace("3.5", "3").replace("0.5", "1")
                                                             if fn == "vec_int8" else v,)).fetchone()
            except sqlite3.Error:
                continue
            write("blob", blob)
    write("blob", bytes([0xff, 0x01, 0x00, 0x17, 0x03]))   # FLOAT1BIT, 9 dimensions
    write("blob", bytes(8) + bytes([0, 0, 4]))              # FLOAT8, 0 dimensions
    write("blob", bytes([1, 2, 3, 4, 5, 6, 7, 8]))

    for definition in [
        "emb float[4]",
        "id integer primary key, emb float[384] distance_metric=cosine, chunk_size=8",
        "id text primary key, a int8[8] distance_metric=l1, b bit[64], c float16[4], "
        "d bfloat16[2] distance_metric=dot",
        "emb float[8] indexed by hnsw(m=16, ef_construction='200'), p text partition key, "
        "q integer partition key, n integer not null, f float, t text, b boolean",
        "emb f32[ 4 ] distance_metric = l2, +aux text, +blobby blob, +anything, chunk_size=16",
        "emb float[8192], chunk_size=8",
        "id integer primary key autoincrement, emb i8[3], year int64, score double, ok bool",
        "emb float[4], emb float[4]",
        "emb float[0]",
        ", emb bit[7]",
    ]:
        write("definition", definition)

    # sql_diff: the first three bytes pick the element type and metric, the key and the index.
    rng = random.Random(7)
    for element in range(6):
        for key in range(3):
            for index in (0, 2, 3):
                data = bytes([element, key, index]) + bytes(rng.randrange(256) for _ in range(500))
                write("sql_diff", data)

    # shadow: five bytes per mutation (shadow table, row, column, action, argument; a bit flip
    # takes a sixth), indices as in crates/vecsql-fuzz-checks/src/shadow.rs. No mutation: all must succeed.
    for mutations in [[], [1, 0, 4, 0, 0], [1, 1, 5, 1, 3], [1, 0, 4, 2, 5, 0], [2, 3, 3, 9, 1],
                      [2, 4, 0, 8, 0], [7, 0, 1, 0, 10], [8, 0, 0, 8, 0], [3, 0, 1, 2, 77, 1],
                      [0, 1, 1, 6, 3], [15, 3, 1, 0, 5], [16, 0, 1, 0, 3], [13, 2, 2, 10, 5],
                      [10, 0, 0, 4, 9], [4, 1, 1, 1, 2, 12, 0, 5, 2, 9, 0, 9, 3, 1, 6, 4],
                      [2, 5, 2, 10, 1], [5, 0, 1, 0, 9], [6, 1, 1, 0, 0], [14, 0, 1, 0, 30],
                      [12, 0, 4, 3, 0]]:
        write("shadow", bytes(mutations))


if __name__ == "__main__":
    main()
