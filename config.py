"""tipoff configuration: one class per environment, every value from a `TIPOFF_` environment variable.

`create_app()` picks the class named by `TIPOFF_ENV` (development, testing, production), applies its
defaults, then the environment, then any overrides a test passes. `ProductionConfig.problems()` names
what is missing or weak so the service can refuse to start with one clear line.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

BASE_DIR = Path(__file__).resolve().parent

# Secrets that are obviously placeholders are refused in production however long they are.
WEAK_SECRETS = {"changeme", "secret", "dev", "development", "tipoff", "password", "test"}
MIN_SECRET_LENGTH = 32


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _clock_amounts(value: str) -> dict[str, int]:
    """"T2=5,T3=60" -> {"T2": 5, "T3": 60}."""
    pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ValueError(value)
    return {code.strip(): int(amount) for code, amount in pairs}


def _yuan(value: str) -> str:
    """A whole or two-decimal amount of yuan, kept as text (money is never a float)."""
    text = value.strip()
    whole, _, cents = text.partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise ValueError(value)
    return text


# name of the environment variable (without TIPOFF_) -> (config key, parser)
ENV_SETTINGS: dict[str, tuple[str, Any]] = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATA_DIR": ("TIPOFF_DATA_DIR", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", _database_url),
    "CRYPTO_PROFILE": ("TIPOFF_CRYPTO_PROFILE", str),
    "CONTENT_KEY": ("TIPOFF_CONTENT_KEY", str),
    "BLIND_INDEX_KEY": ("TIPOFF_BLIND_INDEX_KEY", str),
    "SIGNING_KEY": ("TIPOFF_SIGNING_KEY", str),
    "IDENTITY_PUBLIC_KEY": ("TIPOFF_IDENTITY_PUBLIC_KEY", str),
    "ARGON2_TIME_COST": ("TIPOFF_ARGON2_TIME_COST", int),
    "ARGON2_MEMORY_KIB": ("TIPOFF_ARGON2_MEMORY_KIB", int),
    "ARGON2_PARALLELISM": ("TIPOFF_ARGON2_PARALLELISM", int),
    "RATELIMIT_ENABLED": ("RATELIMIT_ENABLED", _bool),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "SESSION_IDLE_MINUTES": ("TIPOFF_SESSION_IDLE_MINUTES", int),
    "LOGIN_MAX_FAILURES": ("TIPOFF_LOGIN_MAX_FAILURES", int),
    "LOGIN_LOCK_MINUTES": ("TIPOFF_LOGIN_LOCK_MINUTES", int),
    "LOOKUP_KDF_SLOTS": ("TIPOFF_LOOKUP_KDF_SLOTS", int),
    "LOOKUP_KDF_WAIT_MS": ("TIPOFF_LOOKUP_KDF_WAIT_MS", int),
    "REFERENCE_FILE": ("TIPOFF_REFERENCE_FILE", str),
    "PUBLIC_BASE_URL": ("TIPOFF_PUBLIC_BASE_URL", str),
    "TRUSTED_PROXIES": ("TIPOFF_TRUSTED_PROXIES", int),
    "LOG_LEVEL": ("TIPOFF_LOG_LEVEL", str),
    "LOG_FORMAT": ("TIPOFF_LOG_FORMAT", str),
    "BACKUP_PUBLIC_KEY": ("TIPOFF_BACKUP_PUBLIC_KEY", str),
    "SECURE_COOKIES": ("SESSION_COOKIE_SECURE", _bool),
    "CLOCK_AMOUNTS": ("TIPOFF_CLOCK_AMOUNTS", _clock_amounts),
    "DISCLOSURE_CUSTODIANS": ("TIPOFF_DISCLOSURE_CUSTODIANS", int),
    "DISCLOSURE_HOURS": ("TIPOFF_DISCLOSURE_HOURS", int),
    "REWARD_OVERSEER_ABOVE": ("TIPOFF_REWARD_OVERSEER_ABOVE", _yuan),
    "RETENTION_EVIDENCE_DAYS": ("TIPOFF_RETENTION_EVIDENCE_DAYS", int),
    "RETENTION_IDENTITY_DAYS": ("TIPOFF_RETENTION_IDENTITY_DAYS", int),
    "SMTP_HOST": ("TIPOFF_SMTP_HOST", str),
    "SMTP_PORT": ("TIPOFF_SMTP_PORT", int),
    "SMTP_USER": ("TIPOFF_SMTP_USER", str),
    "SMTP_PASSWORD": ("TIPOFF_SMTP_PASSWORD", str),
    "SMTP_STARTTLS": ("TIPOFF_SMTP_STARTTLS", _bool),
    "SMTP_TIMEOUT": ("TIPOFF_SMTP_TIMEOUT", int),
    "MAIL_FROM": ("TIPOFF_MAIL_FROM", str),
}


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    TIPOFF_DATA_DIR = str(BASE_DIR / "instance")
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite in the data dir
    # hide_parameters: a database error must never log the values it was given (hashes, sealed data).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Crypto: "default" (AES-256-GCM, SHA-256, HMAC-SHA-256) or "gm" (国密: SM4-GCM, SM3, HMAC-SM3).
    TIPOFF_CRYPTO_PROFILE = "default"
    TIPOFF_CONTENT_KEY: str | None = None
    TIPOFF_BLIND_INDEX_KEY: str | None = None
    TIPOFF_SIGNING_KEY: str | None = None
    TIPOFF_IDENTITY_PUBLIC_KEY: str | None = None
    # argon2id: OWASP's minimum (m = 19 MiB, t = 2, p = 1) keeps a submit affordable on 2 cores.
    TIPOFF_ARGON2_TIME_COST = 2
    TIPOFF_ARGON2_MEMORY_KIB = 19 * 1024
    TIPOFF_ARGON2_PARALLELISM = 1

    # Staff sessions and login protection.
    TIPOFF_SESSION_IDLE_MINUTES = 30
    TIPOFF_LOGIN_MAX_FAILURES = 5
    TIPOFF_LOGIN_LOCK_MINUTES = 15
    SESSION_COOKIE_NAME = "tipoff_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # The staff session cookie is sent again when it changes (tipoff.accounts.session refreshes its
    # last_seen once a minute), not with every response.
    SESSION_REFRESH_EACH_REQUEST = False
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    WTF_CSRF_TIME_LIMIT = 4 * 3600  # a worried citizen may take a long time to write a tip
    # Flask-WTF's HTTPS check wants a Referer, which our no-referrer policy never sends; tipoff refuses
    # cross-site form posts by their Sec-Fetch-Site header instead (tipoff.web), besides the token.
    WTF_CSRF_SSL_STRICT = False
    # Four evidence files of at most 25 MB each, plus the form: uploads are held in memory, never spooled.
    MAX_CONTENT_LENGTH = 102 * 1024 * 1024

    # Per-client limits; the storage is shared between workers in production (redis://).
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Should the shared store (Redis) go down, each worker counts in its own memory until it is back: a tip
    # is never refused because the rate-limit store is unreachable.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Wrong access codes (counted on failures only): per reference from one client, and per reference.
    TIPOFF_LOOKUP_LIMIT_PER_CLIENT = "5 per 15 minutes"
    TIPOFF_LOOKUP_LIMIT_PER_REFERENCE = "30 per hour"
    # Access-code lookups verifying at once on this host (all workers together; None: half the cores), and how
    # long one waits for a slot before a 503: a flood of wrong codes then takes at most this many cores' worth
    # of KDF, and submits keep theirs (tipoff.intake.kdf_slots).
    TIPOFF_LOOKUP_KDF_SLOTS: int | None = None
    TIPOFF_LOOKUP_KDF_WAIT_MS = 0

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    TIPOFF_LANGUAGES = ("zh_CN", "en")

    TIPOFF_REFERENCE_FILE = str(BASE_DIR / "tipoff" / "reference" / "data" / "jianan.yaml")
    TIPOFF_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    TIPOFF_TRUSTED_PROXIES = 0
    TIPOFF_LOG_LEVEL = "INFO"
    TIPOFF_LOG_FORMAT = "text"  # "json": one JSON object per line (tipoff.logs)
    # Backups are sealed to this public key (base64); default <data dir>/keys/backup.pub (tipoff.backup).
    TIPOFF_BACKUP_PUBLIC_KEY: str | None = None
    TIPOFF_FAST_CRYPTO = False
    # Statutory clocks (RULES.md §5): e.g. {"T2": 5, "T3": 60}; unset codes keep the RULES defaults.
    TIPOFF_CLOCK_AMOUNTS: dict | None = None
    # Identity disclosure: how many custodians must approve (1 or 2), and how long the requester may read.
    TIPOFF_DISCLOSURE_CUSTODIANS = 1
    TIPOFF_DISCLOSURE_HOURS = 24
    # Rewards above this amount (yuan) need the 区安委会办公室's approval after the department leader's.
    TIPOFF_REWARD_OVERSEER_ABOVE = "50000"
    # Retention after a case is closed (tipoff.retention, README "Retention"): evidence and the tip's texts
    # ten years (文书档案 定期10年), the reporter's identity five years (行政处罚法 art. 36, 行诉 outer limit).
    TIPOFF_RETENTION_EVIDENCE_DAYS = 3653
    TIPOFF_RETENTION_IDENTITY_DAYS = 1826
    # Deadline reminder e-mails (`flask tipoff remind`): the district's relay; login only when a user is set.
    TIPOFF_SMTP_HOST = "127.0.0.1"
    TIPOFF_SMTP_PORT = 25
    TIPOFF_SMTP_USER: str | None = None
    TIPOFF_SMTP_PASSWORD: str | None = None
    TIPOFF_SMTP_STARTTLS = False
    TIPOFF_SMTP_TIMEOUT = 10  # seconds, per connection attempt
    TIPOFF_MAIL_FROM = "tipoff@localhost"
    TIPOFF_HSTS = False
    # Development may create its own secret and keys on first start; production never does.
    TIPOFF_GENERATE_MISSING_KEYS = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Return the settings found in `TIPOFF_*` environment variables."""
        environ = os.environ if environ is None else environ
        found: dict[str, Any] = {}
        for name, (key, parse) in ENV_SETTINGS.items():
            raw = environ.get(f"TIPOFF_{name}")
            if raw is not None and raw != "":
                try:
                    found[key] = parse(raw)
                except ValueError:
                    from tipoff.errors import ConfigError

                    raise ConfigError(f"TIPOFF_{name}={raw!r} is not a valid {parse.__name__.strip('_')}") from None
        return found

    @staticmethod
    def problems(config: Mapping[str, Any]) -> list[str]:
        """Name what makes this configuration unfit to serve (empty: fit)."""
        return []


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    TIPOFF_GENERATE_MISSING_KEYS = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    TIPOFF_FAST_CRYPTO = True
    TIPOFF_GENERATE_MISSING_KEYS = True
    RATELIMIT_ENABLED = False
    WTF_CSRF_ENABLED = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    TIPOFF_HSTS = True

    @staticmethod
    def problems(config: Mapping[str, Any]) -> list[str]:
        """Name what makes this configuration unfit to serve (empty: fit)."""
        found = []
        secret = config.get("SECRET_KEY") or ""
        if not secret:
            found.append("TIPOFF_SECRET_KEY is missing")
        elif len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS or len(set(secret)) < 8:
            found.append(f"TIPOFF_SECRET_KEY is weak (use at least {MIN_SECRET_LENGTH} random characters)")
        if config.get("TIPOFF_FAST_CRYPTO"):
            found.append("TIPOFF_FAST_CRYPTO must not be set in production")
        if config.get("TIPOFF_CRYPTO_PROFILE") not in ("default", "gm"):
            found.append("TIPOFF_CRYPTO_PROFILE must be 'default' or 'gm'")
        for name in ("TIPOFF_RETENTION_EVIDENCE_DAYS", "TIPOFF_RETENTION_IDENTITY_DAYS"):
            if int(config.get(name) or 0) < 180:  # 行政诉讼法 art. 46: six months to sue; shredding cannot be undone
                found.append(f"{name} must be at least 180 days in production")
        return found


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name: str | None = None) -> type[Config]:
    """Return the configuration class for `TIPOFF_ENV` (development when unset)."""
    name = (name or os.environ.get("TIPOFF_ENV") or "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        from tipoff.errors import ConfigError

        raise ConfigError(f"TIPOFF_ENV={name!r} is unknown (use development, testing or production)") from None
