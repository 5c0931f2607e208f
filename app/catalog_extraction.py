"""pybabel's extractor for our Python: gettext calls as usual, plus the English messages of domain errors.

Services stay Flask-free and raise `ValidationFailed("…")` in English (the JSON API's wire text); pages show the
same message through `translate_message`, so the catalog needs every literal message a service can raise.
"""
from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python

DOMAIN_ERRORS = frozenset({"DomainError", "ValidationFailed", "NotFound", "Forbidden", "Conflict", "Unprocessable",
                           "AuthenticationFailed", "LockedOut", "PlanLimitReached", "PhotoTooLarge"})
Extracted = tuple[Any, ...]  # (line, gettext function or None, message(s), translator comments)


def extract(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
            options: dict[str, Any]) -> Iterator[Extracted]:
    """Every gettext message (babel's own extractor) and every literal first argument of a domain error."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and _name(node.func) in DOMAIN_ERRORS and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and node.args[0].value.strip()):
            yield node.lineno, None, node.args[0].value, []


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""
