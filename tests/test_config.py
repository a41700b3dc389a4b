"""Configuration: production refuses to start without strong secrets and keys; development generates."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config, DevelopmentConfig, ProductionConfig
from tipoff import create_app
from tipoff.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
STRONG = "k3Y-" + "x8Qp2Lm9Zr7Tn4Vb6Wc1Hd5Jf0Gs3Ae" + "-strong"


@pytest.mark.parametrize("secret, expected", [
    (None, "TIPOFF_SECRET_KEY is missing"),
    ("changeme", "TIPOFF_SECRET_KEY is weak"),
    ("short-but-random-9f8e", "TIPOFF_SECRET_KEY is weak"),
    ("a" * 40, "TIPOFF_SECRET_KEY is weak"),
])
def test_production_refuses_missing_or_weak_secret(tmp_path, secret, expected):
    overrides = {"TIPOFF_DATA_DIR": str(tmp_path), "SECRET_KEY": secret}
    with pytest.raises(ConfigError) as caught:
        create_app(ProductionConfig, overrides)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_production_refuses_missing_keys_naming_them(tmp_path):
    with pytest.raises(ConfigError) as caught:
        create_app(ProductionConfig, {"TIPOFF_DATA_DIR": str(tmp_path), "SECRET_KEY": STRONG})
    message = str(caught.value)
    for name in ("content key", "blind-index key", "signing key", "identity public key"):
        assert name in message
    assert not (tmp_path / "keys" / "content-keys.json").exists()  # production never generates


def test_wsgi_refuses_with_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
    env.update(TIPOFF_ENV="production", TIPOFF_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("tipoff: refusing to start: TIPOFF_SECRET_KEY is missing")


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("TIPOFF_ENV", "staging")
    with pytest.raises(ConfigError, match="staging"):
        create_app()


def test_development_generates_secret_and_keys_and_says_so(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="tipoff")
    app = create_app(DevelopmentConfig, {"TIPOFF_DATA_DIR": str(tmp_path)})
    secret_file = tmp_path / "secret_key"
    assert secret_file.exists() and oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert app.config["SECRET_KEY"] == secret_file.read_text().strip()
    assert "generated a session secret" in caplog.text
    assert app.config["SECRET_KEY"] not in caplog.text
    # A second start reuses what exists.
    again = create_app(DevelopmentConfig, {"TIPOFF_DATA_DIR": str(tmp_path)})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_settings_come_from_tipoff_environment_variables():
    found = Config.from_env({
        "TIPOFF_DATABASE_URL": "postgresql://u@h/db", "TIPOFF_RATELIMIT_ENABLED": "false",
        "TIPOFF_SESSION_IDLE_MINUTES": "10", "UNRELATED": "x", "TIPOFF_DATA_DIR": "/srv/tipoff"})
    assert found == {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db", "RATELIMIT_ENABLED": False,
                     "TIPOFF_SESSION_IDLE_MINUTES": 10, "TIPOFF_DATA_DIR": "/srv/tipoff"}


def test_sqlite_runs_in_wal_mode_with_busy_timeout(app):
    from sqlalchemy import text

    from tipoff.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_flask_run_in_production_without_keys_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.setattr("sys.argv", ["flask", "run"])
    with pytest.raises(ConfigError, match="content key"):
        create_app(ProductionConfig, {"TIPOFF_DATA_DIR": str(tmp_path), "SECRET_KEY": STRONG})


def test_production_key_setup_then_init_then_serve(tmp_path):
    """The README's production order: keys generate, keys generate-identity, init; then wsgi starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
    env.update(TIPOFF_ENV="production", TIPOFF_DATA_DIR=str(tmp_path / "srv"), TIPOFF_SECRET_KEY=STRONG,
               FLASK_APP="wsgi:app")
    flask = [sys.executable, "-m", "flask"]

    def run(*args, stdin=None):
        return subprocess.run(flask + list(args), cwd=ROOT, env=env, input=stdin, capture_output=True, text=True,
                              timeout=120)

    refused = run("tipoff", "init")
    assert refused.returncode != 0 and "content key" in refused.stderr
    assert run("tipoff", "keys", "generate").returncode == 0
    assert run("tipoff", "keys", "generate-identity", "--passphrase-stdin",
               stdin="a custodian passphrase of some length\n").returncode == 0
    init = run("tipoff", "init")
    assert init.returncode == 0, init.stderr
    assert "one-time password" in init.stdout and "保密员口令" not in init.stdout
    assert oct((tmp_path / "srv").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "srv" / "tipoff.db").stat().st_mode & 0o777) == "0o600"
    served = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert served.returncode == 0, served.stderr


@pytest.mark.parametrize("raw, ok", [("80000", True), ("80000.50", True), ("abc", False), ("-1", False),
                                     ("1.234", False), ("1e5", False)])
def test_reward_approval_threshold_is_exact_yuan(raw, ok):
    if ok:
        assert Config.from_env({"TIPOFF_REWARD_OVERSEER_ABOVE": raw})["TIPOFF_REWARD_OVERSEER_ABOVE"] == raw
    else:
        with pytest.raises(ConfigError, match="TIPOFF_REWARD_OVERSEER_ABOVE"):
            Config.from_env({"TIPOFF_REWARD_OVERSEER_ABOVE": raw})
