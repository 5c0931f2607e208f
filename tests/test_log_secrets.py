"""Credential material never reaches a log: failing INSERTs full of hashes and tokens, in-process and under gunicorn."""
from __future__ import annotations

import http.client
import logging
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from flask import Flask

from app.db import engines, platform_engine
from app.log_scrub import scrub
from tests.conftest import host_client
from tests.log_secrets_app import PASSWORD_HASH, PIN, PIN_HASH, SECRETS, SESSION_TOKEN, TOKEN_DIGEST, build

ROOT = Path(__file__).resolve().parents[1]
SHARED = ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL", "DEDICATED_DATABASE_URL_TEMPLATE", "REDIS_KEY_PREFIX")
PORTS = range(7500, 7600)  # this suite's own range on the shared machine


def test_no_engine_is_made_without_hiding_its_parameters(app: Flask) -> None:
    makers = [path for folder in ("app", "migrations") for path in (ROOT / folder).rglob("*.py")
              if "create_engine(" in path.read_text() and path != ROOT / "app" / "db" / "engines.py"]
    assert makers == []  # every engine comes from app.db.engines.new_engine
    with app.app_context():
        assert platform_engine().hide_parameters is True


@pytest.mark.parametrize("secret", [
    PASSWORD_HASH, PIN_HASH, TOKEN_DIGEST, SESSION_TOKEN,
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiMSJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2ln",  # a JWT
    ".eJyrVkrOz0nNzXMqSU0pUbJSMjE1NzAwMDAzM7MwNbU0MDE3MjI2sDCwsLAwNDQ3MzEwNjUwMjYwMDcz.Z1p2Kg.kHl8sNq3x9Yc4T0vW2mB1aQe5dR",
])
def test_the_scrubber_finds_each_kind_of_secret(secret: str) -> None:
    for line in (f"value {secret} end", f"password={secret}", f'{{"token": "{secret}"}}', f"Bearer {secret}"):
        assert secret not in scrub(line), line


@pytest.mark.parametrize("line", [
    'DETAIL:  Failing row contains (7, null, 4821, x@example.com).',
    "DETAIL:  Key (token_id)=(4821) already exists.",
    "pin=4821 & password: hunter2hunter2 & csrf_token=abc4821",
    "[parameters: {'pin_hash': '4821'}]",
])
def test_the_scrubber_hides_values_the_database_repeats(line: str) -> None:
    assert "4821" not in scrub(line) and "hunter2" not in scrub(line)


def test_the_scrubber_leaves_ordinary_lines_alone() -> None:
    line = '{"event": "request", "path": "/chores/5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "status": 200}'
    assert scrub(line) == line


@pytest.mark.parametrize(("case", "marker"), [("null", "Failing row contains ([redacted])"),
                                              ("duplicate", "Key (token_id)=([redacted]) already exists")])
def test_a_failing_insert_logs_no_secret(app: Flask, caplog: pytest.LogCaptureFixture, case: str,
                                         marker: str) -> None:
    leaky = build(**{key: app.config[key] for key in SHARED})
    caplog.set_level(logging.DEBUG)

    response = host_client(leaky).get("/failing-insert", query_string={"case": case})
    with leaky.app_context():
        engines().dispose_all()

    assert response.status_code == 500
    logged = caplog.text
    assert "IntegrityError" in logged and marker in logged  # the error is reported, its secrets are not
    for secret in (*SECRETS, f"leak-{PIN}"):
        assert secret not in logged
        assert secret not in response.get_data(as_text=True)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in this suite's range")


def _get(port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": f"localhost:{port}"})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def test_gunicorn_stderr_holds_no_secret(app: Flask, tmp_path: Path) -> None:
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "HOUSEPOINTS_CONFIG": "testing", "PYTHONPATH": str(ROOT), "BASE_DOMAIN": f"localhost:{port}",
           "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4", "TEST_REDIS_URL": app.config["REDIS_URL"],
           **{f"TEST_{key}": app.config[key] for key in SHARED}}
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "tests.log_secrets_app:build()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while _get(port, "/health") != 200:
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        statuses = [_get(port, f"/failing-insert?case={case}") for case in ("null", "duplicate")]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)

    logged = log_path.read_text()
    assert statuses == [500, 500]
    assert len(re.findall(r"IntegrityError", logged)) >= 2 and "Failing row contains ([redacted])" in logged
    for secret in (*SECRETS, f"leak-{PIN}"):
        assert secret not in logged
