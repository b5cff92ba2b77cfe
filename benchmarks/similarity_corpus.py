"""A test corpus for similarity: independent HW4 solutions, and deterministic disguises of each.

The independent solutions (`similarity_solutions/*.txt`) were written for this project, each in
its own style (loops, einsum, helper functions, layer objects, a rewrite from scratch). To keep
them small, each file holds only what its student wrote into the starter's `# your code here`
slots (sections `# == T5` ... `# == T11`), plus module-level helpers (`# == module`) and extra
methods (`# == class`); `# == file` is a whole file that replaced the starter. `build()` puts
them into `reference/hw4/starter/cattern/neural_net.py`.

The disguises are transforms a copier would apply, done on the source text at positions the AST
gives, so each one changes only what it says and the code still runs the same:

- `renamed`: every name the student chose (variables, helper functions and classes, private
  methods, parameters of their own functions) becomes another one; the API the grader calls
  (TwoLayerNet, loss/train/predict and their parameters) stays.
- `reordered`: the methods of each class and the module's functions and classes are shuffled.
- `comments`: every comment is dropped or reworded, every docstring replaced, new comments added.
- `deadcode`: statements that do nothing are inserted into function bodies, and an unused helper.
- `all`: all four, then blank lines and the indentation width changed too.

Run it to write the corpus as submission folders: python benchmarks/similarity_corpus.py OUT
"""

from __future__ import annotations

import argparse
import ast
import builtins
import io
import random
import re
import shutil
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = Path(__file__).resolve().parent / "similarity_solutions"
STARTER = ROOT / "reference/hw4/starter"
MODULE = "cattern/neural_net.py"
SLOTS = ("T5", "T6", "T7", "T8", "T9", "T10", "T11")  # the starter's `# your code here` lines, in order
API = {"TwoLayerNet", "loss", "train", "predict", "__init__", "params", "self"}
DISGUISES = ("renamed", "reordered", "comments", "deadcode", "all")

NEW_NAMES = ("alpha", "beta", "gamma", "delta", "omega", "tmp", "buf", "acc", "val", "res", "aux", "cur",
             "arr", "mat", "vec", "item", "thing", "part", "piece", "node", "elem", "data", "blob", "foo",
             "bar", "baz", "qux", "zeta", "eta", "theta", "kappa", "sigma", "tau", "phi", "chi", "psi")
COMMENTS = ("compute it", "this part is tricky", "see lecture 4", "TODO clean up", "works now",
            "vectorised version", "do the math", "careful with shapes", "not sure about this",
            "from the slides", "update step", "main computation", "helper", "fixed bug here")


def dead_statement(rng: random.Random) -> str:
    """A statement that changes nothing, drawn at random so that no two copies share their junk."""
    name = f"{rng.choice(NEW_NAMES)}_{rng.choice(('dbg', 'tmp', 'old', 'x', 'chk'))}"
    a, b = rng.randint(0, 9), rng.randint(10, 99)
    word = rng.choice(COMMENTS)
    return rng.choice((
        f"{name} = {a}",
        f"if False:\n    print({word!r})",
        f"for {name} in range(0):\n    pass",
        f"{name} = [{a}] * {b}",
        f"assert {b} > {a}, {word!r}",
        f"if {a} > {b}:\n    raise RuntimeError({word!r})",
        f"{name} = None\n{name} = {name}",
        f"{name} = {{}}\n{name}[{word!r}] = {b}",
        f"while False:\n    {name} = {a} + {b}",
    ))


def dead_helper(rng: random.Random) -> str:
    a, b = rng.sample(NEW_NAMES, 2)
    op = rng.choice(("+", "-", "*"))
    return f"\n\ndef _{a}_{b}({a}, {b}):\n    {a}_{b} = {a} {op} {b}\n    return {a}_{b} * {rng.randint(1, 9)}\n"


def solution_names() -> list[str]:
    return sorted(p.stem for p in SOLUTIONS.glob("s*.txt"))


def sections(text: str) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        marker = re.fullmatch(r"# == (\w+)", line)
        if marker:
            current = marker.group(1)
            found[current] = []
        elif current is not None:
            found[current].append(line)
    return {name: "\n".join(lines).strip("\n") + "\n" for name, lines in found.items()}


def _indent(block: str, prefix: str) -> list[str]:
    return [prefix + line if line.strip() else "" for line in block.splitlines()]


def build(name: str, starter: str | None = None) -> str:
    """The module file of solution `name`: its sections put into the starter."""
    parts = sections((SOLUTIONS / f"{name}.txt").read_text())
    if "file" in parts:
        return parts["file"]
    starter = starter if starter is not None else (STARTER / MODULE).read_text()
    slots = iter(SLOTS)
    out: list[str] = []
    for line in starter.splitlines():
        if line.strip() == "# your code here":
            slot = next(slots)
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(_indent(parts[slot], indent) if slot in parts else [line])
        else:
            out.append(line)
            if line == "import numpy as np" and "module" in parts:
                out += ["", "", *parts["module"].splitlines()]
    if "class" in parts:
        out += ["", *_indent(parts["class"], "    ")]
    return "\n".join(out) + "\n"


# --- disguises --------------------------------------------------------------------------------


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def rename(text: str, rng: random.Random) -> str:
    tree = ast.parse(text)
    imported = {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                for a in n.names}
    keep = API | imported | set(dir(builtins))
    api_args = set()
    own_funcs: set[str] = set()
    own_attrs: set[str] = set()  # private methods and helper classes' methods: renamed where called too
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            if node.name != "TwoLayerNet":
                own_funcs.add(node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__"):
                    if node.name != "TwoLayerNet" or item.name.startswith("_"):
                        own_attrs.add(item.name)
                    elif node.name == "TwoLayerNet":
                        api_args |= {a.arg for a in item.args.args + item.args.kwonlyargs}
                if isinstance(item, ast.FunctionDef) and item.name == "__init__" and node.name == "TwoLayerNet":
                    api_args |= {a.arg for a in item.args.args}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            own_funcs.add(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names |= {a.arg for a in node.args.args + node.args.kwonlyargs}
    keep |= api_args
    chosen = sorted((names | own_funcs | own_attrs) - keep)
    existing = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | keep
    pool = [f"{w}{i}" if i else w for i in range(4) for w in NEW_NAMES]
    rng.shuffle(pool)
    mapping = {}
    for old in chosen:
        new = next(n for n in pool if n not in existing and n not in mapping.values())
        mapping[old] = new
    offsets = _line_offsets(text)

    def at(line: int, col: int) -> int:
        return offsets[line - 1] + len(text.splitlines(keepends=True)[line - 1].encode()[:col].decode())

    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in mapping:
            spans.append((at(node.lineno, node.col_offset), at(node.end_lineno, node.end_col_offset), mapping[node.id]))
        elif isinstance(node, ast.arg) and node.arg in mapping:
            start = at(node.lineno, node.col_offset)
            spans.append((start, start + len(node.arg), mapping[node.arg]))
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in mapping:
            start = at(node.lineno, node.col_offset)
            found = re.compile(r"(def|class)\s+").match(text, start)
            assert found, node.name
            spans.append((found.end(), found.end() + len(node.name), mapping[node.name]))
        elif isinstance(node, ast.Attribute) and node.attr in own_attrs and node.attr in mapping:
            end = at(node.end_lineno, node.end_col_offset)
            spans.append((end - len(node.attr), end, mapping[node.attr]))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in own_funcs):
            for kw in node.keywords:
                if kw.arg in mapping:
                    start = at(kw.lineno, kw.col_offset)
                    spans.append((start, start + len(kw.arg), mapping[kw.arg]))
    return _replace_spans(text, spans)


def _block(node: ast.stmt, lines: list[str]) -> tuple[int, int]:
    """0-based [first, last] line of a def or class, decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    return first, node.end_lineno - 1


def _permute(text: str, nodes: list[ast.stmt], rng: random.Random) -> str:
    """Swap the line blocks of `nodes` (defs or classes) among their places; never the same order."""
    if len(nodes) < 2:
        return text
    lines = text.splitlines()
    spans = [_block(n, lines) for n in nodes]
    blocks = [lines[a:b + 1] for a, b in spans]
    order = list(range(len(blocks)))
    while order == sorted(order):
        rng.shuffle(order)
    for (a, b), o in sorted(zip(spans, order, strict=True), reverse=True):
        lines[a:b + 1] = blocks[o]
    return "\n".join(lines) + "\n"


def reorder(text: str, rng: random.Random) -> str:
    count = sum(isinstance(c, ast.ClassDef) for c in ast.walk(ast.parse(text)))
    for number in range(count):  # each class's methods, then the module's functions and classes
        cls = [c for c in ast.walk(ast.parse(text)) if isinstance(c, ast.ClassDef)][number]
        text = _permute(text, [n for n in cls.body if isinstance(n, ast.FunctionDef)], rng)
    tree = ast.parse(text)
    return _permute(text, [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)], rng)


def recomment(text: str, rng: random.Random) -> str:
    spans = []
    offsets = _line_offsets(text)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            start = offsets[tok.start[0] - 1] + tok.start[1]
            new = "" if rng.random() < 0.5 else f"# {rng.choice(COMMENTS)}"
            spans.append((start, start + len(tok.string), new))
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Module) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            doc = body[0]
            start = offsets[doc.lineno - 1] + doc.col_offset
            end = offsets[doc.end_lineno - 1] + doc.end_col_offset
            spans.append((start, end, f'"""{rng.choice(COMMENTS).capitalize()}."""'))
    text = _replace_spans(text, spans)
    lines = text.splitlines()
    tree = ast.parse(text)
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and not isinstance(n, ast.FunctionDef)
                  and n.col_offset > 0]
    for node in sorted(rng.sample(statements, min(6, len(statements))), key=lambda n: -n.lineno):
        lines.insert(node.lineno - 1, " " * node.col_offset + f"# {rng.choice(COMMENTS)}")
    return "\n".join(lines) + "\n"


def add_dead_code(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    tree = ast.parse(text)
    bodies = [n.body for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    spots = [(stmt.end_lineno, stmt.col_offset) for body in bodies for stmt in body
             if not isinstance(stmt, ast.Return)]
    for end, col in sorted(rng.sample(spots, min(8, len(spots))), reverse=True):
        lines[end:end] = [" " * col + line for line in dead_statement(rng).splitlines()]
    return "\n".join(lines) + "\n" + dead_helper(rng)


def reformat(text: str, rng: random.Random) -> str:
    """Blank lines added and removed, indentation 2 spaces instead of 4."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            if rng.random() < 0.5:
                out.append("")
            continue
        stripped = line.lstrip(" ")
        out.append(" " * ((len(line) - len(stripped)) // 2) + stripped)
        if rng.random() < 0.08:
            out.append("")
    return "\n".join(out) + "\n"


def disguise(text: str, kind: str, seed: int | str = 0) -> str:
    rng = random.Random(f"{kind}:{seed}")
    if kind == "renamed":
        return rename(text, rng)
    if kind == "reordered":
        return reorder(text, rng)
    if kind == "comments":
        return recomment(text, rng)
    if kind == "deadcode":
        return add_dead_code(text, rng)
    if kind == "all":
        for step in (rename, reorder, recomment, add_dead_code, reformat):
            text = step(text, rng)
        return text
    raise ValueError(f"unknown disguise {kind!r}")


def corpus() -> dict[str, str]:
    """Submission id -> module text: every solution, and each of its disguises (`s01_dot~renamed`)."""
    out = {}
    starter = (STARTER / MODULE).read_text()
    for name in solution_names():
        original = build(name, starter)
        out[name] = original
        for kind in DISGUISES:
            out[f"{name}~{kind}"] = disguise(original, kind, seed=name)
    return out


def write_submission(root: Path, code: str) -> Path:
    (root / "cattern").mkdir(parents=True, exist_ok=True)
    (root / MODULE).write_text(code)
    shutil.copy(STARTER / "cattern/__init__.py", root / "cattern/__init__.py")
    shutil.copy(STARTER / "answers.md", root / "answers.md")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    for sub_id, code in corpus().items():
        write_submission(args.out / sub_id, code)
    write_submission(args.out / "starter-unchanged", (STARTER / MODULE).read_text())
    print(f"wrote {len(list(args.out.iterdir()))} submissions to {args.out}")


if __name__ == "__main__":
    main()
