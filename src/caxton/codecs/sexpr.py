"""The lexical layer of FIPA's string representation (SC00070): tokens and nested expressions.

An ACL message in string form is one parenthesised expression whose atoms are words, quoted
strings, byte-length strings (``#5"hello``), numbers and date-times. This module reads bytes into
``Atom`` and ``Group`` values and writes strings back, and knows nothing of ACL parameters; that
keeps ``fipa_string`` about meaning only.

Strings follow what the spec and JADE agree on, so text survives a trip through either: inside
quotes only ``\\"`` is an escape (a backslash before any other character stays as it is). A
string that contains a backslash is therefore written with a byte-length prefix instead, which
needs no escaping at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from caxton.codecs.fipa_time import TOKEN as _DATETIME
from caxton.errors import MalformedAclError

MAX_DEPTH = 64
_WHITESPACE = re.compile(rb"[\x00-\x20]*")
_QUOTED = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BYTE_LENGTH = re.compile(rb'#([0-9]{1,10})"')
_BARE = re.compile(rb"[^\x00-\x20()]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
# Words we write: ASCII, no quote, backslash or parenthesis, and a first character no reader
# could take for a number, a date-time, a keyword or a byte-length string.
_SAFE_WORD = re.compile(r"[A-Za-z_][!#-'*-\[\]-~]*")

AtomKind = Literal["word", "string", "number", "datetime"]


@dataclass(frozen=True, slots=True)
class Atom:
    kind: AtomKind
    text: str
    pos: int  # byte offset, for error messages


@dataclass(frozen=True, slots=True)
class Group:
    items: tuple[Atom | Group, ...]
    pos: int


Expr = Atom | Group


def fail(message: str, pos: int | None = None) -> MalformedAclError:
    where = f" (at byte {pos})" if pos is not None else ""
    return MalformedAclError(f"fipa.acl.rep.string.std: {message}{where}")


def read(data: bytes, charset: str = "utf-8") -> Expr:
    """The one expression ``data`` holds; anything but whitespace after it is an error."""
    reader = _Reader(data, charset)
    expr = reader.expr(0)
    end = reader.skip()
    if end < len(data):
        raise fail("unexpected text after the closing parenthesis", end)
    return expr


class _Reader:
    def __init__(self, data: bytes, charset: str) -> None:
        self.data = data
        self.charset = charset
        self.pos = 0

    def skip(self) -> int:
        found = _WHITESPACE.match(self.data, self.pos)
        self.pos = found.end() if found else self.pos
        return self.pos

    def expr(self, depth: int) -> Expr:
        start = self.skip()
        if start >= len(self.data):
            raise fail("unexpected end of input", start)
        head = self.data[start]
        if head == ord("("):
            return self.group(start, depth)
        if head == ord(")"):
            raise fail("unexpected ')'", start)
        if head == ord('"'):
            return self.quoted(start)
        if head == ord("#"):
            return self.byte_length(start)
        found = _BARE.match(self.data, start)
        assert found is not None  # the first byte is neither whitespace nor a parenthesis
        self.pos = found.end()
        text = self.decode(found[0], start)
        if _DATETIME.fullmatch(text):
            return Atom("datetime", text, start)
        if _NUMBER.fullmatch(text):
            return Atom("number", text, start)
        return Atom("word", text, start)

    def group(self, start: int, depth: int) -> Group:
        if depth >= MAX_DEPTH:
            raise fail(f"expressions nested deeper than {MAX_DEPTH}", start)
        self.pos = start + 1
        items: list[Expr] = []
        while True:
            at = self.skip()
            if at >= len(self.data):
                raise fail("missing ')' for the '(' opened", start)
            if self.data[at] == ord(")"):
                self.pos = at + 1
                return Group(tuple(items), start)
            items.append(self.expr(depth + 1))

    def quoted(self, start: int) -> Atom:
        found = _QUOTED.match(self.data, start)
        if found is None:
            raise fail("unterminated string", start)
        self.pos = found.end()
        inner = self.decode(found[0][1:-1], start)
        return Atom("string", _ESCAPE.sub(_unescape, inner), start)

    def byte_length(self, start: int) -> Atom:
        found = _BYTE_LENGTH.match(self.data, start)
        if found is None:
            raise fail('expected a byte-length string #<digits>"', start)
        size = int(found[1])
        end = found.end() + size
        if end > len(self.data):
            raise fail(f"byte-length string of {size} bytes runs past the end of input", start)
        self.pos = end
        return Atom("string", self.decode(self.data[found.end():end], start), start)

    def decode(self, raw: bytes, pos: int) -> str:
        try:
            return raw.decode(self.charset)
        except UnicodeDecodeError as exc:
            raise fail(f"text is not valid {self.charset}: {exc.reason}", pos) from None
        except (UnicodeError, ValueError) as exc:  # codecs that fail in their own ways
            raise fail(f"text is not valid {self.charset}: {exc}", pos) from None
        except LookupError:
            raise fail(f"unknown charset {self.charset!r}") from None


def _unescape(found: re.Match[str]) -> str:
    return '"' if found[1] == '"' else found[0]


def is_safe_word(text: str) -> bool:
    return _SAFE_WORD.fullmatch(text) is not None


def string(text: str) -> str:
    """``text`` as a string token: quoted when that needs no escape but ``\\"``, else
    byte-length prefixed (counted in UTF-8 bytes, the encoding the MTP sends)."""
    if "\\" not in text:
        return '"' + text.replace('"', '\\"') + '"'
    return f'#{len(text.encode())}"{text}'


def word_or_string(text: str) -> str:
    """``text`` as a bare word when it safely is one, else as a string."""
    return text if is_safe_word(text) else string(text)


def source(expr: Expr) -> str:
    """A foreign expression written back as text, for parameters Caxton keeps as strings."""
    if isinstance(expr, Atom):
        return word_or_string(expr.text) if expr.kind == "string" else expr.text
    return "(" + " ".join(source(item) for item in expr.items) + ")"
