"""The Redis key audit itself: it finds a stray key and a family key used under another family."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.plugins.redis_audit import names_in

ROOT = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]

INNER = """
import uuid
from types import SimpleNamespace

import redis
from flask import Flask, g

import config

PREFIX = "hpaudit{tag}"
A, B = uuid.uuid4(), uuid.uuid4()


def _app():
    app = Flask("audit")
    app.config["REDIS_KEY_PREFIX"] = PREFIX
    return app


def test_own_family_and_platform_keys_pass():
    client = redis.Redis.from_url(config.TestConfig().REDIS_URL)
    with _app().app_context():
        g.family = SimpleNamespace(id=A)
        client.set(f"{{PREFIX}}:family:{{A}}:points", 1, ex=5)
        client.publish(f"{{PREFIX}}:family:{{A}}:events", "x")
        client.get(f"{{PREFIX}}:platform:tick-lock")
        client.delete(f"{{PREFIX}}:family:{{A}}:points")


def test_another_familys_key_raises():
    client = redis.Redis.from_url(config.TestConfig().REDIS_URL)
    with _app().app_context():
        g.family = SimpleNamespace(id=A)
        client.get(f"{{PREFIX}}:family:{{B}}:points")


def test_a_swallowed_crossing_still_fails():
    client = redis.Redis.from_url(config.TestConfig().REDIS_URL)
    with _app().app_context():
        g.family = SimpleNamespace(id=A)
        try:
            with client.pipeline() as pipe:
                pipe.get(f"{{PREFIX}}:family:{{B}}:points").execute()
        except AssertionError:
            pass


def test_a_stray_key():
    client = redis.Redis.from_url(config.TestConfig().REDIS_URL)
    with _app().app_context():
        client.set(f"{{STRAY}}", 1, ex=30)
"""


def test_names_in_finds_keys_and_channels() -> None:
    assert names_in(("SET", "k", "v", "EX", 5)) == ["k"]
    assert names_in(("DEL", "a", "b")) == ["a", "b"]
    assert names_in(("EVALSHA", "abc", 2, "k1", "k2", "arg")) == ["k1", "k2"]
    assert names_in(("PUBLISH", "chan", "msg")) == ["chan"]
    assert names_in(("PUBSUB NUMSUB", "c1", "c2")) == ["c1", "c2"]
    assert names_in(("XREAD", "BLOCK", 5, "STREAMS", "s1", "s2", "0", "0")) == ["s1", "s2"]
    assert names_in(("PING",)) == []


def test_the_audit_fails_crossings_and_stray_keys(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    tag = os.urandom(4).hex()
    stray = f"stray-{tag}"
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest('pytest_plugins = ["tests.plugins.redis_audit"]\n')
    pytester.makepyfile(test_inner=INNER.format(tag=tag).replace("{STRAY}", stray))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(passed=2, failed=2)
    output = result.stdout.str()
    assert "FAILED test_inner.py::test_another_familys_key_raises" in output
    assert "FAILED test_inner.py::test_a_swallowed_crossing_still_fails" in output
    assert f"VIOLATION '{stray}'" in output and "1 violations" in output
    assert "2 crossed families" in output
    assert result.ret == pytest.ExitCode.TESTS_FAILED
