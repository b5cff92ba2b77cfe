"""Mutants of a reference solution: one small, plausible bug each, made from its syntax tree.

No maintained mutation-testing library works as a library on a source string (they drive a test
runner over a project), so the operators are written here, on Python's `ast`: each finds a node
and replaces the exact text it spans, so a mutant differs from the solution by one edit and its
diff reads like a student's bug. Operators: arithmetic and comparison swaps (with off-by-one at
comparison boundaries), a dropped term, constants moved by one, a sign flipped or dropped, an
axis changed or dropped, reductions swapped (`sum`/`mean`, `max`/`min`, `argmax`/`argmin`), a
transpose dropped, and a removed statement.

Only the lines the student writes are mutated: those where the solution differs from the starter.
"""

from __future__ import annotations

import ast
import difflib
import random
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**",
           ast.Mod: "%", ast.MatMult: "@"}
_BINOP_SWAPS = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.Add], ast.Div: [ast.Mult],
                ast.FloorDiv: [ast.Div], ast.Pow: [ast.Mult], ast.Mod: [], ast.MatMult: []}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_CMP_SWAPS = {ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.Gt], ast.Gt: [ast.GtE, ast.Lt],
              ast.GtE: [ast.Gt, ast.Lt], ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq]}
_AUG_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
_CALL_SWAPS = {"max": "min", "min": "max", "sum": "mean", "mean": "sum", "argmax": "argmin", "argmin": "argmax",
               "maximum": "minimum", "minimum": "maximum", "exp": "log", "log": "exp"}


@dataclass(frozen=True)
class Edit:
    """One mutation: replace source[start:end] with `text`."""

    start: int
    end: int
    text: str
    line: int  # 1-based, in the source that was mutated
    kind: str  # the operator's name, e.g. "operator", "constant", "removed statement"
    description: str


@dataclass(frozen=True)
class Mutant:
    """A mutated file of the solution (or one cell of its notebook)."""

    number: int
    file: str  # relative path in the submission
    cell: int | None  # 1-based code cell of a notebook, None for a module
    edit: Edit
    source: str  # the mutated source of the file or cell
    diff: str
    owner_names: tuple[str, ...]  # enclosing def/class names (innermost last)

    @property
    def where(self) -> str:
        cell = f" cell {self.cell}" if self.cell is not None else ""
        return f"{self.file}{cell} line {self.edit.line}"


def changed_lines(starter: str | None, solution: str) -> set[int] | None:
    """1-based lines of `solution` that are not in `starter` (None: no starter, every line counts)."""
    if starter is None:
        return None
    old, new = starter.splitlines(), solution.splitlines()
    lines: set[int] = set()
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            lines.update(range(j1 + 1, j2 + 1))
    return lines


class _Offsets:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, line: int, col_bytes: int) -> int:
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self.starts[line - 1] + len(text.encode()[:col_bytes].decode(errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.at(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                self.at(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end]


def _edits(tree: ast.Module, where: _Offsets) -> Iterator[Edit]:
    source = where.source
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    axis_values = {id(k.value) for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg == "axis"}
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            start, end = where.span(node)
            left_end = where.span(node.left)[1]
            right_start = where.span(node.right)[0]
            symbol = _BINOPS[type(node.op)]
            gap = source[left_end:right_start]
            at = gap.find(symbol)
            if at == -1:
                continue
            for new in _BINOP_SWAPS[type(node.op)]:
                swapped = gap[:at] + _BINOPS[new] + gap[at + len(symbol):]
                text = source[start:left_end] + swapped + source[right_start:end]
                yield Edit(start, end, f"({text})", node.lineno, "operator", f"{symbol} -> {_BINOPS[new]}")
            if isinstance(node.op, ast.Add | ast.Sub):
                yield Edit(start, end, where.text(node.left), node.lineno, "dropped term",
                           f"drop '{symbol} {_one_line(where.text(node.right))}'")
            if isinstance(node.op, ast.Add):
                yield Edit(start, end, where.text(node.right), node.lineno, "dropped term",
                           f"drop '{_one_line(where.text(node.left))} +'")
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPOPS:
            left_end = where.span(node.left)[1]
            right_start = where.span(node.comparators[0])[0]
            symbol = _CMPOPS[type(node.ops[0])]
            at = source.find(symbol, left_end, right_start)
            if at == -1:
                continue
            for new in _CMP_SWAPS[type(node.ops[0])]:
                yield Edit(at, at + len(symbol), _CMPOPS[new], node.lineno, "comparison",
                           f"{symbol} -> {_CMPOPS[new]}")
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOPS:
            target_end = where.span(node.target)[1]
            value_start = where.span(node.value)[0]
            symbol = _BINOPS[type(node.op)] + "="
            at = source.find(symbol, target_end, value_start)
            if at == -1:
                continue
            if type(node.op) in _AUG_SWAPS:
                new = _BINOPS[_AUG_SWAPS[type(node.op)]] + "="
                yield Edit(at, at + len(symbol), new, node.lineno, "operator", f"{symbol} -> {new}")
            yield Edit(at, at + len(symbol), "=", node.lineno, "operator", f"{symbol} -> =")
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            value = node.value
            start, end = where.span(node)
            kind = "axis" if id(node) in axis_values else "constant"
            if isinstance(value, bool):
                yield Edit(start, end, repr(not value), node.lineno, kind, f"{value} -> {not value}")
            elif isinstance(value, int):
                choices = [1 - value] if kind == "axis" and value in (0, 1) else [value + 1, value - 1]
                for new in choices:
                    yield Edit(start, end, repr(new), node.lineno, kind, f"{value} -> {new}")
            elif isinstance(value, float):
                for new in ([1.0] if value == 0 else [value * 2, 0.0]):
                    yield Edit(start, end, repr(new), node.lineno, kind, f"{value!r} -> {new!r}")
        elif isinstance(node, ast.keyword) and node.arg == "axis":
            start, end = where.span(node.value)
            yield Edit(start, end, "None", node.value.lineno, "axis", f"axis={where.text(node.value)} -> axis=None")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            start, end = where.span(node)
            yield Edit(start, end, where.text(node.operand), node.lineno, "sign", "drop the minus sign")
        elif isinstance(node, ast.Return) and node.value is not None and not isinstance(
                node.value, ast.Tuple | ast.Dict | ast.Constant | ast.List):
            start, end = where.span(node.value)
            yield Edit(start, end, f"-({where.text(node.value)})", node.lineno, "sign", "return the negated value")
        elif isinstance(node, ast.Attribute):
            start, end = where.span(node)
            if node.attr == "T":
                yield Edit(start, end, where.text(node.value), node.lineno, "axis", "drop the transpose .T")
            elif node.attr in _CALL_SWAPS:
                name_at = end - len(node.attr)
                if source[name_at:end] == node.attr:
                    new = _CALL_SWAPS[node.attr]
                    yield Edit(name_at, end, new, node.lineno, "reduction", f"{node.attr} -> {new}")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            start, end = where.span(node)
            yield Edit(start, end, "pass", node.lineno, "removed statement", f"remove '{_one_line(where.text(node))}'")


def _one_line(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _owners(tree: ast.Module) -> list[tuple[int, int, str]]:
    return [(n.lineno, n.end_lineno or n.lineno, n.name) for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]


def mutate_source(source: str, changed: set[int] | None) -> Iterator[tuple[Edit, str, tuple[str, ...]]]:
    """Every mutant of `source` touching a changed line: the edit, the mutated source, its owners.

    A mutant that does not compile or that is the same text as another is left out.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    where = _Offsets(source)
    owners = _owners(tree)
    seen: set[str] = {source}
    for edit in sorted(_edits(tree, where), key=lambda e: (e.start, e.end)):
        if changed is not None and edit.line not in changed:
            continue
        mutated = source[:edit.start] + edit.text + source[edit.end:]
        if mutated in seen:
            continue
        try:
            compile(mutated, "<mutant>", "exec")
        except (SyntaxError, ValueError):
            continue
        seen.add(mutated)
        enclosing = tuple(name for first, last, name in sorted(owners) if first <= edit.line <= last)
        yield edit, mutated, enclosing


def unified_diff(before: str, after: str, label: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"{label} (solution)",
                                        f"{label} (mutant)", n=1))


def sample(mutants: list[Mutant], limit: int, group: Callable[[Mutant], Hashable] = lambda m: None,
           seed: int = 13) -> list[Mutant]:
    """At most `limit` mutants, drawn the same way every run, kept in source order.

    Drawn in turn from each `group` (a task's code), so a task with few mutants is not left
    out by chance when another has hundreds.
    """
    if len(mutants) <= limit:
        return mutants
    rng = random.Random(seed)
    groups: dict[Hashable, list[int]] = {}
    for index, mutant in enumerate(mutants):
        groups.setdefault(group(mutant), []).append(index)
    queues = [rng.sample(members, len(members)) for members in groups.values()]
    chosen: list[int] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop())
    return [mutants[i] for i in sorted(chosen)]
