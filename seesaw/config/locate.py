"""Where each field of a protobuf text file sits: field path -> line:column.

protobuf's parser reports positions for syntax errors only; problems found
after parsing (a duplicate vserver, an interval of 0, a missing required
field) need the position of the field they concern. `PositionIndex` walks
the text once with a small tokenizer, guided by the message descriptor, and
records the position of every field name under the path protobuf itself uses
in `FindInitializationErrors()`:

    vserver[2].vserver_entry[0].healthcheck[1].interval

Repeated fields carry an index, singular ones do not. A path that is not in
the file (a missing field, a default) is located at its nearest ancestor that
is, i.e. at the opening of the enclosing message. The walk never raises: on
text that does not parse it records what it can, which also lets a syntax
error be attributed to the field it occurred in (`field_at`).

Positions are 1-based, as in protobuf's `ParseError`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<newline>\n)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<number>[-+]?(?:\.[0-9]|[0-9])[A-Za-z0-9_.+-]*)
  | (?P<punct>.)
    """,
    re.VERBOSE,
)

_CLOSER = {"{": "}", "<": ">"}


@dataclass(frozen=True)
class Token:
    kind: str  # string | word | number | punct
    text: str
    line: int
    col: int


def tokenize(text: str) -> list[Token]:
    """Text-format tokens with 1-based positions. Never raises: anything
    unexpected becomes a one-character `punct` token."""
    tokens: list[Token] = []
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind == "newline":
            line, line_start = line + 1, match.end()
            continue
        if kind in ("space", "comment"):
            continue
        tokens.append(Token(kind, match.group(), line, match.start() - line_start + 1))
    return tokens


class PositionIndex:
    """Field path -> (line, col) for one text-format message."""

    def __init__(self, text: str, descriptor: Descriptor) -> None:
        self._tokens = tokenize(text)
        self._pos = 0
        self._positions: dict[str, tuple[int, int]] = {}
        self._ordered: list[tuple[tuple[int, int], str]] = []
        self._message(descriptor, "", closer=None, depth=0)
        self._ordered.sort()
        self._starts = [pos for pos, _ in self._ordered]

    def __contains__(self, path: str) -> bool:
        return path in self._positions

    def find(self, path: str) -> tuple[int, int]:
        """Position of `path`, or of its nearest recorded ancestor; (1, 1) for the root."""
        while path:
            if path in self._positions:
                return self._positions[path]
            path = parent_path(path)
        return (1, 1)

    def field_at(self, line: int, col: int) -> str:
        """Path of the last field that starts at or before `line:col` (for syntax errors)."""
        index = bisect.bisect_right(self._starts, (line, col)) - 1
        return self._ordered[index][1] if index >= 0 else ""

    def paths(self) -> Iterator[str]:
        return iter(self._positions)

    # The walk. Grammar (protobuf text format, as far as positions need it):
    #   message := { field [',' | ';'] }
    #   field   := name [':'] ( '{' message '}' | '<' message '>' | '[' value {',' value} ']' | scalar )
    def _peek(self) -> Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _next(self) -> Token | None:
        token = self._peek()
        if token is not None:
            self._pos += 1
        return token

    def _record(self, path: str, token: Token) -> None:
        if path not in self._positions:
            self._positions[path] = (token.line, token.col)
            self._ordered.append(((token.line, token.col), path))

    def _message(self, descriptor: Descriptor | None, prefix: str, closer: str | None, depth: int) -> None:
        counts: dict[str, int] = {}
        while (token := self._next()) is not None:
            if token.text == closer or (token.kind == "punct" and token.text in "}>"):
                return
            if token.kind == "punct" and token.text in ",;":
                continue
            if token.kind == "punct" and token.text == "[":
                name = self._bracketed_name()
            elif token.kind == "word":
                name = token.text
            else:
                continue  # garbage: skip it and resync on the next name
            field = descriptor.fields_by_name.get(name) if descriptor is not None else None
            repeated = field is not None and field.is_repeated
            base = f"{prefix}{name}"
            sub = field.message_type if field is not None and field.type == FieldDescriptor.TYPE_MESSAGE else None
            self._field_value(token, base, repeated, counts, sub, depth)

    def _bracketed_name(self) -> str:
        parts: list[str] = []
        while (token := self._next()) is not None and token.text != "]":
            parts.append(token.text)
        return "[" + "".join(parts) + "]"

    def _path(self, base: str, repeated: bool, counts: dict[str, int]) -> str:
        if not repeated:
            return base
        index = counts.get(base, 0)
        counts[base] = index + 1
        return f"{base}[{index}]"

    def _field_value(
        self,
        name_token: Token,
        base: str,
        repeated: bool,
        counts: dict[str, int],
        sub: Descriptor | None,
        depth: int,
    ) -> None:
        token = self._peek()
        if token is not None and token.text == ":":
            self._next()
            token = self._peek()
        if token is not None and token.text == "[":
            self._next()
            while (element := self._peek()) is not None and element.text != "]":
                if element.text == ",":
                    self._next()
                    continue
                path = self._path(base, repeated, counts)
                self._record(path, element)
                if not self._value(path, sub, depth):
                    break
            self._next()  # the closing ']'
            return
        path = self._path(base, repeated, counts)
        self._record(path, name_token)
        self._value(path, sub, depth)

    def _value(self, path: str, sub: Descriptor | None, depth: int) -> bool:
        """Consume one value; False when the text ended or made no sense."""
        token = self._next()
        if token is None:
            return False
        if token.text in _CLOSER:
            if depth < 100:
                self._message(sub, f"{path}.", _CLOSER[token.text], depth + 1)
            return True
        if token.kind == "string":
            while (more := self._peek()) is not None and more.kind == "string":
                self._next()  # adjacent strings concatenate
            return True
        if token.text == "-" and (more := self._peek()) is not None and more.kind in ("number", "word"):
            self._next()
            return True
        return token.kind in ("number", "word")


def parent_path(path: str) -> str:
    """`a.b[1].c` -> `a.b[1]` -> `a.b` -> `a` -> ``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    dot = path.rfind(".")
    return path[:dot] if dot >= 0 else ""
