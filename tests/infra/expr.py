"""Evaluate the Terraform expressions python-hcl2 leaves as "${...}" strings, for the subset
infra/ uses in policies and locals: references, templates, indexes, function calls, for
expressions, conditionals, comparisons and arithmetic. Anything else raises, so a test reading
a policy can never pass by skipping what it does not understand (HashiCorp ships no Python
evaluator; this one is small and strict on purpose)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

Scope = dict[str, Any]
Node = Callable[[Scope], Any]

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "length": len,
    "concat": lambda *lists: [item for one in lists for item in one],
    "flatten": lambda items: [x for item in items for x in (item if isinstance(item, list) else [item])],
    "toset": lambda items: list(dict.fromkeys(items)),
    "tostring": str,
    "merge": lambda *maps: {k: v for m in maps for k, v in m.items()},
    "keys": lambda mapping: sorted(mapping),
    "replace": lambda s, old, new: re.sub(old[1:-1], new, s) if old.startswith("/") else s.replace(old, new),
    "split": lambda sep, s: s.split(sep),
    "join": lambda sep, items: sep.join(items),
    "max": max,
    "ceil": math.ceil,
    "lookup": lambda mapping, key, default: mapping.get(key, default),
}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, "<": lambda a, b: a < b, "+": lambda a, b: a + b, "-": lambda a, b: a - b,
    "*": lambda a, b: a * b, "/": lambda a, b: a / b,  # Terraform's numbers: / never truncates
}


class Unsupported(ValueError):
    """An expression outside the subset this evaluator knows."""


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    # -- characters --------------------------------------------------------------------
    def _space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _peek(self, token: str) -> bool:
        self._space()
        if not self.text.startswith(token, self.pos):
            return False
        end = self.pos + len(token)
        # A keyword must not be the start of a longer identifier.
        return not (token[-1].isalpha() and end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "_-"))

    def _take(self, token: str) -> bool:
        if self._peek(token):
            self.pos += len(token)
            return True
        return False

    def _expect(self, token: str) -> None:
        if not self._take(token):
            raise Unsupported(f"expected {token!r} at {self.text[self.pos:self.pos + 30]!r} in {self.text!r}")

    def _ident(self) -> str:
        self._space()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").match(self.text, self.pos)
        if not match:
            raise Unsupported(f"expected a name at {self.text[self.pos:self.pos + 30]!r} in {self.text!r}")
        self.pos = match.end()
        return match.group()

    # -- grammar -----------------------------------------------------------------------
    def expression(self) -> Node:
        test = self._binary(0)
        if self._take("?"):
            yes = self.expression()
            self._expect(":")
            no = self.expression()
            return lambda s: yes(s) if test(s) else no(s)
        return test

    _LEVELS = [("||",), ("&&",), ("==", "!="), (">=", "<=", ">", "<"), ("+", "-"), ("*", "/")]

    def _binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            op = next((o for o in self._LEVELS[level] if self._peek(o) and not self._peek("=>")), None)
            if op is None:
                return left
            self.pos += len(op)
            right = self._binary(level + 1)
            if op == "||":
                left = (lambda a, b: lambda s: a(s) or b(s))(left, right)
            elif op == "&&":
                left = (lambda a, b: lambda s: a(s) and b(s))(left, right)
            else:
                left = (lambda a, b, f: lambda s: f(a(s), b(s)))(left, right, _OPERATORS[op])

    def _unary(self) -> Node:
        if self._take("!"):
            inner = self._unary()
            return lambda s: not inner(s)
        return self._postfix(self._primary())

    def _postfix(self, node: Node) -> Node:
        while True:
            self._space()
            if self.text.startswith(".", self.pos) and not self.text.startswith("..", self.pos):
                self.pos += 1
                name = self._ident()
                node = (lambda n, a: lambda s: _attr(n(s), a))(node, name)
            elif self.text.startswith("[", self.pos):
                self.pos += 1
                index = self.expression()
                self._expect("]")
                node = (lambda n, i: lambda s: _index(n(s), i(s)))(node, index)
            else:
                return node

    def _primary(self) -> Node:
        self._space()
        char = self.text[self.pos:self.pos + 1]
        if char == '"':
            return self._string()
        if char.isdigit():
            match = re.compile(r"\d+(\.\d+)?").match(self.text, self.pos)
            self.pos = match.end()
            value = float(match.group()) if match.group(1) else int(match.group())
            return lambda s: value
        if self._take("("):
            inner = self.expression()
            self._expect(")")
            return inner
        if self._take("["):
            return self._tuple()
        if self._take("{"):
            return self._object()
        name = self._ident()
        if name in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[name]
            return lambda s: value
        if self._take("("):
            if name not in _FUNCTIONS:
                raise Unsupported(f"function {name}() in {self.text!r}")
            args = []
            while not self._take(")"):
                args.append(self.expression())
                self._take(",")
            function = _FUNCTIONS[name]
            return lambda s: function(*(a(s) for a in args))
        return lambda s: _lookup(s, name)

    def _for_head(self) -> tuple[list[str], Node]:
        names = [self._ident()]
        if self._take(","):
            names.append(self._ident())
        self._expect("in")
        collection = self.expression()
        self._expect(":")
        return names, collection

    def _tuple(self) -> Node:
        if self._take("for"):
            names, collection = self._for_head()
            body = self.expression()
            condition = self.expression() if self._take("if") else None
            self._expect("]")
            return lambda s: [body(inner) for inner in _iterate(s, names, collection(s))
                              if condition is None or condition(inner)]
        items = []
        while not self._take("]"):
            items.append(self.expression())
            self._take(",")
        return lambda s: [item(s) for item in items]

    def _object(self) -> Node:
        if self._take("for"):
            names, collection = self._for_head()
            key = self.expression()
            self._expect("=>")
            value = self.expression()
            condition = self.expression() if self._take("if") else None
            self._expect("}")
            return lambda s: {key(inner): value(inner) for inner in _iterate(s, names, collection(s))
                              if condition is None or condition(inner)}
        pairs = []
        while not self._take("}"):
            name = self._ident()
            if not (self._take("=") or self._take(":")):
                raise Unsupported(f"object syntax in {self.text!r}")
            pairs.append((name, self.expression()))
            self._take(",")
        return lambda s: {k: v(s) for k, v in pairs}

    def _string(self) -> Node:
        self.pos += 1  # opening quote
        return self.template(quoted=True)

    def template(self, quoted: bool) -> Node:
        """Text with ${...} interpolations, up to the closing quote (or the end)."""
        parts: list[Node | str] = []
        buffer = []
        while True:
            if self.pos >= len(self.text):
                if quoted:
                    raise Unsupported(f"unterminated string in {self.text!r}")
                break
            char = self.text[self.pos]
            if char == '"' and quoted:
                self.pos += 1
                break
            if char == "\\" and quoted:
                buffer.append({"n": "\n", "t": "\t"}.get(self.text[self.pos + 1], self.text[self.pos + 1]))
                self.pos += 2
            elif self.text.startswith("${", self.pos):
                parts.append("".join(buffer))
                buffer = []
                self.pos += 2
                parts.append(self.expression())
                self._expect("}")
            else:
                buffer.append(char)
                self.pos += 1
        parts.append("".join(buffer))
        return lambda s: "".join(p if isinstance(p, str) else _text(p(s)) for p in parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, (str, int, float)):
        raise Unsupported(f"cannot interpolate {value!r}")
    return str(value)


def _iterate(scope: Scope, names: list[str], collection: Any):
    items = collection.items() if isinstance(collection, dict) else enumerate(collection)
    for key, value in items:
        if len(names) == 1:
            yield {**scope, names[0]: value}
        else:
            yield {**scope, names[0]: key, names[1]: value}


def _lookup(scope: Scope, name: str) -> Any:
    if name not in scope:
        raise Unsupported(f"unknown name {name!r}")
    return scope[name]


def _attr(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        if name not in value:
            raise Unsupported(f"no attribute {name!r} in {sorted(value)}")
        return value[name]
    if hasattr(value, "attr"):
        return value.attr(name)
    raise Unsupported(f"attribute {name!r} of {value!r}")


def _index(value: Any, key: Any) -> Any:
    if hasattr(value, "attr") and not isinstance(value, dict):
        return value.attr(key)
    return value[key]


def parse(text: str) -> Node:
    """A whole expression (what goes between ${ and })."""
    parser = _Parser(text)
    node = parser.expression()
    parser._space()
    if parser.pos != len(text):
        raise Unsupported(f"unparsed rest {text[parser.pos:]!r} of {text!r}")
    return node


def evaluate(value: Any, scope: Scope) -> Any:
    """A value as python-hcl2 gives it, with every "${...}" evaluated in `scope`: a string
    that is one whole interpolation gives its value (a list stays a list), any other string
    with interpolations is a template."""
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: evaluate(item, scope) for key, item in value.items()}
    if not isinstance(value, str) or "${" not in value:
        return value
    if value.startswith("${") and value.endswith("}"):
        whole = _Parser(value[2:-1])
        try:
            node = whole.expression()
            whole._space()
            if whole.pos == len(whole.text):
                return node(scope)
        except Unsupported:
            pass
    return _Parser(value).template(quoted=False)(scope)
