"""Benchmark a kid's "tap done": server time of POST /me/assignments/<id>/complete, p50/p95/max over 200 taps.

The target is a real gunicorn (gthread, 2 workers, deploy/gunicorn.conf.py) running the production config on
PostgreSQL and Redis. By default the script prepares everything and starts that server itself on a free port:

    .venv/bin/python scripts/bench_tap_done.py                   # 200 taps; chores wait for a parent's check
    .venv/bin/python scripts/bench_tap_done.py --auto-approve    # 200 taps that credit points (ledger + streak)
    .venv/bin/python scripts/bench_tap_done.py --requests 500 --warmup 20

To measure a server you started yourself, give its URL and the file its stdout (the JSON request log) goes to; the
environment must name the same databases, Redis and SECRET_KEY as that server (see BENCH_ENV below):

    .venv/bin/python scripts/bench_tap_done.py --url http://localhost:8000 --log /tmp/gunicorn.log

Setup goes through the services: the "bench" family is provisioned (or reused) in the bench databases
(hp_bench_platform, hp_bench_family; created when missing, both chains upgraded), with a parent, a kid and a chore;
each run hands the kid N fresh assignments for today and signs the kid in (a server-side session, as the tablet's
keypad does). The taps are the real kid endpoint: the kid's session cookie, the CSRF token from the kid's page, an
htmx request, one at a time over one keep-alive connection.

Server time is the `duration_ms` of each request's JSON log line (matched by the X-Request-ID the script sends):
from the first before-request hook to the response, in the worker. The client-side time over loopback (which adds
gunicorn's HTTP parsing and the socket round trip) is printed too, labelled as such. Without a log (--url and no
--log), only the client-side time is available and the report says so.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"

PG = "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432"
# The production config's required settings, pointed at the bench's own databases (an existing environment wins).
BENCH_ENV = {
    "HOUSEPOINTS_CONFIG": "production",
    "SECRET_KEY": "bench-secret-key-only-for-this-benchmark",
    "JWT_SECRET": "bench-jwt-secret-only-for-this-benchmark",
    "PLATFORM_DATABASE_URL": f"{PG}/hp_bench_platform",
    "FAMILY_DATABASE_URL": f"{PG}/hp_bench_family",
    "DEDICATED_DATABASE_URL_TEMPLATE": f"{PG}/hp_bench_family_{{slug}}",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "REDIS_KEY_PREFIX": "hpbench",
}
SLUG = "bench"
STARTUP_TIMEOUT = 30.0
BAR_WIDTH = 40


@dataclass(frozen=True)
class Target:
    """Where the taps go: the server's address and the Host header of the bench family."""

    host: str
    port: int
    family_host: str


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="measured taps (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="taps before measuring (default 10)")
    parser.add_argument("--auto-approve", action="store_true",
                        help="chores need no parent's check, so each tap credits points (ledger row + streak)")
    parser.add_argument("--url", help="a running server's base URL (apex, e.g. http://localhost:8000); "
                                      "default: start gunicorn on a free port")
    parser.add_argument("--log", type=Path, help="that server's stdout log file, for server-side durations")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers when starting one (default 2)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    if args.url:
        parts = urlsplit(args.url)
        port = parts.port or 80
        base_domain = f"{parts.hostname}:{port}" if parts.port else str(parts.hostname)
        target = Target(host="127.0.0.1", port=port, family_host=f"{SLUG}.{base_domain}")
    else:
        port = _free_port()
        base_domain = f"localhost:{port}"
        target = Target(host="127.0.0.1", port=port, family_host=f"{SLUG}.{base_domain}")
    os.environ["BASE_DOMAIN"] = base_domain
    os.environ.setdefault("FLASK_APP", "wsgi:app")

    print(f"Preparing the bench databases and the '{SLUG}' family …", flush=True)
    prepare_databases()
    count = args.requests + args.warmup
    assignment_ids, cookie = prepare_family(count, auto_approve=args.auto_approve)
    print(f"  {count} assignments for today ({'auto-approved' if args.auto_approve else 'waiting for a parent'})")

    with server(args, target) as log_path:
        csrf, cookie = open_kid_page(target, cookie)
        run_id = uuid.uuid4().hex[:8]
        client_ms, failures = tap_all(target, cookie, csrf, assignment_ids, run_id, warmup=args.warmup)
        server_ms = read_durations(log_path, run_id, args.requests) if log_path else {}

    measured = [f"bench-{run_id}-{i}" for i in range(args.warmup, count)]
    print()
    print(f"tap done: POST /me/assignments/<id>/complete × {args.requests} "
          f"({'auto-approve: credits points' if args.auto_approve else 'waits for a parent'}), "
          f"{args.warmup} warm-up taps not counted")
    if failures:
        print(f"  FAILED requests: {len(failures)} (first: {failures[0]})")
    if server_ms:
        found = [server_ms[rid] for rid in measured if rid in server_ms]
        print(f"  server time (request log duration_ms, {len(found)} requests): {summary(found)}")
    else:
        print("  server time: not available (no server log); only the client-side time below")
    print(f"  client time over loopback (includes HTTP parsing and the socket round trip): "
          f"{summary(client_ms[args.warmup:])}")
    return 1 if failures else 0


# --- setup ------------------------------------------------------------------------------------------------------

def _flask(*args: str) -> None:
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=os.environ.copy(), capture_output=True,
                            text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"`flask {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")


def prepare_databases() -> None:
    """Create the bench databases when missing and bring both migration chains to head."""
    from app.tenancy.databases import create_database, database_exists

    for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL"):
        if not database_exists(os.environ[key]):
            create_database(os.environ[key])
    _flask("db", "upgrade")
    _flask("families", "upgrade", "--all")


def prepare_family(count: int, *, auto_approve: bool) -> tuple[list[str], str]:
    """The bench family (made once), N fresh assignments for its kid, and the kid's signed session cookie."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app import create_app
    from app.assignments.inputs import AssignmentInput
    from app.assignments.services import create_assignment, load_family_rules
    from app.auth.services import start_session
    from app.chores.inputs import ChoreInput
    from app.chores.models import Chore
    from app.chores.services import create_chore
    from app.db import engines, platform_engine
    from app.db.bases import utcnow
    from app.members.models import Member
    from app.members.services import create_member
    from app.platform.models import Family
    from app.tenancy.cli import placement_config
    from app.tenancy.context import family_context
    from app.tenancy.provisioning import provision_family
    from config import config_from_env

    app = create_app(config_from_env())
    now = utcnow()
    with app.app_context():
        with Session(platform_engine(), expire_on_commit=False) as platform:
            if platform.scalar(select(Family).where(Family.slug == SLUG)) is None:
                provision_family(platform, engines(), placement_config(), slug=SLUG, name="Benchmark Family",
                                 timezone="UTC", plan="free")
        with family_context(SLUG) as ctx:
            session = ctx.session
            rules = load_family_rules(session, ctx.family.timezone)
            today = rules.clock.today(now)
            parent = session.scalar(select(Member).where(Member.username_key == "bench-parent"))
            if parent is None:
                parent = create_member(session, actor=None, plan="free", today=today, username="bench-parent",
                                       display_name="Parent", role="parent")
            kid = session.scalar(select(Member).where(Member.username_key == "bench-kid"))
            if kid is None:
                kid = create_member(session, actor=parent, plan="free", today=today, username="bench-kid",
                                    display_name="Kid", role="child")
            name = "Tap done (auto)" if auto_approve else "Tap done"
            chore = session.scalar(select(Chore).where(Chore.name == name))
            if chore is None:
                # No schedule: only the assignments made here exist, so the day's materialising adds nothing.
                chore = create_chore(session, actor=parent, today=today, data=ChoreInput(
                    name=name, icon="⏱️", base_points=5, requires_verification=not auto_approve))
            handed_out = AssignmentInput(chore_id=chore.id, assigned_to=kid.id, points_offered=5, due_date=today)
            ids = [str(create_assignment(session, actor=parent, data=handed_out, rules=rules, now=now).id)
                   for _ in range(count)]
            started = start_session(session, kid, now=now)
            session.commit()
            family_id = str(ctx.family.id)
        cookie = app.session_interface.get_signing_serializer(app).dumps(
            {"family_id": family_id, "_user_id": started.token, "_fresh": True})
        engines().dispose_all()
    return ids, cookie


# --- the server -------------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(args: argparse.Namespace, target: Target) -> Iterator[Path | None]:
    """The given server (and its log, if named), or gunicorn started here and stopped afterwards."""
    if args.url:
        yield args.log
        return
    log_path = Path(tempfile.mkdtemp(prefix="bench-tap-done-")) / "gunicorn.log"
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{target.port}", "WEB_CONCURRENCY": str(args.workers)}
    print(f"Starting gunicorn on 127.0.0.1:{target.port} ({args.workers} workers, production config); "
          f"log: {log_path}", flush=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        _wait_until_healthy(process, target, log_path)
        yield log_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only this gunicorn's processes
                process.wait(timeout=15)


def _wait_until_healthy(process: subprocess.Popen[bytes], target: Target, log_path: Path) -> None:
    apex = target.family_host.split(".", 1)[1]
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            status, _, _ = request(target, "GET", "/health", host=apex)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /health within {STARTUP_TIMEOUT:.0f}s; see {log_path}")


# --- the taps ---------------------------------------------------------------------------------------------------

_connection: http.client.HTTPConnection | None = None


def request(target: Target, method: str, path: str, *, host: str | None = None, headers: dict[str, str] | None = None,
            body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request over the kept-alive loopback connection (reopened if the server closed it)."""
    global _connection
    for attempt in (1, 2):
        if _connection is None:
            _connection = http.client.HTTPConnection(target.host, target.port, timeout=30)
        try:
            _connection.request(method, path, body=body, headers={"Host": host or target.family_host,
                                                                  **(headers or {})})
            response = _connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        except (OSError, http.client.HTTPException) as error:
            _connection.close()
            _connection = None
            stale = isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
            if attempt == 2 or not stale:  # only a kept-alive connection the server closed is worth a retry
                raise
    raise AssertionError("unreachable")


def open_kid_page(target: Target, cookie: str) -> tuple[str, str]:
    """Load the kid's page as the tablet would: its CSRF token, and the session cookie that now holds it."""
    status, headers, body = request(target, "GET", "/me", headers={"Cookie": f"session={cookie}"})
    if status != 200:
        raise SystemExit(f"GET /me answered {status}: the kid's session was not accepted")
    found = re.search(rb'"X-CSRFToken": "([^"]+)"', body)
    if not found:
        raise SystemExit("no CSRF token on the kid's page")
    refreshed = re.search(r"session=([^;]+)", headers.get("set-cookie", ""))
    return found.group(1).decode(), refreshed.group(1) if refreshed else cookie


def tap_all(target: Target, cookie: str, csrf: str, assignment_ids: list[str], run_id: str, *, warmup: int
            ) -> tuple[list[float], list[str]]:
    """POST each tap in turn, showing progress; returns client-side milliseconds and any failures."""
    headers = {"Cookie": f"session={cookie}", "X-CSRFToken": csrf, "HX-Request": "true",
               "Content-Type": "application/x-www-form-urlencoded"}
    client_ms: list[float] = []
    failures: list[str] = []
    total = len(assignment_ids)
    for index, assignment_id in enumerate(assignment_ids):
        started = time.perf_counter()
        status, _, body = request(target, "POST", f"/me/assignments/{assignment_id}/complete", body=b"",
                                  headers={**headers, "X-Request-ID": f"bench-{run_id}-{index}"})
        client_ms.append((time.perf_counter() - started) * 1000)
        if status != 200 or b"data-chore-card" not in body:
            failures.append(f"{assignment_id}: {status} {body[:200]!r}")
        if index + 1 == total or (index + 1) % 5 == 0:
            done = index + 1
            filled = BAR_WIDTH * done // total
            phase = "warm-up" if done <= warmup else "measuring"
            print(f"\r  [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} taps ({phase})   ", end="",
                  flush=True)
    print()
    return client_ms, failures


def read_durations(log_path: Path, run_id: str, expected: int) -> dict[str, float]:
    """duration_ms per request id from the server's JSON request log (waits briefly for the last lines)."""
    prefix = f"bench-{run_id}-"
    durations: dict[str, float] = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        durations.clear()
        for line in log_path.read_text(errors="replace").splitlines():
            if prefix not in line or not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "request" and entry.get("duration_ms") is not None:
                durations[entry["request_id"]] = float(entry["duration_ms"])
        if len(durations) >= expected:
            break
        time.sleep(0.2)
    return durations


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def summary(values: list[float]) -> str:
    if not values:
        return "no data"
    return (f"p50 {percentile(values, 0.50):.2f} ms · p95 {percentile(values, 0.95):.2f} ms · "
            f"max {max(values):.2f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
