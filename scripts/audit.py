#!/usr/bin/env python3
"""`make audit`: pip-audit over every pinned requirements file, where its advisory source
can be reached; where it cannot, say so plainly and fail (exit 3) without auditing.

pip-audit asks an advisory service about each pinned version: PyPI's JSON API
(/pypi/<name>/<version>/json, its "vulnerabilities") or OSV. A package index mirror that
serves only downloads answers neither, and pip-audit would then list every package as
"not found" — not a clean bill of health. So this first asks each service about one
version known to exist and runs pip-audit with the first that answers.

    python scripts/audit.py [--pip-audit .venv-audit/bin/pip-audit]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("base.txt", "dev.txt", "lambda.txt", "checkov.txt")
PROBES = {
    "pypi": ("https://pypi.org/pypi/pip/23.2.1/json", None),
    "osv": ("https://api.osv.dev/v1/query", {"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "23.2.1"}),
}


def reachable(url: str, body: dict | None, timeout: float = 10) -> bool:
    """Does the service answer an advisory query (JSON with vulnerabilities in it)?"""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # nosec B310 - https URLs fixed above (or a test's loopback URL), never user input
            answer = json.loads(reply.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return isinstance(answer, dict) and ("vulnerabilities" in answer or "vulns" in answer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pip-audit", default="pip-audit")
    parser.add_argument("--probe", action="append", metavar="SERVICE=URL",
                        help="override where a service is asked (tests)")
    args = parser.parse_args(argv)
    probes = dict(PROBES)
    for override in args.probe or []:
        name, _, url = override.partition("=")
        probes[name] = (url, probes.get(name, (None, None))[1])
    service = next((name for name, (url, body) in probes.items() if reachable(url, body)), None)
    if service is None:
        print("make audit: NOT AUDITED. pip-audit's advisory sources cannot be reached from this machine "
              f"({', '.join(url for url, _ in probes.values())}): the package index here serves downloads "
              "only. Run `make audit` where PyPI's JSON API or OSV can be reached.", file=sys.stderr)
        return 3
    command = [args.pip_audit, "--service", service, "--no-deps", "--disable-pip", "--progress-spinner", "off",
               "--strict"]
    for name in REQUIREMENTS:
        command += ["--requirement", str(ROOT / "requirements" / name)]
    print(f"make audit: pip-audit against {service} over requirements/{{{','.join(REQUIREMENTS)}}}", flush=True)
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
