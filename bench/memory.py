"""Worker memory under reads: gunicorn as `make bench` starts it, reads over many fleet families, then each worker's
RSS, PSS and private memory (from /proc/<pid>/smaps_rollup).

    PYTHONPATH=. .venv/bin/python -m bench.memory               # 3,000 reads over the fleet, 16 at a time
    PYTHONPATH=. .venv/bin/python -m bench.memory --requests 10000

RSS counts pages shared with the master (the preloaded app) in every worker; private memory is what each extra
worker really costs. Needs a seeded fleet (`make bench`).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import fleet

KINDS = ["kid_view", "parent_today", "api_chores", "api_points", "api_leaderboard", "api_my_assignments"]


def worker_memory(pids: list[int]) -> list[dict[str, int]]:
    """RSS, PSS and private (clean + dirty) megabytes of each process."""
    sizes = []
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue

        def field(name: str, rollup: str = rollup) -> int:
            found = re.search(rf"^{name}:\s+(\d+)", rollup, re.M)
            return int(found.group(1)) // 1024 if found else 0

        sizes.append({"rss": field("Rss"), "pss": field("Pss"),
                      "private": field("Private_Clean") + field("Private_Dirty")})
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--port", type=int, default=7811)
    args = parser.parse_args()
    fleet.apply_env()
    os.environ["BASE_DOMAIN"] = f"localhost:{args.port}"
    sys.path.insert(0, str(fleet.ROOT))
    from bench import run
    from bench.profile import request_for

    run.PORT = args.port
    csrf, families = run.credentials()
    server = run.Server(Path("/tmp") / f"bench-memory-{args.port}.log")
    server.start()
    try:
        print("idle:", worker_memory(server.workers()), flush=True)

        def read(i: int) -> int:
            family = families[(i * 7919) % len(families)]  # spread over the fleet
            _method, path, headers = request_for(KINDS[i % len(KINDS)], family, csrf, None)
            headers.pop("Accept-Encoding")
            request = urllib.request.Request(f"http://127.0.0.1:{args.port}{path}", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    return int(response.status)
            except urllib.error.HTTPError as error:
                return error.code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(read, range(args.requests)))
        print(f"after {args.requests} reads ({statuses.count(200)} answered 200, others: "
              f"{sorted(status for status in statuses if status != 200)[:5]}):",
              worker_memory(server.workers()), flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
