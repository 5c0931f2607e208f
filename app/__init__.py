"""The application factory: a table of contents of extensions, tenancy, areas and error handling."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from config import Config


def create_app(config_class: type[Config] = Config, **overrides: Any) -> Flask:
    """Build a HousePoints app; `overrides` replace config values (tests)."""
    # templates/ and static/ sit beside app/ (house layout), so point Flask one level up.
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                subdomain_matching=True, instance_path=str(Path(__file__).resolve().parents[1] / "instance"))
    app.config.from_object(config_class())
    app.config.update(overrides)
    app.config["SERVER_NAME"] = app.config["BASE_DOMAIN"]
    app.config["TRUSTED_HOSTS"] = _trusted_hosts(app.config["BASE_DOMAIN"])

    from app import db, errors, extensions, redis_store, request_log, seed, tenancy

    redis_store.init_app(app)
    db.init_app(app)
    tenancy.init_app(app)
    request_log.init_app(app)
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    extensions.migrate.init_app(app, directory=str(Path(__file__).resolve().parents[1] / "migrations" / "platform"))
    register_blueprints(app)
    errors.init_app(app)
    seed.init_app(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Areas: the platform apex, the operator console, the family site, health and the JSON API."""
    from app import api, family_home, health, operator, platform

    app.register_blueprint(health.bp)
    app.register_blueprint(health.bp, subdomain="<family>", name="family_health")
    app.register_blueprint(platform.bp)
    app.register_blueprint(operator.bp, subdomain="admin")
    app.register_blueprint(family_home.bp, subdomain="<family>")
    app.register_blueprint(api.bp, url_prefix="/api", subdomain="<family>")
    app.register_blueprint(api.platform_bp, url_prefix="/api")


def _trusted_hosts(base_domain: str) -> list[str]:
    name = base_domain.split(":")[0]
    return [name, f".{name}"]
