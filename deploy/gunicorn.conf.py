"""gunicorn settings.

Worker model: gthread. Family pages hold Server-Sent Events streams open (/events); a sync worker would be pinned by
each stream and two tablets would starve the site. With gthread each stream holds one thread that sleeps in
select() on Redis, while the other threads keep serving pages. The app caps streams per process
(MAX_STREAMS_PER_PROCESS, below `threads`) so page requests always find a thread; a stream over the cap gets 503 and
the browser retries later (pages refresh themselves meanwhile). docs/PERFORMANCE.md has the measurements.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
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
