"""Family-versioned caching never serves a stale view, never crosses families, and steps aside when Redis is down.

Every cached view is read (a miss that stores it), read again (a hit), then each write — through a page and
through the API — is made, and every view read once more must be a miss whose body is exactly what an uncached
render says (CSRF tokens aside: they are signed per request). Another family's writes leave this family's
entries alone and nothing of theirs shows here; with Redis down every answer is rendered from the database, and
the write made meanwhile still invalidates what was cached before the outage.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
import redis
from flask import Flask
from werkzeug.test import TestResponse

from app import view_cache
from app.auth import DEVICE_COOKIE
from app.auth.services import register_device
from app.db.bases import utcnow
from app.members.models import Member, MemberRole
from app.redis_store import EXTENSION_KEY, PROBE_KEY, RedisProbe
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from tests.chores.page_helpers import HTMX, Poster
from tests.conftest import Auth, FamilyClient
from tests.test_query_budgets import Household, household  # noqa: F401 - the fixture, shared

_CSRF = re.compile(rb'(csrf_token" value="|"X-CSRFToken": ")[^"]*')


@dataclass
class Viewers:
    """Everyone who reads the cached views, each with their own client (and tokens for the API)."""

    kid: FamilyClient
    parent: FamilyClient
    tablet: FamilyClient
    api: FamilyClient
    parent_api: dict[str, str]
    kid_api: dict[str, str]


View = tuple[str, Callable[[Viewers], TestResponse]]


def views(maya: uuid.UUID) -> list[View]:
    """Every family-versioned view, as the one who polls it asks for it."""
    return [
        ("kid view", lambda v: v.kid.get("/me")),
        ("kid chores", lambda v: v.kid.get("/me/chores", headers=HTMX)),
        ("kid stats", lambda v: v.kid.get("/me/stats", headers=HTMX)),
        ("wall", lambda v: v.tablet.get("/wall")),
        ("wall board", lambda v: v.tablet.get("/wall/board", headers=HTMX)),
        ("Today", lambda v: v.parent.get("/today")),
        ("Today summary", lambda v: v.parent.get("/today/summary", headers=HTMX)),
        ("Today open chores", lambda v: v.parent.get("/today/open", headers=HTMX)),
        ("Today kid card", lambda v: v.parent.get(f"/today/kids/{maya}", headers=HTMX)),
        ("/api/chores", lambda v: v.api.get("/api/chores", headers=v.parent_api)),
        ("/api/assignments", lambda v: v.api.get("/api/assignments", headers=v.parent_api)),
        ("/api/users/<kid>/points", lambda v: v.api.get(f"/api/users/{maya}/points", headers=v.parent_api)),
        ("/api/leaderboard/weekly", lambda v: v.api.get("/api/leaderboard/weekly", headers=v.parent_api)),
        ("/api/assignments/my-assignments",
         lambda v: v.api.get("/api/assignments/my-assignments", headers=v.kid_api)),
    ]


def body(response: TestResponse) -> bytes:
    return _CSRF.sub(rb"\1", response.get_data())


@contextmanager
def cache_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The truth: the same request rendered from the database, the cache not consulted."""
    with monkeypatch.context() as patch:
        patch.setattr(view_cache, "_client", lambda: None)
        yield


@pytest.fixture(autouse=True)
def frozen_minute(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Today's views are kept a minute at most ("overdue" changes with the clock): a slow test must not cross one."""
    minute = ["0"]
    monkeypatch.setattr(view_cache, "now_bucket", lambda _now, _seconds=60: minute[0])
    return minute


@pytest.fixture
def viewers(app: Flask, household: Household, auth: Auth, client_for: Callable[..., FamilyClient],  # noqa: F811
            in_family: Callable[..., AbstractContextManager[FamilyContext]]) -> Viewers:
    family, maya = household.family, household.kids[1]
    with in_family(family) as ctx:
        _device, token = register_device(ctx.session, ctx.session.get(Member, household.parent.id), name="Kitchen",
                                         now=utcnow())
        ctx.session.commit()
    kid, parent, tablet, api = (client_for(family) for _ in range(4))
    auth.sign_in(kid, maya, family)
    auth.sign_in(parent, household.parent, family)
    tablet.set_cookie(DEVICE_COOKIE, token, domain=tablet.host.split(":")[0])
    return Viewers(kid=kid, parent=parent, tablet=tablet, api=api,
                   parent_api=auth.bearer(household.parent, family), kid_api=auth.bearer(maya, family))


def warm(viewers: Viewers, every: list[View]) -> dict[str, bytes]:
    """Read every view until it is served from the cache; what each one shows."""
    shown = {}
    for name, read in every:
        read(viewers)  # a first read may materialise the day or stamp a last-seen time (a write: a new version)
        read(viewers)
        answer = read(viewers)
        assert answer.status_code == 200, (name, answer.status_code)
        assert answer.headers.get("X-View-Cache") == "hit", (name, answer.headers.get("X-View-Cache"))
        shown[name] = body(answer)
    return shown


def assert_fresh(viewers: Viewers, every: list[View], monkeypatch: pytest.MonkeyPatch, after: str,
                 cache: str | None = "miss") -> dict[str, bytes]:
    """Every view now shows exactly what an uncached render shows (and was not served from an old entry)."""
    shown = {}
    for name, read in every:
        answer = read(viewers)
        assert answer.status_code == 200, (after, name, answer.status_code)
        assert answer.headers.get("X-View-Cache") == cache, (after, name, answer.headers.get("X-View-Cache"))
        with cache_off(monkeypatch):
            truth = read(viewers)
        assert body(answer) == body(truth), f"{name} after {after}: the cached answer is not the database's"
        shown[name] = body(answer)
    return shown


Write = tuple[str, str, Callable[[Viewers, Household], TestResponse]]


def writes() -> list[Write]:
    """(what, a view it must visibly change, the write) — through pages and the API alike."""
    def kid_taps(v: Viewers, h: Household) -> TestResponse:
        return Poster()(v.kid, f"/me/assignments/{h.todo[h.kids[1].id][0]}/complete", htmx=True)

    def kid_completes_by_api(v: Viewers, h: Household) -> TestResponse:
        return v.api.post(f"/api/assignments/{h.todo[h.kids[1].id][1]}/complete", json={}, headers=v.kid_api)

    def parent_approves(v: Viewers, h: Household) -> TestResponse:
        return Poster()(v.parent, f"/today/assignments/{h.waiting[h.kids[1].id]}/approve", htmx=True)

    def parent_bonus_by_api(v: Viewers, h: Household) -> TestResponse:
        return v.api.post(f"/api/users/{h.kids[1].id}/bonus", json={"points": 7, "reason": "Tidy room"},
                          headers=v.parent_api)

    def parent_deduction_on_page(v: Viewers, h: Household) -> TestResponse:
        return Poster()(v.parent, f"/today/kids/{h.kids[1].id}/points",
                        {"kind": "deduction", "amount": "2", "reason": "Shouting"}, htmx=True)

    def parent_adds_chore_by_api(v: Viewers, _h: Household) -> TestResponse:
        return v.api.post("/api/chores", json={"name": "Water the plants", "base_points": 3},
                          headers=v.parent_api)

    return [("tap-done on the kid's page", "kid chores", kid_taps),
            ("a completion through the API", "/api/assignments/my-assignments", kid_completes_by_api),
            ("an approval on Today", "Today", parent_approves),
            ("a bonus through the API", "/api/users/<kid>/points", parent_bonus_by_api),
            ("a deduction on Today", "kid stats", parent_deduction_on_page),
            ("a new chore through the API", "/api/chores", parent_adds_chore_by_api)]


def test_no_stale_view_survives_a_write(household: Household, viewers: Viewers,  # noqa: F811
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    every = views(household.kids[1].id)
    for what, changed, write in writes():
        before = warm(viewers, every)
        answer = write(viewers, household)
        assert answer.status_code < 400, (what, answer.status_code, answer.get_data(as_text=True)[:300])
        after = assert_fresh(viewers, every, monkeypatch, what)
        assert after[changed] != before[changed], f"{what} should change {changed}"


def test_hits_are_the_views_byte_for_byte(household: Household, viewers: Viewers,  # noqa: F811
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    every = views(household.kids[1].id)
    warm(viewers, every)
    assert_fresh(viewers, every, monkeypatch, "nothing", cache="hit")


def test_pollers_get_304_for_an_unchanged_fragment_or_list(household: Household, viewers: Viewers  # noqa: F811
                                                           ) -> None:
    viewers.kid.get("/me/chores", headers=HTMX)
    chores = viewers.kid.get("/me/chores", headers=HTMX)
    same = viewers.kid.get("/me/chores", headers={**HTMX, "If-None-Match": chores.headers["ETag"]})
    assert same.status_code == 304 and same.get_data() == b""
    listing = viewers.api.get("/api/chores", headers=viewers.parent_api)
    same = viewers.api.get("/api/chores", headers={**viewers.parent_api, "If-None-Match": listing.headers["ETag"]})
    assert same.status_code == 304 and same.get_data() == b""
    # After a write the tag moves on: the poller gets the new list.
    viewers.api.post("/api/chores", json={"name": "Feed the cat", "base_points": 2}, headers=viewers.parent_api)
    fresh = viewers.api.get("/api/chores", headers={**viewers.parent_api, "If-None-Match": listing.headers["ETag"]})
    assert fresh.status_code == 200 and b"Feed the cat" in fresh.get_data()
    # A whole page is never answered 304 (the browser's copy would keep an old CSRF token).
    page = viewers.kid.get("/me")
    assert "ETag" not in page.headers


def test_another_familys_writes_neither_invalidate_nor_leak(
        app: Flask, household: Household, viewers: Viewers, make_family: Callable[..., FamilyRecord],  # noqa: F811
        create_member: Callable[..., Member], auth: Auth, client_for: Callable[..., FamilyClient],
        monkeypatch: pytest.MonkeyPatch) -> None:
    every = views(household.kids[1].id)
    other = make_family(name=household.family.name)  # the same name: only the family's keyspace tells them apart
    other_parent = create_member(family_record=other, role=MemberRole.PARENT, username="opat", display_name="Opat")
    other_kid = create_member(family_record=other, username="okid", display_name="Okid", birthdate=date(2014, 1, 1))
    other_api = client_for(other)
    other_headers = auth.bearer(other_parent, other)
    assert other_api.get("/api/chores", headers=other_headers).status_code == 200
    before = warm(viewers, every)
    made = other_api.post("/api/chores", json={"name": "Secret neighbour chore", "base_points": 9},
                          headers=other_headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert other_api.post(f"/api/users/{other_kid.id}/bonus", json={"points": 50, "reason": "Neighbour"},
                          headers=other_headers).status_code == 201
    after = assert_fresh(viewers, every, monkeypatch, "another family's writes", cache="hit")
    assert after == before
    assert all(b"Secret neighbour chore" not in shown for shown in after.values())
    theirs = other_api.get("/api/chores", headers=other_headers)
    assert b"Secret neighbour chore" in theirs.get_data()
    assert str(household.family.id).encode() not in theirs.get_data()


def test_cache_keys_live_in_the_familys_own_keyspace(app: Flask, household: Household,  # noqa: F811
                                                     viewers: Viewers) -> None:
    """An attacker controls paths, query strings and htmx headers, never the family part of a key."""
    client: redis.Redis = app.extensions[EXTENSION_KEY]
    prefix = app.config["REDIS_KEY_PREFIX"]
    forged = {**HTMX, "HX-Target": "x", "HX-Current-URL": f"http://other.{app.config['BASE_DOMAIN']}/me"}
    viewers.kid.get("/me/chores?family=00000000-0000-0000-0000-000000000000", headers=forged)
    viewers.kid.get("/me/chores", headers=forged)
    views_here = list(client.scan_iter(f"{prefix}:family:{household.family.id}:view:*"))
    assert views_here
    for key in client.scan_iter(f"{prefix}:family:*:view:*"):
        family = key.decode().split(":")[2]
        assert uuid.UUID(family)  # every entry sits under one family's id, never a shared or platform key


def _redis_down(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, dead)
    monkeypatch.setitem(app.extensions, PROBE_KEY, RedisProbe(dead))


def test_with_redis_down_views_come_from_the_database_and_nothing_stale_returns(
        app: Flask, household: Household, viewers: Viewers, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    every = views(household.kids[1].id)
    before = warm(viewers, every)
    live_client, live_probe = app.extensions[EXTENSION_KEY], app.extensions[PROBE_KEY]
    with monkeypatch.context() as outage:
        _redis_down(outage, app)
        # A write while Redis is down: its version bump cannot be made, so this process owes it.
        answer = Poster()(viewers.kid, f"/me/assignments/{household.todo[household.kids[1].id][0]}/complete",
                          htmx=True)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        assert household.family.id in view_cache._owed  # noqa: SLF001 - the outage's bookkeeping
        during = assert_fresh(viewers, every, monkeypatch, "a write during the outage", cache=None)
        assert during["kid chores"] != before["kid chores"]
    assert app.extensions[EXTENSION_KEY] is live_client and app.extensions[PROBE_KEY] is live_probe
    # Redis is back with the entries of before the outage: the owed bump is paid before anything is read.
    after = assert_fresh(viewers, every, monkeypatch, "Redis came back")
    assert household.family.id not in view_cache._owed  # noqa: SLF001
    assert after["kid chores"] != before["kid chores"]


def test_the_version_is_read_right_behind_the_tenancy_hook(app: Flask) -> None:
    """Before the session lookup or any other read: an entry then never holds data older than its version."""
    names = [f"{f.__module__}.{f.__name__}" for f in app.before_request_funcs[None]]
    hook = names.index("app.tenancy.hook.resolve_family")
    assert names[hook + 1] == "app.view_cache._note_version_first", names


def test_today_is_kept_a_minute_at_most(household: Household, viewers: Viewers,  # noqa: F811
                                        frozen_minute: list[str]) -> None:
    """Overdue chores appear with the clock, not with a write: Today's entries belong to one minute."""
    for _ in range(3):
        today, me = viewers.parent.get("/today"), viewers.kid.get("/me")
    assert today.headers.get("X-View-Cache") == "hit" and me.headers.get("X-View-Cache") == "hit"
    frozen_minute[0] = "1"
    assert viewers.parent.get("/today").headers.get("X-View-Cache") == "miss"
    assert viewers.kid.get("/me").headers.get("X-View-Cache") == "hit"  # the kid's cards do not change with the clock


def test_a_tablet_turns_activity_leaves_the_cache_alone(household: Household, viewers: Viewers,  # noqa: F811
                                                         in_family) -> None:  # noqa: ANN001
    """A kid's turn is extended every few seconds while they tap; that write must not empty the family's cache."""
    from sqlalchemy import select, update

    from app.auth.models import MemberSession

    for _ in range(3):
        me = viewers.kid.get("/me")
    assert me.headers.get("X-View-Cache") == "hit"
    with in_family(household.family) as ctx:
        ctx.session.execute(update(MemberSession).values(last_seen_at=utcnow()))
        ctx.session.commit()
    assert viewers.kid.get("/me").headers.get("X-View-Cache") == "hit"
    with in_family(household.family) as ctx:
        kid = ctx.session.scalar(select(Member).where(Member.id == household.kids[0].id))
        assert kid is not None
        kid.display_name = kid.display_name + "!"
        ctx.session.commit()
    assert viewers.kid.get("/me").headers.get("X-View-Cache") == "miss"


def test_a_revoked_session_is_refused_on_the_next_request_with_its_view_cached(household: Household,  # noqa: F811
                                                                              viewers: Viewers, in_family) -> None:  # noqa: ANN001
    """Revoking writes member_sessions alone (no version bump, so the kid's entry stays): the lookup runs anyway."""
    from sqlalchemy import update

    from app.auth.models import MemberSession

    for _ in range(3):
        me = viewers.kid.get("/me")
    assert me.status_code == 200 and me.headers.get("X-View-Cache") == "hit"
    with in_family(household.family) as ctx:
        ctx.session.execute(update(MemberSession).where(MemberSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
        ctx.session.commit()
    refused = viewers.kid.get("/me")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert "X-View-Cache" not in refused.headers
