"""The application factory: a table of contents of extensions, tenancy, areas and error handling."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import log_scrub
from config import Config


def create_app(config_class: type[Config] = Config, **overrides: Any) -> Flask:
    """Build a HousePoints app; `overrides` replace config values (tests)."""
    # templates/ and static/ sit beside app/ (house layout), so point Flask one level up.
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                subdomain_matching=True, instance_path=str(Path(__file__).resolve().parents[1] / "instance"))
    log_scrub.install()  # first: nothing this process logs may carry a secret
    app.config.from_object(config_class())
    app.config.update(overrides)
    app.config["SERVER_NAME"] = app.config["BASE_DOMAIN"]
    if app.config.get("TRUSTED_PROXIES"):
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.config["TRUSTED_HOSTS"] = _trusted_hosts(app.config["BASE_DOMAIN"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    # Rate-limit counters are platform keys (limits' own "LIMITS:" prefix would put them outside every keyspace).
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          {"key_prefix": f"{app.config['REDIS_KEY_PREFIX']}:platform:ratelimit"})

    from app import (assets, auth, db, errors, extensions, headers, i18n, inputs, jobs, legacy, metrics, redis_store,
                     request_log, seed, tenancy, transfer, view_cache)
    from app.live import etag
    from app.operator import cli as operator_cli

    redis_store.init_app(app)
    db.init_app(app)
    tenancy.init_app(app)
    view_cache.install(app)  # right behind the tenancy hook: the family's version before any database read
    request_log.init_app(app)
    metrics.init_app(app)
    headers.init_app(app)
    assets.init_app(app)  # before the ETag rule, so compression runs after it (hooks run last-added first)
    etag.init_app(app)
    inputs.init_app(app)
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    extensions.migrate.init_app(app, directory=str(Path(__file__).resolve().parents[1] / "migrations" / "platform"))
    register_blueprints(app)
    register_reactions(app)
    errors.init_app(app)
    app.jinja_env.globals.update(current_member=auth.current_member, current_app=app)
    # Per render, not per app: while Redis is down, pages poll instead of opening streams that cannot work (behind a
    # push server the streams need no Redis: Pushpin holds them and the app publishes to it).
    app.context_processor(lambda: {"live_updates": "sse" if app.config.get("PUSH_SERVER_URL") or redis_store.redis_up()
                                   else "poll"})
    seed.init_app(app)
    jobs.init_app(app)
    operator_cli.init_app(app)
    transfer.init_app(app)
    legacy.init_app(app)
    return app


VIEW_MODULES = (
    "app.health.views", "app.platform.views", "app.signup.views", "app.operator.views", "app.family_home.views",
    "app.family_home.nav", "app.accounts.views", "app.accounts.handoff", "app.tablet.views", "app.members.views",
    "app.onboarding.views", "app.chores.views", "app.presence.views", "app.dashboard.views", "app.live.views",
    "app.rewards.views", "app.allowance.views", "app.achievements.views", "app.notifications.views",
    "app.reports.views", "app.settings.views", "app.offline.views",
)


def register_blueprints(app: Flask) -> None:
    """Areas: the platform apex, the operator console, the family site, health and the JSON API."""
    from app import (accounts, achievements, allowance, api, chores, dashboard, family_home, health, live, members,
                     notifications, offline, onboarding, operator, platform, presence, reports, rewards, settings,
                     signup, tablet)

    # Views register their routes on their area's blueprint when imported. Areas' __init__ modules only define
    # the blueprint, so lower layers can import an area's models without pulling in its views.
    for module in VIEW_MODULES:
        importlib.import_module(module)

    app.register_blueprint(health.bp)
    app.register_blueprint(health.bp, subdomain="<family>", name="family_health")
    app.register_blueprint(platform.bp)
    app.register_blueprint(signup.bp)
    app.register_blueprint(operator.bp, subdomain="admin")
    for family_area in (family_home, accounts, tablet, members, onboarding, chores, presence, dashboard, live, rewards,
                        allowance, achievements, notifications, reports, settings, offline):
        app.register_blueprint(family_area.bp, subdomain="<family>")
    importlib.import_module("app.family_home.nav").init_app(app)
    app.register_blueprint(api.bp, url_prefix="/api", subdomain="<family>")
    app.register_blueprint(api.platform_bp, url_prefix="/api")
    importlib.import_module("app.health.ceiling").register(app)


def register_reactions(app: Flask) -> None:
    """The one dispatcher of domain events and every reaction, in the order they run (badges before notifications)."""
    from app import events
    from app.achievements import triggers as badges
    from app.live import events as live
    from app.assignments.services import install_day_memory
    from app.db.session import TenantSession
    from app.notifications import dispatch
    from app.notifications import triggers as notices

    dispatcher = events.init_app(app, TenantSession)
    badges.register(dispatcher)     # before the commit: badges and their bonus ledger rows
    notices.register(dispatcher)    # before the commit: bell rows and deliveries, in the same transaction
    dispatch.register(dispatcher)   # after the commit: deliveries to the worker, the bell's live event
    live.register(dispatcher)       # after the commit: a revoked sign-in's open streams end
    install_day_memory(TenantSession)  # after the commit: a day materialised here needs no query again


def _trusted_hosts(base_domain: str) -> list[str]:
    name = base_domain.split(":")[0]
    return [name, f".{name}"]
