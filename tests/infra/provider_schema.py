"""infra/*.tf against the AWS provider's own schema, offline: every aws_* resource and data
source type, argument and nested block must exist in the pinned provider version
(tests/infra/aws_provider_schema.json, made by scripts/provider_schema.py from the provider's
generated CDKTF bindings). Problems come back as "file:line: what", like a compiler's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import hcl2

SCHEMA = Path(__file__).resolve().parent / "aws_provider_schema.json"
# Terraform's own meta-arguments and blocks, valid in any resource or data block.
META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection", "precondition", "postcondition"})
_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)


def load_schema(path: Path = SCHEMA) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class _Lines:
    """Where a name is written in one file: the first line at or after `start` that begins
    with it (as `name =`, `name {` or `"name"` after dynamic)."""

    lines: list[str]

    def find(self, pattern: str, start: int = 0) -> int:
        regex = re.compile(pattern)
        for index in range(start, len(self.lines)):
            if regex.search(self.lines[index]):
                return index
        return start

    def name(self, name: str, start: int) -> int:
        return self.find(rf'^\s*(dynamic\s+"{re.escape(name)}"|{re.escape(name)}\s*[={{])', start)


def _is_block(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)


def _check_body(body: dict, schema: dict, where: str, text: _Lines, line: int, problems: list[str],
                top: bool) -> None:
    for key, value in body.items():
        if key.startswith("__") or (top and key in META_ARGUMENTS):
            continue
        if top and key in META_BLOCKS:
            continue
        at = text.name(key, line)
        if key == "dynamic" and isinstance(value, list):
            for dynamic in value:
                for label, spec in dynamic.items():
                    if label.startswith("__"):
                        continue
                    at = text.name(label, line)
                    if label not in schema["blocks"]:
                        problems.append(f"{where}:{at + 1}: {label}: no such block (dynamic)")
                        continue
                    for content in spec.get("content", []):
                        _check_body(content, schema["blocks"][label], where, text, at, problems, False)
            continue
        if key in schema["blocks"]:
            for inner in value if _is_block(value) else []:
                _check_body(inner, schema["blocks"][key], where, text, at, problems, False)
        elif key not in schema["arguments"]:
            kind = "block" if _is_block(value) else "argument"
            problems.append(f"{where}:{at + 1}: {key}: no such {kind}")


def check_file(path: Path, schema: dict, root: Path | None = None) -> list[str]:
    """Problems of one .tf file, as "path:line: message"."""
    where = str(path.relative_to(root)) if root else str(path)
    text = _Lines(path.read_text(encoding="utf-8").splitlines())
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle, serialization_options=_OPTIONS)
    problems: list[str] = []
    for kind, keyword in (("resource", "resource"), ("data", "data")):
        for block in parsed.get(keyword, []):
            for rtype, named in block.items():
                if rtype.startswith("__") or not rtype.startswith("aws_"):
                    continue
                for name, body in named.items():
                    if name.startswith("__"):
                        continue
                    line = text.find(rf'^\s*{keyword}\s+"{rtype}"\s+"{name}"')
                    known = schema[kind].get(rtype)
                    if known is None:
                        problems.append(f"{where}:{line + 1}: {keyword} type {rtype}: not in hashicorp/aws "
                                        f"{schema['version']}")
                        continue
                    _check_body(body, known, f"{where}", text, line, problems, True)
    for block in parsed.get("provider", []):
        for name, body in block.items():
            if name == "aws":
                line = text.find(r'^\s*provider\s+"aws"')
                for config in body if isinstance(body, list) else [body]:
                    _check_body(config, schema["provider_config"], where, text, line, problems, True)
    return problems


def check_directory(directory: Path, schema: dict | None = None) -> list[str]:
    schema = schema or load_schema()
    return [p for path in sorted(directory.glob("*.tf")) for p in check_file(path, schema, directory.parent)]


def pinned_provider_version(versions_tf: Path) -> str | None:
    """The exact version required_providers pins hashicorp/aws to (None if not exact)."""
    match = re.search(r'aws\s*=\s*\{[^}]*version\s*=\s*"=?\s*([0-9]+\.[0-9]+\.[0-9]+)"', versions_tf.read_text())
    return match.group(1) if match else None
