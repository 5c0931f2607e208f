"""Benchmark `flask families move`: a family with 10,000 ledger rows travels between two clusters and back.

    .venv/bin/python scripts/bench_move.py                 # 10,000 ledger rows, the four hops below
    .venv/bin/python scripts/bench_move.py --ledger 50000

Two clusters on the local PostgreSQL, in databases of the bench's own (hp_bench3_*, dropped at the end): `default`
and `east`. The family gets a parent, two kids and N ledger rows posted through the points service (cached balances
kept honest), then moves pooled → dedicated → east (dedicated) → east (pooled) → default (pooled). Each hop is the
real command in its own process; the script prints the time the command reports (its own total, and the copy /
verify / remove-source split) and the wall time of the process (Python start-up and the app factory included).
Writes to the family pause for the copy; reads go on.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"
PG = "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432"
SLUG = "bench-mover"
HOPS = [("default", "dedicated"), ("east", "dedicated"), ("east", "pooled"), ("default", "pooled")]
ENV = {
    "HOUSEPOINTS_CONFIG": "development",
    "PLATFORM_DATABASE_URL": f"{PG}/hp_bench3_platform",
    "FAMILY_DATABASE_URL": f"{PG}/hp_bench3_family",
    "DEDICATED_DATABASE_URL_TEMPLATE": f"{PG}/hp_bench3_family_{{slug}}",
    "DATABASE_CLUSTERS": json.dumps({"east": {"pooled": f"{PG}/hp_bench3_east",
                                              "dedicated": f"{PG}/hp_bench3_east_{{slug}}"}}),
    "DATABASE_OWNER_USER": "hp_owner",
    "DATABASE_OWNER_PASSWORD": "hp_owner",
    "FAMILY_PLACEMENT": "pooled",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "REDIS_KEY_PREFIX": "hpbench3",
    "MOVE_DRAIN_SECONDS": "2",
    "FLASK_APP": "wsgi:app",
}
DATABASES = ["hp_bench3_platform", "hp_bench3_family", "hp_bench3_east", "hp_bench3_family_bench_mover",
             "hp_bench3_east_bench_mover"]


def _flask(*args: str) -> str:
    result = subprocess.run([str(BIN / "flask"), *args], env={**os.environ, **ENV}, cwd=ROOT, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def _drop_all() -> None:
    from app.tenancy.databases import DatabaseOwner, drop_database

    for name in DATABASES:
        drop_database(f"{PG}/{name}", DatabaseOwner("hp_owner", "hp_owner"))


def _prepare(ledger_rows: int) -> None:
    os.environ.update(ENV)
    from app.tenancy.databases import DatabaseOwner, create_database

    _drop_all()
    for name in ("hp_bench3_platform", "hp_bench3_family", "hp_bench3_east"):
        create_database(f"{PG}/{name}", DatabaseOwner("hp_owner", "hp_owner"))
    _flask("db", "upgrade")
    _flask("families", "upgrade", "--all")
    _flask("families", "create", SLUG, "--name", "Bench Movers", "--cluster", "default", "--placement", "pooled")
    from app import create_app
    from app.db.bases import utcnow
    from app.family_time import FamilyClock
    from app.members.models import Member
    from app.points.services import post_entry
    from app.tenancy.context import family_context
    from config import DevelopmentConfig

    started = time.perf_counter()
    with create_app(DevelopmentConfig).app_context(), family_context(SLUG) as ctx:
        parent = Member(username="parent", display_name="Parent", role="parent")
        kids = [Member(username=f"kid{i}", display_name=f"Kid {i}") for i in range(2)]
        ctx.session.add_all([parent, *kids])
        ctx.session.flush()
        clock = FamilyClock("UTC")
        for n in range(ledger_rows):
            post_entry(ctx.session, kids[n % 2].id, amount=1 + n % 7, kind="bonus", description=f"bench {n}",
                       clock=clock, now=utcnow(), actor_id=parent.id)
        ctx.session.commit()
    print(f"seeded {ledger_rows} ledger rows in {time.perf_counter() - started:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=int, default=10_000, help="ledger rows to give the family")
    options = parser.parse_args()
    _prepare(options.ledger)
    try:
        print("| hop | command's total | copy | verify | remove source | process wall time |")
        print("|---|---|---|---|---|---|")
        for cluster, placement in HOPS:
            started = time.perf_counter()
            output = _flask("families", "move", SLUG, "--to", cluster, "--placement", placement)
            wall = time.perf_counter() - started
            summary = output.strip().splitlines()[-1]
            total = re.search(r"in ([0-9.]+)s \(", summary)
            steps = dict(re.findall(r"(prepare target|copy|verify|remove source) ([0-9.]+)s", summary))
            source_target = re.search(r"from (.+?) to (.+?):", summary)
            hop = f"{source_target.group(1)} → {source_target.group(2)}" if source_target else f"→ {cluster}"
            print(f"| {hop} | {total.group(1) if total else '?'} s | {steps.get('copy', '?')} s | "
                  f"{steps.get('verify', '?')} s | {steps.get('remove source', '?')} s | {wall:.2f} s |")
    finally:
        _drop_all()


if __name__ == "__main__":
    main()
