"""The benchmark fleet's settings: its own databases, Redis database and secrets, and how clone n is named."""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
STATE_FILE = ROOT / "instance" / "bench-fleet.json"  # what was seeded (instance/ is never committed)

POOLED = int(os.environ.get("BENCH_POOLED", "10000"))
DEDICATED = int(os.environ.get("BENCH_DEDICATED", "300"))
TAPS_PER_FAMILY = 12  # one-off assignments per family the mix's taps use up (a second tap on a card is cheaper)
TEMPLATE_SLUG = "fleet-template"

_APP = "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432"
SUPERUSER_DSN = "host=/var/run/postgresql user=postgres dbname={db}"  # seeding only: COPY past row-level security
DEDICATED_TEMPLATE_DB = "hp_fleet_family_tpl"  # migrated, empty: every dedicated family's database starts as a copy

# The production config's required settings, pointed at the fleet's own databases (an existing environment wins).
ENV = {
    "HOUSEPOINTS_CONFIG": "production",
    "SECRET_KEY": "fleet-bench-secret-key-only-for-this-benchmark",
    "JWT_SECRET": "fleet-bench-jwt-secret-only-for-this-benchmark",
    "PLATFORM_DATABASE_URL": f"{_APP}/hp_fleet_platform",
    "FAMILY_DATABASE_URL": f"{_APP}/hp_fleet_family",
    "DEDICATED_DATABASE_URL_TEMPLATE": f"{_APP}/hp_fleet_family_{{slug}}",
    "DATABASE_OWNER_USER": "hp_owner",
    "DATABASE_OWNER_PASSWORD": "hp_owner",
    "REDIS_URL": "redis://127.0.0.1:6379/12",
    "REDIS_KEY_PREFIX": "hpfleet",
    "BENCH_CEILING_ROUTE": "1",  # the `SELECT 1` ceiling route exists only when this is set
    # bench/run.py scrapes /metrics after each run (view-cache and registry hit rates); production trusts no network.
    "OPERATOR_TOKEN": "fleet-bench-operator-token-only-for-this-benchmark",
    "FLASK_APP": "wsgi:app",
}


def apply_env() -> None:
    """Put the fleet's settings into this process's environment (values already set win)."""
    for key, value in ENV.items():
        os.environ.setdefault(key, value)


def slug(n: int) -> str:
    """Clone n's slug: f00001 … f10000 pooled, then the dedicated ones."""
    return f"f{n:05d}"


def database_key(n: int) -> str | None:
    """Dedicated clones get a database of their own (`hp_fleet_family_d10001`); pooled ones share one."""
    return f"d{n:05d}" if n > POOLED else None


def clone_uuid(template: uuid.UUID | str, n: int) -> uuid.UUID:
    """The id clone n gets for a template id; the seeding SQL computes the same: md5(id || ':' || n)::uuid."""
    return uuid.UUID(hashlib.md5(f"{template}:{n}".encode()).hexdigest())


def clone_token(template_hash: str, n: int) -> str:
    """Clone n's raw cookie token: its stored hash is sha256(template hash || ':' || n), as the seeding SQL writes."""
    return f"{template_hash}:{n}"
