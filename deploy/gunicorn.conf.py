"""gunicorn settings: sync workers give the best tail latency for database work on small machines."""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
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
