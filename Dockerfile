# syntax=docker/dockerfile:1

# ---------------------------------------------------------------------------
# Stage 1: vendor the front-end JavaScript (htmx + its SSE extension).
# Node is only needed to resolve the pinned npm packages; nothing from this
# stage except the two minified files reaches the runtime image.
# ---------------------------------------------------------------------------
FROM node:20-slim AS assets

WORKDIR /src

# Lockfile first so `npm ci` is cached until the dependency set changes.
COPY package.json package-lock.json ./
RUN npm ci

RUN mkdir -p /src/static/vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js /src/static/vendor/ \
    && cp node_modules/htmx-ext-sse/dist/sse.min.js /src/static/vendor/

# ---------------------------------------------------------------------------
# Stage 2 (`--target pushpin`): Pushpin, the push server that holds the
# live-update streams (/events) in production so no gunicorn thread waits per
# open tablet (docs/OPERATIONS.md). Debian bookworm's pushpin 1.36 is the
# version measured in docs/PERFORMANCE.md; scripts/run-pushpin.sh renders
# deploy/pushpin/pushpin.conf.in from the environment and execs it.
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS pushpin

RUN apt-get update \
    && apt-get install -y --no-install-recommends pushpin \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 housepoints \
    && useradd --system --uid 10001 --gid housepoints --no-create-home \
       --home-dir /srv --shell /usr/sbin/nologin housepoints

WORKDIR /srv
COPY scripts/run-pushpin.sh ./scripts/run-pushpin.sh
COPY deploy/pushpin/pushpin.conf.in ./deploy/pushpin/pushpin.conf.in

USER housepoints
# Browsers connect on 7999; 5561 is the publish endpoint, for the app and the
# worker only (never routed from outside: anyone reaching it can refresh any
# family's pages).
ENV PUSHPIN_DIR=/tmp/pushpin \
    PUSHPIN_BIND=0.0.0.0:7999 \
    PUSHPIN_PUBLISH_ADDR=0.0.0.0
EXPOSE 7999 5561
ENTRYPOINT ["bash", "/srv/scripts/run-pushpin.sh"]

# ---------------------------------------------------------------------------
# Stage 3 (the default): the Python runtime that serves the app (and runs the
# worker).
# ---------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLASK_APP=wsgi:app \
    HOUSEPOINTS_CONFIG=production

# Fixed uid so the Kubernetes securityContext (runAsUser: 10001) matches.
RUN groupadd --system --gid 10001 housepoints \
    && useradd --system --uid 10001 --gid housepoints --no-create-home \
       --home-dir /app --shell /usr/sbin/nologin housepoints

WORKDIR /app

# pyproject.toml declares `packages = []`, so this installs only the pinned
# runtime dependencies; the app code is copied (not installed) below. Copying
# it alone first keeps the dependency layer cached across code changes.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .

COPY app ./app
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
# The catalogs' .po files are committed; their compiled .mo files are built here (never committed).
COPY translations ./translations
RUN pybabel compile -d translations
COPY config.py wsgi.py ./
COPY deploy/gunicorn.conf.py ./gunicorn.conf.py
COPY deploy/entrypoint.sh ./entrypoint.sh
COPY --from=assets /src/static/vendor ./static/vendor

# The instance dir is the only path the app writes to (e.g. the embedded
# SQLite default); everything else stays owned by root and read-only to the
# app user.
RUN chmod +x /app/entrypoint.sh \
    && mkdir -p /app/instance \
    && chown housepoints:housepoints /app/instance

USER housepoints

EXPOSE 8000

# python:3.11-slim has no curl; urllib keeps the image free of extra packages.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.Request('http://127.0.0.1:8000/health', headers={'Host': os.environ.get('BASE_DOMAIN', 'housepoints.ai')}); sys.exit(0 if urllib.request.urlopen(r, timeout=4).status == 200 else 1)"]

ENTRYPOINT ["/app/entrypoint.sh"]
