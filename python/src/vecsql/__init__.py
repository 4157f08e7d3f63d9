"""vecsql: vector similarity search inside SQLite.

This package ships the compiled vecsql extension and loads it into SQLite connections from
the standard library's ``sqlite3`` (when that module was built with extension loading, as
Debian's and most distributions' Pythons are), ``apsw``, and ``sqlite3``-compatible modules
such as ``sqlean``::

    import sqlite3, vecsql
    conn = sqlite3.connect("vectors.db")
    vecsql.load(conn)
    conn.execute("select vec_version()").fetchone()

Vectors are passed to SQL as blobs (or JSON text). ``serialize_float32`` and
``serialize_int8`` turn Python sequences into blobs; with the ``sqlite3`` module, ``load()``
also registers adapters so that plain lists of numbers and 1-D numpy arrays can be passed
directly as parameters: lists and float32/float16/float64 arrays become float32 vectors (as
JSON text ``'[1, 2]'`` does), int8 arrays stay int8 (for int8 columns or ``vec_int8(?)``).
Arrays of other dtypes (where int8, bit or float is a guess) and other shapes raise
``TypeError``/``ValueError``.
"""
from __future__ import annotations

import math
import os
import struct
import sys
from typing import Any, Iterable

__all__ = [
    "__version__",
    "loadable_path",
    "vss_loadable_path",
    "vector_loadable_path",
    "load",
    "serialize_float32",
    "serialize_int8",
    "deserialize_float32",
    "register_numpy_adapter",
    "register_list_adapter",
]

__version__ = "0.1.0"

#: The extension's entry point (the file also exports sqlite-vec's ``sqlite3_vec_init``).
ENTRY_POINT = "sqlite3_vecsql_init"

if sys.platform == "darwin":
    _LIB_NAME = "libvecsql.dylib"
elif sys.platform == "win32":
    _LIB_NAME = "vecsql.dll"
else:
    _LIB_NAME = "libvecsql.so"


def loadable_path() -> str:
    """The full path of the extension library shipped in this package.

    Pass it to ``conn.load_extension(...)``, ``apsw.Connection.load_extension(...)`` or the
    ``sqlite3`` shell's ``.load``; the entry point is derived from the file name.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), _LIB_NAME)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"vecsql: the extension library {path} is missing; install the package with "
            "`pip install ./python` from the repository so that the wheel carries it"
        )
    return path


def vss_loadable_path() -> str:
    """sqlite-vss's ``sqlite_vss.vss_loadable_path()``: the same library, which exports
    sqlite-vss's ``sqlite3_vss_init`` entry point (pass it as the entry point, or just call
    :func:`load`, which registers sqlite-vss's functions and ``vss0`` table too)."""
    return loadable_path()


def vector_loadable_path() -> str:
    """sqlite-vss's ``sqlite_vss.vector_loadable_path()``: the same library (entry point
    ``sqlite3_vector_init``); see :func:`vss_loadable_path`."""
    return loadable_path()


def _is_apsw(conn: Any) -> bool:
    return type(conn).__module__.split(".")[0] == "apsw"


def load(conn: Any, *, numpy_adapter: bool = True, list_adapter: bool = True) -> None:
    """Loads vecsql into ``conn``: a ``sqlite3.Connection``, an ``apsw.Connection``, or any
    connection object with ``enable_load_extension`` and ``load_extension`` methods.

    Extension loading is enabled only for the call and disabled again afterwards.

    For a ``sqlite3`` connection, ``list_adapter`` (the default) registers the process-wide
    adapter of :func:`register_list_adapter` (lists of numbers as float32 vectors), and
    ``numpy_adapter`` (the default), with numpy installed, that of
    :func:`register_numpy_adapter`.
    """
    path = loadable_path()
    if not hasattr(conn, "enable_load_extension") or not hasattr(conn, "load_extension"):
        module = type(conn).__module__
        if module.split(".")[0] in ("sqlite3", "_sqlite3"):
            raise RuntimeError(
                "vecsql: this Python's sqlite3 module was built without extension loading "
                "(no Connection.enable_load_extension). Use a Python whose sqlite3 allows it "
                "(e.g. Debian's /usr/bin/python3), apsw (pip install apsw), or "
                "sqlean.py (pip install sqlean.py)"
            )
        raise TypeError(
            f"vecsql.load() needs an sqlite3 or apsw connection, got {type(conn).__name__}"
        )
    conn.enable_load_extension(True)
    try:
        if _is_apsw(conn):
            conn.load_extension(path, ENTRY_POINT)
        else:
            conn.load_extension(path)
    finally:
        conn.enable_load_extension(False)
    if _is_apsw(conn):
        return
    if list_adapter:
        register_list_adapter(_module_of(conn))
    if numpy_adapter:
        try:
            import numpy  # noqa: F401
        except ImportError:
            return
        register_numpy_adapter(_module_of(conn))


def _module_of(conn: Any):
    """The sqlite3-compatible module a connection comes from (sqlite3, sqlean, pysqlite3)."""
    name = type(conn).__module__
    module = sys.modules.get(name)
    if module is not None and hasattr(module, "register_adapter"):
        return module
    top = sys.modules.get(name.split(".")[0])
    if top is not None and hasattr(top, "register_adapter"):
        return top
    import sqlite3

    return sqlite3


def _vector_elements(vector: Any, what: str) -> list:
    """A sequence's elements, with clear errors for scalars, strings and nested sequences."""
    if isinstance(vector, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"vecsql: {what} takes a sequence of numbers, not {type(vector).__name__}")
    try:
        elements = list(vector)
    except TypeError:
        raise TypeError(
            f"vecsql: {what} takes a sequence of numbers, not {type(vector).__name__}"
        ) from None
    if not elements:
        raise ValueError(f"vecsql: {what} got an empty vector")
    return elements


def _numpy_array(vector: Any):
    """``vector`` if it is a numpy array (without importing numpy otherwise)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(vector, numpy.ndarray):
        return numpy, vector
    return None, None


def _check_1d(array) -> None:
    if array.ndim != 1:
        raise ValueError(f"vecsql: a vector must be a 1-D array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError("vecsql: empty vector")


def serialize_float32(vector: Iterable[float]) -> bytes:
    """A float32 vector blob (little-endian, 4 bytes per element), as ``vec_f32()`` makes.

    Takes any sequence of numbers or a 1-D numpy array of any real dtype. Raises ``TypeError``
    for non-numbers and ``ValueError`` for empty vectors, NaN, infinities and values beyond
    the float32 range.
    """
    numpy, array = _numpy_array(vector)
    if numpy is not None:
        _check_1d(array)
        real = numpy.issubdtype(array.dtype, numpy.floating) or numpy.issubdtype(
            array.dtype, numpy.integer
        )
        if not real:
            raise TypeError(f"vecsql: cannot make a float32 vector from dtype {array.dtype}")
        with numpy.errstate(over="ignore"):
            converted = array.astype("<f4")
        if not numpy.isfinite(converted).all():
            bad = int(numpy.flatnonzero(~numpy.isfinite(converted))[0])
            raise ValueError(
                f"vecsql: element {bad} ({array[bad]!r}) is not a finite float32 number"
            )
        return converted.tobytes()
    elements = _vector_elements(vector, "serialize_float32()")
    values = []
    for i, x in enumerate(elements):
        if isinstance(x, (str, bytes, bytearray)):
            raise TypeError(f"vecsql: element {i} is not a number: {x!r}")
        try:
            f = float(x)
        except (TypeError, ValueError):
            raise TypeError(f"vecsql: element {i} is not a number: {x!r}") from None
        if not math.isfinite(f) or abs(f) > 3.4028234663852886e38:
            raise ValueError(f"vecsql: element {i} ({x!r}) is not a finite float32 number")
        values.append(f)
    return struct.pack(f"<{len(values)}f", *values)


def serialize_int8(vector: Iterable[int]) -> bytes:
    """An int8 vector blob (one byte per element) for int8 columns or ``vec_int8(?)``.

    Takes integers in -128..127 (a sequence, or a 1-D numpy integer array). Raises
    ``TypeError`` for non-integers and ``ValueError`` for values out of range.
    """
    numpy, array = _numpy_array(vector)
    if numpy is not None:
        _check_1d(array)
        if not numpy.issubdtype(array.dtype, numpy.integer):
            raise TypeError(
                f"vecsql: serialize_int8() takes integers, got dtype {array.dtype} "
                "(quantize first, e.g. with vec_quantize_int8 in SQL)"
            )
        if array.min() < -128 or array.max() > 127:
            bad = int(numpy.flatnonzero((array < -128) | (array > 127))[0])
            raise ValueError(f"vecsql: element {bad} ({array[bad]}) is outside -128..127")
        return array.astype("i1").tobytes()
    elements = _vector_elements(vector, "serialize_int8()")
    for i, x in enumerate(elements):
        if isinstance(x, bool) or not hasattr(x, "__index__"):
            raise TypeError(f"vecsql: element {i} is not an integer: {x!r}")
        if not -128 <= int(x) <= 127:
            raise ValueError(f"vecsql: element {i} ({x}) is outside -128..127")
    return struct.pack(f"<{len(elements)}b", *(int(x) for x in elements))


def deserialize_float32(blob: bytes) -> list:
    """The elements of a float32 vector blob, as a list of floats."""
    if len(blob) % 4:
        raise ValueError(f"vecsql: a float32 vector blob has 4 bytes per element, not {len(blob)}")
    return list(struct.unpack(f"<{len(blob) // 4}f", blob))


def _adapt_ndarray(array):
    """sqlite3 adapter: a 1-D float32/float16/float64/int8 numpy array as a vector blob."""
    import numpy

    _check_1d(array)
    if array.dtype == numpy.float32 or array.dtype == numpy.float16:
        return array.astype("<f4").tobytes()
    if array.dtype == numpy.float64:
        # numpy's default float type: narrowed to float32 (vec0 stores float32), with
        # serialize_float32's checks for NaN, infinities and values beyond float32's range.
        return serialize_float32(array)
    if array.dtype == numpy.int8:
        return array.tobytes()
    raise TypeError(
        f"vecsql: numpy arrays of dtype {array.dtype} are not accepted as vectors (int8, bit "
        "or float would be a guess); use float32, float16, float64 or int8 "
        "(e.g. a.astype(numpy.float32)), or vecsql.serialize_int8(a)"
    )


def _adapt_list(values):
    """sqlite3 adapter: a list of numbers as a float32 vector blob."""
    return serialize_float32(values)


def register_numpy_adapter(module: Any = None) -> None:
    """Lets 1-D numpy arrays be bound as vector parameters of ``sqlite3`` (or ``module``,
    an sqlite3-compatible module such as ``sqlean``).

    float32 arrays become float32 blobs, float16 arrays are widened and float64 arrays
    narrowed to float32 blobs, int8 arrays stay int8 blobs (for int8 columns or
    ``vec_int8(?)``). Any other dtype raises
    ``TypeError`` and any other number of dimensions ``ValueError``, instead of binding raw
    bytes that would be read as the wrong vector. The adapter is process-wide (sqlite3
    adapters are global); ``vecsql.load(conn, numpy_adapter=False)`` skips it.
    """
    import numpy

    if module is None:
        import sqlite3 as module
    module.register_adapter(numpy.ndarray, _adapt_ndarray)


def register_list_adapter(module: Any = None) -> None:
    """Lets plain Python lists of numbers be bound as float32 vector parameters of ``sqlite3``
    (or ``module``, an sqlite3-compatible module such as ``sqlean``), as JSON text
    ``'[0.1, 2]'`` would be: ``conn.execute("... where embedding match ?", ([0.1, 0.2],))``.

    sqlite3 cannot bind a list otherwise, so no working code changes meaning. Elements that
    are not numbers raise ``TypeError``; empty lists, NaN, infinities and values beyond float32
    range raise ``ValueError``. For int8 columns pass ``vecsql.serialize_int8(values)``. The
    adapter is process-wide; ``vecsql.load(conn, list_adapter=False)`` skips it.
    """
    if module is None:
        import sqlite3 as module
    module.register_adapter(list, _adapt_list)
