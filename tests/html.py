"""Reading pages in tests: CSS selectors over parsed HTML (selectolax), never regular expressions over markup."""
from __future__ import annotations

from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node


def parse(page: Any) -> HTMLParser:
    """A response (its body) or a string of HTML, parsed; fragments parse too (inside an implied <body>)."""
    return HTMLParser(page if isinstance(page, str) else page.get_data(as_text=True))


def select(page: Any, css: str) -> list[Node]:
    """Every element matching `css`, in document order."""
    return parse(page).css(css)


def one(page: Any, css: str) -> Node:
    """The only element matching `css` (fails the test when there are none or several)."""
    found = select(page, css)
    assert len(found) == 1, f"{len(found)} elements match {css!r}"
    return found[0]


def squash(text: str) -> str:
    """Runs of whitespace as one space, ends trimmed: text as a reader sees it."""
    return " ".join(text.split())


def texts(page: Any, css: str) -> list[str]:
    """The visible text of each element matching `css`."""
    return [squash(node.text()) for node in select(page, css)]


def text(page: Any, css: str = "body") -> str:
    """All the visible text under the first element matching `css` (the whole page by default)."""
    found = parse(page).css_first(css)
    assert found is not None, f"nothing matches {css!r}"
    return squash(found.text())


def field_value(page: Any, name: str) -> str:
    """The value of the first form field named `name` (a hidden token, a filled-in input), as a browser sends it."""
    found = parse(page).css_first(f'[name="{name}"]')
    assert found is not None, f"no field named {name!r}"
    return found.attributes.get("value") or ""


def first_element(page: Any) -> Node:
    """The fragment's outermost element (what htmx swaps in)."""
    body = parse(page).body
    assert body is not None and body.child is not None
    node = body.child
    while node is not None and (node.tag or "-").startswith(("-", "_")):
        node = node.next
    assert node is not None, "no element in the fragment"
    return node
