"""gunicorn settings.

Worker model: gthread. Family pages hold Server-Sent Events streams open (/events); a sync worker would be pinned by
each stream and two tablets would starve the site. With gthread each stream holds one thread that sleeps in
select() on Redis, while the other threads keep serving pages. The app caps streams per process
(MAX_STREAMS_PER_PROCESS, below `threads`) so page requests always find a thread; a stream over the cap gets 503 and
the browser retries later (pages refresh themselves meanwhile). docs/PERFORMANCE.md has the measurements.
"""
import os

DEVELOPMENT = os.environ.get("HOUSEPOINTS_CONFIG", "development") in ("", "development")
# The development config (public secrets, webhooks to private addresses) must only be reachable from this machine.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000" if DEVELOPMENT else "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers now and then so slow leaks cannot grow forever
max_requests_jitter = 500
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
# gunicorn 27's control socket defaults to one path per OS user, so two servers (make run beside the e2e suite)
# would fight over it; the app has no use for it.
control_socket_disable = True


def on_starting(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Refuse to serve the development config on anything but loopback, whatever --bind said."""
    if not DEVELOPMENT:
        return
    from config import is_loopback_bind

    exposed = [address for address in server.cfg.bind if not is_loopback_bind(address)]
    if exposed:
        raise SystemExit(f"the development config binds only to loopback, not {', '.join(exposed)} "
                         "(deploy with HOUSEPOINTS_CONFIG=production)")
