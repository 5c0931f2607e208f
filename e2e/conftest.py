"""Browser tests need the real stack (gunicorn, PostgreSQL, Redis, *.localhost hosts), so this rig serves it."""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import FloatRect, Locator, Page
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.tenancy.databases import DatabaseOwner, create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"

PG = "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432"
OWNER = DatabaseOwner("hp_owner", "hp_owner")  # creates, migrates and drops the databases; the app is hp_app
# Per-run names (this process id), so concurrent runs never share databases or Redis keys.
RUN = f"r{os.getpid()}"
PLATFORM_URL = f"{PG}/hp_e2e_platform_{RUN}"
FAMILY_URL = f"{PG}/hp_e2e_family_{RUN}"
DEDICATED_TEMPLATE = f"{PG}/hp_e2e_family_{RUN}_{{slug}}"
REDIS_URL = "redis://127.0.0.1:6379/14"
REDIS_KEY_PREFIX = f"hpe2e{RUN}"

STARTUP_TIMEOUT = 90.0  # gunicorn boots slowly while other suites load the shared 2-core machine
SHUTDOWN_TIMEOUT = 10.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a Playwright-downloaded browser (see TOOLCHAIN.md)."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@dataclass(frozen=True)
class LiveServer:
    """A running gunicorn: `url("demo", "/x")` → http://demo.localhost:PORT/x, `url()` → the apex."""

    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)  # what the server runs with, for `flask` commands

    @property
    def base_domain(self) -> str:
        return f"localhost:{self.port}"

    def url(self, slug: str | None = None, path: str = "/") -> str:
        host = f"{slug}.{self.base_domain}" if slug else self.base_domain
        return f"http://{host}{path}"


def services_app(live_server: LiveServer) -> Any:
    """An app on the live server's databases and Redis: journeys prepare their data through the real services."""
    from app import create_app
    from config import TestConfig

    return create_app(TestConfig, PLATFORM_DATABASE_URL=PLATFORM_URL, FAMILY_DATABASE_URL=FAMILY_URL,
                      DEDICATED_DATABASE_URL_TEMPLATE=DEDICATED_TEMPLATE, REDIS_URL=REDIS_URL,
                      REDIS_KEY_PREFIX=REDIS_KEY_PREFIX, BASE_DOMAIN=live_server.base_domain)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _e2e_databases() -> list[str]:
    """Every e2e database on the server, with the pid of the run that made it."""
    engine = create_engine(make_url(OWNER.url_for(PLATFORM_URL)).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE 'hp\\_e2e\\_%'")))
    finally:
        engine.dispose()


def _drop_databases(*, mine: bool) -> None:
    """Drop this run's databases (mine=True) or those of runs whose process is gone (crashed runs)."""
    for name in _e2e_databases():
        match = re.search(r"_r(\d+)(?:_|$)", name)
        owner = match.group(1) if match else ""
        if mine and owner != RUN[1:]:
            continue
        if not mine and owner.isdigit() and _alive(int(owner)):
            continue
        drop_database(make_url(FAMILY_URL).set(database=name).render_as_string(hide_password=False), OWNER)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reset_databases() -> None:
    """Clean up after crashed runs, then create this run's empty databases."""
    _drop_databases(mine=False)
    for url in (PLATFORM_URL, FAMILY_URL):
        drop_database(url, OWNER)
        create_database(url, OWNER)


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _run_cli(args: list[str], env: dict[str, str], log_path: Path) -> None:
    """Run one `flask …` command; its output goes to the setup log, and into the failure if it fails."""
    command = f"flask {' '.join(args)}"
    try:
        result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=120, check=True)
    except subprocess.CalledProcessError as error:
        with log_path.open("a") as log:
            log.write(f"$ {command}\n{error.stdout}{error.stderr}\n")
        pytest.fail(f"`{command}` exited {error.returncode}:\n{error.stdout}{error.stderr}", pytrace=False)
    with log_path.open("a") as log:
        log.write(f"$ {command}\n{result.stdout}{result.stderr}\n")


def _health_status(port: int) -> int | None:
    """Status of GET /health on the apex host, or None if nothing answers yet."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/health", headers={"Host": f"localhost:{port}"})
        response = conn.getresponse()
        response.read()
        response.close()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM gunicorn's master (graceful), then kill its process group if it does not stop in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session (start_new_session): only gunicorn's processes
        process.wait(timeout=SHUTDOWN_TIMEOUT)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn on a free port with fresh e2e databases, the demo family and a second family, `other-family`."""
    port = _free_port()
    logs = tmp_path_factory.mktemp("live_server")
    setup_log, server_log = logs / "setup.log", logs / "gunicorn.log"

    _reset_databases()

    env = {
        **os.environ,
        "HOUSEPOINTS_CONFIG": "testing",
        "TEST_PLATFORM_DATABASE_URL": PLATFORM_URL,
        "TEST_FAMILY_DATABASE_URL": FAMILY_URL,
        "TEST_DEDICATED_DATABASE_URL_TEMPLATE": DEDICATED_TEMPLATE,
        "TEST_REDIS_URL": REDIS_URL,
        "TEST_REDIS_KEY_PREFIX": REDIS_KEY_PREFIX,
        "BASE_DOMAIN": f"localhost:{port}",
        "FLASK_APP": "wsgi:app",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    for args in (["db", "upgrade"], ["families", "upgrade", "--all"], ["seed", "demo"],
                 ["families", "create", "other-family", "--name", "The Others"]):
        _run_cli(args, env, setup_log)

    with server_log.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    died_early = False
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited {process.returncode} while starting:\n{_tail(server_log)}",
                            pytrace=False)
            status = _health_status(port)
            if status == 200:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"GET /health did not answer 200 within {STARTUP_TIMEOUT:.0f}s (last: {status}):\n"
                        f"{_tail(server_log)}", pytrace=False)

        yield LiveServer(port=port, log_path=server_log, env=env)

        died_early = process.poll() is not None
    finally:
        _stop(process)
        with redis.Redis.from_url(REDIS_URL) as client:
            for key in client.scan_iter(f"{REDIS_KEY_PREFIX}:*"):
                client.delete(key)
        _drop_databases(mine=True)
    if died_early:
        print(f"gunicorn exited {process.returncode} before teardown; last lines of {server_log}:")
        print(_tail(server_log))
        pytest.fail(f"gunicorn died during the run (exit {process.returncode}); see {server_log}", pytrace=False)


@pytest.fixture
def shot(output_path: str) -> Callable[[Page, str], Path]:
    """`shot(page, "name")` saves a full-page PNG in this test's folder under pytest's --output directory."""
    def save(page: Page, name: str) -> Path:
        path = Path(output_path) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path
    return save


def start_kid_turn(page: Page, live_server: LiveServer, name: str, pin: str) -> None:
    """On the family tablet's wall, a kid taps their picture and types their PIN on the keypad."""
    page.goto(live_server.url("demo", "/tablet"))
    page.get_by_role("list", name="Kids").get_by_role("link", name=name).click()
    for digit in pin:
        page.get_by_role("button", name=digit, exact=True).click()
    page.get_by_role("button", name="OK").click()


def target_box(locator: Locator) -> FloatRect:
    """Where a tap target is drawn, once its page has loaded: after a full navigation the URL and the DOM arrive
    before the stylesheets do, and a box measured then is the unstyled one."""
    locator.page.wait_for_load_state("load")
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not drawn"
    return box
