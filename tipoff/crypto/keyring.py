"""The keyring (密钥环): finds, checks, generates and rotates tipoff's keys; never prints a key value.

Keys come from the environment (TIPOFF_CONTENT_KEY, TIPOFF_BLIND_INDEX_KEY, TIPOFF_SIGNING_KEY,
TIPOFF_IDENTITY_PUBLIC_KEY) or from files in `<data dir>/keys/`; the environment wins. The identity
private key is never read here: only `identity.unlock_identity_key` opens it, with the passphrase.
"""
from __future__ import annotations

import fcntl
import logging
import os
import sys
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app, has_app_context

from tipoff.crypto import keyfiles
from tipoff.crypto.primitives import (
    CUSTODIAN_KDF_PARAMS,
    FAST_PARAMS,
    PROFILE_DESCRIPTIONS,
    PROFILES,
    Argon2Params,
    b64encode,
    fingerprint_public,
    fingerprint_secret,
)
from tipoff.errors import ConfigError

log = logging.getLogger("tipoff")

EXTENSION = "tipoff_crypto"
GENERATE_HINT = "run `flask tipoff keys generate`"
IDENTITY_HINT = "run `flask tipoff keys generate-identity --passphrase-stdin`"
# No 0/O, 1/l/i: the custodian copies the passphrase by hand.
# (An alphabet, not a passphrase: bandit B105 judges by the name.)
PASSPHRASE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # nosec B105


@dataclass(frozen=True)
class KeyStatus:
    """Whether one key is present, and how to recognise it (never its value)."""

    name: str
    present: bool
    detail: str


class Keyring:
    """The keys of one application, loaded from config or `<data dir>/keys/`."""

    def __init__(self, *, key_dir: Path, profile: str, password_params: Argon2Params,
                 kdf_params: Argon2Params, generate_missing: bool, env: Mapping[str, str | None]):
        self.key_dir = key_dir
        self.profile = profile
        self.password_params = password_params
        self.kdf_params = kdf_params
        self.generate_allowed = generate_missing
        self.env = {name: (value or None) for name, value in env.items()}
        self.content_path = key_dir / "content-keys.json"
        self.blind_path = key_dir / "blind-index.key"
        self.signing_path = key_dir / "signing.key"
        self.identity_pub_path = key_dir / "identity.pub"
        self.identity_enc_path = key_dir / "identity.key.enc"
        self._lock = threading.RLock()
        self._content: keyfiles.ContentKeys | None = None
        self._content_stamp: tuple[int, int, int] | None = None
        self._blind: bytes | None = None
        self._signing: bytes | None = None
        self._signing_key: tuple[bytes, Ed25519PrivateKey] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Keyring:
        """Build a keyring from a Flask config; raise ConfigError on an unknown profile."""
        profile = config.get("TIPOFF_CRYPTO_PROFILE") or "default"
        if profile not in PROFILES:
            raise ConfigError(f"TIPOFF_CRYPTO_PROFILE={profile!r} is unknown (use 'default' or 'gm')")
        if config.get("TIPOFF_FAST_CRYPTO"):
            password_params = kdf_params = FAST_PARAMS
        else:
            password_params = Argon2Params(int(config["TIPOFF_ARGON2_TIME_COST"]),
                                           int(config["TIPOFF_ARGON2_MEMORY_KIB"]),
                                           int(config["TIPOFF_ARGON2_PARALLELISM"]))
            kdf_params = CUSTODIAN_KDF_PARAMS
        names = ("TIPOFF_CONTENT_KEY", "TIPOFF_BLIND_INDEX_KEY", "TIPOFF_SIGNING_KEY", "TIPOFF_IDENTITY_PUBLIC_KEY")
        return cls(key_dir=Path(config["TIPOFF_DATA_DIR"]) / "keys", profile=profile,
                   password_params=password_params, kdf_params=kdf_params,
                   generate_missing=bool(config.get("TIPOFF_GENERATE_MISSING_KEYS")),
                   env={name: config.get(name) for name in names})

    # ------------------------------------------------------------------ loading

    def load(self) -> None:
        """Read every key that exists; raise ConfigError for malformed or weak ones."""
        with self._lock:
            self._load_content()
            self._blind = self._load_secret("TIPOFF_BLIND_INDEX_KEY", self.blind_path)
            self._signing = self._load_secret("TIPOFF_SIGNING_KEY", self.signing_path)
            self.identity_public_key()  # validates the env value or the file

    def _load_secret(self, env_name: str, path: Path) -> bytes | None:
        if self.env.get(env_name):
            return keyfiles.decode_secret(self.env[env_name], env_name)
        text = keyfiles.read_key_file(path)
        return None if text is None else keyfiles.decode_secret(text, str(path))

    def _load_content(self) -> None:
        if self.env.get("TIPOFF_CONTENT_KEY"):
            self._content = keyfiles.parse_content_keys_env(self.env["TIPOFF_CONTENT_KEY"])
            return
        stamp = keyfiles.file_stamp(self.content_path)
        text = keyfiles.read_key_file(self.content_path)
        self._content = None if text is None else keyfiles.parse_content_keys_file(self.content_path, text)
        self._content_stamp = stamp

    @property
    def content_from_env(self) -> bool:
        """True when content keys come from TIPOFF_CONTENT_KEY (then they cannot be rotated here)."""
        return bool(self.env.get("TIPOFF_CONTENT_KEY"))

    def _refresh_content_if_changed(self) -> None:
        # A stat per call is cheap and lets every worker follow a rotation made by another process.
        if not self.content_from_env and keyfiles.file_stamp(self.content_path) != self._content_stamp:
            self._load_content()

    def missing(self) -> list[str]:
        """One phrase per required key that is absent."""
        found = []
        if self._content is None:
            found.append(f"content key missing (TIPOFF_CONTENT_KEY or {self.content_path}; {GENERATE_HINT})")
        if self._blind is None:
            found.append(f"blind-index key missing (TIPOFF_BLIND_INDEX_KEY or {self.blind_path}; {GENERATE_HINT})")
        if self._signing is None:
            found.append(f"signing key missing (TIPOFF_SIGNING_KEY or {self.signing_path}; {GENERATE_HINT})")
        if self.identity_public_key() is None:
            found.append(f"identity public key missing (TIPOFF_IDENTITY_PUBLIC_KEY or {self.identity_pub_path}; "
                         f"{IDENTITY_HINT})")
        return found

    # ------------------------------------------------------------------ access

    def active_content_key(self) -> tuple[str, bytes]:
        """The (kid, key) that wraps new data keys."""
        with self._lock:
            self._refresh_content_if_changed()
            if self._content is None:
                raise ConfigError(self._missing_line("content key"))
            return self._content.active, self._content.keys[self._content.active]

    def content_key(self, kid: str) -> bytes:
        """The content key `kid`; reread the file once when unknown (rotated by another process)."""
        with self._lock:
            if self._content is None or kid not in self._content.keys:
                if not self.content_from_env:
                    self._load_content()
            if self._content is None or kid not in self._content.keys:
                raise LookupError(f"content key {kid!r} is not in the keyring")
            return self._content.keys[kid]

    def blind_index_key(self) -> bytes:
        """The blind-index HMAC key."""
        if self._blind is None:
            raise ConfigError(self._missing_line("blind-index key"))
        return self._blind

    def signing_seed(self) -> bytes:
        """The 32-byte Ed25519 private seed."""
        if self._signing is None:
            raise ConfigError(self._missing_line("signing key"))
        return self._signing

    def signing_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key for the seed, built once per seed: deriving it costs about as much as a
        signature, and every audit seal and proof of filing signs."""
        seed = self.signing_seed()
        built = self._signing_key
        if built is None or built[0] is not seed:
            built = self._signing_key = (seed, Ed25519PrivateKey.from_private_bytes(seed))
        return built[1]

    def identity_public_key(self) -> bytes | None:
        """The raw X25519 identity public key, or None; the file is reread so a new pair is seen at once."""
        if self.env.get("TIPOFF_IDENTITY_PUBLIC_KEY"):
            return keyfiles.decode_public(self.env["TIPOFF_IDENTITY_PUBLIC_KEY"], "TIPOFF_IDENTITY_PUBLIC_KEY")
        text = keyfiles.read_key_file(self.identity_pub_path)
        return None if text is None else keyfiles.decode_public(text, str(self.identity_pub_path))

    def _missing_line(self, name: str) -> str:
        return next((line for line in self.missing() if line.startswith(name)), f"{name} missing")

    # ------------------------------------------------------------------ writing

    def generate_missing(self) -> list[str]:
        """Create missing content, blind-index and signing key files; one line per key made."""
        made = []
        with self._lock:
            self._load_content()
            if self._content is None:
                keyfiles.ensure_key_dir(self.key_dir)
                kid = keyfiles.new_kid()
                content = keyfiles.ContentKeys(active=kid, keys={kid: secrets.token_bytes(keyfiles.KEY_SIZE)},
                                               created={kid: keyfiles.now_iso()})
                if keyfiles.write_new_file(self.content_path, content.to_json()):
                    made.append(f"generated content key {kid} in {self.content_path}")
                self._load_content()
            for name, env_name, path in (("blind-index key", "TIPOFF_BLIND_INDEX_KEY", self.blind_path),
                                         ("signing key", "TIPOFF_SIGNING_KEY", self.signing_path)):
                if self.env.get(env_name) or path.exists():
                    continue
                keyfiles.ensure_key_dir(self.key_dir)
                if keyfiles.write_new_file(path, (b64encode(secrets.token_bytes(keyfiles.KEY_SIZE)) + "\n").encode()):
                    made.append(f"generated {name} in {path}")
            self.load()
        return made

    def save_content_keys(self, content: keyfiles.ContentKeys) -> None:
        """Replace content-keys.json atomically and adopt it."""
        with self._lock:
            keyfiles.replace_file(self.content_path, content.to_json())
            self._load_content()

    def reload_content_keys(self) -> keyfiles.ContentKeys:
        """Reread content-keys.json; raise ConfigError when it is missing."""
        with self._lock:
            self._load_content()
            if self._content is None:
                raise ConfigError(self._missing_line("content key"))
            return self._content

    @contextmanager
    def rotation_lock(self) -> Iterator[None]:
        """Hold an exclusive lock so two administrators cannot rotate at the same time."""
        keyfiles.ensure_key_dir(self.key_dir)
        with open(self.key_dir / ".rotate.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # ------------------------------------------------------------------ status

    def status(self) -> list[KeyStatus]:
        """Presence and fingerprints of every key, safe to show to an administrator."""
        with self._lock:
            self._refresh_content_if_changed()
            rows = [self._identity_public_status(), self._identity_private_status()]
            if self._content is None:
                rows.append(KeyStatus("content key", False, self._missing_line("content key")))
            else:
                content = self._content
                source = "TIPOFF_CONTENT_KEY" if self.content_from_env else str(self.content_path)
                older = len(content.keys) - 1
                rows.append(KeyStatus("content key", True, (
                    f"active {content.active}, fingerprint {fingerprint_secret(content.keys[content.active])}, "
                    f"{older} older key(s) kept for unwrapping ({len(content.retired)} retired), "
                    f"profile {PROFILE_DESCRIPTIONS[self.profile]}, from {source}")))
            for name, env_name, path, value in (
                    ("blind-index key", "TIPOFF_BLIND_INDEX_KEY", self.blind_path, self._blind),
                    ("signing key", "TIPOFF_SIGNING_KEY", self.signing_path, self._signing)):
                if value is None:
                    rows.append(KeyStatus(name, False, self._missing_line(name)))
                    continue
                if name == "signing key":
                    from tipoff.crypto.signing import public_key_from_seed

                    mark = f"public key fingerprint {fingerprint_public(public_key_from_seed(value))}"
                else:
                    mark = f"fingerprint {fingerprint_secret(value)}"
                rows.append(KeyStatus(name, True, f"{mark}, from {env_name if self.env.get(env_name) else path}"))
            return rows

    def _identity_public_status(self) -> KeyStatus:
        try:
            public = self.identity_public_key()
        except ConfigError as exc:
            return KeyStatus("identity public key", False, str(exc))
        if public is None:
            return KeyStatus("identity public key", False, self._missing_line("identity public key"))
        source = "TIPOFF_IDENTITY_PUBLIC_KEY" if self.env.get("TIPOFF_IDENTITY_PUBLIC_KEY") else self.identity_pub_path
        return KeyStatus("identity public key", True, f"fingerprint {fingerprint_public(public)}, from {source}")

    def _identity_private_status(self) -> KeyStatus:
        name = "identity private key (encrypted)"
        if not self.identity_enc_path.exists():
            return KeyStatus(name, False, "not on this server (kept offline by the custodian, or not yet generated)")
        return KeyStatus(name, True, f"{self.identity_enc_path}, sealed under the custodian passphrase (argon2id); "
                                     "not loaded until unlocked")


# ---------------------------------------------------------------------- module API


def init_app(app: Flask) -> None:
    """Attach a keyring; generate missing keys in development, refuse to start without them in production."""
    ring = Keyring.from_config(app.config)
    if ring.generate_allowed:
        for line in ring.generate_missing():
            log.warning("development: %s", line)
    ring.load()
    missing = ring.missing()
    if missing and not ring.generate_allowed:
        # `flask tipoff keys …` must be able to load the app that lacks the keys it will create; every
        # other way of running the app (gunicorn, `flask run`, `flask tipoff init`) refuses.
        if not _running_key_command():
            raise ConfigError("; ".join(missing))
        log.warning("keys missing (only `flask tipoff keys` commands will work): %s", "; ".join(missing))
    elif missing:
        log.info("development: %s", "; ".join(missing))
    app.extensions[EXTENSION] = ring


def _running_key_command() -> bool:
    """True while the process is `flask tipoff keys …` (key setup on a new server), `flask tipoff restore`
    (which brings the keys back) or `flask tipoff backup keygen|verify` (run offline, needing no keys)."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return False
    words = [w for w in sys.argv[1:] if not w.startswith("-")]
    return words[:2] in (["tipoff", "keys"], ["tipoff", "restore"]) or words[:3] in (
        ["tipoff", "backup", "keygen"], ["tipoff", "backup", "verify"])


def current_keyring() -> Keyring:
    """The keyring of the current application."""
    if not has_app_context() or EXTENSION not in current_app.extensions:
        raise RuntimeError("tipoff.crypto needs an application context with crypto.init_app(app) applied")
    return current_app.extensions[EXTENSION]


def generate_missing_keys(*, explicit: bool = False) -> list[str]:
    """Generate missing content, blind-index and signing keys; lines like "generated signing key in …".

    In production only an explicit `flask tipoff keys generate` may create keys: a quiet generation by
    `init` on a second server would fork the content keys and break every blind index.
    """
    ring = current_keyring()
    if not ring.generate_allowed and not explicit:
        missing = ring.missing()
        if missing:
            raise ConfigError("; ".join(missing))
        return []
    return ring.generate_missing()


def ensure_identity_keypair_for_development() -> str | None:
    """Outside production, create the identity pair under a new random passphrase and return it once."""
    ring = current_keyring()
    if not ring.generate_allowed or ring.identity_public_key() is not None or ring.identity_enc_path.exists():
        return None
    from tipoff.crypto.identity import generate_identity_keypair

    passphrase = "-".join("".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(5)) for _ in range(6))
    generate_identity_keypair(passphrase)
    log.warning("development: generated the identity key pair in %s", ring.key_dir)
    return passphrase


def keys_status() -> list[KeyStatus]:
    """One KeyStatus per key: present or missing, fingerprint and source; never a value."""
    return current_keyring().status()


def _require_data_key_table() -> None:
    # Fail before a new key is written, not halfway through, when the database is not there yet.
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from tipoff.crypto.models import DataKey
    from tipoff.extensions import db

    try:
        db.session.execute(select(DataKey.id).limit(1))
    except (OperationalError, ProgrammingError):
        db.session.rollback()
        raise ConfigError("the database has no data key table yet (run `flask tipoff init`)") from None
    db.session.commit()


def rotate_content_key(batch_size: int = 500) -> dict:
    """Make a new content key active, re-wrap every data key under it, then retire the old keys.

    Each batch of data keys is committed on its own so running workers keep serving: they unwrap with
    the old or the new key, both of which stay in content-keys.json. Retired keys are kept, never
    deleted: a database backup taken before the rotation still needs them. Returns
    {"new_kid", "rewrapped", "retired", "unreadable"} (ids of data keys no known key could unwrap).
    """
    from tipoff.crypto.envelope import rewrap_data_keys

    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ring = current_keyring()
    if ring.content_from_env:
        raise ConfigError("content keys come from TIPOFF_CONTENT_KEY: rotate by prepending a new `kid:base64` "
                          "entry there, not with this command")
    _require_data_key_table()
    with ring.rotation_lock():
        content = ring.reload_content_keys()
        kid = keyfiles.new_kid()
        content.keys[kid] = secrets.token_bytes(keyfiles.KEY_SIZE)
        content.created[kid] = keyfiles.now_iso()
        content.active = kid
        ring.save_content_keys(content)
        rewrapped, unreadable = rewrap_data_keys(kid, batch_size)
        content = ring.reload_content_keys()
        retired = sorted(old for old in content.keys if old != kid and old not in content.retired)
        content.retired.update(retired)
        ring.save_content_keys(content)
    return {"new_kid": kid, "rewrapped": rewrapped, "retired": retired, "unreadable": unreadable}
