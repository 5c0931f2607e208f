"""The Spanish catalog is complete: every translatable string the code has today (extracted afresh with pybabel, as
`make translations-update` does) has a real, non-fuzzy Spanish translation with the same placeholders, and the
compiled catalog the app loads is built from the current .po file."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SPANISH_PO = ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Today's translatable strings, extracted from app/ and templates/ into a new .pot."""
    pot = tmp_path_factory.mktemp("catalog") / "messages.pot"
    # The same keywords as the Makefile's `translations-update`.
    keywords = ["-k", "translatable", "-k", "phrase", "-k", "plural_phrase:1,2", "-k", "_t"]
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *keywords,
                    "--no-location", "-o", str(pot), "app", "templates"],
                   cwd=ROOT, check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return pot


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _key(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def test_every_string_has_a_spanish_translation(fresh_template: Path) -> None:
    with fresh_template.open("rb") as pot, SPANISH_PO.open("rb") as po:
        template, spanish = read_po(pot), read_po(po, locale="es")
    untranslated, fuzzy, mismatched = [], [], []
    for message in template:
        if not message.id:
            continue
        found = spanish.get(message.id, context=message.context)
        if found is None or not all(form.strip() for form in _forms(found.string)):
            untranslated.append(message.id)
        elif found.fuzzy:
            fuzzy.append(message.id)
        elif any(set(PLACEHOLDER.findall(form)) != set(PLACEHOLDER.findall(_forms(message.id)[0]))
                 for form in _forms(found.string)):
            mismatched.append(message.id)

    assert len(template) > 600  # the extraction really ran over the templates and the code
    assert untranslated == [], "translate these in translations/es/LC_MESSAGES/messages.po (make translations-update)"
    assert fuzzy == [] and mismatched == []


def test_the_compiled_catalog_matches_the_po_file() -> None:
    assert SPANISH_MO.exists(), "compile the catalogs: make setup (pybabel compile -d translations)"
    with SPANISH_MO.open("rb") as mo, SPANISH_PO.open("rb") as po:
        compiled = {(message.context, _key(message.id)): _key(message.string) for message in read_mo(mo)
                    if message.id}
        source = {(message.context, _key(message.id)): _key(message.string)
                  for message in read_po(po, locale="es") if message.id and not message.fuzzy}

    assert compiled == source, "the .mo is stale: make setup (pybabel compile -d translations)"
