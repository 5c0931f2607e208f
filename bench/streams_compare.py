"""Which stream holder: Pushpin, nginx + nchan, or an asyncio server — the same streams, events and client on each.

    .venv/bin/python -m bench.streams_compare --streams 10000        # takes /tmp/bench.lock itself

Each holder sits in front of the same stub origin (a threaded http.server that names the channel from the Host,
as the app does after authorising) and holds N SSE streams from bench/streams.py's asyncio client; events go to
random channels through each holder's own publish path (Pushpin: HTTP POST to its publish endpoint; nchan: HTTP POST
to its publisher location; asyncio: Redis PUBLISH to one pattern subscription). The asyncio holder stands for "an
async worker just for /events" at its cheapest: stdlib asyncio + redis.asyncio, no framework and no authorisation.
Printed: time to open all streams, RSS and CPU of the holder, delivery p50/p95/p99, misdeliveries.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import fleet
from bench.streams import LOCK, Family, load_average, open_streams, percentile, session_cpu_seconds, \
    session_rss_mb

BASE = 7870  # stub origin 7870, holder 7871, publish 7872 (nchan), Pushpin control ports 7860+ (offset 2300)
ORIGIN, HOLDER, PUBLISH = BASE, BASE + 1, BASE + 2
REDIS_URL = "redis://127.0.0.1:6379/12"


def say(message: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {message}", flush=True)


class StubOrigin(BaseHTTPRequestHandler):
    """The app's answer to an authorised /events, for either holder: the Host's family names the channel."""

    protocol_version = "HTTP/1.1"
    mode = "grip"

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook
        channel = "cmp-" + self.headers.get("Host", "").split(".")[0]
        body = b"retry: 2000\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if self.mode.startswith("grip"):
            self.send_header("Grip-Hold", "stream")
            if "rev" in self.mode:  # as the app answers since revocations close streams: + session and member
                own = uuid.uuid4().hex
                channel = f"{channel}, {channel}:session:{own}, {channel}:member:{own}"
            self.send_header("Grip-Channel", channel)
            if "ka" in self.mode:  # the app's keep-alive (app/live/push.py)
                self.send_header("Grip-Keep-Alive", ": keepalive\\n\\n; format=cstring; timeout=15")
            if "link" in self.mode:  # the app's re-check link
                self.send_header("Grip-Link", "</events?recheck=1>; rel=next; timeout=300")
        else:
            self.send_header("X-Accel-Redirect", f"/internal/events/{channel}")
            self.send_header("X-Accel-Buffering", "no")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


NGINX_CONF = """
worker_processes 2;
worker_rlimit_nofile 30000;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
events {{ worker_connections 30000; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fcgi;
  uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  upstream origin {{ server 127.0.0.1:{origin}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{holder} backlog=4096;
    location = /events {{
      proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;
    }}
    location ~ ^/internal/events/(.+)$ {{ internal; nchan_subscriber eventsource; nchan_channel_id $1; }}
  }}
  server {{
    listen 127.0.0.1:{publish};
    location ~ ^/pub/(.+)$ {{ nchan_publisher; nchan_channel_id $1; nchan_message_buffer_length 1;
                             nchan_message_timeout 60s; }}
  }}
}}
"""


ASYNC_HOLDER = r'''
import asyncio, sys
from collections import defaultdict
import redis.asyncio as aioredis

async def main(port, url):
    subscribers = defaultdict(set)
    client = aioredis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.psubscribe("cmp-*")

    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except Exception:
            writer.close(); return
        host = [l for l in head.split(b"\r\n") if l.lower().startswith(b"host:")][0].split(b":", 1)[1].strip()
        channel = b"cmp-" + host.split(b".")[0]
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
                     b"retry: 2000\n\n")
        subscribers[channel].add(writer)
        try:
            await reader.read()
        finally:
            subscribers[channel].discard(writer)
            writer.close()

    async def fanout():
        async for message in pubsub.listen():
            if message["type"] != "pmessage":
                continue
            for writer in list(subscribers.get(message["channel"], ())):
                writer.write(message["data"])

    asyncio.get_running_loop().create_task(fanout())
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
'''


def wait_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"{what} did not start") from None
            time.sleep(0.2)


def start(holder: str, folder: Path) -> tuple[subprocess.Popen[bytes], Any]:
    """The holder's process (its own session) and a publish(channel, sse_event_bytes, data_bytes) function."""
    log = (folder / f"{holder}.log").open("wb")
    if holder.startswith("pushpin"):
        env = {**os.environ, "PUSHPIN_DIR": str(folder / "pushpin"), "PUSHPIN_ORIGIN": f"127.0.0.1:{ORIGIN}",
               "PUSHPIN_BIND": f"127.0.0.1:{HOLDER}", "PUSHPIN_PORT_OFFSET": "2300", "GRIP_SIG_KEY": "compare"}
        process = subprocess.Popen(["bash", str(fleet.ROOT / "scripts" / "run-pushpin.sh")], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(7861, process, "pushpin")

        def publish(channel: str, event: bytes, _data: bytes) -> None:
            body = json.dumps({"items": [{"channel": channel, "formats": {"http-stream": {"content":
                                                                                         event.decode()}}}]})
            urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:7861/publish/", data=body.encode(),
                                                          headers={"Content-Type": "application/json"}), timeout=5)
    elif holder == "nchan":
        conf = folder / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=folder, origin=ORIGIN, holder=HOLDER, publish=PUBLISH))
        process = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;", "-e", str(folder / "error.log")],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(PUBLISH, process, "nginx")

        def publish(channel: str, _event: bytes, data: bytes) -> None:
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{PUBLISH}/pub/{channel}", data=data,
                headers={"X-EventSource-Event": "pointsChanged", "Content-Type": "text/plain"}), timeout=5)
    else:
        import redis

        process = subprocess.Popen([str(fleet.BIN / "python"), "-c", ASYNC_HOLDER, str(HOLDER), REDIS_URL],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(HOLDER, process, "the asyncio holder")
        client = redis.Redis.from_url(REDIS_URL)

        def publish(channel: str, event: bytes, _data: bytes) -> None:
            client.publish(channel, event)
    wait_port(HOLDER, process, holder)
    return process, publish


async def measure(holder: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    process, publish = start(holder, folder)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.sleep(1)
        fams = [Family(n, fleet.slug(n), fleet.slug(n), ["x=1"]) for n in range(1, args.streams // 2 + 1)]
        cpu_before = session_cpu_seconds(process.pid)
        load = load_average()
        ready = b"" if holder == "nchan" else b"retry:"  # nchan sends no first line: open once its 200 arrived
        tasks, seconds = await open_streams(fams, 2, HOLDER, args.in_flight, ready=ready)
        streams = [s for f in fams for s in f.streams]
        await asyncio.sleep(2)
        rss = session_rss_mb(process.pid)
        rng = random.Random(5)
        sent: dict[str, tuple[Family, float]] = {}
        for index in range(args.events):
            family = rng.choice(fams)
            event_id = f"e{index}"
            data = json.dumps({"bench": event_id}).encode()
            event = b"event: pointsChanged\ndata: " + data + b"\n\n"
            sent[event_id] = (family, time.time())
            await loop.run_in_executor(None, publish, f"cmp-{family.slug}", event, data)
            await asyncio.sleep(1 / args.rate)
        await asyncio.sleep(3)
        latencies = [(s.received[e] - at) * 1000 for e, (f, at) in sent.items() for s in f.streams if e in s.received]
        wrong = sum(1 for f in fams for s in f.streams for e in s.received if sent[e][0] is not f)
        result = {"holder": holder, "streams_open": sum(s.open for s in streams), "streams": len(streams),
                  "open_seconds": round(seconds, 1), "rss_mb": rss,
                  "cpu_seconds": round(session_cpu_seconds(process.pid) - cpu_before, 1),
                  "deliveries": len(latencies), "expected": sum(len(f.streams) for f, _ in sent.values()),
                  "wrong_family": wrong, "p50_ms": round(percentile(latencies, 0.5), 1),
                  "p95_ms": round(percentile(latencies, 0.95), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
                  "load_before": load, "failures": dict(_failures(streams))}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return result
    finally:
        process.send_signal(signal.SIGTERM if holder != "nchan" else signal.SIGQUIT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only this holder's processes
            process.wait()


def _failures(streams: list[Any]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for s in streams:
        if not s.open:
            out[s.failed.split(":")[0]] += 1
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--holders", default="pushpin,nchan,asyncio")
    args = parser.parse_args()
    if os.environ.get("BENCH_LOCKED") != "1":
        os.environ["BENCH_LOCKED"] = "1"
        os.execvp("flock", ["flock", LOCK, sys.executable, "-m", "bench.streams_compare", *sys.argv[1:]])
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = {"pushpin" if holder.startswith("pushpin") else "nginx" for holder in args.holders.split(",")
              if holder != "asyncio"}
    for tool in sorted(needed):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing (Debian: apt-get install -y pushpin nginx-light libnginx-mod-nchan)")
    ThreadingHTTPServer.request_queue_size = 1024  # listen backlog: read when the server binds
    origin = ThreadingHTTPServer(("127.0.0.1", ORIGIN), StubOrigin)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    results = []
    with tempfile.TemporaryDirectory(prefix="streams-compare-") as tmp:
        for holder in args.holders.split(","):
            # pushpin, pushpin-ka (+ the app's keep-alive), pushpin-ka-link (+ its re-check link), pushpin-ka-rev (+ the
            # session and member channels a sign-out closes, as shipped)
            StubOrigin.mode = holder.replace("pushpin", "grip") if holder.startswith("pushpin") else "accel"
            folder = Path(tmp) / holder
            folder.mkdir()
            say(f"{holder}: {args.streams:,} streams, {args.events} events at {args.rate}/s (load {load_average()})")
            result = asyncio.run(measure(holder, args, folder))
            say(f"  {result}")
            results.append(result)
    origin.shutdown()
    print("| holder | streams open | opening them | holder RSS | holder CPU (open + publish) | delivered | "
          "p50 | p95 | p99 | to another family | load before |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['holder']} | {r['streams_open']:,} / {r['streams']:,} | {r['open_seconds']} s | {r['rss_mb']} MB "
              f"| {r['cpu_seconds']} s | {r['deliveries']} / {r['expected']} | {r['p50_ms']} ms | {r['p95_ms']} ms | "
              f"{r['p99_ms']} ms | {r['wrong_family']} | {r['load_before']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
