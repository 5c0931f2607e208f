"""Hostile Host headers through the whole app: each answered 400/404, never 5xx, never reaching a family."""
from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask, g, request_tearing_down

from app.tenancy import registry
from app.tenancy.registry import FamilyRecord


def wsgi_get(app: Flask, host: str, path: str) -> tuple[int, bytes]:
    """Send a raw Host (as a proxy would pass it, control bytes included) through the WSGI stack."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "5000", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": host,
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    statuses: list[str] = []
    body = app.wsgi_app(environ, lambda status, _headers, _exc=None: statuses.append(status))
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return int(statuses[0].split()[0]), data


@pytest.fixture
def families_reached(app: Flask) -> Iterator[list[FamilyRecord]]:
    """Every family a request was let into (g.family at teardown), from Flask's own signal."""
    reached: list[FamilyRecord] = []

    def note(_sender: Flask, **_extra: object) -> None:
        family = g.get("family")
        if family is not None:
            reached.append(family)

    request_tearing_down.connect(note, app)
    yield reached
    request_tearing_down.disconnect(note, app)


def hostile_hosts(slug: str) -> list[str]:
    """Hosts an attacker might send, many built from a real family's slug so a wrong parse would reach it."""
    base = "localhost:5000"
    confusable = slug.replace("a", "\u0430", 1).replace("f", "\u0192", 1)  # Cyrillic a, Latin f with hook
    return [
        # long labels
        f"{'a' * 64}.{base}", f"{'b' * 200}.{base}", f"{'c' * 5000}.{base}", f"{slug}{'x' * 60}.{base}",
        f"{'d' * 5000}:{'9' * 100}",
        # unicode and punycode
        f"{confusable}.{base}", f"sm\u00efth.{base}", f"\u65e5\u672c.{base}", f"{slug}\u200b.{base}",
        f"xn--smth-8na.{base}", f"xn--{slug}.{base}", f"xn--80ak6aa92e.{base}", f"{slug}.xn--lcalhost-5za:5000",
        # mixed case of a name nobody owns
        "NoSuch-Family.LocalHost:5000", f"{slug.upper()}-X.LOCALHOST:5000",
        # NUL and control bytes
        f"{slug}\x00.{base}", f"{slug}.localhost\x00:5000", f"\x00{slug}.{base}", f"{slug}\r\nX-Evil: 1.{base}",
        f"{slug}\t.{base}", f"{slug}\x7f.{base}", f"{slug} .{base}", f" {slug} .{base}x",
        # dots
        f"{slug}..{base}", f"{slug}.localhost..:5000", f".{slug}.{base}", f"{slug}.{base.replace(':', '.:.')}",
        f"..{base}", ".", "..:5000",
        # ports
        f"{slug}.localhost:5001", f"{slug}.localhost:abc", f"{slug}.localhost:", f"{slug}.localhost:5000:5000",
        f"{slug}.localhost:05000", f"{slug}.localhost:-1", f"{slug}.localhost:99999999999999999999",
        # IPs and other shapes
        "127.0.0.1:5000", "[::ffff:127.0.0.1]:5000", "[::1", "[]:5000", "2130706433:5000", "0x7f.1:5000",
        f"{slug}@evil.com", f"evil.com#.{base}", f"{slug}.localhost/evil:5000", f"{slug}%2e{base}", "",
    ]


@pytest.mark.parametrize("path", ["/", "/api/family/info", "/members/"])
def test_hostile_hosts_get_4xx_and_never_a_family(app: Flask, family: FamilyRecord,
                                                   families_reached: list[FamilyRecord], path: str) -> None:
    answers: dict[str, int] = {}
    for host in hostile_hosts(family.slug):
        status, body = wsgi_get(app, host, path)
        answers[host] = status
        assert family.name.encode() not in body, host
        assert str(family.id).encode() not in body, host
    assert {host: code for host, code in answers.items() if code not in (400, 404)} == {}
    assert families_reached == []
    # The well-formed host of the same family still works, so the answers above are about the Host alone.
    assert wsgi_get(app, f"{family.slug}.localhost:5000", "/api/family/info")[0] == 200
    assert [f.id for f in families_reached] == [family.id]


def test_a_flood_of_hostile_lookups_stays_4xx_and_bounded(app: Flask, family: FamilyRecord,
                                                          families_reached: list[FamilyRecord]) -> None:
    """Thousands of distinct junk hosts: each 4xx, the negative cache stops at its bound, no family is entered."""
    with app.app_context():
        bound = registry().cache_sizes()["unknown_slugs_max"]
    codes: set[int] = set()
    for i in range(bound + 500):
        host = (f"{family.slug}-{i}.localhost:5000", f"x{i}\x00.localhost:5000", f"xn--{i}.localhost:5000",
                f"{'q' * (60 + i % 5000)}.localhost:5000")[i % 4]
        codes.add(wsgi_get(app, host, "/api/family/info")[0])
    assert codes <= {400, 404}
    assert families_reached == []
    with app.app_context():
        assert registry().cache_sizes()["unknown_slugs"] <= bound
