"""Every message a family can read is translatable: a scan of app/ for text the catalog can never hold.

`test_catalog.py` proves each extracted string has its Spanish; this proves nothing a family reads escapes the
extraction. The catalog finds literal messages, `translatable(...)` and `phrase(...)`; it cannot find English built
at run time (an f-string, `%` or `.format`, `str(error)`), a message kept in a plain constant or handed to a helper
as a bare literal, a validator's own `ValueError` text, an `abort(..., description="...")` or words handed to a
template. Such a message is English on a Spanish page. Text that only staff, logs or the JSON API read stays
English: those modules and exception classes are listed below, each with its reason.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

# Modules whose words are English by decision.
ENGLISH_MODULES = {
    "app/api/": "the JSON API's wire text stays English byte for byte (api/CONTRACT.md); it never translates",
    "app/operator/": "the operator console is staff only; babel.cfg leaves it out of the catalog",
    "app/metrics.py": "the Prometheus endpoint, for the operator's scraper",
}
# Exceptions whose text no family member reads (outside the modules above).
STAFF_OR_INTERNAL = {
    "RuntimeError": "a programming or configuration mistake: logged, the family sees the generic 500 page",
    "OSError": "a failed network call, caught and retried by its caller",
    "FileExistsError": "SQLite database files, caught by provisioning",
    "TickBatchFailed": "the `flask jobs tick` cron job's log",
    "DeliveryFailed": "the notification worker's retry log",
    "SendFailed": "a delivery's technical diagnostic (the receiver's HTTP status or network error), kept verbatim "
                  "in the webhook delivery log like a server log line",
    "ClusterConfigError": "startup configuration (DATABASE_CLUSTERS)",
    "FamilyNotFound": "family_context(slug) for the CLI and jobs",
    "LegacySourceError": "`flask legacy import` (operator CLI)",
    "RowValueError": "`flask families import` (operator CLI)",
    "ArchiveError": "`flask families import` (operator CLI)",
    "MoveError": "moving a family: operator console and `flask families move`",
    "PurgeRefused": "`flask families purge` (operator CLI)",
}
# Single refusals of a shared service that only staff can trigger.
STAFF_MESSAGES = {
    ("app/tenancy/provisioning.py", "There is no database cluster named"): "a cluster is chosen by the operator only",
    ("app/tenancy/provisioning.py", "Placement must be one of"): "a placement is chosen by the operator only",
    ("app/tenancy/provisioning.py", "Plan must be one of"): "a plan is given by the operator or CLI only",
    ("app/tenancy/provisioning.py", "A database for"): "dedicated placement is chosen by the operator only",
    ("app/tenancy/provisioning.py", "Database cluster"): "the database server is down: the driver's own words for "
                                                         "the operator's log",
}
# Validators in these modules speak to a form's field (pydantic reports a ValueError as that field's message).
FIELD_VALIDATOR_MODULES = ("inputs.py",)
TRANSLATING_CALLS = {"translatable", "phrase", "plural_phrase", "gettext", "ngettext", "lazy_gettext", "_", "_l",
                     "Phrase"}


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.problem}"


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(APP.rglob("*.py")):
        name = path.relative_to(APP.parent).as_posix()
        if not any(name.startswith(prefix) for prefix in ENGLISH_MODULES):
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def refusal_classes() -> set[str]:
    """DomainError and every class below it in app/ (a refusal a page shows), plus the exceptions whose text a
    page shows through `.said`."""
    bases: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {_name(base) for base in node.bases}
    found = {"DomainError", "ProvisioningError", "UnsafeAddress", "FieldProblem"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _built_at_run_time(node: ast.expr) -> bool:
    """English assembled while running: an f-string, `"…" % x`, `"…" + x`, `"…".format(x)` or `str(error)`."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return any(isinstance(side, (ast.Constant, ast.JoinedStr)) and not isinstance(getattr(side, "value", ""), int)
                   for side in (node.left, node.right))
    if isinstance(node, ast.Call):
        return (isinstance(node.func, ast.Attribute) and node.func.attr == "format") or _name(node.func) == "str"
    return False


def _text_constants(tree: ast.Module) -> dict[str, int]:
    """Module-level names bound to a bare string (not marked for the catalog), with their line."""
    constants = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            constants[node.targets[0].id] = node.lineno
    return constants


def _message(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((keyword.value for keyword in call.keywords if keyword.arg == "message"), None)


def _first_words(node: ast.expr) -> str:
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant)
                       and isinstance(part.value, str))
    return ""


def scan(module: str, tree: ast.Module, refusals: set[str]) -> list[Finding]:
    """Every message in `module` the catalog cannot hold."""
    findings = []
    constants = _text_constants(tree)
    validator_module = module.endswith(FIELD_VALIDATOR_MODULES)
    message_params: dict[str, tuple[int, str]] = {}  # helper function → (position, name) of its message parameter
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [arg.arg for arg in function.args.args]
        local_texts = {target.id: node.lineno for node in ast.walk(function) if isinstance(node, ast.Assign)
                       and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                       for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(function):
            if (isinstance(node, ast.Call) and _name(node.func) in refusals and isinstance(_message(node), ast.Name)
                    and _message(node).id in local_texts):  # type: ignore[union-attr]
                findings.append(Finding(module, node.lineno, f"{_name(node.func)}({_message(node).id}): the text "  # type: ignore[union-attr]
                                                             "it holds needs translatable(…)"))
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _name(node.exc.func) in refusals
                    and isinstance(_message(node.exc), ast.Name) and _message(node.exc).id in params):  # type: ignore[union-attr]
                name = _message(node.exc).id  # type: ignore[union-attr]
                message_params[function.name] = (params.index(name), name)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _name(node.func)
        message = _message(node)
        if called in refusals or (called not in STAFF_OR_INTERNAL and called.endswith(("Error", "Failed"))
                                  and called != "ValueError"):
            if message is None:
                continue
            if _built_at_run_time(message):
                if any(module == where and _first_words(message).startswith(words)
                       for where, words in STAFF_MESSAGES):
                    continue
                findings.append(Finding(module, node.lineno, f"{called}(…) with English built at run time: raise it "
                                                             "with phrase(…) (app/languages.py)"))
            elif called in refusals and isinstance(message, ast.Name) and message.id in constants:
                findings.append(Finding(module, node.lineno, f"{called}({message.id}): the constant (line "
                                                             f"{constants[message.id]}) needs translatable(…)"))
        elif called == "ValueError" and validator_module and message is not None:
            if _built_at_run_time(message):
                findings.append(Finding(module, node.lineno, "a field's ValueError with English built at run time: "
                                                             "raise FieldProblem(phrase(…)) (app/inputs.py)"))
            elif isinstance(message, ast.Constant):
                findings.append(Finding(module, node.lineno, "a field's ValueError message needs translatable(…)"))
            elif isinstance(message, ast.Name) and message.id in constants:
                findings.append(Finding(module, node.lineno, f"ValueError({message.id}): the constant needs "
                                                             "translatable(…)"))
        elif called in message_params:
            position, name = message_params[called]
            given = node.args[position] if len(node.args) > position else next(
                (keyword.value for keyword in node.keywords if keyword.arg == name), None)
            if isinstance(given, ast.Constant) and isinstance(given.value, str):
                findings.append(Finding(module, node.lineno, f"{called}(…, {name}=\"{given.value[:40]}…\"): a "
                                                             "message handed to a helper needs translatable(…)"))
        elif called == "render_template":
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str) and any(
                        char.isspace() for char in keyword.value.value):
                    findings.append(Finding(module, node.lineno, f"render_template({keyword.arg}=\"…\"): words "
                                                                 "for the page need gettext(…)"))
        elif called == "abort":
            description = next((keyword.value for keyword in node.keywords if keyword.arg == "description"), None)
            if isinstance(description, ast.Constant) or (description is not None and _built_at_run_time(description)):
                findings.append(Finding(module, node.lineno, "abort(description=…) needs translatable(…) or gettext"))
    return findings


def test_no_message_a_family_reads_escapes_the_catalog() -> None:
    refusals = refusal_classes()
    findings = [finding for module, tree in _modules() for finding in scan(module, tree, refusals)]

    assert [str(finding) for finding in findings] == []


def test_the_scan_catches_each_kind_of_untranslatable_message() -> None:
    """The scan itself: each shape it must refuse, and the shapes that are fine."""
    source = '''
from app.domain import ValidationFailed
from app.languages import phrase, translatable
PLAIN = "Only parents can do that"
MARKED = translatable("Only parents can do that")

def _check(value, message):
    if not value:
        raise ValidationFailed(message)

def service(label, low):
    raise ValidationFailed(f"{label} must be at least {low}")
    raise ValidationFailed("%s must be at least 1" % label)
    raise ValidationFailed("{} is wrong".format(label))
    raise ValidationFailed(str(label))
    raise ValidationFailed(PLAIN)
    _check(label, "Please give a label")
    abort(403, description="Only parents can open this page.")
    local = "Only parents can do that"
    raise ValidationFailed(local)
    raise ValidationFailed(phrase("%(label)s must be at least %(low)s", label=label, low=low))
    raise ValidationFailed(MARKED)
    raise ValidationFailed("Please give a label")
    _check(label, translatable("Please give a label"))
    abort(403, description=translatable("Only parents can open this page."))
    render_template("page.html", title="That link didn't work", region="store-toast")
    raise RuntimeError(f"no cluster {label}")
'''
    findings = scan("app/example/services.py", ast.parse(source), refusal_classes())
    validators = scan("app/example/inputs.py", ast.parse(
        'def check(v):\n    raise ValueError(f"must be one of {v}")\n    raise ValueError("must be text")\n'
        '    raise ValueError(translatable("must be text"))\n'), refusal_classes())

    assert sorted(finding.line for finding in findings) == [12, 13, 14, 15, 16, 17, 18, 20, 26]
    assert [finding.line for finding in validators] == [2, 3]
