"""vecsql in a dqlite cluster (Canonical's Raft-replicated SQLite). dqlite refuses
load_extension, so each node runs with the preload library built from this repository
(`LD_PRELOAD=target/release/libvecsql_preload.so dqlite-demo ...`), which registers vecsql with
`sqlite3_auto_extension` of the SQLite that dqlite links.

A 3-node cluster of `dqlite-demo` processes on loopback; the `dqlite` shell (a client: SQL runs
on the leader) creates an exact and an HNSW-indexed vec0 table, writes 1,000 rows with updates
and deletes, and the same statements run on a plain single SQLite database with vecsql loaded.
Then the leader is killed and another node takes over; more writes; then leaders are rotated
(restart the stopped node, stop the current leader) until every node has served as leader. On
each leader the table contents and exact and ANN KNN answers equal the single-node run's.

The dqlite shell reads one statement per input line and cuts lines at 4 KiB, so vectors are
written as short JSON text (16 dimensions, 3 decimals). Needs `apt-get install go-dqlite`
(dqlite-demo and dqlite) and `cargo build --release` (the preload library); skips without them.
"""
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

DQLITE_DEMO = shutil.which("dqlite-demo")
DQLITE = shutil.which("dqlite")
PRELOAD = os.environ.get(
    "VECSQL_PRELOAD", str(REPO / "target" / "release" / "libvecsql_preload.so")
)

SQLITE3_SHELL = shutil.which("sqlite3")
pytestmark = pytest.mark.skipif(
    not os.path.exists(PRELOAD), reason=f"{PRELOAD} not built (cargo build --release)"
)
needs_dqlite = pytest.mark.skipif(
    DQLITE_DEMO is None or DQLITE is None,
    reason="dqlite-demo / dqlite not installed (apt-get install go-dqlite)",
)

DIMS = 16
DATABASE = "vec"
TABLES = {
    "docs": "",  # exact (brute-force) KNN
    "docs_ann": " indexed by hnsw()",
}
WAIT_S = 30  # every wait below is bounded by this


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, tmp_path, index):
        self.index = index
        self.db = f"127.0.0.1:{free_port()}"
        self.api = f"127.0.0.1:{free_port()}"
        self.dir = tmp_path / f"node{index}"
        self.log_path = tmp_path / f"node{index}.log"
        self.proc = None

    def start(self, join=None):
        cmd = [DQLITE_DEMO, "--api", self.api, "--db", self.db, "--dir", str(self.dir)]
        if join:
            cmd += ["--join", join]
        env = dict(os.environ, LD_PRELOAD=PRELOAD)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if not self.running:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


class ShellError(Exception):
    pass


def shell(nodes, lines, timeout=60):
    """Runs `lines` through one `dqlite` shell session; returns each line's output."""
    servers = ",".join(n.db for n in nodes if n.running)
    for line in lines:
        assert "\n" not in line and len(line) < 4000, "the shell cuts lines at 4 KiB"
    proc = subprocess.run(
        [DQLITE, "-s", servers, DATABASE],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    # The shell prints a prompt before reading each line, then that line's output.
    outputs = [o.rstrip("\n") for o in proc.stdout.split("dqlite> ")[1 : 1 + len(lines)]]
    if len(outputs) != len(lines):
        raise ShellError(f"shell ended early: {proc.stdout[-500:]!r} {proc.stderr[-500:]!r}")
    for line, out in zip(lines, outputs):
        if out.startswith("Error:"):
            raise ShellError(f"{out} (from {line[:120]!r})")
    return outputs


def leader(nodes):
    """The leader's address, once the running nodes have one (bounded)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            (address,) = shell(nodes, [".leader"], timeout=10)
            if address in {n.db for n in nodes if n.running}:
                return address
        except (ShellError, subprocess.TimeoutExpired):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no leader among the running nodes after {WAIT_S} s")
        time.sleep(0.3)


def wait_reachable(node):
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            shell([node], [f".describe {node.db}"], timeout=10)
            return
        except (ShellError, subprocess.TimeoutExpired):
            pass
        assert node.running, f"node {node.index} exited: {node.log_path.read_text()[-500:]}"
        if time.monotonic() > deadline:
            pytest.fail(f"node {node.index} not reachable after {WAIT_S} s")
        time.sleep(0.3)


def wait_voters(nodes, n):
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            (cluster,) = shell(nodes, [".cluster"], timeout=10)
            if cluster.count("|voter") == n:
                return
        except (ShellError, subprocess.TimeoutExpired):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the cluster never had {n} voters")
        time.sleep(0.3)


def vec_text(v):
    return "[" + ",".join(f"{x:.3f}" for x in v) + "]"


class Workload:
    """Statements, each a line for the shell, in groups of a few rows."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.present = []
        self.next_id = 1

    def inserts(self, n, per_line=12):
        lines = []
        for start in range(0, n, per_line):
            ids = range(self.next_id, self.next_id + min(per_line, n - start))
            rows = ", ".join(
                f"({i}, '{vec_text(self.rng.standard_normal(DIMS))}', '{'ab'[i % 2]}', 'doc {i}')"
                for i in ids
            )
            lines += [
                f"insert into {t}(id, embedding, category, title) values {rows}" for t in TABLES
            ]
            self.present.extend(ids)
            self.next_id += len(ids)
        return lines

    def deletes(self, n, per_line=20):
        gone = [int(i) for i in self.rng.choice(self.present, n, replace=False)]
        self.present = [i for i in self.present if i not in set(gone)]
        lines = []
        for start in range(0, n, per_line):
            ids = ", ".join(map(str, gone[start : start + per_line]))
            lines += [f"delete from {t} where id in ({ids})" for t in TABLES]
        return lines

    def updates(self, n, per_line=8):
        moved = [int(i) for i in self.rng.choice(self.present, n, replace=False)]
        lines = []
        for start in range(0, n, per_line):
            chunk = moved[start : start + per_line]
            vecs = [vec_text(self.rng.standard_normal(DIMS)) for _ in chunk]
            for t in TABLES:
                lines.append(
                    "; ".join(
                        f"update {t} set embedding = '{v}', title = 'moved {i}' where id = {i}"
                        for i, v in zip(chunk, vecs)
                    )
                )
        return lines


def queries(seed):
    rng = np.random.default_rng(seed)
    out = []
    for v in rng.standard_normal((5, DIMS)):
        for t in TABLES:
            for extra in ["", " and category = 'a'"]:
                out.append(
                    f"select id, distance from {t} where embedding match '{vec_text(v)}' "
                    f"and k = 10{extra} order by distance"
                )
    out += [f"select id, vec_to_json(embedding), category, title from {t} order by id"
            for t in TABLES]
    return out


def parse(output):
    rows = []
    for line in output.splitlines():
        fields = line.split("|")
        rows.append(tuple([int(fields[0])] + [float(f) if is_float(f) else f for f in fields[1:]]))
    return rows


def is_float(text):
    try:
        float(text)
        return not text.startswith("[")
    except ValueError:
        return False


def reference_rows(ref, sql):
    return [
        tuple([r[0]] + [float(x) if isinstance(x, (int, float)) else x for x in r[1:]])
        for r in ref.execute(sql).fetchall()
    ]


def preloaded(cmd, **env):
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ, LD_PRELOAD=PRELOAD, **env),
    )


@pytest.mark.skipif(SQLITE3_SHELL is None, reason="no sqlite3 shell (apt-get install sqlite3)")
def test_the_preload_registers_vecsql_without_disturbing_sqlite_configuration():
    # The sqlite3 shell configures SQLite before its first open, as go-dqlite does: a
    # registration at load time would initialise SQLite first and make that fail.
    run = preloaded([SQLITE3_SHELL, ":memory:", "select vecsql_version(), vec_length('[1,2,3]')"])
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("|3") and run.stderr == "", (run.stdout, run.stderr)

    # Without libvecsql.so the open still works, with one line saying why vec0 is missing.
    run = preloaded([SQLITE3_SHELL, ":memory:", "select 1"], VECSQL_EXTENSION="/nonexistent.so")
    assert run.stdout.strip() == "1"
    assert run.stderr.startswith("vecsql-preload: vecsql not registered: cannot load"), run.stderr

    # A program without SQLite is left alone.
    run = preloaded(["sh", "-c", "echo ok"])
    assert (run.returncode, run.stdout, run.stderr) == (0, "ok\n", "")


@needs_dqlite
def test_dqlite_cluster_with_the_preload_answers_like_a_single_node(tmp_path, ext_path):
    ref = sqlite3.connect(tmp_path / "single.db", isolation_level=None)
    ref.enable_load_extension(True)
    ref.load_extension(ext_path)

    def write(nodes, lines):
        shell(nodes, lines, timeout=120)
        for line in lines:
            ref.executescript(line)

    def check(nodes):
        """Contents and KNN on the current leader equal the single-node run's."""
        qs = queries(len(served) + 100)
        out = shell(nodes, [".leader"] + qs + [".leader"], timeout=60)
        assert out[0] == out[-1], "leadership changed during the check"
        for sql, got in zip(qs, out[1:-1]):
            expected = reference_rows(ref, sql)
            assert parse(got) == expected, f"{out[0]}: {sql[:100]}"
            assert len(expected) >= (10 if "k = 10" in sql else 900)
        served.add(out[0])
        order.append(out[0])
        return out[0]

    nodes = [Node(tmp_path, i) for i in range(3)]
    by_address = {n.db: n for n in nodes}
    served = set()
    order = []  # the leader at each check
    try:
        nodes[0].start()
        wait_reachable(nodes[0])
        for node in nodes[1:]:
            node.start(join=nodes[0].db)
        wait_voters(nodes, 3)
        (version,) = shell(nodes, ["select vecsql_version()"])
        assert version.startswith("v"), version

        for table, index in TABLES.items():
            write(
                nodes,
                [
                    f"create virtual table {table} using vec0(id integer primary key, "
                    f"embedding float[{DIMS}]{index}, category text, +title text)"
                ],
            )
        work = Workload(15)
        write(nodes, work.inserts(1000))
        write(nodes, work.updates(120) + work.deletes(80) + work.inserts(40) + work.updates(40))
        first = check(nodes)
        assert first == nodes[0].db

        # Crash the leader: another node is elected and answers the same, then takes writes.
        by_address[first].stop(signal.SIGKILL)
        second = leader(nodes)
        assert check(nodes) == second
        write(nodes, work.deletes(30) + work.inserts(30) + work.updates(30))
        check(nodes)

        # Rotate: restart the stopped node, stop the leader (gracefully: dqlite-demo hands
        # leadership over), until every node has been leader. Each rotation is a coin toss
        # between two nodes, so 12 bound the chance of not getting there to 1/4096.
        for _ in range(12):
            if served == set(by_address):
                break
            for node in nodes:
                if not node.running:
                    node.start()
                    wait_reachable(node)
            current = leader(nodes)
            by_address[current].stop(signal.SIGTERM)
            leader(nodes)
            check(nodes)
        assert served == set(by_address), f"only {sorted(served)} were leaders"
        print("leaders checked, in order:", " ".join(order))
    finally:
        for node in nodes:
            node.stop(signal.SIGTERM)
        ref.close()
