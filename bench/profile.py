"""Where a request's CPU goes: the mix's request kinds sent in-process to the app over the seeded fleet.

    PYTHONPATH=. .venv/bin/python -m bench.profile                       # CPU ms and statements per kind, cold and warm
    PYTHONPATH=. .venv/bin/python -m bench.profile --profile kid_view    # + cProfile of that kind's warm requests
    PYTHONPATH=. .venv/bin/python -m bench.profile --miss                # every cached view rendered (a miss's cost)

The app is built with the production config and the fleet's databases (bench/fleet.py), as gunicorn builds it, and
driven by Werkzeug's test client: no HTTP parsing, no other processes, so the CPU time this process spends is the
request's own Python (plus the client work of talking to PostgreSQL and Redis), measured with `time.process_time`,
which the machine's other load does not change much. "cold" is each family's first request of that kind in this
process (registry, rules and view caches empty for it); "warm" is the same families again. Needs a seeded fleet
(`make bench` seeds it); tap-done uses up each family's last two taps until the next
`make bench` refreshes them (then it measures the cheaper answer to a second tap: read its statuses).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from typing import Any

from bench import fleet

KINDS = ["ceiling", "landing", "kid_view", "parent_today", "api_chores", "api_my_assignments", "api_points",
         "api_leaderboard", "tap_done"]
# Inclusive CPU shares are summed by where a function lives (the first match wins).
AREAS = [("app/tenancy", "tenancy"), ("app/request_log", "request log"), ("app/metrics", "metrics"),
         ("app/view_cache", "view cache"), ("app/auth", "auth / sessions"), ("app/db", "app.db (gate, scoping)"),
         ("app/", "app (other)"), ("sqlalchemy", "SQLAlchemy"), ("psycopg", "psycopg"), ("jinja2", "Jinja"),
         ("redis", "redis-py"), ("werkzeug", "Werkzeug"), ("flask_login", "Flask-Login"), ("flask_wtf", "Flask-WTF"),
         ("flask_limiter", "Flask-Limiter"), ("limits", "Flask-Limiter"), ("flask_babel", "Flask-Babel"),
         ("babel", "Babel"), ("flask_compress", "Flask-Compress"), ("brotli", "Flask-Compress"),
         ("prometheus_client", "prometheus-client"), ("flask/", "Flask"), ("sqlglot", "sqlglot"),
         ("jwt", "PyJWT"), ("logging", "logging"), ("json", "json")]


def request_for(kind: str, family: dict[str, Any], csrf: str, tap: str | None) -> tuple[str, str, dict[str, str]]:
    """The method, path and headers bench/mix.lua would send for this kind and family."""
    headers = {"Host": family["host"], "Accept-Encoding": "br"}
    if kind == "ceiling":
        return "GET", "/_bench/ceiling", headers
    if kind == "landing":
        return "GET", "/", {**headers, "Host": family["host"].split(".", 1)[1]}
    if kind == "kid_view":
        return "GET", "/me", {**headers, "Cookie": family["kid_cookie"]}
    if kind == "tap_done":
        # The test client speaks https under the production config, where Flask-WTF also checks the Referer.
        return "POST", f"/me/assignments/{tap}/complete", {**headers, "Cookie": family["kid_cookie"],
                                                            "X-CSRFToken": csrf, "HX-Request": "true",
                                                            "Referer": f"https://{family['host']}/me"}
    if kind == "parent_today":
        return "GET", "/today", {**headers, "Cookie": family["parent_cookie"]}
    bearer = {"api_chores": "parent_jwt", "api_my_assignments": "kid_jwt", "api_points": "parent_jwt",
              "api_leaderboard": "kid_jwt"}[kind]
    path = {"api_chores": "/api/chores", "api_my_assignments": "/api/assignments/my-assignments",
            "api_points": f"/api/users/{family['kid_id']}/points", "api_leaderboard": "/api/leaderboard/weekly"}[kind]
    return "GET", path, {**headers, "Authorization": f"Bearer {family[bearer]}"}


class StatementCounter:
    """Statements sent to any database while counting (a listener on every Engine)."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.count += 1


def area_of(filename: str) -> str:
    """The area a function's file belongs to."""
    for marker, name in AREAS:
        if marker in filename:
            return name
    return "other (stdlib, interpreter)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=200,
                        help="families per kind (default 200, spread over the fleet)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", default="", help="kinds to cProfile (warm requests), comma-separated")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--miss", action="store_true",
                        help="never serve from the view cache: every request renders (the cost of a miss)")
    args = parser.parse_args()
    fleet.apply_env()
    os.environ["BASE_DOMAIN"] = "localhost:7801"
    sys.path.insert(0, str(fleet.ROOT))
    from bench.run import credentials

    from app import create_app
    from config import config_from_env

    csrf, families = credentials()
    total = len(families)
    step = max(1, total // args.families)
    sample = families[::step][:args.families]
    app = create_app(config_from_env())
    if args.miss:
        from app import view_cache
        view_cache._read = lambda *_args: None  # noqa: SLF001 - a bench-only switch: renders and stores as on a miss, the entry is just never read
    client = app.test_client(use_cookies=False)  # each request sends its own Cookie header, as wrk does
    # The request log's JSON lines (real work, kept) go to /dev/null; this report goes to the original stdout.
    report = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = report
    counter = StatementCounter()
    rows = []
    for kind in args.kinds.split(","):
        measured: dict[str, tuple[float, float, int, dict[int, int]]] = {}
        for phase in ("cold", "warm"):
            profiler = cProfile.Profile() if kind in args.profile.split(",") and phase == "warm" else None
            statuses: dict[int, int] = defaultdict(int)
            counter.count = 0
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for family in sample:
                tap = family["taps"][-1 if phase == "cold" else -2] if kind == "tap_done" else None
                method, path, headers = request_for(kind, family, csrf, tap)
                response = client.open(path, method=method, headers=headers, data="" if method == "POST" else None)
                statuses[response.status_code] += 1
                response.close()
            if profiler:
                profiler.disable()
            n = len(sample)
            measured[phase] = ((time.process_time() - cpu) * 1000 / n, (time.perf_counter() - wall) * 1000 / n,
                               counter.count, dict(statuses))
            if profiler:
                show_profile(kind, profiler, n, args.top)
        cold, warm = measured["cold"], measured["warm"]
        rows.append((kind, cold, warm, len(sample)))
        print(f"{kind:20s} cold {cold[0]:6.2f} ms CPU ({cold[1]:6.2f} wall, {cold[2] / len(sample):4.1f} stmts) "
              f"warm {warm[0]:6.2f} ms CPU ({warm[1]:6.2f} wall, {warm[2] / len(sample):4.1f} stmts) "
              f"statuses {cold[3]} / {warm[3]}", flush=True)
    print("\n| kind | cold: CPU ms | cold: statements | warm: CPU ms | warm: statements | statuses (cold / warm) |")
    print("|---|---|---|---|---|---|")
    for kind, cold, warm, n in rows:
        print(f"| {kind} | {cold[0]:.2f} | {cold[2] / n:.1f} | {warm[0]:.2f} | {warm[2] / n:.1f} | "
              f"{cold[3]} / {warm[3]} |")
    return 0


def show_profile(kind: str, profiler: cProfile.Profile, requests: int, top: int) -> None:
    """Own CPU time summed by area, then the functions with the most own time, per request."""
    stats = pstats.Stats(profiler)
    by_area: dict[str, float] = defaultdict(float)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(values[2] for values in entries.values())
    for (filename, _line, _name), values in entries.items():
        by_area[area_of(filename)] += values[2]
    print(f"\n## {kind}: own CPU time by area, per request (cProfile inflates it; read the shares)")
    for area, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        print(f"  {area:32s} {seconds * 1000 / requests:7.3f} ms  {seconds / total:6.1%}")
    print(f"\n## {kind}: cumulative, top {top}")
    stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    raise SystemExit(main())
