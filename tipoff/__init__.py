"""tipoff — 建安区安全生产举报与奖励服务 (safety tip-off and reward service).

`create_app` only wires: it binds extensions, registers blueprints, error handlers and CLI commands,
and returns. The data directory, database and keys are made by `flask tipoff init`.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from config import BASE_DIR, Config, config_class
from tipoff.errors import ConfigError

log = logging.getLogger("tipoff")


def create_app(config: type[Config] | str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the tipoff application for an environment (`TIPOFF_ENV` when not given)."""
    cls = config if isinstance(config, type) else config_class(config)
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(cls)
    app.config.update(cls.from_env())
    if overrides:
        app.config.update(overrides)
    app.config["TIPOFF_ENV"] = cls.ENV_NAME

    from tipoff.logs import configure_logging

    configure_logging(app)
    _settle_paths_and_secret(app)

    problems = cls.problems(app.config)
    if problems:
        raise ConfigError("; ".join(problems))

    from tipoff import crypto, web
    from tipoff.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    from tipoff.audit import services as audit_services

    audit_services.init_app(app)  # seals audit entries right after each commit
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    crypto.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale, timezone_selector=lambda: "Asia/Shanghai")
    limiter.init_app(app)
    web.init_app(app)

    from tipoff.accounts import session as staff_sessions

    staff_sessions.init_app(app)

    _register_blueprints(app)

    from tipoff.errors import register_error_handlers

    register_error_handlers(app)

    from tipoff.intake.busy_gate import BusyGate

    app.wsgi_app = BusyGate(app, app.wsgi_app)  # outermost: a flood's refusal costs no Flask at all

    from tipoff.cli import register_cli

    register_cli(app)
    return app


def _settle_paths_and_secret(app: Flask) -> None:
    """Resolve the data dir and database URL; in development, create a secret key on first start."""
    data_dir = Path(app.config["TIPOFF_DATA_DIR"]).expanduser().resolve()
    app.config["TIPOFF_DATA_DIR"] = str(data_dir)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{data_dir / 'tipoff.db'}"
    if app.config.get("SECRET_KEY") or not app.config.get("TIPOFF_GENERATE_MISSING_KEYS"):
        return
    if app.config.get("TESTING"):
        app.config["SECRET_KEY"] = secrets.token_urlsafe(48)
        return
    secret_file = data_dir / "secret_key"
    if not secret_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret_file.write_text(secrets.token_urlsafe(48))
        secret_file.chmod(0o600)
        log.warning("development: generated a session secret in %s", secret_file)
    app.config["SECRET_KEY"] = secret_file.read_text().strip()


def _register_blueprints(app: Flask) -> None:
    from tipoff.web import bounded_int_converter

    app.url_map.converters["int"] = bounded_int_converter()
    from tipoff.accounts.views import bp as accounts_bp
    from tipoff.api import bp as api_bp
    from tipoff.audit.views import bp as audit_bp
    from tipoff.cases.views import bp as cases_bp
    from tipoff.disclosure.views import bp as disclosure_bp
    from tipoff.enterprises.views import bp as enterprises_bp
    from tipoff.followup.views import bp as followup_bp
    from tipoff.intake.operator import bp as operator_bp
    from tipoff.intake.views import bp as intake_bp
    from tipoff.exports.views import bp as exports_bp
    from tipoff.oversight.public import bp as public_report_bp
    from tipoff.oversight.typical import bp as typical_cases_bp
    from tipoff.oversight.views import bp as oversight_bp
    from tipoff.public.views import bp as public_bp
    from tipoff.reference.views import bp as reference_bp
    from tipoff.retention.views import bp as retention_bp
    from tipoff.rewards.admin import bp as reward_admin_bp
    from tipoff.rewards.calculator_views import bp as calculator_bp
    from tipoff.rewards.ledger import bp as reward_ledger_bp
    from tipoff.rewards.public import bp as reward_notices_bp
    from tipoff.rewards.views import bp as rewards_bp
    from tipoff.routing.views import bp as routing_bp
    from tipoff.staff.views import bp as staff_bp

    # Feature packages attach their JSON routes to the API blueprint before it is registered.
    import tipoff.accounts.api  # noqa: F401
    import tipoff.intake.api  # noqa: F401
    import tipoff.cases.api  # noqa: F401
    import tipoff.reference.api  # noqa: F401
    import tipoff.rewards.api  # noqa: F401

    for blueprint in (public_bp, intake_bp, operator_bp, cases_bp, disclosure_bp, accounts_bp, staff_bp, audit_bp, reference_bp,
                      routing_bp, rewards_bp, reward_ledger_bp, reward_admin_bp, calculator_bp,
                      reward_notices_bp, oversight_bp, public_report_bp, enterprises_bp, followup_bp,
                      typical_cases_bp, exports_bp, retention_bp, api_bp):
        app.register_blueprint(blueprint)
