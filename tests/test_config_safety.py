"""A deployed development config, or production with the public dev secrets, refuses to start."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import jwt
import pytest

import config

ROOT = Path(__file__).resolve().parents[1]
STRONG = "s" * 48


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("JWT_SECRET", STRONG + "j")
    monkeypatch.setenv("PLATFORM_DATABASE_URL", "postgresql+psycopg://app:pw@db/platform")
    monkeypatch.setenv("FAMILY_DATABASE_URL", "postgresql+psycopg://app:pw@db/families")
    monkeypatch.delenv("OPERATOR_TOKEN", raising=False)
    return monkeypatch


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET"])
@pytest.mark.parametrize("value", [config.DEV_SECRET_KEY, config.DEV_JWT_SECRET, "short-secret"])
def test_production_refuses_the_dev_secrets_even_when_passed_explicitly(production_env: pytest.MonkeyPatch,
                                                                       name: str, value: str) -> None:
    production_env.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        config.ProductionConfig()


def test_production_refuses_a_short_operator_token(production_env: pytest.MonkeyPatch) -> None:
    production_env.setenv("OPERATOR_TOKEN", "letmein")
    with pytest.raises(RuntimeError, match="OPERATOR_TOKEN"):
        config.ProductionConfig()


def test_production_starts_with_real_secrets_and_refuses_tokens_signed_with_the_dev_secret(
        production_env: pytest.MonkeyPatch) -> None:
    settings = config.ProductionConfig()
    assert settings.WEBHOOK_ALLOW_PRIVATE is False
    forged = jwt.encode({"user_id": "x", "iss": "housepoints-go"}, config.DEV_JWT_SECRET, algorithm="HS256")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, settings.JWT_SECRET, algorithms=["HS256"], issuer="housepoints-go")


@pytest.mark.parametrize("domain", ["housepoints.ai", "localhost.evil.example", "evil-localhost:80", "10.0.0.5:5000"])
def test_development_refuses_a_public_base_domain(monkeypatch: pytest.MonkeyPatch, domain: str) -> None:
    monkeypatch.setenv("BASE_DOMAIN", domain)
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    with pytest.raises(RuntimeError, match="localhost base domain"):
        config.DevelopmentConfig()


@pytest.mark.parametrize("bind", ["0.0.0.0:5000", "[::]:5000", "10.1.2.3:80", "127.0.0.1:5000,0.0.0.0:5001"])
def test_development_refuses_a_public_bind(monkeypatch: pytest.MonkeyPatch, bind: str) -> None:
    monkeypatch.setenv("BASE_DOMAIN", "localhost:5000")
    monkeypatch.setenv("GUNICORN_BIND", bind)
    with pytest.raises(RuntimeError, match="loopback"):
        config.DevelopmentConfig()


@pytest.mark.parametrize(("domain", "bind"), [
    ("localhost:5000", "127.0.0.1:5000"), ("demo.localhost:8000", "[::1]:8000"), ("LOCALHOST", None),
    ("localhost:5000", "unix:/tmp/hp.sock")])
def test_development_starts_on_this_machine_only(monkeypatch: pytest.MonkeyPatch, domain: str,
                                                 bind: str | None) -> None:
    monkeypatch.setenv("BASE_DOMAIN", domain)
    if bind is None:
        monkeypatch.delenv("GUNICORN_BIND", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_BIND", bind)
    assert config.DevelopmentConfig().BASE_DOMAIN == domain.lower()


def test_gunicorn_refuses_to_serve_the_development_config_on_a_public_address(tmp_path: Path) -> None:
    """The real server, told on its command line to listen everywhere: it exits before answering anyone."""
    env = {key: value for key, value in os.environ.items() if key not in ("GUNICORN_BIND", "BASE_DOMAIN")}
    env.update(HOUSEPOINTS_CONFIG="development", PYTHONPATH=str(ROOT), WEB_CONCURRENCY="1")
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:7531",
         "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "binds only to loopback" in result.stdout + result.stderr
