"""Read infra/*.tf with a real HCL parser (python-hcl2 8.x) into plain dicts, plus the few
look-ups the infra tests share. python-hcl2 gives every block type as a list of one-key
dicts; strip_string_quotes makes literals plain strings and keeps expressions as "${...}"."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any

import hcl2
import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
OPENAPI = INFRA / "openapi.yaml"

_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


class Terraform:
    """Every .tf file of infra/ merged: resources[type][name], data[type][name], variables,
    locals, outputs."""

    def __init__(self, directory: Path = INFRA):
        self.resources: dict[str, dict[str, dict]] = {}
        self.data: dict[str, dict[str, dict]] = {}
        self.variables: dict[str, dict] = {}
        self.locals: dict[str, Any] = {}
        self.outputs: dict[str, dict] = {}
        self.files = sorted(directory.glob("*.tf"))
        for path in self.files:
            with path.open(encoding="utf-8") as handle:
                parsed = hcl2.load(handle, serialization_options=_OPTIONS)
            for block in parsed.get("resource", []):
                for rtype, named in block.items():
                    self.resources.setdefault(rtype, {}).update(named)
            for block in parsed.get("data", []):
                for dtype, named in block.items():
                    self.data.setdefault(dtype, {}).update(named)
            for block in parsed.get("variable", []):
                self.variables.update(block)
            for block in parsed.get("locals", []):
                self.locals.update(block)
            for block in parsed.get("output", []):
                self.outputs.update(block)

    def resource(self, rtype: str, name: str) -> dict:
        return self.resources[rtype][name]

    def instances(self, rtype: str) -> dict[str, dict]:
        """Every instance of a resource type by address: `name`, or `name["key"]` for each key of
        a for_each over a local map, its body with `each.key` and `each.value.<x>` put in."""
        found = {}
        for name, body in self.resources.get(rtype, {}).items():
            if "for_each" not in body:
                found[name] = body
                continue
            match = re.fullmatch(r"\$\{local\.([a-z0-9_]+)\}", body["for_each"])
            assert match and isinstance(self.locals.get(match.group(1)), dict), \
                f"{rtype}.{name}: for_each is not a local map: {body['for_each']!r}"
            rest = {k: v for k, v in body.items() if k != "for_each"}
            for key, value in self.locals[match.group(1)].items():
                found[f'{name}["{key}"]'] = _put_each(rest, key, value)
        return found

    def default(self, variable: str) -> Any:
        return self.variables[variable]["default"]

    def literal(self, value: Any) -> Any:
        """A value with var.x / tostring(var.x) references replaced by the variables' defaults."""
        if not isinstance(value, str):
            return value
        match = re.fullmatch(r"\$\{(?:tostring\()?var\.([a-z0-9_]+)\)?\}", value)
        if match and "default" in self.variables[match.group(1)]:
            return self.default(match.group(1))
        return value


def _put_each(value: Any, key: str, each: dict) -> Any:
    if isinstance(value, list):
        return [_put_each(item, key, each) for item in value]
    if isinstance(value, dict):
        return {k: _put_each(item, key, each) for k, item in value.items()}
    if isinstance(value, str) and "each." in value:
        if value == "${each.key}":
            return key
        match = re.fullmatch(r"\$\{each\.value\.([a-z0-9_]+)\}", value)
        assert match, f"only a whole each.key or each.value.<x> is put in, not {value!r}"
        return each[match.group(1)]
    return value


@functools.cache
def terraform() -> Terraform:
    return Terraform()


@functools.cache
def openapi() -> dict:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def single(block: Any) -> dict:
    """A nested block that must appear exactly once."""
    assert isinstance(block, list) and len(block) == 1, f"expected one block, got {block!r}"
    return block[0]


def operations() -> dict[str, dict]:
    """'METHOD /path' -> the OpenAPI operation."""
    found = {}
    for path, item in openapi()["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options"}:
                found[f"{method.upper()} {path}"] = operation
    return found


def environment_names(path: Path) -> set[str]:
    """The environment variable names a module reads: os.environ.get / os.getenv /
    os.environ[...] with a literal name, and calls of the module's own helpers that pass
    their first argument on to os.environ.get."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def environ_read(node: ast.AST) -> ast.expr | None:
        if isinstance(node, ast.Call) and node.args:
            func = ast.unparse(node.func)
            if func in {"os.environ.get", "os.getenv", "environ.get"}:
                return node.args[0]
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) in {"os.environ", "environ"}:
            return node.slice
        return None

    helpers = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.args.args:
            first = node.args.args[0].arg
            for inner in ast.walk(node):
                arg = environ_read(inner)
                if isinstance(arg, ast.Name) and arg.id == first:
                    helpers.add(node.name)

    names = set()
    for node in ast.walk(tree):
        arg = environ_read(node)
        if arg is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            if node.func.id in helpers:
                arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
    return names


def environ_default(path: Path, name: str) -> Any:
    """The literal default of os.environ.get(name, default) in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == "os.environ.get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == name
            and isinstance(node.args[1], ast.Constant)
        ):
            return node.args[1].value
    raise AssertionError(f"{path.name} has no os.environ.get({name!r}, <literal default>)")


def top_level_functions(path: Path) -> set[str]:
    """Names a module defines at top level (functions, and names bound by assignment)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names
