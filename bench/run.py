"""`make bench`: the fleet benchmark — seed (once) or refresh, start gunicorn, drive wrk, write docs/PERFORMANCE.md.

    .venv/bin/python -m bench.run                  # the full run (seed when missing, refresh, 6 wrk runs)
    .venv/bin/python -m bench.run --duration 15    # shorter wrk runs
    .venv/bin/python -m bench.run --no-write       # print the results, leave docs/PERFORMANCE.md alone
    .venv/bin/python -m bench.run --no-sweep       # no warm-up sweep: every run meets a cold server

Before the measured runs a sweep reads every family in order, `--sweep-passes` times (kid view, /today and the API
reads in turn), so each gunicorn worker has seen each family — the steady state of a server that has run for days,
not one that meets nearly every family for the first time; the sweep's own numbers are the "cold fleet" row.
After each wrk run `/metrics` is scraped (with the fleet's OPERATOR_TOKEN) for that run's view-cache and registry
hit rates.

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

def wrk_command(run: Run, families: Path, *, seconds: int, connections: int, threads: int,
                request_prefix: str) -> list[str]:
    """wrk running bench/mix.lua for this run; `request_prefix` starts every X-Request-ID it sends."""
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s",
            str(fleet.ROOT / "bench" / "mix.lua"), f"http://127.0.0.1:{PORT}/", "--", str(families), run.mode,
            run.dist, request_prefix, str(run.first), str(run.last), str(threads)]


def wrk_result(stdout: str, stderr: str) -> dict[str, Any]:
    found = re.search(r"WRKJSON (\{.*\})", stdout)
    if not found:
        raise SystemExit(f"wrk gave no result:\n{stdout}\n{stderr}")
    return dict(json.loads(found.group(1)))


def warm_up(run: Run, families: Path, *, seconds: int, connections: int, threads: int) -> None:
    """A few seconds of the run's own traffic first, left out of every figure (its requests say `warm<run>`)."""
    subprocess.run(wrk_command(run, families, seconds=seconds, connections=connections, threads=threads,
                               request_prefix=f"warm{run.name}"), capture_output=True, text=True, timeout=seconds + 60)


def wrk(run: Run, families: Path, *, duration: int, connections: int, threads: int) -> dict[str, Any]:
    """The measured run."""
    out = subprocess.run(wrk_command(run, families, seconds=duration, connections=connections, threads=threads,
                                     request_prefix=run.name), capture_output=True, text=True, timeout=duration + 120)
    return wrk_result(out.stdout, out.stderr)


def sweep(run: Run, families: Path, *, passes: int, connections: int, threads: int,
          limit_seconds: int) -> dict[str, Any]:
    """Read every family of the run `passes` times in order (bench/mix.lua mode `sweep`); wrk's result plus timing.

    wrk runs until every thread has made its share of the passes (each writes its request count as it goes), then
    gets SIGINT, which ends it early with its usual summary; `limit_seconds` caps a sweep that cannot finish.
    """
    families_count = run.last - run.first + 1
    share = math.ceil(passes * families_count / threads)  # requests each thread makes
    command = wrk_command(run, families, seconds=limit_seconds, connections=connections, threads=threads,
                          request_prefix=run.name)
    made: dict[str, int] = {}
    pass_times: list[float] = []
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        if not line.startswith("SWEEP "):
            lines.append(line)
            continue
        _, thread, count = line.split()
        made[thread] = int(count)
        if len(made) < threads:
            continue
        slowest = min(made.values())
        while len(pass_times) < passes and slowest * threads >= (len(pass_times) + 1) * families_count:
            pass_times.append(time.perf_counter() - started)
            seconds = pass_times[-1] - (pass_times[-2] if len(pass_times) > 1 else 0.0)
            say(f"  sweep pass {len(pass_times)}/{passes}: {families_count:,} requests in {seconds:.0f} s "
                f"({families_count / seconds:.0f} req/s), {pass_times[-1]:.0f} s so far, load {load_average()}")
        if slowest >= share and process.poll() is None:
            process.send_signal(signal.SIGINT)  # wrk stops its threads and prints the summary
    stderr = process.stderr.read() if process.stderr else ""
    process.wait(timeout=60)
    result = wrk_result("".join(lines), stderr)
    per_pass, previous = [], 0.0
    for moment in pass_times:
        per_pass.append(round(families_count / (moment - previous), 1))
        previous = moment
    return {**result, "passes": passes, "passes_done": len(pass_times),
            "sweep_seconds": round(time.perf_counter() - started, 1), "pass_rps": per_pass}


# --- the server's own counters ----------------------------------------------------------------------------------

CACHE_COUNTERS = {"view cache": "housepoints_view_cache_total", "registry": "housepoints_registry_lookups_total"}


def scrape_metrics() -> dict[str, dict[str, float]]:
    """The cache counters from `/metrics` (summed over the workers), by outcome; empty if the scrape failed."""
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}/metrics", headers={
        "Host": f"localhost:{PORT}", "Authorization": f"Bearer {os.environ.get('OPERATOR_TOKEN', '')}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
    except OSError as error:
        say(f"  /metrics not scraped: {error}")
        return {}
    return cache_counters(text)


def cache_counters(text: str) -> dict[str, dict[str, float]]:
    """The cache counters by outcome, read from the Prometheus text format."""
    counters: dict[str, dict[str, float]] = {name: {} for name in CACHE_COUNTERS}
    for name, metric in CACHE_COUNTERS.items():
        for outcome, value in re.findall(rf'^{metric}\{{outcome="(\w+)"\}} (\S+)$', text, re.MULTILINE):
            counters[name][outcome] = float(value)
    return counters


def hit_rates(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Each cache's hits, lookups and hit share between two scrapes (a run's own traffic)."""
    rates: dict[str, Any] = {}
    for name in CACHE_COUNTERS:
        if name not in before or name not in after:
            continue
        delta = {outcome: after[name][outcome] - before[name].get(outcome, 0.0) for outcome in after[name]}
        lookups = sum(delta.values())
        rates[name] = {"hits": int(delta.get("hit", 0)), "lookups": int(lookups),
                       "by_outcome": {outcome: int(count) for outcome, count in sorted(delta.items())},
                       "hit_rate": round(delta.get("hit", 0) / lookups, 3) if lookups else None}
    return rates


def hit_rate_cell(outcome: dict[str, Any], name: str) -> str:
    rate = outcome.get("caches", {}).get(name, {}).get("hit_rate")
    return "–" if rate is None else f"{rate:.0%}"


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
             "| run | families | req/s | p50 | p95 | p99 | errors (wrk) | view cache hits | registry hits | "
             "RSS per worker (MB) | max PG conns | load before |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        r = run["wrk"]
        errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["status_errors"]
        families = f"{run['dist']} {run['first']}–{run['last']}"
        if run["mode"] == "sweep":
            families = f"each {r['passes_done']} × in order {run['first']}–{run['last']}"
        lines.append(f"| {run_label(run)} | {families} | {r['rps']:,.0f} | "
                     f"{r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {errors} | "
                     f"{hit_rate_cell(run, 'view cache')} | {hit_rate_cell(run, 'registry')} | "
                     f"{', '.join(map(str, run['rss_mb']))} | {run['max_pg_connections']} | {run['load_before']} |")
    lines += ["", sweep_note(runs)]
    ratios = results["ratios"]
    lines += ["", "Ratios: " + ", ".join(f"{name} = {value:.2f}" for name, value in ratios.items()), ""]
    for run in runs:
        if not run["kinds"] or run["mode"] == "ceiling":
            continue
        lines += [f"Server time per kind, `{run_label(run)}` (request log `duration_ms`):", "",
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


def run_label(run: dict[str, Any]) -> str:
    return "cold fleet (the sweep)" if run["mode"] == "sweep" else run["name"]


def sweep_note(runs: list[dict[str, Any]]) -> str:
    """What the first row is, or that there was no sweep and every run met a cold server."""
    from app.view_cache import VIEW_CACHE_SECONDS

    swept = next((run for run in runs if run["mode"] == "sweep"), None)
    if swept is None:
        return ("No warm-up sweep (`--no-sweep`): the runs met a server whose workers had seen few of the families "
                "before, so nearly every request was its family's first in that worker (cold caches).")
    r = swept["wrk"]
    return (f"Cold fleet: before the measured runs the new server read every family in order, {r['passes_done']} "
            f"times (of {r['passes']} asked; kid view, parent `/today` and the four API reads in turn, no taps), "
            f"{r['requests']:,} requests in {r['sweep_seconds']:.0f} s; requests/s per pass "
            f"{', '.join(f'{rps:,.0f}' for rps in r['pass_rps'])} (the first pass is every family's first request "
            f"on this server). The runs below met that server, as one that has run for days: their registry hit rate "
            f"says how many families each worker had already met (rules and remembered days go with it), their view "
            f"cache hit rate how many reads the cache held (entries live {VIEW_CACHE_SECONDS} s, the dashboard's a "
            f"minute at most).")


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
    parser.add_argument("--no-sweep", action="store_true",
                        help="no warm-up sweep before the runs: they meet a cold server (the old behaviour)")
    parser.add_argument("--sweep-passes", type=int, default=5,
                        help="reads of every family in the warm-up sweep (default 5: with 2 workers each family "
                             "misses a given worker with probability ~1/32)")
    parser.add_argument("--sweep-limit", type=int, default=900, help="seconds the sweep may take at most")
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
    if not args.no_sweep and runs:
        runs.insert(0, Run("sweep", "sweep", "in-order", 1, total))
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
            if run.mode != "sweep" and args.warmup:
                warm_up(run, families, seconds=args.warmup, connections=args.connections, threads=args.threads)
            before = scrape_metrics()
            if run.mode == "sweep":
                result = sweep(run, families, passes=args.sweep_passes, connections=args.connections,
                               threads=args.threads, limit_seconds=args.sweep_limit)
            else:
                result = wrk(run, families, duration=args.duration, connections=args.connections,
                             threads=args.threads)
            after = scrape_metrics()
            sampler.stopping.set()
            sampler.join()
            outcome = {"name": run.name, "mode": run.mode, "dist": run.dist, "first": run.first, "last": run.last,
                       "wrk": result, "rss_mb": server.rss_mb(), "load_before": load,
                       "max_pg_connections": max(sampler.samples or [0]), "caches": hit_rates(before, after)}
            time.sleep(1.0)  # the last log lines
            outcome["kinds"] = per_kind(log_path, run.name)
            say(f"  {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
                f"p99 {result['p99_ms']:.1f} ms, status errors {result['status_errors']}, "
                f"RSS {outcome['rss_mb']}, PG conns {outcome['max_pg_connections']}, hit rates: view cache "
                f"{hit_rate_cell(outcome, 'view cache')}, registry {hit_rate_cell(outcome, 'registry')}")
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
               "warmup": args.warmup, "sweep": not args.no_sweep, "runs": outcomes, "ratios": ratios, "tick": tick,
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
