"""Make `sqlite_vec.load(conn)` load another build of the extension (vecsql).

Imported by conftest.py (for SQLITE_VEC_PATH, the real sqlite-vec 0.1.9), and used as a
pytest plugin (`-p _swap`) or a plain import in subprocesses: when VECSQL_CLIENT_LIB is set
(a library path without its suffix) it patches `sqlite_vec.loadable_path` and
`sqlite_vec.load`, which is how every client tested here loads the extension. As a pytest
plugin it prints how many connections loaded which library, so the caller can check that the
swap took effect.
"""
import os

import sqlite_vec

SQLITE_VEC_PATH = sqlite_vec.loadable_path()  # the real sqlite-vec, before any patching
loads = 0


def install(path: str) -> None:
    def load(conn):
        global loads
        conn.load_extension(path)
        loads += 1

    sqlite_vec.loadable_path = lambda: path
    sqlite_vec.load = load


def vecsql_plugin_managers() -> list:
    """The plugin managers of datasette and sqlite-utils (those importable), where vecsql's
    own plugins (plugins/, entry point name "vecsql") would load vecsql into every
    connection regardless of the library under test; callers set those plugins aside."""
    managers = []
    try:
        from datasette.plugins import pm as datasette_pm

        managers.append(datasette_pm)
    except ImportError:
        pass
    try:
        from sqlite_utils.plugins import ensure_plugins_loaded, pm as sqlite_utils_pm

        ensure_plugins_loaded()
        managers.append(sqlite_utils_pm)
    except ImportError:
        pass
    return managers


if os.environ.get("VECSQL_CLIENT_LIB"):
    install(os.environ["VECSQL_CLIENT_LIB"])
    try:  # subprocesses (the sqlite-utils CLI): keep sqlite-utils-vecsql from loading
        from sqlite_utils.plugins import pm as _sqlite_utils_pm

        _sqlite_utils_pm.set_blocked("vecsql")
    except ImportError:
        pass


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"vecsql-swap: {loads} connections loaded {os.environ.get('VECSQL_CLIENT_LIB')}"
    )
