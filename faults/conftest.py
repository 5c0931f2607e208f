"""The fault rig: a throwaway PostgreSQL cluster and redis-server of our own, gunicorn pointed at them, and clients.

The machine's shared PostgreSQL (5432) and Redis (6379) are never touched: each test module gets its own cluster
(`initdb` into a temporary directory, run as the `postgres` OS user when we are root) and its own redis-server, on
free ports, so a test can stop, restart or kill them while gunicorn serves real requests.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PG_BIN = Path(os.environ.get("FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
IS_ROOT = os.geteuid() == 0
STARTUP_TIMEOUT = 120.0  # a loaded CI machine boots gunicorn slowly


def free_port() -> int:
    """A port nothing listens on (the kernel's choice, so parallel runs never collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `check` until true; the seconds it took. Fails the test after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout:.0f}s", pytrace=False)


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`, from /proc (no psutil here)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


def tail(path: Path, lines: int = 80) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class Postgres:
    """A PostgreSQL 15 cluster in a temporary directory, with the app's two roles (hp_owner, hp_app)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "sock"
        self.log = root / "postgres.log"
        self.port = free_port()

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # initdb and postgres refuse to run as root: use the postgres OS user then.
        prefix = ["runuser", "-u", "postgres", "--"] if IS_ROOT else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60, check=check)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.log.touch()
        if IS_ROOT:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
            shutil.chown(self.log, "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self.start()
        self.psql("CREATE ROLE hp_app LOGIN PASSWORD 'hp_app' CREATEDB NOSUPERUSER NOBYPASSRLS")
        self.psql("CREATE ROLE hp_owner LOGIN PASSWORD 'hp_owner' CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE")
        self.psql("GRANT hp_app TO hp_owner")
        for name in ("platform", "family"):
            self.psql(f"CREATE DATABASE hp_{name} OWNER hp_owner")

    def start(self) -> None:
        # fsync off: the tests crash the server process, never the machine, so written WAL survives without it.
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=200 -c full_page_writes=off")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                  "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends sessions and shuts down cleanly; `immediate` is a crash (recovery replays the WAL)."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop", check=False)

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run(str(PG_BIN.parent / "bin" / "psql"), "-h", str(self.socket_dir), "-p", str(self.port),
                           "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atqc", sql)
        return result.stdout.strip()

    def url(self, database: str, role: str = "hp_app") -> str:
        return f"postgresql+psycopg://{role}:{role}@127.0.0.1:{self.port}/{database}"


class RedisServer:
    """A redis-server without persistence on a port of its own."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.log = root / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.answers, 10, "redis-server answering")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Stack:
    """The services and gunicorn of one test module."""

    root: Path
    postgres: Postgres
    redis: RedisServer
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    families: list[dict[str, Any]] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.root / "gunicorn.log"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ, "HOUSEPOINTS_CONFIG": "testing", "PYTHONPATH": str(ROOT),
            "TEST_PLATFORM_DATABASE_URL": self.postgres.url("hp_platform"),
            "TEST_FAMILY_DATABASE_URL": self.postgres.url("hp_family"),
            "TEST_DEDICATED_DATABASE_URL_TEMPLATE": self.postgres.url("hp_family_{slug}"),
            "TEST_REDIS_URL": self.redis.url, "TEST_REDIS_KEY_PREFIX": "hpfault",
            "BASE_DOMAIN": f"localhost:{self.port}", "FLASK_APP": "wsgi:app",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}", **extra,
        }

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `flask …` against this stack."""
        result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=self.env(), capture_output=True,
                                text=True, timeout=300)
        if check and result.returncode != 0:
            pytest.fail(f"`flask {' '.join(args)}` exited {result.returncode}:\n{result.stdout}{result.stderr}",
                        pytrace=False)
        return result

    def populate(self, families: int, kids: int) -> list[dict[str, Any]]:
        result = subprocess.run([str(BIN / "python"), "-m", "faults.populate", "--families", str(families),
                                 "--kids", str(kids)], cwd=ROOT, env=self.env(), capture_output=True, text=True,
                                timeout=300)
        if result.returncode != 0:
            pytest.fail(f"populate failed:\n{result.stdout}{result.stderr}", pytrace=False)
        self.families = json.loads(result.stdout.strip().splitlines()[-1])
        return self.families

    def start(self, workers: int = 2, threads: int = 8) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(workers), "--threads", str(threads), "wsgi:app"],
                cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        wait_for(lambda: self._health() == 200 or self._died(), STARTUP_TIMEOUT, "gunicorn answering /health")
        if self._died():
            pytest.fail(f"gunicorn exited while starting:\n{tail(self.log)}", pytrace=False)

    def _died(self) -> bool:
        return self.process is None or self.process.poll() is not None

    def _health(self) -> int | None:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/health", headers={"Host": f"localhost:{self.port}"},
                                timeout=2).status_code
        except requests.RequestException:
            return None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM the master (graceful: in-flight requests finish); kill the group if it hangs. Its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        code = self.process.returncode
        self.process = None
        return code

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes (children of the master)."""
        assert self.process is not None
        return children_of(self.process.pid)

    def client(self, slug: str | None, token: str | None = None) -> Client:
        return Client(self.port, slug, token)


class Client:
    """HTTP to one host of the stack (a family's or the apex), with a bearer token; one requests.Session per thread."""

    def __init__(self, port: int, slug: str | None, token: str | None, timeout: float = 15,
                 keep_alive: bool = True) -> None:
        host = f"{slug}.localhost:{port}" if slug else f"localhost:{port}"
        self.base = f"http://127.0.0.1:{port}"
        self.headers = {"Host": host, **({"Authorization": f"Bearer {token}"} if token else {})}
        if not keep_alive:  # no reused connection the server may be closing as we send (gunicorn's keepalive = 5 s)
            self.headers["Connection"] = "close"
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self._session().request(method, self.base + path, headers=headers,
                                       timeout=kwargs.pop("timeout", self.timeout), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)


def make_stack(*, families: int = 1, kids: int = 3) -> Iterator[Stack]:
    """Services, migrations, families and a running gunicorn; everything stopped and removed afterwards."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL server binaries not found in {PG_BIN} (set FAULTS_PG_BIN)", pytrace=False)
    # Not under pytest's tmp dir: that is private to root, and the cluster runs as the postgres user.
    root = Path(tempfile.mkdtemp(prefix="hp-faults-"))
    if IS_ROOT:
        root.chmod(0o755)
    stack = Stack(root=root, postgres=Postgres(root / "pg"), redis=RedisServer(root))
    try:
        stack.postgres.init()
        stack.redis.start()
        stack.cli("db", "upgrade")
        stack.cli("families", "upgrade", "--all")
        stack.populate(families, kids)
        stack.start()
        yield stack
    finally:
        code = stack.stop()
        stack.redis.stop()
        stack.postgres.stop("immediate")
        # Kept for a look after a failure.
        for log in (stack.log, stack.postgres.log, stack.redis.log, root / "worker.log"):
            if log.exists():
                shutil.copy(log, Path(tempfile.gettempdir()) / f"hp-faults-last-{log.name}")
        shutil.rmtree(root, ignore_errors=True)
        if code not in (None, 0):
            print(f"gunicorn exited {code}; last lines:\n{tail(stack.log)}")


def ledger_rows(stack: Stack, sql: str) -> list[tuple[str, ...]]:
    """Rows of a query on the pooled family database, as the superuser (sees every family; test checks only)."""
    out = stack.postgres.psql(sql, database="hp_family")
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def sign_in_page(stack: Stack, slug: str, login: str, password: str) -> Client:
    """A browser-like client signed in through the family's login form (cookie session, CSRF token)."""
    browser = stack.client(slug)
    form = browser.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert form.status_code == 200 and match, form.text[:500]
    answer = browser.post("/login", data={"csrf_token": match.group(1), "login": login, "password": password},
                          allow_redirects=False)
    assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
    return browser
