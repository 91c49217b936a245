"""Tripletex's ``fields`` filter: which fields of a record (and of its sub-objects) an answer has.

Grammar (the spec's info.description, "Fields"): a comma-separated list of field names; a name
followed by ``(…)`` selects fields of that sub-object; ``*`` means every field of the level. A
sub-object or list of sub-objects that is selected without ``(…)`` is answered as its reference
``{id, url}``; with no ``fields`` at all, a record answers every field of its own level and
references for its sub-objects. A name the record does not have is refused (400, code 11000).
"""

from __future__ import annotations

from typing import Any

Selection = dict[str, "Selection | None"]  # name → sub-selection (None: no parentheses)
ALL: Selection = {"*": None}


class FieldsError(ValueError):
    """The ``fields`` value does not parse, or names a field the record lacks."""


def parse(text: str | None) -> Selection:
    """``"id,customer(name,postalAddress(city)),*"`` → a nested selection."""
    if text is None or not text.strip():
        return dict(ALL)
    selection, rest = _parse_level(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise FieldsError(f"unbalanced parentheses in fields: {text!r}")
    return selection


def _parse_level(text: str, i: int) -> tuple[Selection, int]:
    out: Selection = {}
    name = ""
    while i < len(text):
        ch = text[i]
        if ch == ",":
            if name:
                out.setdefault(name, None)
            name = ""
            i += 1
        elif ch == "(":
            if not name:
                raise FieldsError("a '(' without a field name before it")
            sub, i = _parse_level(text, i + 1)
            if i >= len(text) or text[i] != ")":
                raise FieldsError(f"missing ')' after {name}(")
            out[name] = _merge(out.get(name), sub)
            name = ""
            i += 1
        elif ch == ")":
            break
        else:
            name += ch
            i += 1
    if name:
        out.setdefault(name, None)
    return out, i


def _merge(a: Selection | None, b: Selection) -> Selection:
    return {**(a or {}), **b}


def _reference(value: dict[str, Any]) -> dict[str, Any]:
    return {k: value[k] for k in ("id", "url") if k in value}


def project(record: dict[str, Any], selection: Selection, where: str = "") -> dict[str, Any]:
    """The part of ``record`` that ``selection`` asks for."""
    wanted: dict[str, Selection | None] = {}
    if "*" in selection:
        wanted = dict.fromkeys(record)
    for name, sub in selection.items():
        if name == "*":
            continue
        if name not in record:
            raise FieldsError(f"Illegal field in fields filter: {where}{name}")
        wanted[name] = sub
    return {name: _value(record[name], sub, f"{where}{name}.") for name, sub in wanted.items()}


def _value(value: Any, sub: Selection | None, where: str) -> Any:
    if isinstance(value, dict):
        return _reference(value) if sub is None else project(value, sub, where)
    if isinstance(value, list):
        return [_value(item, sub, where) for item in value]
    return value


__all__ = ["ALL", "FieldsError", "Selection", "parse", "project"]
