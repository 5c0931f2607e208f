"""gunicorn settings.

Worker model, by measurement (docs/PERFORMANCE.md, "gunicorn: worker class, workers and threads"): gthread, 2 workers
× 32 threads. `bench.run --runs ceiling,uniform --duration 15` over the 10,300-family fleet, one after another on the
shared 2-core machine (load 5–28): 2 × 32 served 84 and 49 mixed req/s (ceiling 306 and 196) against 43 for 3 × 8,
8 for 4 × 4 and 14 for sync × 4 (ceilings 91, 76, 45); a second round back to back gave 86 against 40 (3 × 8) and
21 (sync × 4). Its wrk p95 was the lowest (2.6–4.0 s against 3.2–9.6 s). A request waits most of its time
(PostgreSQL, a CPU), so requests in flight decide throughput. What fewer threads win is server time (sync: tap-done
p95 234–272 ms against 1.7–3.0 s), memory (114–139 MB against 122–157 MB per worker) and connections (45–67 against
140–145; the cap is 288) — worth re-measuring on an idle machine before changing this.
GUNICORN_WORKER_CLASS, WEB_CONCURRENCY and GUNICORN_THREADS override the choice.

Streams: without a push server, each open /events stream holds one thread that sleeps in select() on Redis; the app
caps streams per process (MAX_STREAMS_PER_PROCESS, below `threads`) so page requests always find a thread, and a
stream over the cap gets 503 and the page polls. With Pushpin in front (PUSH_SERVER_URL) streams hold no thread and
all 32 serve pages. A sync worker would be pinned by each stream: only with Pushpin.

Memory: glibc's malloc is limited to 2 arenas (below): 8–10 MB less RSS per worker, no throughput lost
(docs/PERFORMANCE.md, "Malloc arenas").

Workers are recycled rarely (every ~200,000 requests, jittered so they never restart together): each restart
empties the registry, engine and statement caches, and at 1,000 requests/s the old 5,000 meant a cold worker every
few seconds. The app is loaded once in the master (`preload_app`: less memory per worker, a broken build fails at
start); engines, pools and Redis subscriptions are created after fork (app/db/engines.py, app/tenancy/registry.py).
The database pools of the shared engines are sized to the threads that can use them (DB_POOL_SIZE defaults to half
the threads, DB_MAX_OVERFLOW to a quarter: streams hold none, and two workers stay under 300 connections).
"""
import os
import tempfile

DEVELOPMENT = os.environ.get("HOUSEPOINTS_CONFIG", "development") in ("", "development")
# The development config (public secrets, webhooks to private addresses) must only be reachable from this machine.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000" if DEVELOPMENT else "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
timeout = 30
graceful_timeout = 20
keepalive = 5
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") not in ("0", "false", "no")
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))  # slow leaks cannot grow forever
max_requests_jitter = max_requests // 10
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
# gunicorn 27's control socket defaults to one path per OS user, so two servers (make run beside the e2e suite)
# would fight over it; the app has no use for it.
control_socket_disable = True


def _limit_malloc_arenas(limit: int) -> None:
    """glibc gives threads arenas of their own (up to 8 per core): a worker's 32 threads scatter freed memory over
    them and its RSS grows. Set here, in the master before any worker or thread exists, so every worker inherits it
    (the MALLOC_ARENA_MAX variable does the same, but only if set before the interpreter starts)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        libc = None
    if libc is not None and hasattr(libc, "mallopt"):  # glibc; another libc keeps its own policy
        libc.mallopt(-8, limit)  # -8 is glibc's M_ARENA_MAX


_limit_malloc_arenas(int(os.environ.get("MALLOC_ARENA_MAX", "2")))

# Read by config.py when the app is built (after this file): an explicit environment wins.
os.environ.setdefault("DB_POOL_SIZE", str(max(3, threads // 2)))
os.environ.setdefault("DB_MAX_OVERFLOW", str(max(2, threads // 4)))

# /metrics sums every worker's numbers from files in this directory (prometheus-client's multiprocess mode); a fresh
# one per server start, set before the app (and prometheus_client) is loaded.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="housepoints-metrics-"))


def child_exit(_server: object, worker: object) -> None:
    """A worker's live gauges leave the sums when it exits."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]

def on_starting(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Refuse to serve the development config on anything but loopback, whatever --bind said."""
    if not DEVELOPMENT:
        return
    from config import is_loopback_bind

    exposed = [address for address in server.cfg.bind if not is_loopback_bind(address)]
    if exposed:
        raise SystemExit(f"the development config binds only to loopback, not {', '.join(exposed)} "
                         "(deploy with HOUSEPOINTS_CONFIG=production)")


def when_ready(_server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """The preloaded app's objects move to the collector's permanent generation before any worker forks: a
    collection in a worker then never writes to their pages, which stay shared with the master (copy-on-write)."""
    import gc

    gc.freeze()
