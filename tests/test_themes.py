"""The light and dark themes: every colour comes from app.css's palette, both sets define the same names, and the
pairs the pages put together keep WCAG AA contrast in both (axe-core in e2e/test_pages_checked.py sees only the states
the demo family is in; this covers the rest: rejected, missed, notes, badges, errors)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import FamilyClient

ROOT = Path(__file__).resolve().parents[1]
APP_CSS = ROOT / "static" / "css" / "app.css"
SHEETS = sorted((ROOT / "static" / "css").glob("*.css"))
STYLE_BLOCKS = [path for path in sorted((ROOT / "templates").rglob("*.html")) if "<style>" in path.read_text()]
DARK = "@media (prefers-color-scheme: dark)"
# Layout values and per-element colours (a member's colour, a ring's progress) set in style attributes, not themed.
NOT_COLOURS = {"--radius", "--member-color", "--progress", "--ink-share"}
# The only literal colours outside the palette: white text on a darkened member colour is mixed from black; the
# confetti and the gold goal/all-done rings are decoration, the same in both themes.
ALLOWED_LITERALS = {"black", "#f1c40f", "#ffe27a", "#ff5e5b", "#ffd23f", "#3bceac", "#4b5bdc", "#ee6fd0"}
# (text or mark, background): what the stylesheets put on what. AA: 4.5:1 for text, 3:1 for large text (the kid's
# big buttons and numbers) and controls.
TEXT_PAIRS = [("--fg", "--bg"), ("--fg", "--card"), ("--muted", "--bg"), ("--muted", "--card"), ("--muted", "--soft"),
              ("--accent", "--card"), ("--accent", "--bg"), ("--on-accent", "--accent"), ("--fg", "--field-bg"),
              ("--ok", "--ok-bg"), ("--ok", "--card"), ("--on-ok", "--ok"), ("--warn", "--warn-bg"),
              ("--warn", "--card"), ("--bad", "--bad-bg"), ("--bad", "--card"), ("--bad-fg", "--bad-bg"),
              ("--on-danger", "--danger"), ("--wait", "--wait-bg"), ("--warn", "--wait-card"),
              ("--muted", "--wait-card"), ("--muted", "--ok-bg"), ("--note-fg", "--note-bg"),
              ("--info-fg", "--info-bg"), ("--fg", "--highlight-bg"), ("--fg", "--gold-bg"), ("--fg", "--green-bg"),
              ("--fg", "--red-bg"), ("--green-fg", "--green-bg"), ("--green-fg", "--ok-bg"), ("--goal-fg", "--card"),
              ("--waiting-fg", "--waiting-badge-bg"), ("--waiting-fg", "--card"), ("--muted", "--waiting-card-bg"),
              ("--done-badge-fg", "--done-badge-bg"), ("--muted", "--done-card-bg"), ("--missed-fg", "--soft"),
              ("--other-month-fg", "--soft"), ("--fg", "--day-bg"), ("--fg", "--soft")]


def palettes() -> dict[str, dict[str, str]]:
    """The light and the dark set of custom properties, as written in app.css."""
    css = APP_CSS.read_text()
    light_block = css[css.index(":root {"):css.index(DARK)]
    dark_block = css[css.index(DARK):]
    dark_block = dark_block[:dark_block.index("}\n}") + 1]
    return {name: dict(re.findall(r"(--[a-z-]+):\s*([^;}]+?)\s*[;}]", block))
            for name, block in (("light", light_block), ("dark", dark_block))}


def rgb(value: str) -> tuple[float, float, float]:
    named = {"white": "#ffffff", "black": "#000000"}
    hex_digits = named.get(value, value).lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    return tuple(int(hex_digits[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        r, g, b_ = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb(colour))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def without_palette(path: Path) -> str:
    text = path.read_text()
    if path == APP_CSS:
        text = text[text.index("* { box-sizing"):]
    return re.sub(r"/\*.*?\*/|\{#.*?#\}", "", text, flags=re.S)


def test_both_themes_define_the_same_colours() -> None:
    sets = palettes()
    assert set(sets["dark"]) - {"--radius"} == set(sets["light"]) - {"--radius"}


@pytest.mark.parametrize("path", SHEETS + STYLE_BLOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_colour_comes_from_the_palette(path: Path) -> None:
    text = without_palette(path)
    if path.suffix == ".html":
        text = "\n".join(re.findall(r"<style>(.*?)</style>", text, flags=re.S))
    defined = set(palettes()["light"]) | NOT_COLOURS
    used = set(re.findall(r"var\((--[a-z-]+)", text))
    assert used <= defined, f"undefined custom properties: {used - defined}"
    literals = {m.lower() for m in re.findall(r"#[0-9a-fA-F]{3,6}\b|\b(?:white|black)\b(?!-)", text)}
    assert literals <= ALLOWED_LITERALS, f"hard-coded colours (use a palette variable): {literals - ALLOWED_LITERALS}"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS, ids=[f"{a}-on-{b}" for a, b in TEXT_PAIRS])
def test_text_keeps_aa_contrast(theme: str, text: str, background: str) -> None:
    colours = palettes()[theme]
    ratio = contrast(colours[text], colours[background])
    assert ratio >= 4.5, f"{theme}: {text} {colours[text]} on {background} {colours[background]} is {ratio:.2f}:1"


def test_the_installed_tablet_takes_its_colours_from_the_themes(client: FamilyClient) -> None:
    """The manifest has one colour of each kind, so it takes the light theme's (the top bar, the page); the page's
    theme-color tags give each theme its own bar, the dark one included."""
    manifest = client.get("/manifest.webmanifest").get_json()
    page = (ROOT / "templates" / "base.html").read_text()
    bars = {media: colour for colour, media in re.findall(
        r'<meta name="theme-color" content="(#[0-9a-f]{6})" media="\(prefers-color-scheme: (light|dark)\)">', page)}
    light, dark = palettes()["light"], palettes()["dark"]
    assert manifest["theme_color"] == bars["light"] == normalised(light["--card"])
    assert bars["dark"] == normalised(dark["--card"])
    assert manifest["background_color"] == normalised(light["--bg"])


def normalised(colour: str) -> str:
    """#fff → #ffffff, as the manifest and the theme-color tags write it."""
    named = {"white": "#ffffff", "black": "#000000"}
    digits = named.get(colour, colour).lstrip("#").lower()
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)
