"""Build glue for the `vecsql` wheel: compiles the extension with cargo and ships it.

`pip install ./python` (from a clone of the repository, with Rust installed) runs
`cargo build --release` in the enclosing Cargo workspace (the whole workspace, so that its
feature set, and so its build, is the one every other command of the project shares), copies the library
(`libvecsql.so`, `.dylib` or `vecsql.dll`) into the `vecsql` package, strips its debug info,
and tags the wheel `py3-none-<platform>`: it holds no Python extension module, so it works
with any Python 3 on that platform.

Nothing is written into the source tree: setuptools' build directory and egg-info, which pip
would otherwise put in python/build and python/src (where two builds at once overwrite each
other's files), go to a temporary directory of each build, removed when it ends. The
licence files (LICENSE-MIT, LICENSE-APACHE, links to the repository's own) go into the
wheel's .dist-info/licenses.

Environment:
- `VECSQL_PREBUILT_LIB=/path/to/libvecsql.so` ships that file instead of building one.
- `CARGO` names the cargo binary; `CARGO_TARGET_DIR` and other cargo settings apply as usual.
"""
import atexit
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent

if sys.platform == "darwin":
    LIB_NAME = "libvecsql.dylib"
elif sys.platform == "win32":
    LIB_NAME = "vecsql.dll"
else:
    LIB_NAME = "libvecsql.so"


def workspace_root() -> pathlib.Path:
    """The Cargo workspace this package sits in (python/ is one level below it)."""
    for directory in [HERE, *HERE.parents]:
        manifest = directory / "Cargo.toml"
        if manifest.is_file() and "[workspace]" in manifest.read_text(encoding="utf-8"):
            return directory
    raise SystemExit(
        "vecsql: cannot find the Cargo workspace above python/; build the wheel from a clone "
        "of the repository (pip install ./python), or set VECSQL_PREBUILT_LIB"
    )


def find_cargo() -> str:
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if cargo is None:
        home = pathlib.Path(os.environ.get("CARGO_HOME", pathlib.Path.home() / ".cargo"))
        candidate = home / "bin" / "cargo"
        if candidate.exists():
            cargo = str(candidate)
    if cargo is None:
        raise SystemExit(
            "vecsql: building the wheel needs Rust's cargo (https://rustup.rs), "
            "or VECSQL_PREBUILT_LIB pointing to a built libvecsql"
        )
    return cargo


def build_library() -> pathlib.Path:
    prebuilt = os.environ.get("VECSQL_PREBUILT_LIB")
    if prebuilt:
        path = pathlib.Path(prebuilt)
        if not path.is_file():
            raise SystemExit(f"vecsql: VECSQL_PREBUILT_LIB={prebuilt} is not a file")
        return path
    root = workspace_root()
    cargo = find_cargo()
    print(f"vecsql: cargo build --release in {root}", flush=True)
    subprocess.run([cargo, "build", "--release"], cwd=root, check=True)
    metadata = subprocess.run(
        [cargo, "metadata", "--format-version", "1", "--no-deps"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    target = pathlib.Path(json.loads(metadata.stdout)["target_directory"])
    library = target / "release" / LIB_NAME
    if not library.is_file():
        raise SystemExit(f"vecsql: cargo finished but {library} is missing")
    return library


class BuildPy(build_py):
    """Adds the compiled extension next to the package's Python files."""

    def run(self):
        super().run()
        library = build_library()
        destination = pathlib.Path(self.build_lib) / "vecsql" / LIB_NAME
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(library, destination)
        strip = shutil.which("strip")
        if strip and sys.platform.startswith("linux"):
            # The workspace's release profile keeps line tables for profiling; the wheel
            # does not need them (20 MB -> about 2 MB).
            subprocess.run([strip, "--strip-debug", str(destination)], check=False)


class BdistWheel(bdist_wheel):
    """A platform wheel (it holds a native library) for any Python 3 (no CPython ABI use)."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


def out_of_tree() -> dict:
    """setuptools options that put this build's files in a directory of its own."""
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="vecsql-wheel-build-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return {
        "build": {"build_base": str(scratch / "build")},
        "egg_info": {"egg_base": str(scratch)},
    }


setup(cmdclass={"build_py": BuildPy, "bdist_wheel": BdistWheel}, options=out_of_tree())
