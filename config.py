"""Configuration classes: read the environment once, when the app is created."""
from __future__ import annotations

import os
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import overload

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_JWT_SECRET = "dev-jwt-secret-not-for-production"
DEV_SECRETS = frozenset({DEV_SECRET_KEY, DEV_JWT_SECRET})
INSTANCE_DIR = BASE_DIR / "instance"


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def parse_networks(value: str | None) -> tuple[IPv4Network | IPv6Network, ...]:
    """`OPERATOR_NETWORKS` ("10.0.0.0/8, ::1/128") as networks; a malformed entry stops the app at start."""
    try:
        return tuple(ip_network(part.strip()) for part in (value or "").split(",") if part.strip())
    except ValueError as error:
        raise RuntimeError(f"OPERATOR_NETWORKS: {error}") from None


def parse_proxy_count(value: str) -> int:
    """How many proxies to trust: a small whole number, refused at start rather than trusting a typo."""
    if not value.strip().isdigit() or not 0 <= int(value) <= 5:
        raise RuntimeError(f"TRUSTED_PROXIES must be a whole number from 0 to 5, not {value!r}")
    return int(value)


class Config:
    """Defaults shared by every environment; the embedded SQLite default needs no services."""

    def __init__(self) -> None:
        sqlite_dir = INSTANCE_DIR
        self.SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
        self.JWT_SECRET = _env("JWT_SECRET", DEV_JWT_SECRET)
        self.JWT_ISSUER = "housepoints-go"  # the previous service's issuer, kept for wire compatibility
        self.JWT_LIFETIME_SECONDS = int(_env("JWT_LIFETIME_SECONDS", "86400"))
        self.BASE_DOMAIN = (_env("BASE_DOMAIN", "localhost:5000") or "").lower()
        self.PLATFORM_DATABASE_URL = _env("PLATFORM_DATABASE_URL", f"sqlite:///{sqlite_dir / 'platform.db'}")
        self.FAMILY_DATABASE_URL = _env("FAMILY_DATABASE_URL", f"sqlite:///{sqlite_dir / 'families.db'}")
        # Unset: `dedicated` when FAMILY_DATABASE_URL is SQLite (no row-level security there, so each family gets a
        # file of its own), `pooled` otherwise; resolved where a placement is chosen (app/tenancy/cli.py).
        self.FAMILY_PLACEMENT = _env("FAMILY_PLACEMENT")
        self.DEDICATED_DATABASE_URL_TEMPLATE: str | None = _env(
            "DEDICATED_DATABASE_URL_TEMPLATE", f"sqlite:///{sqlite_dir / 'families'}/family_{{slug}}.db"
        )
        # More database servers beside the one above (cluster `default`): JSON {"east": {"pooled": URL, "dedicated":
        # TEMPLATE}} or `east=POOLED_URL|DEDICATED_TEMPLATE;west=...` (app/tenancy/clusters.py). Families store the name.
        self.DATABASE_CLUSTERS = _env("DATABASE_CLUSTERS")
        # `flask families move`: after the registry flips, how long in-flight requests get to finish on the old
        # database before its rows are deleted.
        self.MOVE_DRAIN_SECONDS = float(_env("MOVE_DRAIN_SECONDS", "2"))
        # Deletion: days an owner can still cancel before the periodic job purges the family.
        self.DELETION_GRACE_DAYS = int(_env("DELETION_GRACE_DAYS", "30"))
        # The role that owns the schema (PostgreSQL): its credentials are swapped into the URLs above for migrations
        # (`flask db upgrade`, `flask families upgrade`) and provisioning (CREATE DATABASE). The app itself connects
        # as the URLs' role, which owns nothing. Unset: the URLs' role migrates too (SQLite, single-role setups).
        self.DATABASE_OWNER_USER = _env("DATABASE_OWNER_USER")
        self.DATABASE_OWNER_PASSWORD = _env("DATABASE_OWNER_PASSWORD")
        self.REDIS_URL = _env("REDIS_URL")
        self.REDIS_KEY_PREFIX = _env("REDIS_KEY_PREFIX", "hp")
        # Registry caches (bounded): families live until pub/sub invalidates them, the TTL is only a safety net.
        self.FAMILY_CACHE_TTL = float(_env("FAMILY_CACHE_TTL", "3600"))
        # Every family of a deployment fits (10,000+ in the fleet bench; a record is a few hundred bytes): with 1,024 a
        # uniform mix over 10,000 families missed ~90 % of lookups and read the platform database each time.
        self.FAMILY_CACHE_SIZE = int(_env("FAMILY_CACHE_SIZE", "16384"))
        self.FAMILY_NEGATIVE_CACHE_SIZE = int(_env("FAMILY_NEGATIVE_CACHE_SIZE", "1024"))
        self.FAMILY_NEGATIVE_CACHE_TTL = float(_env("FAMILY_NEGATIVE_CACHE_TTL", "5"))
        self.ENGINE_CACHE_SIZE = int(_env("ENGINE_CACHE_SIZE", "32"))
        # Pools of the platform and pooled-family engines (every thread may need one; deploy/gunicorn.conf.py sizes
        # them to its threads), and of each dedicated family's engine (small: one family, rarely two requests at once).
        # Per process at most 2 × (DB_POOL_SIZE + DB_MAX_OVERFLOW) + ENGINE_CACHE_SIZE × (DEDICATED_POOL_SIZE +
        # DEDICATED_MAX_OVERFLOW) connections (EngineRegistry.connection_cap).
        self.DB_POOL_SIZE = int(_env("DB_POOL_SIZE", "3"))
        self.DB_MAX_OVERFLOW = int(_env("DB_MAX_OVERFLOW", "2"))
        self.DEDICATED_POOL_SIZE = int(_env("DEDICATED_POOL_SIZE", "1"))
        self.DEDICATED_MAX_OVERFLOW = int(_env("DEDICATED_MAX_OVERFLOW", "2"))
        self.VERSION = _env("HOUSEPOINTS_VERSION", "0.1.0")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = False
        # Host-only cookies: never set a Domain, so one family's cookie never reaches a sibling subdomain.
        self.SESSION_COOKIE_DOMAIN = False
        self.MAIL_SERVER = _env("MAIL_SERVER")
        self.MAIL_PORT = int(_env("MAIL_PORT", "25"))
        self.MAIL_SENDER = _env("MAIL_SENDER", "HousePoints <no-reply@housepoints.ai>")
        self.MAIL_USERNAME = _env("MAIL_USERNAME")
        self.MAIL_PASSWORD = _env("MAIL_PASSWORD")
        self.MAIL_USE_TLS = _env("MAIL_USE_TLS", "") in ("1", "true", "yes")
        self.MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # a 10 MB photo plus its form; larger bodies get 413
        self.MAX_STREAMS_PER_PROCESS = int(_env("MAX_STREAMS_PER_PROCESS", "24"))
        # A GRIP push server (Pushpin) in front of the app holds the /events streams: its publish endpoint
        # (http://127.0.0.1:5561) and the key it signs proxied requests with (its `sig_key`). Unset: the app holds the
        # streams itself, one thread each (above), and pages poll when refused (app/live/push.py, docs/OPERATIONS.md).
        self.PUSH_SERVER_URL = _env("PUSH_SERVER_URL")
        self.GRIP_SIG_KEY = _env("GRIP_SIG_KEY")
        self.PUSH_PUBLISH_TIMEOUT = float(_env("PUSH_PUBLISH_TIMEOUT", "0.5"))
        self.RATELIMIT_ENABLED = True
        self.RATELIMIT_HEADERS_ENABLED = True
        # Redis down: count in this process's memory until it is back, never fail the request (faults/).
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.PREFERRED_URL_SCHEME = "http"
        self.HSTS_SECONDS = 0  # production only: HSTS on plain http://localhost would be ignored or harmful
        self.INSTANCE_DIR = str(sqlite_dir)
        # Webhooks to private or loopback addresses (SSRF guard): only where the receiver runs on this machine.
        self.WEBHOOK_ALLOW_PRIVATE = False
        self.UPLOADS_DIR = _env("UPLOADS_DIR", str(sqlite_dir / "uploads"))
        self.LOG_REQUESTS = True
        # Operator detail (/health/detailed, database names, metrics): a bearer token, or these networks (CIDRs).
        self.OPERATOR_TOKEN = _env("OPERATOR_TOKEN")
        self.OPERATOR_NETWORKS = parse_networks(_env("OPERATOR_NETWORKS", "127.0.0.1/32, ::1/128"))
        # Proxies in front of the app (an ingress, a push server), each appending to X-Forwarded-For: with N set, the
        # client address (rate limits, lockout, audit, operator networks) is the N-th from the right. 0 trusts none,
        # so a client cannot claim an address; Host is never taken from a forwarded header (it names the family).
        self.TRUSTED_PROXIES = parse_proxy_count(_env("TRUSTED_PROXIES", "0"))
        # `bench/run.py` only: a `SELECT 1` route on family hosts, the ceiling the fleet benchmark compares with.
        self.BENCH_CEILING_ROUTE = _env("BENCH_CEILING_ROUTE", "") in ("1", "true", "yes")
        self.TESTING = False
        self.DEBUG = False

    @property
    def SERVER_NAME(self) -> str:  # noqa: N802 - Flask setting name
        return self.BASE_DOMAIN


def is_localhost_domain(base_domain: str) -> bool:
    """`localhost` or a name under it (with any port): names that only ever resolve to this machine."""
    host = base_domain.rsplit(":", 1)[0] if base_domain.count(":") == 1 else base_domain
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def is_loopback_bind(bind: str) -> bool:
    """A gunicorn/`flask run` bind address that only this machine can reach (a unix socket counts)."""
    if bind.startswith(("unix:", "fd://")):
        return True
    if bind.startswith("["):
        host = bind[1:].split("]", 1)[0]  # [::1]:5000
    elif bind.count(":") == 1:
        host = bind.split(":", 1)[0]  # 127.0.0.1:5000
    else:
        host = bind  # a bare address: 127.0.0.1, ::1
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class DevelopmentConfig(Config):
    """`make run`: SQLite files under instance/, Redis only if REDIS_URL is set.

    Its secrets are public and it sends webhooks to private addresses, so it refuses to start unless it can only
    be reached from this machine: a `localhost` base domain and, when given, a loopback bind (GUNICORN_BIND;
    deploy/gunicorn.conf.py checks the bind gunicorn really uses).
    """

    def __init__(self) -> None:
        super().__init__()
        if not is_localhost_domain(self.BASE_DOMAIN):
            raise RuntimeError(f"the development config serves only a localhost base domain, not {self.BASE_DOMAIN!r}"
                               " (deploy with HOUSEPOINTS_CONFIG=production)")
        bind = _env("GUNICORN_BIND")
        if bind is not None and not all(is_loopback_bind(part) for part in bind.split(",")):
            raise RuntimeError(f"the development config binds only to loopback, not {bind!r}"
                               " (deploy with HOUSEPOINTS_CONFIG=production)")
        self.WEBHOOK_ALLOW_PRIVATE = True


class TestConfig(Config):
    """The suite: real PostgreSQL and Redis, named by the environment the Makefile prepares."""

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.PLATFORM_DATABASE_URL = _env(
            "TEST_PLATFORM_DATABASE_URL", "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432/hp_test_platform"
        )
        self.FAMILY_DATABASE_URL = _env(
            "TEST_FAMILY_DATABASE_URL", "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432/hp_test_family"
        )
        self.DEDICATED_DATABASE_URL_TEMPLATE = _env(
            "TEST_DEDICATED_DATABASE_URL_TEMPLATE",
            "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432/hp_test_family_{slug}",
        )
        # scripts/ensure-test-services.sh creates both roles: hp_owner migrates and provisions, the app is hp_app.
        self.DATABASE_OWNER_USER = _env("TEST_DATABASE_OWNER_USER", "hp_owner")
        self.DATABASE_OWNER_PASSWORD = _env("TEST_DATABASE_OWNER_PASSWORD", "hp_owner")
        self.REDIS_URL = _env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        self.REDIS_KEY_PREFIX = _env("TEST_REDIS_KEY_PREFIX", "hptest")
        self.ENGINE_CACHE_SIZE = 8  # tests make many dedicated families; keep idle connections few
        self.WEBHOOK_ALLOW_PRIVATE = True  # the tests' webhook receiver listens on 127.0.0.1
        self.LOG_REQUESTS = False
        # As in production: the test client comes from 127.0.0.1, which must not make it an operator.
        self.OPERATOR_NETWORKS = parse_networks(_env("TEST_OPERATOR_NETWORKS", ""))


class ProductionConfig(Config):
    """No default secrets or database URLs: a missing one stops the app at start.

    The database URLs name the app's runtime role, which should own nothing (only SELECT/INSERT/UPDATE/DELETE is
    granted to it after each migration); DATABASE_OWNER_USER / DATABASE_OWNER_PASSWORD name the role that owns the
    schema, used only by `flask db upgrade`, `flask families upgrade` and provisioning.
    """

    REQUIRED = ("SECRET_KEY", "JWT_SECRET", "PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL")
    SECRETS = ("SECRET_KEY", "JWT_SECRET", "OPERATOR_TOKEN", "GRIP_SIG_KEY")
    MIN_SECRET_LENGTH = 32

    def __init__(self) -> None:
        missing = [name for name in self.REQUIRED if not _env(name)]
        if missing:
            raise RuntimeError(f"production config needs {', '.join(missing)} in the environment")
        super().__init__()
        for name in self.SECRETS:
            value = getattr(self, name)
            # The development defaults are in this public file; a token signed with one must never be accepted.
            if value is not None and (value in DEV_SECRETS or len(value) < self.MIN_SECRET_LENGTH):
                raise RuntimeError(f"production config refuses {name}: a development default or shorter than "
                                   f"{self.MIN_SECRET_LENGTH} characters")
        if self.PUSH_SERVER_URL and not self.GRIP_SIG_KEY:
            # Without the key any client reaching gunicorn could pose as the push server.
            raise RuntimeError("production config needs GRIP_SIG_KEY (Pushpin's sig_key) with PUSH_SERVER_URL")
        self.BASE_DOMAIN = (_env("BASE_DOMAIN", "housepoints.ai") or "").lower()
        self.SESSION_COOKIE_SECURE = True
        self.PREFERRED_URL_SCHEME = "https"
        self.HSTS_SECONDS = 31536000  # browsers keep to HTTPS for a year, family subdomains included
        self.MAIL_LOG_BODY = False  # reset and invite links are secrets
        self.DEDICATED_DATABASE_URL_TEMPLATE = _env("DEDICATED_DATABASE_URL_TEMPLATE")
        # Behind a reverse proxy every request comes from the proxy: no network is trusted unless named.
        self.OPERATOR_NETWORKS = parse_networks(_env("OPERATOR_NETWORKS", ""))


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The config class named by HOUSEPOINTS_CONFIG (default: development)."""
    name = _env("HOUSEPOINTS_CONFIG", "development") or "development"
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"HOUSEPOINTS_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}") from None
