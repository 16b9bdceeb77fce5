#!/usr/bin/env python3
"""Build the deployable artifacts, reproducibly, into dist/.

    dist/portal-bundle.zip  the Elastic Beanstalk source bundle of the portal
    dist/lambda-code.zip    the Django-free modules of common/, images/, accounts/ (images/api/ and maintenance.py included)
    dist/lambda-layer.zip   python/ with requirements/lambda.txt for manylinux x86_64, CPython 3.12

Entries are sorted, timestamps and permissions fixed, so two builds of the same tree give
byte-identical zips (same sha256). Standard library and pip only.

The code zip and the layer carry bytecode compiled for the deployed runtime beside each
module (__pycache__/*.cpython-312.pyc): a function's code and layers are read-only in
Lambda, so without it every cold start compiles every module it imports. The pycs are
unchecked-hash pycs (PEP 552): no timestamp in them (reproducible), and Lambda never
compares them with the source, which cannot change there. They are compiled by the Python
running this script, which must be the deployed one (LAYER_PYTHON).

    python scripts/bundle.py [--out dist] [--only portal,code,layer]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CORE_PACKAGES = ("common", "images", "accounts")
PORTAL_PATHS = ("manage.py", "Procfile", "portal", "images", "accounts", "common", ".ebextensions", ".platform",
                "infra/openapi.yaml")  # the portal's /api/docs/ renders it
# Top-level imports that bind a module to Django: Django itself, Django-only libraries, and
# the Django project.
DJANGO_ROOTS = frozenset({"django", "storages", "whitenoise", "portal"})
# Modules (or packages) whose handlers Lambda runs: the API routes (images/api/, accounts/api.py),
# the scheduled sweep and the Cognito triggers (accounts/triggers.py).
HANDLER_MODULES = frozenset({"api", "maintenance", "triggers"})
# Django-free, but run on a person's machine, never in Lambda (the bulk tool needs tqdm).
CLIENT_MODULES = frozenset({"images.cli"})
EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".sqlite3", ".orig", ".rej", ".swp")
EXCLUDED_NAMES = frozenset({".DS_Store"})

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
LAYER_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
LAYER_PYTHON = "3.12"  # infra/variables.tf's lambda_runtime (tests/infra/test_runtime.py checks)


class BundleError(SystemExit):
    """A build that must not produce an artifact."""

    def __init__(self, message: str):
        super().__init__(f"bundle: {message}")


# ---------------------------------------------------------------------------------------
# Reproducible zips
# ---------------------------------------------------------------------------------------


def write_zip(path: Path, entries: Iterable[tuple[str, bytes, bool]]) -> str:
    """Write (arcname, data, executable) entries sorted, with fixed metadata; return the sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    seen: set[str] = set()
    with zipfile.ZipFile(tmp, "w") as archive:
        for arcname, data, executable in sorted(entries, key=lambda entry: entry[0]):
            if arcname in seen:
                raise BundleError(f"{arcname} would be in {path.name} twice")
            seen.add(arcname)
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
            info.create_system = 3  # Unix, so the permissions below are honoured
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    tmp.replace(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _excluded(relative: Path) -> bool:
    return (
        any(part in EXCLUDED_DIRS for part in relative.parts)
        or relative.name in EXCLUDED_NAMES
        or relative.name.endswith(EXCLUDED_SUFFIXES)
    )


def tree_files(root: Path, top: str) -> Iterator[Path]:
    """The files of root/top (a file or a directory), relative to root, minus caches and tests."""
    start = root / top
    if start.is_file():
        yield Path(top)
        return
    if not start.is_dir():
        raise BundleError(f"{top} is missing")
    for dirpath, dirnames, filenames in os.walk(start):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS)
        for name in sorted(filenames):
            relative = (Path(dirpath) / name).relative_to(root)
            if not _excluded(relative):
                yield relative


def file_entry(root: Path, relative: Path, arcname: str | None = None) -> tuple[str, bytes, bool]:
    full = root / relative
    return (arcname or relative.as_posix(), full.read_bytes(), os.access(full, os.X_OK))


def _check_python() -> None:
    if "%d.%d" % sys.version_info[:2] != LAYER_PYTHON:
        raise BundleError(f"run me with Python {LAYER_PYTHON} (the deployed runtime) to compile its bytecode; "
                          f"this is {sys.version.split()[0]}")


def bytecode_entry(full: Path, arcname: str, scratch: Path) -> tuple[str, bytes, bool] | None:
    """The unchecked-hash pyc of one module, where the deployed Python looks for it (None if
    the file is not valid Python for it, e.g. a template shipped as .py by a library)."""
    target = scratch / "module.pyc"
    try:
        py_compile.compile(str(full), cfile=str(target), dfile=arcname, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        return None
    return (Path(importlib.util.cache_from_source(arcname)).as_posix(), target.read_bytes(), False)


def with_bytecode(entries: list[tuple[str, bytes, bool]], files: dict[str, Path]) -> list[tuple[str, bytes, bool]]:
    """entries plus the pyc of each .py among them (files: arcname -> path on disk)."""
    _check_python()
    with tempfile.TemporaryDirectory(prefix="pyc-") as scratch:
        compiled = [bytecode_entry(files[name], name, Path(scratch)) for name, _, _ in entries if name.endswith(".py")]
    return entries + [entry for entry in compiled if entry is not None]


# ---------------------------------------------------------------------------------------
# Which modules are Django-free
# ---------------------------------------------------------------------------------------


def _module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(source: str, module: str, is_package: bool, filename: str) -> set[str]:
    """Every module name a module imports (relative imports resolved; `from a import b`
    gives both a and a.b, since b may be a submodule)."""
    tree = ast.parse(source, filename=filename)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base:
                found.add(base)
            found.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return found


def module_graph(root: Path = ROOT, packages: Iterable[str] = CORE_PACKAGES) -> dict[str, tuple[Path, set[str]]]:
    """module name -> (path relative to root, imported module names), for every .py in packages."""
    graph: dict[str, tuple[Path, set[str]]] = {}
    for package in packages:
        for relative in tree_files(root, package):
            if relative.suffix != ".py":
                continue
            name = _module_name(relative)
            source = (root / relative).read_text(encoding="utf-8")
            graph[name] = (relative, _imports(source, name, relative.name == "__init__.py", str(relative)))
    return graph


def django_bound(graph: dict[str, tuple[Path, set[str]]]) -> dict[str, str]:
    """module -> why it needs Django (an import of Django, or of a module that needs it)."""
    bound: dict[str, str] = {}
    for name, (_, imported) in graph.items():
        direct = sorted(i for i in imported if i.split(".")[0] in DJANGO_ROOTS)
        if direct:
            bound[name] = f"imports {direct[0]}"
    changed = True
    while changed:
        changed = False
        for name, (_, imported) in graph.items():
            if name in bound:
                continue
            # A module also needs its parent packages' __init__ to import.
            parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
            for other in sorted((imported | parents) & bound.keys()):
                bound[name] = f"imports {other}, which {bound[other]}"
                changed = True
                break
    return bound


def lambda_modules(root: Path = ROOT) -> list[Path]:
    """The files of the Lambda package: every Django-free module of the core packages.
    Fails loudly if a handler module (images/api/*, maintenance.py, ...) needs Django (it would
    fail to import in Lambda)."""
    graph = module_graph(root)
    bound = django_bound(graph)
    handlers = [name for name in graph if HANDLER_MODULES & set(name.split(".")[1:])]
    broken = [f"{name}: {bound[name]}" for name in sorted(handlers) if name in bound]
    if broken:
        raise BundleError("Lambda handlers must not import Django:\n  " + "\n  ".join(broken))
    return sorted(path for name, (path, _) in graph.items() if name not in bound and name not in CLIENT_MODULES)


# ---------------------------------------------------------------------------------------
# The three artifacts
# ---------------------------------------------------------------------------------------


def build_portal(out: Path, root: Path = ROOT) -> str:
    entries = [file_entry(root, relative) for top in PORTAL_PATHS for relative in tree_files(root, top)]
    # Beanstalk installs requirements.txt from the bundle's root.
    entries.append(("requirements.txt", (root / "requirements" / "base.txt").read_bytes(), False))
    return write_zip(out / "portal-bundle.zip", entries)


def build_code(out: Path, root: Path = ROOT) -> str:
    modules = lambda_modules(root)
    entries = [file_entry(root, relative) for relative in modules]
    return write_zip(out / "lambda-code.zip", with_bytecode(entries, {m.as_posix(): root / m for m in modules}))


def build_layer(out: Path, root: Path = ROOT, requirements: Path | None = None) -> str:
    requirements = requirements or root / "requirements" / "lambda.txt"
    with tempfile.TemporaryDirectory(prefix="lambda-layer-") as tmp:
        target = Path(tmp) / "python"
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--only-binary=:all:", "--implementation", "cp",
            "--python-version", LAYER_PYTHON, "--target", str(target), "-r", str(requirements),
        ]
        for platform in LAYER_PLATFORMS:
            command += ["--platform", platform]
        subprocess.run(command, check=True)
        # Console scripts carry this machine's interpreter path and are useless in Lambda.
        shutil.rmtree(target / "bin", ignore_errors=True)
        _check_layer(target, requirements)
        entries, files = [], {}
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                full = Path(dirpath) / name
                arcname = full.relative_to(Path(tmp)).as_posix()
                entries.append((arcname, full.read_bytes(), False))
                files[arcname] = full
        return write_zip(out / "lambda-layer.zip", with_bytecode(entries, files))


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def pinned(requirements: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (extras dropped)."""
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_normalise(name.split("[", 1)[0])] = version.strip()
    return pins


def _check_layer(target: Path, requirements: Path) -> None:
    """pip must have installed exactly the pinned distributions: nothing unpinned sneaks in."""
    installed = {}
    for info in target.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        installed[_normalise(name)] = version
    expected = pinned(requirements)
    if installed != expected:
        extra = {k: v for k, v in installed.items() if expected.get(k) != v}
        missing = {k: v for k, v in expected.items() if installed.get(k) != v}
        raise BundleError(f"the layer differs from {requirements.name}: installed {extra}, pinned {missing}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--only", default="portal,code,layer", help="comma-separated subset of portal,code,layer")
    args = parser.parse_args(argv)
    builders = {"portal": build_portal, "code": build_code, "layer": build_layer}
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(wanted) - builders.keys()
    if unknown:
        parser.error(f"unknown artifact(s): {', '.join(sorted(unknown))}")
    for name in wanted:
        digest = builders[name](args.out)
        print(f"{name:7} sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
