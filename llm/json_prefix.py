"""Which texts can still become JSON valid against a schema: for constrained decoding.

A tiny model cannot follow a JSON Schema it is only shown; llama.cpp gets round that with a
grammar, and `JsonPrefix` does the same for backends without one (transformers) by telling a
logits processor which continuations keep the output a prefix of JSON valid against the schema
(the subset pydantic emits). Every declared property is written, in order (nullable ones as
null), in one fixed layout, so the model spends its tokens on values rather than on keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence

from llm.types import JsonSchema

_PARTIAL = -1  # the text ended inside a value: it can still be completed
_Part = Callable[[str, int], Iterator[int]]
_INT = (re.compile(r"-?(?:0|[1-9]\d{0,17})"), re.compile(r"-?(?:0|[1-9]\d{0,17})?"))
_NUMBER = (
    re.compile(r"-?(?:0|[1-9]\d{0,17})(?:\.\d{1,17})?(?:[eE][+-]?\d{1,3})?"),
    re.compile(r"-?(?:(?:0|[1-9]\d{0,17})(?:\.\d{0,17})?(?:[eE][+-]?\d{0,3})?)?"),
)


def _literal(text: str) -> _Part:
    def match(s: str, i: int) -> Iterator[int]:
        rest = s[i:]
        if len(rest) < len(text):
            if text.startswith(rest):
                yield _PARTIAL
        elif rest.startswith(text):
            yield i + len(text)

    return match


def _seq(parts: Sequence[_Part], s: str, i: int) -> Iterator[int]:
    if not parts:
        yield i
        return
    for end in parts[0](s, i):
        if end == _PARTIAL:
            yield end
        else:
            yield from _seq(parts[1:], s, end)


def _string(s: str, i: int) -> Iterator[int]:
    if i == len(s):
        yield _PARTIAL
        return
    if s[i] != '"':
        return
    j = i + 1
    while j < len(s):
        c = s[j]
        if c == '"':
            yield j + 1
            return
        if c == "\\":
            escape = s[j + 1 : j + 6]
            if not escape:
                break
            if escape[0] == "u":
                digits = escape[1:]
                if not all(d in "0123456789abcdefABCDEF" for d in digits):
                    return
                j += 1 + len(digits) + 1
                continue
            if escape[0] not in '"\\/bfnrt':
                return
            j += 2
        elif ord(c) < 0x20:
            return
        else:
            j += 1
    yield _PARTIAL


def _number(full: re.Pattern[str], prefix: re.Pattern[str]) -> _Part:
    def match(s: str, i: int) -> Iterator[int]:
        for j in range(i + 1, min(len(s), i + 40) + 1):
            if full.fullmatch(s, i, j):
                yield j
        if len(s) - i <= 40 and prefix.fullmatch(s, i):
            yield _PARTIAL

    return match


class JsonPrefix:
    """Whether a text is, or can still grow into, JSON valid against a JSON Schema."""

    def __init__(self, schema: JsonSchema) -> None:
        self.schema = schema
        self.defs: dict[str, JsonSchema] = schema.get("$defs", {})

    def viable(self, text: str) -> bool:
        return any(end in (_PARTIAL, len(text)) for end in self._value(self.schema, 0)(text, 0))

    def complete(self, text: str) -> bool:
        return any(end == len(text) for end in self._value(self.schema, 0)(text, 0))

    def _value(self, schema: JsonSchema, depth: int) -> _Part:
        def match(s: str, i: int) -> Iterator[int]:
            for part in self._alternatives(schema, depth):
                yield from part(s, i)

        return match

    def _alternatives(self, schema: JsonSchema, depth: int) -> list[_Part]:
        if "$ref" in schema:
            return [self._value(self.defs[schema["$ref"].rsplit("/", 1)[-1]], depth)]
        if "const" in schema:
            return [_literal(json.dumps(schema["const"]))]
        if "enum" in schema:
            return [_literal(json.dumps(option)) for option in schema["enum"]]
        if choices := schema.get("anyOf") or schema.get("oneOf"):
            return [self._value(choice, depth) for choice in choices]
        if schema.get("allOf"):
            return [self._value(schema["allOf"][0], depth)]
        kind = schema.get("type")
        if isinstance(kind, list):
            return [self._value(schema | {"type": one}, depth) for one in kind]
        if kind == "string":
            return [_string]
        if kind in ("integer", "number"):
            return [_number(*(_INT if kind == "integer" else _NUMBER))]
        if kind == "boolean":
            return [_literal("true"), _literal("false")]
        if kind == "null":
            return [_literal("null")]
        if kind == "object" and schema.get("properties"):
            parts: list[_Part] = [_literal("{")]
            for k, (key, value) in enumerate(schema["properties"].items()):
                parts += [_literal(f"{', ' if k else ''}{json.dumps(key)}: ")]
                parts += [self._value(value, depth + 1)]
            parts.append(_literal("}"))
            return [lambda s, i: _seq(parts, s, i)]
        if kind == "object":
            value = self._value(schema.get("additionalProperties") or {}, depth + 1)
            return [self._collection("{", "}", [_string, _literal(": "), value])]
        if kind == "array":
            return [self._collection("[", "]", [self._value(schema.get("items", {}), depth + 1)])]
        kinds = ["string", "number", "boolean", "null"] + (["object", "array"] if depth < 3 else [])
        return [self._value({"type": one}, depth) for one in kinds]

    def _collection(self, opening: str, closing: str, item: list[_Part]) -> _Part:
        def items(s: str, i: int) -> Iterator[int]:
            for end in _seq(item, s, i):
                if end == _PARTIAL:
                    yield end
                else:
                    yield from _literal(closing)(s, end)
                    yield from _seq([_literal(", "), items], s, end)

        def match(s: str, i: int) -> Iterator[int]:
            for start in _literal(opening)(s, i):
                if start == _PARTIAL:
                    yield start
                else:
                    yield from _literal(closing)(s, start)
                    yield from items(s, start)

        return match
