#!/usr/bin/env python3
"""Extract the AWS provider's schema (resource and data source types, their arguments and
nested blocks, in Terraform's spelling) from the PyPI package cdktf-cdktf-provider-aws,
into tests/infra/aws_provider_schema.json, which tests/infra/test_provider_schema.py checks
infra/*.tf against, offline.

The package is the provider's generated CDKTF bindings: its jsii bundle holds, per resource,
JavaScript that maps each argument to its Terraform name and tells blocks from attributes
(`synthesizeHclAttributes`, `...ToHclTerraform`). It is ~60 MB, so it is read once here
(downloaded with pip into a temporary folder, never installed) and the compact result is
committed. Regenerate after changing PACKAGE (and the provider pin in infra/versions.tf):

    python scripts/provider_schema.py [--wheel path/to/cdktf_cdktf_provider_aws-*.whl]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "infra" / "aws_provider_schema.json"
PACKAGE = "cdktf-cdktf-provider-aws==21.22.1"  # bindings of hashicorp/aws 6.25.0

_FUNCTION = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{$(.*?)^\}$", re.M | re.S)
_SYNTH = re.compile(r"^    synthesizeHclAttributes\(\) \{$(.*?)^    \}$", re.M | re.S)
_ENTRY = re.compile(r'^\s*"?(\w+)"?: \{\s*value: (.*?),\s*isBlock: (true|false),', re.M | re.S)
_NESTED = re.compile(r"\b(\w+)ToHclTerraform\b")
_TYPE = re.compile(r'^\w+\.tfResourceType = "(\w+)";$', re.M)
_VERSION = re.compile(r"registry\.terraform\.io/providers/hashicorp/aws/([0-9.]+)/")


def _entries(body: str) -> list[tuple[str, str | None, bool]]:
    """(terraform name, nested function or None, is a block) of one attrs literal."""
    found = []
    for name, value, is_block in _ENTRY.findall(body):
        nested = [n for n in _NESTED.findall(value) if not value.lstrip().startswith(f"cdktf.{n}")]
        nested = [n for n in nested if not n.startswith(("cdktf", "string", "number", "boolean"))]
        found.append((name, nested[0] if nested else None, is_block == "true"))
    return found


def _schema(entries, functions, seen=()) -> dict:
    """{"arguments": [...], "blocks": {name: schema}}; a block's schema from its function."""
    arguments, blocks = [], {}
    for name, nested, is_block in entries:
        if nested and nested in functions and nested not in seen:
            inner = _schema(functions[nested], functions, (*seen, nested))
            (blocks.__setitem__(name, inner) if is_block else arguments.append(name))
        else:
            arguments.append(name)
    return {"arguments": sorted(arguments), "blocks": dict(sorted(blocks.items()))}


def parse_module(source: str) -> tuple[str, dict] | None:
    """(terraform type, schema) of one generated lib/<name>/index.js, or None."""
    kind, synth = _TYPE.search(source), _SYNTH.search(source)
    if not kind or not synth:
        return None
    functions = {name: _entries(body) for name, body in _FUNCTION.findall(source)}
    return kind.group(1), _schema(_entries(synth.group(1)), functions)


def extract(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        (bundle,) = [n for n in archive.namelist() if n.endswith(".jsii.tgz")]
        data = archive.read(bundle)
    schema: dict = {"package": PACKAGE, "provider": "hashicorp/aws", "version": None,
                    "provider_config": None, "resource": {}, "data": {}}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if len(parts) != 4 or parts[1] != "lib" or parts[3] != "index.js":
                continue
            source = tar.extractfile(member).read().decode("utf-8")
            parsed = parse_module(source)
            if parsed is None:
                continue
            name, body = parsed
            if parts[2] == "provider":
                schema["provider_config"] = body
                schema["version"] = _VERSION.search(source).group(1)
            else:
                schema["data" if parts[2].startswith("data-aws-") else "resource"][name] = body
    for kind in ("resource", "data"):
        schema[kind] = dict(sorted(schema[kind].items()))
    return schema


def dump(schema: dict) -> str:
    """Compact JSON, one resource type a line (reviewable diffs when regenerated)."""
    lines = ["{"]
    for key in ("package", "provider", "version", "provider_config"):
        lines.append(f"{json.dumps(key)}: {json.dumps(schema[key], separators=(',', ':'))},")
    for kind in ("resource", "data"):
        lines.append(f"{json.dumps(kind)}: {{")
        items = list(schema[kind].items())
        for index, (name, body) in enumerate(items):
            comma = "," if index < len(items) - 1 else ""
            lines.append(f"{json.dumps(name)}: {json.dumps(body, separators=(',', ':'))}{comma}")
        lines.append("}," if kind == "resource" else "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help=f"a downloaded wheel of {PACKAGE} (else pip downloads it)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="provider-schema-") as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--disable-pip-version-check", "--dest", tmp, PACKAGE], check=True)
            (wheel,) = Path(tmp).glob("*.whl")
        schema = extract(wheel)
    args.out.write_text(dump(schema), encoding="utf-8")
    print(f"{args.out.relative_to(ROOT)}: hashicorp/aws {schema['version']}, "
          f"{len(schema['resource'])} resources, {len(schema['data'])} data sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
