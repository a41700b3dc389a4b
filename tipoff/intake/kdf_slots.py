"""Bounded KDF concurrency for access-code lookups (查询码核验).

Every lookup costs one argon2id verification, by design. A flood of wrong codes would otherwise take every
core and starve the submits, which carry a KDF of their own. At most TIPOFF_LOOKUP_KDF_SLOTS lookups verify
at once on this host — across all worker processes, not per process: with two workers on two cores a
per-process slot would still let lookups take both. A lookup that finds no free slot within
TIPOFF_LOOKUP_KDF_WAIT_MS is answered 503 with Retry-After, before any query or KDF, so refusing costs
almost nothing and is the same for every reference (a refusal tells nothing about whether it exists).

A slot is an open-file-description lock (`F_OFD_SETLK`, Linux) on one of N small files in a host-local
directory: cheap (one system call), shared by every process of the service, and released by the kernel
when its descriptor closes or a worker dies holding it. Unlike `flock`, another process can ask whether a
slot is held without taking it (`F_OFD_GETLK`): tipoff.intake.busy_gate looks before Flask runs, and a
look must never make a real lookup find its slot taken.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import struct
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from flask import current_app

from tipoff.errors import DomainError, _

RETRY_AFTER_SECONDS = 2
_POLL_SECONDS = 0.005


class LookupBusy(DomainError):
    """Every lookup slot on this host is verifying a code: try again in a moment."""

    status = 503
    code = "lookup_busy"
    retry_after = RETRY_AFTER_SECONDS

    def default_message(self) -> str:
        return _("查询的人较多，请几秒钟后再试。")


def default_slots() -> int:
    """Half the cores (at least one): lookups may never take the CPU that submits need."""
    return max(1, (os.cpu_count() or 2) // 2)


def slot_dir(data_dir: str | None = None) -> Path:
    """A host-local directory for this service's slot files (one per data dir, so test apps stay apart).

    Not the data dir itself: that may sit on a volume shared by several servers, where each host must count
    only its own cores and file locks may not hold.
    """
    resolved = str(Path(data_dir or current_app.config["TIPOFF_DATA_DIR"]).resolve())
    tag = hashlib.sha256(resolved.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"tipoff-{os.getuid()}-lookup-slots-{tag}"
    path.mkdir(mode=0o700, exist_ok=True)
    found = path.lstat()
    if path.is_symlink() or found.st_uid != os.getuid() or found.st_mode & 0o077:
        # Someone else made it first in the shared temp dir: their lock files could starve every lookup.
        raise RuntimeError(f"lookup slot directory {path} is not this service's own (owner, mode or symlink)")
    return path


# struct flock as Linux lays it out: l_type, l_whence, l_start, l_len, l_pid (and padding). Zero start and
# length cover the whole file; l_pid must be 0 for OFD locks.
_FLOCK = struct.Struct("hhqqi4x")
_WHOLE_FILE_WRITE = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)


def _open_slot(directory: Path, index: int) -> int:
    return os.open(directory / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)


def take_slot_lock(fd: int) -> bool:
    """Lock an open slot file for this descriptor; False when another descriptor holds it."""
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _WHOLE_FILE_WRITE)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


def _held_by_another(fd: int) -> bool:
    """Whether a lock on this slot file is held (asked through a descriptor that holds none)."""
    return _FLOCK.unpack(fcntl.fcntl(fd, fcntl.F_OFD_GETLK, _WHOLE_FILE_WRITE))[0] != fcntl.F_UNLCK


def _try_slot(directory: Path, count: int) -> int | None:
    """An open descriptor holding one free slot's lock, or None when all `count` are held."""
    for index in range(count):
        fd = _open_slot(directory, index)
        if take_slot_lock(fd):
            return fd
        os.close(fd)
    return None


def any_slot_free(directory: Path, count: int) -> bool:
    """Whether a slot is free right now: a look that takes nothing, so it never refuses anyone itself."""
    for index in range(count):
        fd = _open_slot(directory, index)
        try:
            if not _held_by_another(fd):
                return True
        finally:
            os.close(fd)
    return False


def slot_count(config: Mapping[str, Any]) -> int:
    """How many lookups may verify at once on this host (TIPOFF_LOOKUP_KDF_SLOTS, else half the cores)."""
    configured = config.get("TIPOFF_LOOKUP_KDF_SLOTS")
    return int(configured) if configured else default_slots()


@contextmanager
def lookup_kdf_slot() -> Iterator[None]:
    """Hold one lookup slot for the block, or raise LookupBusy when none frees up in time."""
    count = slot_count(current_app.config)
    directory = slot_dir()
    deadline = time.monotonic() + int(current_app.config["TIPOFF_LOOKUP_KDF_WAIT_MS"]) / 1000
    fd = _try_slot(directory, count)
    while fd is None and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        fd = _try_slot(directory, count)
    if fd is None:
        raise LookupBusy()
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases its lock
