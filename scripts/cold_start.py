#!/usr/bin/env python3
"""Import each Lambda handler as Lambda does on a cold start, from the unpacked bundle, and
time it: a fresh `python3.12 -I -S -B` process per handler (no site-packages, no bytecode
writes: the code and layers are read-only in Lambda) with only the code zip and the layer's
python/ on sys.path. Prints each handler's import time with the shipped bytecode and with
the bytecode removed (what Lambda did before the bundle carried it), median of --runs.

    .venv/bin/python scripts/cold_start.py [--runs 5] [--dist dist]   (builds into a temp dir
                                                                       unless --dist has the zips)

tests/e2e/test_lambda_bundle.py uses the same driver to call each handler against the local stack.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run inside the fresh interpreter: argv = code dir, layer dir, handler, event JSON or "".
DRIVER = r'''
import importlib, json, os, sys, time
code, layer, handler, event = sys.argv[1:5]
sys.path[:0] = [code, layer]
module_name, _, function = handler.rpartition(".")
started = time.perf_counter()
module = importlib.import_module(module_name)
imported = time.perf_counter() - started
bundle = (os.path.realpath(code) + os.sep, os.path.realpath(layer) + os.sep)
loaded = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(bundle)]
uncompiled = sorted(m.__name__ for m in loaded
                    if m.__file__.endswith(".py") and not os.path.exists(m.__cached__ or ""))
result = None
if event:
    result = getattr(module, function)(json.loads(event), None)
print(json.dumps({"import_seconds": imported, "modules": len(loaded), "uncompiled": uncompiled,
                  "result": result}, default=str))
'''


def handlers(infra: Path = ROOT / "infra") -> list[str]:
    """Every handler Terraform deploys ("module.function"), in file order, once each."""
    found = []
    for path in sorted(infra.glob("*.tf")):
        for name in re.findall(r'^\s*handler\s*=\s*"([\w.]+)"', path.read_text(encoding="utf-8"), re.M):
            if name not in found:
                found.append(name)
    return found


def unpack(code_zip: Path, layer_zip: Path, dest: Path, *, bytecode: bool = True) -> tuple[Path, Path]:
    """The code at dest/task and the layer at dest/opt (its python/ is what Lambda puts on the
    path), without the __pycache__ folders when bytecode is False; made read-only."""
    code, opt = dest / "task", dest / "opt"
    for archive, target in ((code_zip, code), (layer_zip, opt)):
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.namelist() if bytecode or "__pycache__/" not in m]
            zipped.extractall(target, members)
    for path in (code, opt):
        subprocess.run(["chmod", "-R", "a-w", str(path)], check=True)
    return code, opt / "python"


def call(python: str, code: Path, layer: Path, handler: str, event: dict | None = None,
         env: dict | None = None) -> dict:
    """Import (and with an event, call) one handler in a fresh interpreter; its report."""
    run = subprocess.run([python, "-I", "-S", "-B", "-c", DRIVER, str(code), str(layer), handler,
                          json.dumps(event) if event is not None else ""],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{handler} failed in the bundle:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def make_writable(path: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(path)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dist", type=Path, help="a folder with lambda-code.zip and lambda-layer.zip")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "scripts"))
    import bundle

    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        dist = args.dist
        if dist is None:
            dist = Path(tmp) / "dist"
            bundle.build_code(dist)
            bundle.build_layer(dist)
        env = {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
        rows = []
        for bytecode in (True, False):
            place = Path(tmp) / ("with" if bytecode else "without")
            code, layer = unpack(dist / "lambda-code.zip", dist / "lambda-layer.zip", place, bytecode=bytecode)
            for handler in handlers():
                times = [call(sys.executable, code, layer, handler, env=env)["import_seconds"] for _ in range(args.runs)]
                rows.append((handler, bytecode, statistics.median(times)))
            make_writable(place)
            shutil.rmtree(place)
    print(f"Python {sys.version.split()[0]}, median of {args.runs} cold imports each (seconds)\n")
    print("| handler | shipped (with bytecode) | without bytecode |")
    print("|---|---|---|")
    by_handler = {}
    for handler, bytecode, seconds in rows:
        by_handler.setdefault(handler, {})[bytecode] = seconds
    for handler, times in by_handler.items():
        print(f"| `{handler}` | {times[True]:.2f} | {times[False]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
