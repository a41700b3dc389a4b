"""Key files on disk and keys from the environment: safe writes, strict parsing, no values in errors.

Every key file is created 0600 inside a 0700 directory, written to a temporary file first and then
moved into place, so a reader (another gunicorn worker) never sees half a key.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tipoff.crypto.primitives import b64decode, b64encode
from tipoff.errors import ConfigError

log = logging.getLogger("tipoff")

KEY_SIZE = 32
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # fits DataKey.kek_id (String(32))
# A random 32-byte key has about 30 distinct byte values; fewer than 8 means a placeholder.
MIN_DISTINCT_BYTES = 8


@dataclass
class ContentKeys:
    """The content keys (KEKs): the active one wraps new data keys, the others still unwrap old ones."""

    active: str
    keys: dict[str, bytes]
    created: dict[str, str] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)

    def to_json(self) -> bytes:
        """Serialise in the content-keys.json layout."""
        body = {
            "active": self.active,
            "keys": {
                kid: {"key": b64encode(raw), "created": self.created.get(kid, ""), "retired": kid in self.retired}
                for kid, raw in self.keys.items()
            },
        }
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("utf-8")


def new_kid() -> str:
    """A content-key id that sorts by creation time and never repeats."""
    return "k" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)


def now_iso() -> str:
    """The current UTC time as ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def ensure_key_dir(path: Path) -> None:
    """Create the key directory readable by the service user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def _temp_copy(path: Path, data: bytes) -> str:
    """Write `data` to a new 0600 temporary file next to `path` and return its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_new_file(path: Path, data: bytes) -> bool:
    """Create `path` atomically unless it exists; False when another process got there first."""
    tmp = _temp_copy(path, data)
    try:
        # link() refuses to replace an existing file, so two workers starting together agree on one key.
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    _sync_dir(path.parent)
    return True


def replace_file(path: Path, data: bytes) -> None:
    """Replace `path` atomically (temporary file + os.replace)."""
    tmp = _temp_copy(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    _sync_dir(path.parent)


def read_key_file(path: Path) -> str | None:
    """Return a key file's text, or None when it does not exist; warn when others can read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & 0o077:
        log.warning("key file %s is readable by other users; run: chmod 600 %s", path, path)
    return path.read_text(encoding="utf-8")


def decode_secret(text: str, what: str, size: int = KEY_SIZE) -> bytes:
    """Decode base64 key material or raise ConfigError naming `what` (never the value)."""
    try:
        raw = b64decode(text)
    except ValueError:
        raise ConfigError(f"{what} is not valid base64 (expected {size} random bytes)") from None
    if len(raw) != size:
        raise ConfigError(f"{what} has {len(raw)} bytes after base64 decoding; expected {size}")
    if len(set(raw)) < MIN_DISTINCT_BYTES:
        raise ConfigError(f"{what} is not random enough (too few distinct bytes); generate a new key")
    return raw


def decode_public(text: str, what: str) -> bytes:
    """Decode a base64 32-byte public key or raise ConfigError."""
    try:
        raw = b64decode(text)
    except ValueError:
        raise ConfigError(f"{what} is not valid base64 (expected a 32-byte public key)") from None
    if len(raw) != KEY_SIZE or raw == bytes(KEY_SIZE):
        raise ConfigError(f"{what} is not a valid 32-byte public key")
    return raw


def parse_content_keys_env(value: str) -> ContentKeys:
    """Parse TIPOFF_CONTENT_KEY: one base64 key, or `kid:base64,kid:base64` with the first active."""
    entries = [part.strip() for part in value.split(",") if part.strip()]
    if not entries:
        raise ConfigError("TIPOFF_CONTENT_KEY is empty")
    keys: dict[str, bytes] = {}
    for index, entry in enumerate(entries):
        if ":" in entry:
            kid, encoded = (piece.strip() for piece in entry.split(":", 1))
        elif len(entries) == 1:
            kid, encoded = "env", entry
        else:
            raise ConfigError("TIPOFF_CONTENT_KEY with several keys needs `kid:base64` for every entry")
        if not KID_PATTERN.match(kid):
            raise ConfigError(f"TIPOFF_CONTENT_KEY entry {index + 1} has an invalid key id (use A-Z a-z 0-9 _ -)")
        if kid in keys:
            raise ConfigError(f"TIPOFF_CONTENT_KEY names key id {kid!r} twice")
        keys[kid] = decode_secret(encoded, f"TIPOFF_CONTENT_KEY entry {index + 1} ({kid})")
    active = next(iter(keys))
    return ContentKeys(active=active, keys=keys, retired=set(keys) - {active})


def parse_content_keys_file(path: Path, text: str) -> ContentKeys:
    """Parse content-keys.json or raise ConfigError naming the file."""
    try:
        body = json.loads(text)
        active = body["active"]
        entries = body["keys"]
        keys = {kid: decode_secret(entry["key"], f"{path} key {kid!r}") for kid, entry in entries.items()}
        created = {kid: str(entry.get("created", "")) for kid, entry in entries.items()}
        retired = {kid for kid, entry in entries.items() if entry.get("retired")}
    except ConfigError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(f"{path} is not a valid content key file") from None
    if active not in keys or not all(KID_PATTERN.match(kid) for kid in keys):
        raise ConfigError(f"{path} is not a valid content key file (bad or unknown active key id)")
    return ContentKeys(active=active, keys=keys, created=created, retired=retired)


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """Identity of a file's current version (inode, mtime, size); os.replace always changes the inode."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)
