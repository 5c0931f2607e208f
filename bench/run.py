"""`make bench`: the fleet benchmark — seed (once) or refresh, start gunicorn, drive wrk, write docs/PERFORMANCE.md.

    .venv/bin/python -m bench.run                  # the full run (seed when missing, refresh, 6 wrk runs)
    .venv/bin/python -m bench.run --duration 15    # shorter wrk runs
    .venv/bin/python -m bench.run --no-write       # print the results, leave docs/PERFORMANCE.md alone

gunicorn runs deploy/gunicorn.conf.py with the production config, the fleet's databases and real Redis, on
127.0.0.1:<port> with BASE_DOMAIN=localhost:<port>; wrk sends each family's Host header (f00001.localhost:<port>).
Client-side numbers (requests/s, overall p50/p95/p99, errors) come from wrk; per-kind numbers are server time (the
app's request log `duration_ms`, matched by the X-Request-ID the Lua script sends) and statuses from the same log.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import fleet

PORT = int(os.environ.get("BENCH_PORT", "7801"))
RESULTS_DIR = fleet.ROOT / "instance" / "bench-results"
DOC = fleet.ROOT / "docs" / "PERFORMANCE.md"
START, END = "<!-- fleet-bench:start -->", "<!-- fleet-bench:end -->"


@dataclass
class Run:
    """One wrk run: its name, mode (mix or ceiling), family distribution and family range."""

    name: str
    mode: str
    dist: str
    first: int
    last: int
    result: dict[str, Any] = field(default_factory=dict)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    pg = subprocess.run(["psql", "-U", "postgres", "-Atc", "SHOW server_version"], capture_output=True, text=True)
    return {"cpus": os.cpu_count(), "cpu": model, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version(), "postgresql": pg.stdout.strip(),
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- credentials ----------------------------------------------------------------------------------------------

def credentials() -> tuple[str, list[dict[str, Any]]]:
    """Each family's Host, kid and parent session cookies, bearer tokens, kid id and tap ids, and the CSRF token."""
    import jwt
    from itsdangerous import URLSafeTimedSerializer

    from bench.seed import pooled_db, superuser, template_family_id
    from app import create_app
    from config import config_from_env

    app = create_app(config_from_env())
    template_id = template_family_id()
    with superuser(pooled_db()) as conn:
        members = {row[0]: row[1] for row in conn.execute(
            "SELECT username_key, id FROM members WHERE family_id = %s", (template_id,))}
        parent_id, kid_id = members["alex"], members["maya"]
        hashes = {row[0]: row[1] for row in conn.execute(
            "SELECT member_id, token_hash FROM member_sessions WHERE family_id = %s AND device_id IS NULL",
            (template_id,))}
        taps = [row[0] for row in conn.execute(
            "SELECT a.id FROM assignments a JOIN chores c ON c.id = a.chore_id AND c.family_id = a.family_id "
            "WHERE a.family_id = %s AND c.name = 'Tap done' AND a.status = 'pending' ORDER BY a.id", (template_id,))]
    serializer = app.session_interface.get_signing_serializer(app)
    csrf_raw = uuid.uuid4().hex
    csrf_token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(csrf_raw)
    secret, issuer = app.config["JWT_SECRET"], app.config["JWT_ISSUER"]
    now = int(time.time())
    exp = now + int(timedelta(hours=6).total_seconds())
    families = []
    for n in range(1, fleet.POOLED + fleet.DEDICATED + 1):
        family_id = str(fleet.clone_uuid(template_id, n))
        kid, parent = fleet.clone_uuid(kid_id, n), fleet.clone_uuid(parent_id, n)

        def cookie(member: uuid.UUID, family_id: str = family_id, n: int = n) -> str:
            token_hash = fleet.clone_token(hashes[member], n)
            return "session=" + serializer.dumps({"family_id": family_id, "_user_id": token_hash, "_fresh": True,
                                                  "csrf_token": csrf_raw})

        def token(member: uuid.UUID, username: str, is_parent: bool, family_id: str = family_id) -> str:
            return jwt.encode({"user_id": str(member), "family_id": family_id, "username": username,
                               "is_parent": is_parent, "iss": issuer, "exp": exp, "nbf": now - 60, "iat": now - 60},
                              secret, algorithm="HS256")

        families.append({"host": f"{fleet.slug(n)}.localhost:{PORT}", "kid_cookie": cookie(kid_id),
                         "parent_cookie": cookie(parent_id), "kid_jwt": token(kid, "maya", False),
                         "parent_jwt": token(parent, "alex", True), "kid_id": str(kid),
                         "taps": [str(fleet.clone_uuid(t, n)) for t in taps]})
    return csrf_token, families


def write_families(path: Path) -> None:
    """The families' credentials as a Lua table for bench/mix.lua."""
    csrf_token, families = credentials()
    lines = [f'return {{apex = "localhost:{PORT}", csrf = "{csrf_token}",']
    for f in families:
        tap_ids = ",".join(f'"{t}"' for t in f["taps"])
        lines.append(
            f'{{host = "{f["host"]}", kid_cookie = "{f["kid_cookie"]}", parent_cookie = "{f["parent_cookie"]}", '
            f'kid_jwt = "{f["kid_jwt"]}", parent_jwt = "{f["parent_jwt"]}", kid_id = "{f["kid_id"]}", '
            f'taps = {{{tap_ids}}}}},')
    lines.append("}")
    path.write_text("\n".join(lines))


# --- the server -------------------------------------------------------------------------------------------------

class Server:
    """gunicorn with deploy/gunicorn.conf.py and the production config; its stdout is the JSON request log."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{PORT}", "BASE_DOMAIN": f"localhost:{PORT}"}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([str(fleet.BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                                            cwd=fleet.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{PORT}/health",
                                                 headers={"Host": f"localhost:{PORT}"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /health; see {self.log_path}")

    def workers(self) -> list[int]:
        assert self.process is not None
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            found = re.search(r"VmRSS:\s+(\d+)", status)
            if found:
                sizes.append(round(int(found.group(1)) / 1024, 1))
        return sizes

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only this gunicorn's processes
            self.process.wait(timeout=15)


class ConnectionSampler(threading.Thread):
    """Samples the app role's PostgreSQL connections to the fleet's databases once a second (the maximum wins)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        from bench.seed import superuser

        with superuser("postgres", autocommit=True) as conn:
            while not self.stopping.wait(1.0):
                self.samples.append(int(conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hp_app' "
                    "AND datname LIKE 'hp_fleet%%'").fetchone()[0]))  # type: ignore[index]


# --- one wrk run ----------------------------------------------------------------------------------------------

def wrk(run: Run, families: Path, *, duration: int, connections: int, threads: int, warmup: int) -> dict[str, Any]:
    script = str(fleet.ROOT / "bench" / "mix.lua")
    base = ["wrk", f"-t{threads}", f"-c{connections}", "--timeout", "10s", "--latency", "-s", script,
            f"http://127.0.0.1:{PORT}/", "--", str(families), run.mode, run.dist]
    tail = [str(run.first), str(run.last), str(threads)]
    if warmup:
        subprocess.run([*base[:6], f"-d{warmup}s", *base[6:], f"warm{run.name}", *tail], capture_output=True,
                       text=True, timeout=warmup + 60)
    out = subprocess.run([*base[:6], f"-d{duration}s", *base[6:], run.name, *tail], capture_output=True, text=True,
                         timeout=duration + 120)
    found = re.search(r"WRKJSON (\{.*\})", out.stdout)
    if not found:
        raise SystemExit(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    return dict(json.loads(found.group(1)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def per_kind(log_path: Path, run_name: str) -> dict[str, dict[str, Any]]:
    """Server time percentiles and status counts per kind, from the request log lines of this run."""
    durations: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    prefix = f'"request_id": "{run_name}-'
    with log_path.open(errors="replace") as log:
        for line in log:
            if prefix not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            kind = entry["request_id"].split("-")[1]
            durations[kind].append(float(entry["duration_ms"]))
            statuses[kind][str(entry["status"])] += 1
    out = {}
    for kind, values in sorted(durations.items()):
        errors = sum(count for status, count in statuses[kind].items() if int(status) >= 400)
        out[kind] = {"count": len(values), "p50_ms": round(percentile(values, 0.5), 2),
                     "p95_ms": round(percentile(values, 0.95), 2), "p99_ms": round(percentile(values, 0.99), 2),
                     "errors": errors, "statuses": dict(statuses[kind])}
    return out


def pg_settings() -> dict[str, str]:
    from bench.seed import superuser

    with superuser("postgres") as conn:
        return {name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                for name in ("max_connections", "shared_buffers")}


# --- the report -----------------------------------------------------------------------------------------------

def report(results: dict[str, Any]) -> str:
    runs = results["runs"]
    lines = [START, "", f"### Fleet benchmark, {results['finished_at']} (`make bench`)", "",
             f"Fleet: {results['pooled']:,} pooled + {results['dedicated']:,} dedicated families "
             f"(seeding: {results['seed_note']}). gunicorn `deploy/gunicorn.conf.py` "
             f"({results['gunicorn']}), production config, PostgreSQL {results['machine']['postgresql']} and Redis "
             f"on the same host. wrk {results['wrk_args']}, {results['duration']} s per run after a "
             f"{results['warmup']} s warm-up. Machine: {results['machine']['cpus']} × {results['machine']['cpu']}, "
             f"{results['machine']['memory_gb']} GB; Python {results['machine']['python']}.", "",
             "| run | families | req/s | p50 | p95 | p99 | errors (wrk) | RSS per worker (MB) | max PG conns | "
             "load before |", "|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        r = run["wrk"]
        errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["status_errors"]
        lines.append(f"| {run['name']} | {run['dist']} {run['first']}–{run['last']} | {r['rps']:,.0f} | "
                     f"{r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {errors} | "
                     f"{', '.join(map(str, run['rss_mb']))} | {run['max_pg_connections']} | {run['load_before']} |")
    ratios = results["ratios"]
    lines += ["", "Ratios: " + ", ".join(f"{name} = {value:.2f}" for name, value in ratios.items()), ""]
    for run in runs:
        if not run["kinds"] or run["mode"] == "ceiling":
            continue
        lines += [f"Server time per kind, `{run['name']}` (request log `duration_ms`):", "",
                  "| kind | requests | p50 | p95 | p99 | 4xx/5xx |", "|---|---|---|---|---|---|"]
        for kind, k in run["kinds"].items():
            lines.append(f"| {kind} | {k['count']:,} | {k['p50_ms']:.1f} ms | {k['p95_ms']:.1f} ms | "
                         f"{k['p99_ms']:.1f} ms | {k['errors']} |")
        lines.append("")
    tick = results.get("tick")
    if tick:
        lines += [f"The tick over the fleet (`flask jobs tick` queueing {tick['jobs']} RQ jobs of up to "
                  f"{tick['batch_size']} families, {tick['workers']} running `flask jobs worker --queue tick`, "
                  f"load before "
                  f"{tick['load_before']}, after {tick['load_after']}): {tick['families_ticked']:,} of "
                  f"{tick['families']:,} families ticked in {tick['total_seconds']} s (the command "
                  f"{tick['command_seconds']} s; {tick['ms_per_family']} ms of job time and "
                  f"{tick['cpu_ms_per_family']} ms of worker CPU per family), "
                  f"{tick['jobs_failed']} jobs failed, {tick['jobs_expired']} expired unstarted.", ""]
    lines += [f"Raw results: `{results['results_file']}`.", "", END]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if START in doc and END in doc:
        doc = doc[:doc.index(START)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip() + "\n\n## Fleet benchmark (`make bench`)\n\n" + text + "\n"
    DOC.write_text(doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per wrk run (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up seconds before each run (default 5)")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--runs", default="ceiling,uniform,zipf,pooled,dedicated,tick",
                        help="which runs, comma-separated (default: all; `tick` is the fleet tick, after the wrk runs)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/PERFORMANCE.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install -y wrk` (make bench does it as root)")
    fleet.apply_env()
    os.environ["BASE_DOMAIN"] = f"localhost:{PORT}"
    sys.path.insert(0, str(fleet.ROOT))
    from bench import seed

    started = time.perf_counter()
    if seed.is_seeded():
        state = json.loads(fleet.STATE_FILE.read_text())
        refresh_seconds = seed.refresh()
        seed_note = (f"made once in {state['seed_seconds']:.0f} s and reused; today's rows refreshed in "
                     f"{refresh_seconds:.0f} s")
    else:
        if seed.existing_databases():
            seed.drop_fleet()
        state = seed.seed()
        seed_note = f"{state['seed_seconds']:.0f} s, this run"
    total = fleet.POOLED + fleet.DEDICATED
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    families = RESULTS_DIR / "families.lua"
    say("writing per-family cookies and tokens")
    write_families(families)
    log_path = RESULTS_DIR / f"gunicorn-{stamp}.log"
    all_runs = {
        "ceiling": Run("ceiling", "ceiling", "uniform", 1, total),
        "uniform": Run("uniform", "mix", "uniform", 1, total),
        "zipf": Run("zipf", "mix", "zipf", 1, total),
        "pooled": Run("pooled", "mix", "uniform", 1, fleet.POOLED),
        "dedicated": Run("dedicated", "mix", "uniform", fleet.POOLED + 1, total),
    }
    runs = [all_runs[name] for name in args.runs.split(",") if name != "tick"]
    server = Server(log_path)
    say(f"starting gunicorn on 127.0.0.1:{PORT}; log {log_path}")
    server.start()
    outcomes = []
    try:
        for run in runs:
            load = load_average()
            say(f"run {run.name} ({run.mode}, {run.dist} {run.first}–{run.last}), load {load}")
            sampler = ConnectionSampler()
            sampler.start()
            result = wrk(run, families, duration=args.duration, connections=args.connections, threads=args.threads,
                         warmup=args.warmup)
            sampler.stopping.set()
            sampler.join()
            outcome = {"name": run.name, "mode": run.mode, "dist": run.dist, "first": run.first, "last": run.last,
                       "wrk": result, "rss_mb": server.rss_mb(), "load_before": load,
                       "max_pg_connections": max(sampler.samples or [0])}
            time.sleep(1.0)  # the last log lines
            outcome["kinds"] = per_kind(log_path, run.name)
            say(f"  {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
                f"p99 {result['p99_ms']:.1f} ms, status errors {result['status_errors']}, "
                f"RSS {outcome['rss_mb']}, PG conns {outcome['max_pg_connections']}")
            for kind, k in outcome["kinds"].items():
                say(f"    {kind:20s} n={k['count']:6d} p50 {k['p50_ms']:7.1f} p95 {k['p95_ms']:7.1f} "
                    f"p99 {k['p99_ms']:7.1f} ms  statuses {k['statuses']}")
            outcomes.append(outcome)
    finally:
        server.stop()
    tick = None
    if "tick" in args.runs.split(","):
        from bench.tick import measure

        tick = measure(RESULTS_DIR)
    by_name = {o["name"]: o["wrk"]["rps"] for o in outcomes}
    ratios = {}
    if "ceiling" in by_name and "uniform" in by_name:
        ratios["uniform mix / ceiling"] = by_name["uniform"] / by_name["ceiling"]
    if "pooled" in by_name and "dedicated" in by_name:
        ratios["dedicated-only / pooled-only"] = by_name["dedicated"] / by_name["pooled"]
    gunicorn_conf = subprocess.run([str(fleet.BIN / "python"), "-c", "import runpy; c = runpy.run_path("
                                    "'deploy/gunicorn.conf.py'); print(c['worker_class'], c['workers'], "
                                    "c['threads'], 'preload' if c.get('preload_app') else 'no preload')"],
                                   cwd=fleet.ROOT, capture_output=True, text=True).stdout.strip()
    results_file = RESULTS_DIR / f"results-{stamp}.json"
    results = {"finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "pooled": fleet.POOLED,
               "dedicated": fleet.DEDICATED, "seed_note": seed_note, "machine": machine(),
               "gunicorn": gunicorn_conf, "pg": pg_settings(),
               "wrk_args": f"-t{args.threads} -c{args.connections} --timeout 10s", "duration": args.duration,
               "warmup": args.warmup, "runs": outcomes, "ratios": ratios, "tick": tick,
               "total_seconds": round(time.perf_counter() - started, 1),
               "results_file": str(results_file.relative_to(fleet.ROOT))}
    results_file.write_text(json.dumps(results, indent=2))
    text = report(results)
    print(text)
    if not args.no_write:
        write_doc(text)
        say(f"docs/PERFORMANCE.md updated; whole run {results['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
