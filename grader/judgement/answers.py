"""Reading a written-answers file: `## T1` sections holding `key = value` lines.

Students write numbers in many ways; a fair grader reads `-0.2`, `−0.20`, `-1/5`, `\\frac{-1}{5}`,
`557,057` and `31744 + 524800 + 513` as the numbers they mean, and says plainly what it
could not read. Only literal arithmetic is evaluated, through a tiny AST walker.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

# a heading whose first word may be a task id: "## T1", "## Q2", "### P3a: ..."
_SECTION = re.compile(r"^\s*#{1,6}\s*([A-Za-z]{1,3}\d+[A-Za-z]?)\b.*$")
_DEFAULT_ID = re.compile(r"^T\d+$", re.IGNORECASE)
_MAX_LINE = 1000  # longer lines are cut before any parsing: answers are short
_MINUSES = dict.fromkeys(map(ord, "\u2212\u2012\u2013\u2014\u2010\u2011\ufe63\uff0d"), "-")


@dataclass
class Section:
    name: str
    text: str = ""
    values: dict[str, str] = field(default_factory=dict)  # normalised key -> raw value text


@dataclass
class AnswersDoc:
    sections: dict[str, Section]

    def section(self, name: str) -> Section | None:
        return self.sections.get(name.upper())


def _key_value(line: str) -> tuple[str, str] | None:
    """`key = value` or `key: value` (a leading list bullet is fine); no regex, so no backtracking."""
    cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
    if cut < 0:
        return None
    key = line[:cut].strip().lstrip("-*").strip()
    value = line[cut + 1:].strip()
    if not key or len(key) > 60 or not value:
        return None
    return key, value


def normalise_key(key: str) -> str:
    """`dz/dw0`, `dz_dw0`, `∂z/∂w₀` and `DZ/DW0` all become `dzdw0`."""
    key = unicodedata.normalize("NFKC", key).replace("∂", "d").lower()
    return re.sub(r"[^a-z0-9]", "", key)


def parse(text: str, section_ids: Iterable[str] | None = None) -> AnswersDoc:
    """Split `text` into sections. `section_ids` names the headings that open one (default: T<n>),
    so a title such as `# HW4 written answers` is not mistaken for a task."""
    wanted = {s.upper() for s in section_ids} if section_ids is not None else None

    def opens_section(word: str) -> bool:
        return word.upper() in wanted if wanted is not None else bool(_DEFAULT_ID.match(word))

    sections: dict[str, Section] = {}
    current: Section | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            current.text = "\n".join(lines).strip()

    for line in text.splitlines():
        line = line[:_MAX_LINE]
        match = _SECTION.match(line)
        if match and opens_section(match.group(1)):
            close()
            current = Section(match.group(1).upper())
            sections[current.name] = current
            lines = []
            continue
        if current is None:
            continue
        lines.append(line)
        pair = _key_value(line)
        if pair:
            current.values.setdefault(normalise_key(pair[0]), pair[1])
    close()
    return AnswersDoc(sections)


def without_template(text: str, template: str) -> str:
    """Drop the lines a student kept verbatim from the handed-out template (instructions, blanks).

    Section headings stay, so an untouched template reads as sections with nothing written.
    """
    handed_out = {line.strip() for line in template.splitlines() if line.strip() and not _SECTION.match(line)}
    return "\n".join(line for line in text.splitlines() if line.strip() not in handed_out)


class NumberError(ValueError):
    pass


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw[:_MAX_LINE]).translate(_MINUSES)
    text = text.split("=")[-1]  # "(30+1)*1024 + ... = 559059": the stated result is the answer
    text = text.strip().strip("$").strip()
    if len(text) > 200:
        raise NumberError("too long to be a number")
    text = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", text)
    text = text.replace("\\cdot", "*").replace("\\times", "*").replace("×", "*").replace("÷", "/")
    text = text.replace("^", "**")
    text = re.sub(r"(?<=\d)[,_ ](?=\d{3}\b)", "", text)  # thousands separators
    text = re.sub(r"\s*(#|//|\(?(?:params?|parameters|neurons|units)\b).*$", "", text, flags=re.IGNORECASE)
    return text.strip().rstrip(".")


_MAX_BITS = 4096  # far beyond any answer, small enough that arithmetic on it is instant


def _bounded(value: Fraction) -> Fraction:
    """Keep answers like `((10**64)**64)**64` from turning a batch into a big-number benchmark."""
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > _MAX_BITS:
        raise NumberError("the number is too large")
    return value


def _eval(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise NumberError("the number is too large")
        return _bounded(Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Add):
            return _bounded(left + right)
        if isinstance(node.op, ast.Sub):
            return _bounded(left - right)
        if isinstance(node.op, ast.Mult):
            return _bounded(left * right)
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > 64:
                raise NumberError("only small whole powers are understood")
            if left == 0 and right < 0:
                raise NumberError("division by zero")
            size = max(left.numerator.bit_length(), left.denominator.bit_length()) * abs(int(right))
            if size > _MAX_BITS:
                raise NumberError("the number is too large")
            return _bounded(left ** int(right))
        if right == 0:
            raise NumberError("division by zero")
        return _bounded(left / right)
    raise NumberError("not a number or simple arithmetic")


def parse_number(raw: str) -> Fraction:
    """The number a student meant, exactly; raises NumberError with a reason otherwise."""
    text = _clean(raw)
    if not text:
        raise NumberError("blank")
    if len(text) > 200:
        raise NumberError("too long to be a number")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise NumberError(f"could not read {raw.strip()!r} as a number") from None
    return _eval(tree)
