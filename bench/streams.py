"""Live-update streams at fleet scale: 10,000 SSE streams held by Pushpin in front of gunicorn (issue 14).

    .venv/bin/python -m bench.streams                          # 10,000 streams over 5,000 families, 300 events
    .venv/bin/python -m bench.streams --streams 2000 --no-write

Takes /tmp/bench.lock itself (re-runs under `flock`), raises its own `ulimit -n`, seeds or refreshes the fleet
(bench/seed.py), starts gunicorn (deploy/gunicorn.conf.py, production config, PUSH_SERVER_URL + GRIP_SIG_KEY) on
127.0.0.1:7801 and Pushpin (scripts/run-pushpin.sh) on 127.0.0.1:7802 in front of it, then:
1. page latency with no streams: a few concurrent kid views (/me) and dashboards (/today), direct and through Pushpin;
2. opens the streams through Pushpin (each one authorised by the app: the family's kid or parent session cookie);
3. publishes events to sample families with the app's own `publish_event` and times each one's arrival on every
   stream, checking that every stream of that family got it and no other stream did, while the same page probe runs;
4. RSS of gunicorn (master + workers) and of Pushpin (all its processes), and the load average;
and writes the results into docs/PERFORMANCE.md (between the streams-bench markers).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import fleet

LOCK = "/tmp/bench.lock"
GUNICORN_PORT = int(os.environ.get("BENCH_PORT", "7801"))
PUSHPIN_PORT = GUNICORN_PORT + 1
PUSHPIN_OFFSET = 2300  # Pushpin's control ports: 7860-7863 (publish: 7861), away from a default Pushpin's 5560-5563
DOC = fleet.ROOT / "docs" / "PERFORMANCE.md"
START, END = "<!-- streams-bench:start -->", "<!-- streams-bench:end -->"
RESULTS_DIR = fleet.ROOT / "instance" / "bench-results"


def say(message: str) -> None:
    print(f"[streams {time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def session_rss_mb(leader: int) -> float:
    """RSS of every process in a session (a server started with start_new_session: master/runner + children)."""
    out = subprocess.run(["ps", "-o", "rss=", "-s", str(leader)], capture_output=True, text=True).stdout
    return round(sum(int(kb) for kb in out.split()) / 1024, 1)


def session_rss_by_process(leader: int) -> dict[str, float]:
    """The same, per command name (condure, zurl, pushpin-proxy, pushpin-handler, gunicorn…)."""
    out = subprocess.run(["ps", "-o", "rss=,comm=", "-s", str(leader)], capture_output=True, text=True).stdout
    sizes: dict[str, float] = defaultdict(float)
    for line in out.splitlines():
        kb, _, name = line.strip().partition(" ")
        sizes[name.strip()] += round(int(kb) / 1024, 1)
    return dict(sizes)


def session_cpu_seconds(leader: int) -> float:
    out = subprocess.run(["ps", "-o", "cputimes=", "-s", str(leader)], capture_output=True, text=True).stdout
    return float(sum(int(s) for s in out.split()))


# --- credentials ------------------------------------------------------------------------------------------------

@dataclass
class Family:
    n: int
    slug: str
    id: str
    cookies: list[str]  # kid and parent session cookies
    streams: list[Stream] = field(default_factory=list)


def families(count: int) -> list[Family]:
    """Pooled clones 1…count with their kid and parent session cookies (tokens as bench/run.py computes them)."""
    from app import create_app
    from bench.seed import pooled_db, superuser, template_family_id
    from config import config_from_env

    app = create_app(config_from_env())
    template_id = template_family_id()
    with superuser(pooled_db()) as conn:
        members = {row[0]: row[1] for row in conn.execute(
            "SELECT username_key, id FROM members WHERE family_id = %s", (template_id,))}
        hashes = {row[0]: row[1] for row in conn.execute(
            "SELECT member_id, token_hash FROM member_sessions WHERE family_id = %s AND device_id IS NULL",
            (template_id,))}
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    out = []
    for n in range(1, count + 1):
        family_id = str(fleet.clone_uuid(template_id, n))
        cookies = [f"session={serializer.dumps({'family_id': family_id, '_fresh': True, '_user_id': fleet.clone_token(hashes[members[name]], n)})}"  # noqa: E501
                   for name in ("maya", "alex")]
        out.append(Family(n, fleet.slug(n), family_id, cookies))
    return out


# --- servers ----------------------------------------------------------------------------------------------------

class Pushpin:
    """scripts/run-pushpin.sh on 127.0.0.1:PUSHPIN_PORT, routing everything to gunicorn."""

    def __init__(self, key: str, folder: Path) -> None:
        self.key, self.folder = key, folder
        self.process: subprocess.Popen[bytes] | None = None
        self.publish_url = f"http://127.0.0.1:{5561 + PUSHPIN_OFFSET}"

    def start(self) -> None:
        env = {**os.environ, "PUSHPIN_DIR": str(self.folder), "PUSHPIN_ORIGIN": f"127.0.0.1:{GUNICORN_PORT}",
               "PUSHPIN_BIND": f"127.0.0.1:{PUSHPIN_PORT}", "PUSHPIN_PORT_OFFSET": str(PUSHPIN_OFFSET),
               "GRIP_SIG_KEY": self.key}
        log = (self.folder.parent / "pushpin.log").open("wb")
        self.process = subprocess.Popen(["bash", str(fleet.ROOT / "scripts" / "run-pushpin.sh")], env=env,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for port in (PUSHPIN_PORT, 5561 + PUSHPIN_OFFSET):
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise SystemExit(f"pushpin did not start; see {self.folder.parent / 'pushpin.log'}") from None
                    time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only this Pushpin's processes
            self.process.wait(timeout=10)


# --- the page probe (a separate process, so the streams' event loop cannot slow it down) -----------------------

def page_probe(port: int, targets: list[tuple[str, str, str]], seconds: float, concurrency: int) -> dict[str, Any]:
    """`concurrency` threads requesting (host, path, cookie) at random for `seconds`: latencies and statuses."""
    import http.client

    latencies: list[float] = []
    statuses: dict[int, int] = defaultdict(int)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        rng = random.Random()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            host, path, cookie = rng.choice(targets)
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Host": host, "Cookie": cookie})
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"requests": len(latencies), "p50_ms": round(percentile(latencies, 0.5), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "statuses": dict(statuses), "rps": round(len(latencies) / seconds, 1)}


# --- the streams (asyncio, raw sockets) -------------------------------------------------------------------------

@dataclass
class Stream:
    family: str
    received: dict[str, float] = field(default_factory=dict)  # bench event id → arrival (time.time())
    open: bool = False
    failed: str = ""


_DATA = re.compile(rb"data: (\{[^\n]*\})\n")


async def hold(stream: Stream, host: str, cookie: str, port: int, opened: asyncio.Semaphore,
               path: str = "/events", ready: bytes = b"retry:") -> None:
    """Open one SSE stream and record every bench event it carries until cancelled."""
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            opened.release()

    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as error:
        stream.failed = f"connect: {error}"
        release()
        return
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n"
                     f"Cache-Control: no-cache\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=120)
        status = head.split(b" ", 2)[1]
        if status != b"200":
            stream.failed = f"status {status.decode()}"
            return
        buffer = b""
        while ready not in buffer:
            chunk = await asyncio.wait_for(reader.read(65536), timeout=120)
            if not chunk:
                stream.failed = "closed before retry:"
                return
            buffer += chunk
        stream.open = True
        release()
        buffer = b""
        while True:
            chunk = await reader.read(65536)
            now = time.time()
            if not chunk:
                stream.open = False
                stream.failed = "closed by the server"
                return
            buffer += chunk
            for found in _DATA.finditer(buffer):
                try:
                    data = json.loads(found.group(1))
                except ValueError:
                    continue
                if "bench" in data:
                    stream.received[data["bench"]] = now
            buffer = buffer[buffer.rfind(b"\n") + 1:]
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
        stream.failed = stream.failed or f"{type(error).__name__}: {error}"
    finally:
        release()  # a stream that never opened frees its slot here
        writer.close()


async def open_streams(fams: list[Family], per_family: int, port: int, in_flight: int,
                       ready: bytes = b"retry:") -> tuple[list[asyncio.Task[None]], float]:
    """Open per_family streams for each family, at most `in_flight` being opened at once; seconds taken."""
    opened = asyncio.Semaphore(in_flight)
    tasks = []
    started = time.perf_counter()
    for family in fams:
        for i in range(per_family):
            stream = Stream(family.slug)
            family.streams.append(stream)
            await opened.acquire()
            host = f"{family.slug}.localhost:{GUNICORN_PORT}"
            tasks.append(asyncio.create_task(hold(stream, host, family.cookies[i % len(family.cookies)], port,
                                                  opened, ready=ready)))
    for _ in range(in_flight):  # wait for the last ones to open (or fail)
        await opened.acquire()
    return tasks, time.perf_counter() - started


# --- the run ----------------------------------------------------------------------------------------------------

def probe_targets(fams: list[Family], port_host: int) -> list[tuple[str, str, str]]:
    sample = random.Random(7).sample(fams, min(200, len(fams)))
    return ([(f"{f.slug}.localhost:{port_host}", "/me", f.cookies[0]) for f in sample]
            + [(f"{f.slug}.localhost:{port_host}", "/today", f.cookies[1]) for f in sample])


async def run(args: argparse.Namespace, fams: list[Family], gunicorn_pid: int, pushpin: Pushpin) -> dict[str, Any]:
    from app import create_app
    from app.live.events import publish_event
    from config import config_from_env

    loop = asyncio.get_running_loop()
    results: dict[str, Any] = {}
    targets = probe_targets(fams, GUNICORN_PORT)
    with ProcessPoolExecutor(max_workers=1) as probes:
        say(f"page probe, no streams: direct to gunicorn ({args.probe_seconds} s, {args.probe_concurrency} at once)")
        results["pages_direct_idle"] = await loop.run_in_executor(
            probes, page_probe, GUNICORN_PORT, targets, args.probe_seconds, args.probe_concurrency)
        say(f"  {results['pages_direct_idle']}")
        say("page probe, no streams: through Pushpin")
        results["pages_pushpin_idle"] = await loop.run_in_executor(
            probes, page_probe, PUSHPIN_PORT, targets, args.probe_seconds, args.probe_concurrency)
        say(f"  {results['pages_pushpin_idle']}")

        say(f"opening {args.streams:,} streams over {len(fams):,} families through Pushpin (load {load_average()})")
        cpu_before = session_cpu_seconds(gunicorn_pid), session_cpu_seconds(pushpin.process.pid)  # type: ignore[union-attr]
        tasks, open_seconds = await open_streams(fams, args.per_family, PUSHPIN_PORT, args.in_flight)
        streams = [s for f in fams for s in f.streams]
        failures: dict[str, int] = defaultdict(int)
        for s in streams:
            if not s.open:
                failures[s.failed.split(":")[0]] += 1
        results["open"] = {"streams": len(streams), "open": sum(s.open for s in streams),
                           "seconds": round(open_seconds, 1), "per_second": round(len(streams) / open_seconds),
                           "failures": dict(failures), "load_after": load_average()}
        say(f"  {results['open']}")
        await asyncio.sleep(2)  # the handler subscribes each stream just after the app's answer
        results["rss_held_mb"] = {"gunicorn": session_rss_mb(gunicorn_pid),
                                  "pushpin": session_rss_mb(pushpin.process.pid)}  # type: ignore[union-attr]
        results["rss_held_by_process_mb"] = session_rss_by_process(pushpin.process.pid)  # type: ignore[union-attr]
        say(f"  RSS with the streams held: {results['rss_held_mb']}; Pushpin: {results['rss_held_by_process_mb']}")

        app = create_app(config_from_env())
        app.config["PUSH_SERVER_URL"] = pushpin.publish_url
        by_id = {f.id: f for f in fams}
        sample_rng = random.Random(11)
        sent: dict[str, tuple[str, float]] = {}

        def publish_one(index: int) -> None:
            family = sample_rng.choice(fams)
            event_id = f"e{index}"
            with app.app_context():
                sent[event_id] = (family.id, time.time())
                publish_event(__import__("uuid").UUID(family.id), "pointsChanged", {"bench": event_id})

        say(f"publishing {args.events} events at {args.rate}/s while the page probe runs (load {load_average()})")
        probe = loop.run_in_executor(probes, page_probe, PUSHPIN_PORT, targets,
                                     max(args.probe_seconds, args.events / args.rate), args.probe_concurrency)
        for index in range(args.events):
            await loop.run_in_executor(None, publish_one, index)
            await asyncio.sleep(1 / args.rate)
        results["pages_pushpin_streams"] = await probe
        say(f"  pages meanwhile: {results['pages_pushpin_streams']}")
        await asyncio.sleep(3)  # stragglers
        results["cpu_seconds_during_streams"] = {
            "gunicorn": round(session_cpu_seconds(gunicorn_pid) - cpu_before[0], 1),
            "pushpin": round(session_cpu_seconds(pushpin.process.pid) - cpu_before[1], 1)}  # type: ignore[union-attr]

        latencies: list[float] = []
        missing = wrong = 0
        for event_id, (family_id, at) in sent.items():
            target = by_id[family_id]
            for s in target.streams:
                if event_id in s.received:
                    latencies.append((s.received[event_id] - at) * 1000)
                elif s.open:
                    missing += 1
        for s in streams:
            for event_id in s.received:
                if by_id[sent[event_id][0]].slug != s.family:
                    wrong += 1
        results["delivery"] = {"events": len(sent), "deliveries": len(latencies),
                               "expected": sum(len(by_id[f].streams) for f, _ in sent.values()),
                               "missing_on_open_streams": missing, "delivered_to_another_family": wrong,
                               "p50_ms": round(percentile(latencies, 0.5), 1),
                               "p95_ms": round(percentile(latencies, 0.95), 1),
                               "p99_ms": round(percentile(latencies, 0.99), 1),
                               "max_ms": round(max(latencies), 1) if latencies else None,
                               "still_open": sum(s.open for s in streams)}
        say(f"  delivery: {results['delivery']}")
        results["rss_end_mb"] = {"gunicorn": session_rss_mb(gunicorn_pid),
                                 "pushpin": session_rss_mb(pushpin.process.pid)}  # type: ignore[union-attr]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


def report(results: dict[str, Any]) -> str:
    o, d, rss = results["open"], results["delivery"], results["rss_held_mb"]

    def pages(p: dict[str, Any]) -> str:
        return (f"{p['rps']:.0f} req/s, p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms, p99 {p['p99_ms']} ms "
                f"(statuses {p['statuses']})")

    return "\n".join([
        START, "",
        f"#### Streams benchmark, {results['finished_at']} (`python -m bench.streams {results['argv']}`)", "",
        f"{o['streams']:,} streams over {results['families']:,} pooled fleet families ({results['per_family']} per "
        f"family: the kid's and a parent's session), each authorised by the app through Pushpin 1.36 "
        f"(gunicorn `deploy/gunicorn.conf.py`: {results['gunicorn']}). Load average before: {results['load_before']}"
        f" (machine shared with other benchmarks and test runs: read the numbers as an upper bound).", "",
        "| measure | result |", "|---|---|",
        f"| streams open | {o['open']:,} of {o['streams']:,} (failures: {o['failures'] or 'none'}) |",
        f"| opening them all | {o['seconds']} s ({o['per_second']:,}/s, {results['in_flight']} in flight) |",
        f"| events published | {d['events']} at {results['rate']}/s to random sample families (`publish_event`) |",
        f"| deliveries | {d['deliveries']:,} of {d['expected']:,} expected; {d['missing_on_open_streams']} missing on "
        f"open streams; **{d['delivered_to_another_family']} to another family's stream** |",
        f"| delivery latency | **p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms**, p99 {d['p99_ms']} ms, max "
        f"{d['max_ms']} ms |",
        f"| pages, no streams, direct to gunicorn | {pages(results['pages_direct_idle'])} |",
        f"| pages, no streams, through Pushpin | {pages(results['pages_pushpin_idle'])} |",
        f"| pages, {o['open']:,} streams held + events, through Pushpin | "
        f"{pages(results['pages_pushpin_streams'])} |",
        f"| RSS with the streams held | gunicorn (master + workers) {rss['gunicorn']} MB, Pushpin (runner, condure, "
        f"zurl, proxy, handler) {rss['pushpin']} MB ({results['rss_held_by_process_mb']}) |",
        f"| CPU while opening + publishing | gunicorn {results['cpu_seconds_during_streams']['gunicorn']} s, Pushpin "
        f"{results['cpu_seconds_during_streams']['pushpin']} s |", "",
        f"Pages: {results['probe_concurrency']} concurrent clients requesting kid views (`/me`) and dashboards "
        f"(`/today`) of 200 of these families. Raw results: `{results['results_file']}`.", "", END])


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if START in doc and END in doc:
        doc = doc[:doc.index(START)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip() + "\n\n" + text + "\n"
    DOC.write_text(doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--per-family", type=int, default=2, help="streams per family (default 2: kid + parent)")
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="events per second (default 10)")
    parser.add_argument("--in-flight", type=int, default=64, help="streams being opened at once (default 64)")
    parser.add_argument("--probe-seconds", type=float, default=15.0)
    parser.add_argument("--probe-concurrency", type=int, default=4)
    parser.add_argument("--no-write", action="store_true", help="leave docs/PERFORMANCE.md alone")
    args = parser.parse_args()
    if os.environ.get("BENCH_LOCKED") != "1":  # one benchmark at a time on this machine
        os.environ["BENCH_LOCKED"] = "1"
        os.execvp("flock", ["flock", LOCK, sys.executable, "-m", "bench.streams", *sys.argv[1:]])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.streams + 1024  # per process: the streams here, and as many in Pushpin (a child: same limit)
    if hard < wanted and hard != resource.RLIM_INFINITY:
        raise SystemExit(f"ulimit -n: the hard limit {hard} is below the {wanted} this run needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, wanted)), hard))
    fleet.apply_env()
    key = secrets.token_urlsafe(32)
    publish_url = f"http://127.0.0.1:{5561 + PUSHPIN_OFFSET}"
    os.environ["BASE_DOMAIN"] = f"localhost:{GUNICORN_PORT}"
    sys.path.insert(0, str(fleet.ROOT))
    from bench import seed
    from bench.run import PORT, Server

    assert PORT == GUNICORN_PORT
    if seed.is_seeded():
        say(f"fleet seeded; refreshed today's rows and sessions in {seed.refresh():.0f} s")
    else:
        if seed.existing_databases():
            seed.drop_fleet()
        say(f"fleet seeded in {seed.seed()['seed_seconds']:.0f} s")
    os.environ.update({"PUSH_SERVER_URL": publish_url, "GRIP_SIG_KEY": key})  # after seeding: Pushpin is not up yet
    count = args.streams // args.per_family
    if count > fleet.POOLED:
        raise SystemExit(f"{count} families needed, the fleet has {fleet.POOLED} pooled ones: raise --per-family")
    say(f"session cookies for {count:,} families")
    fams = families(count)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = RESULTS_DIR / f"streams-{stamp}"
    folder.mkdir()
    server, pushpin = Server(folder / "gunicorn.log"), Pushpin(key, folder / "pushpin")
    load_before = load_average()
    say(f"starting gunicorn on {GUNICORN_PORT} and Pushpin on {PUSHPIN_PORT} (load {load_before})")
    server.start()
    try:
        pushpin.start()
        assert server.process is not None
        results = asyncio.run(run(args, fams, server.process.pid, pushpin))
    finally:
        pushpin.stop()
        server.stop()
    gunicorn_conf = subprocess.run([str(fleet.BIN / "python"), "-c", "import runpy; c = runpy.run_path("
                                    "'deploy/gunicorn.conf.py'); print(c['worker_class'], c['workers'], '×', "
                                    "c['threads'], 'threads')"], cwd=fleet.ROOT, capture_output=True,
                                   text=True).stdout.strip()
    results.update({"finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "families": count,
                    "per_family": args.per_family, "rate": args.rate, "in_flight": args.in_flight,
                    "probe_concurrency": args.probe_concurrency, "load_before": load_before,
                    "gunicorn": gunicorn_conf, "argv": " ".join(sys.argv[1:]),
                    "results_file": str((folder / "results.json").relative_to(fleet.ROOT))})
    (folder / "results.json").write_text(json.dumps(results, indent=2))
    text = report(results)
    print(text)
    if not args.no_write:
        write_doc(text)
        say(f"wrote {DOC.relative_to(fleet.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
