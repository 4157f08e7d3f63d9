"""sqlite-utils plugin: loads vecsql into every connection sqlite-utils opens.

Both the CLI (`sqlite-utils query db.sqlite "select ... from items where embedding match
:q and k = 5" -p q '[...]'`) and the Python API (`sqlite_utils.Database(path)`) then see
vec0 tables and the vec_* / libSQL vector functions.

The hook runs last (`trylast`), so with sqlite-utils-sqlite-vec also installed it is vecsql
that answers; uninstall that plugin to avoid loading both.
"""
from sqlite_utils import hookimpl

__version__ = "0.1.0"


@hookimpl(trylast=True)
def prepare_connection(conn):
    # Imported here so that a missing vecsql package fails the connection with a clear
    # error instead of stopping sqlite-utils from loading its plugins at all.
    import vecsql

    vecsql.load(conn)
