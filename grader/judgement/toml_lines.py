"""Where a key sits in a TOML file: the line a rubric error points at.

`tomllib` returns plain values without positions, so this reads the source text itself. It
understands what rubric files use: `[table]` and `[[array]]` headers (dotted names too),
`key = value` lines, inline tables `{ a = 1 }` and arrays of them, quoted keys and strings
containing brackets. A path it cannot follow to the end resolves to the closest enclosing key
or table it did find, so an error always names a line near the problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\]\n]+?)[ \t]*\]\]?[ \t]*(#.*)?$", re.M)
_BARE = re.compile(r"[A-Za-z0-9_-]+")

PathPart = str | int


def _key_pattern(key: str) -> str:
    quoted = f'"{re.escape(key)}"|\'{re.escape(key)}\''
    return rf"(?:{re.escape(key)}|{quoted})" if _BARE.fullmatch(key) else rf"(?:{quoted})"


def _header_parts(name: str) -> tuple[str, ...]:
    return tuple(p.strip().strip("\"'") for p in name.split("."))


class TomlLines:
    """Line numbers (1-based) of keys in one TOML document."""

    def __init__(self, text: str) -> None:
        self.text = text
        # each table: (its path, start offset of its body, end offset)
        self._tables: list[tuple[tuple[PathPart, ...], int, int]] = []
        headers = list(_HEADER.finditer(text))
        counts: dict[tuple[str, ...], int] = {}
        self._tables.append(((), 0, headers[0].start() if headers else len(text)))
        for i, match in enumerate(headers):
            parts = _header_parts(match.group(2))
            path: tuple[PathPart, ...] = parts
            if match.group(1) == "[[":
                index = counts.get(parts, 0)
                counts[parts] = index + 1
                path = (*parts, index)
            end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
            self._tables.append((path, match.start(), end))

    def line_of_offset(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def line(self, path: Sequence[PathPart]) -> int:
        """The line of `path` (e.g. `("tasks", 3, "params", "rtol")`), or of its closest found parent."""
        return self.line_of_offset(self.offset(tuple(path)))

    def offset(self, path: tuple[PathPart, ...]) -> int:
        best: tuple[tuple[PathPart, ...], int, int] = self._tables[0]
        for table in self._tables:
            name = table[0]
            if len(name) > len(best[0]) and path[:len(name)] == name:
                best = table
        name, start, end = best
        rest = path[len(name):]
        if not rest:
            return start
        position = start
        # the first remaining key: a `key =` line in the table's body (after its header line)
        body_start = self.text.find("\n", start) + 1 if name else start
        match = re.compile(rf"^[ \t]*{_key_pattern(str(rest[0]))}[ \t]*=", re.M).search(self.text, body_start, end)
        if match is None:
            return position
        position = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        value = match.end()
        for part in rest[1:]:
            found = self._inside(value, end, part)
            if found is None:
                return position
            position, value = found
        return position

    def _inside(self, start: int, end: int, part: PathPart) -> tuple[int, int] | None:
        """Inside the inline table or array that begins at `start`: where `part` begins, and its value."""
        text = self.text
        i = start
        while i < end and text[i] in " \t":
            i += 1
        if i >= end or text[i] not in "{[":
            return None
        opening = text[i]
        depth, element, i = 0, 0, i + 1
        element_start = i
        while i < end:
            ch = text[i]
            if ch in "\"'":
                i = self._skip_string(i, end)
                continue
            if ch == "#":
                i = text.find("\n", i, end) if text.find("\n", i, end) != -1 else end
                continue
            if depth == 0:
                if opening == "[" and isinstance(part, int) and element == part and not ch.isspace() and ch != ",":
                    return i, i
                if opening == "{" and isinstance(part, str) and i == self._next_token(element_start, end):
                    match = re.compile(rf"{_key_pattern(part)}[ \t]*=").match(text, i)
                    if match:
                        return i, match.end()
            if ch in "{[":
                depth += 1
            elif ch in "}]":
                if depth == 0:
                    return None
                depth -= 1
            elif ch == "," and depth == 0:
                element += 1
                element_start = i + 1
            i += 1
        return None

    def _next_token(self, i: int, end: int) -> int:
        while i < end and self.text[i] in " \t\r\n":
            i += 1
        return i

    def _skip_string(self, i: int, end: int) -> int:
        quote = self.text[i]
        triple = self.text.startswith(quote * 3, i)
        if triple:
            close = self.text.find(quote * 3, i + 3, end)
            return end if close == -1 else close + 3
        j = i + 1
        while j < end and self.text[j] != quote and self.text[j] != "\n":
            j += 2 if self.text[j] == "\\" and quote == '"' else 1
        return j + 1
