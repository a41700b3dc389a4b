"""The hash chain (哈希链) over audit entries: sealing committed entries and verifying the chain.

A seal gives one committed entry the next sequence number and
chain_hash = H(prev_chain_hash | seq | entry_id | entry_hash), where entry_hash = H(canonical JSON of
the entry row). Sealing runs in a short transaction of its own on a fresh connection and is optimistic:
two sealers that read the same head both try to insert the same `seq`; the primary key lets exactly
one win and the other rolls back and tries again, so the chain never forks and nobody holds a long lock.
Seals are only ever inserted; verification recomputes everything from the stored rows.
"""
from __future__ import annotations

import contextvars
import json
import logging
import random
import time
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import timedelta, timezone
from typing import Any, Callable, Collection, TypeVar

from sqlalchemy import Connection, Integer, Select, Text, and_, bindparam, cast, func, insert, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from tipoff.audit.models import AuditEntry, AuditSeal
from tipoff.crypto import default_hash_alg, hash_hex, sign, verify_signature
from tipoff.db import as_utc, set_write_intent, utcnow
from tipoff.extensions import db

log = logging.getLogger("tipoff.audit")

ZERO_HASH = "0" * 64
# Sealing looks for unsealed entries only this far below the highest sealed entry id, so it stays an
# index range scan on a large log. An entry committed later than that (a very long transaction) is left
# unsealed: `verify_chain` reports it and `flask tipoff audit seal --all` seals it.
WINDOW = 10_000
# The window is an anti-join over up to WINDOW entries (~4 ms on SQLite with a full window), too dear for
# every commit: a commit's own seal looks only above the head and at the entries it committed itself
# (`owed`); when each process scans the window is tipoff.audit.sealing's policy.
SEAL_LIMIT = 1000
SEAL_ATTEMPTS = 12
VERIFY_BATCH = 1000
# Sealing follows every commit within moments; an entry unsealed for longer than this is suspicious.
STALE_UNSEALED = timedelta(minutes=10)
# PostgreSQL states worth retrying: unique violation (a rival sealer won), deadlock, serialization failure.
RETRY_SQLSTATES = {"23505", "40P01", "40001"}

_entries = AuditEntry.__table__
_seals = AuditSeal.__table__

T = TypeVar("T")


@dataclass
class VerifyResult:
    """The outcome of walking the whole chain."""

    ok: bool
    checked: int
    head_hash: str | None
    first_broken_seq: int | None = None
    first_broken_entry_id: int | None = None
    problem: str | None = None
    unsealed: int = 0
    # A stable code for the problem (entry_altered, seal_altered, seal_missing, entry_missing,
    # unknown_alg, unsealed, sealing_failed) so the UI can explain it in the reader's language.
    kind: str | None = None


def canonical_entry(row: Any) -> bytes:
    """The bytes an entry hash covers: the entry's fields as canonical JSON (sorted keys, UTF-8)."""
    created = as_utc(row.created_at).astimezone(timezone.utc)
    payload = {
        "id": int(row.id),
        "created_at": created.isoformat(timespec="microseconds"),
        "actor_user_id": row.actor_user_id,
        "actor_label": row.actor_label,
        "actor_role": row.actor_role,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "department_id": row.department_id,
        "reason": row.reason,
        "details": row.details,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def chain_hash(prev_hash: str, seq: int, entry_id: int, entry_hash: str, alg: str) -> str:
    """The link hash of one seal."""
    return hash_hex(f"{prev_hash}|{seq}|{entry_id}|{entry_hash}".encode("ascii"), alg)


def _with_write_intent(write: bool, fn: Callable[..., T], *args: Any) -> T:
    """Run fn with SQLite write intent set, in a copied context so the caller's intent is untouched."""

    def run() -> T:
        set_write_intent(write)
        return fn(*args)

    return contextvars.copy_context().run(run)


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES


def seal_pending(limit: int = SEAL_LIMIT, *, everything: bool = False, owed: Collection[int] | None = None) -> int:
    """Seal up to `limit` committed, unsealed entries in one short transaction; return how many.

    `everything` ignores the window and also seals entries far below the head (slow on a big log).
    `owed` narrows the search to entries above the head plus these ids (a commit's own entries), which
    costs a few index probes instead of the window's scan.
    On SQLite, call it outside an open write transaction of your own: it opens another writer.
    """
    seen: dict[str, int] = {}
    for attempt in range(1, SEAL_ATTEMPTS + 1):
        try:
            return _with_write_intent(True, _seal_once, limit, everything, seen, owed)
        except DBAPIError as exc:
            if not _retryable(exc) or attempt == SEAL_ATTEMPTS:
                raise
            log.debug("audit: another sealer won the chain head, retrying (attempt %d)", attempt)
            # Exponential backoff with jitter de-synchronises rival sealers under a burst of commits
            # (not a secret: bandit B311's warning about the random module does not apply).
            time.sleep(random.uniform(0, min(0.2, 0.004 * 2 ** attempt)))  # nosec B311
    return 0  # unreachable: the last attempt either returns or raises


def seal_all_pending(*, everything: bool = False, owed: Collection[int] | None = None,
                     max_rounds: int = 10_000) -> int:
    """Seal until nothing is pending (in rounds of SEAL_LIMIT); return how many were sealed."""
    total = 0
    for _ in range(max_rounds):
        sealed = seal_pending(SEAL_LIMIT, everything=everything, owed=owed)
        total += sealed
        if sealed < SEAL_LIMIT:
            break
    return total


_HEAD_ENTRY = select(func.max(_seals.c.entry_id))
_HEAD = select(_seals.c.seq, _seals.c.chain_hash, _HEAD_ENTRY.scalar_subquery().label("top")).order_by(
    _seals.c.seq.desc()).limit(1)
_INSERT_SEALS = insert(_seals).returning(_seals.c.seq)
# A commit's seal (the common case, after every commit), built once and given its bounds at execution:
# the entries above the head and those owed, each checked against the seals' index. Bounded below by
# `low` (the lowest owed id, or the head's next) so it stays one index range scan: with the OR alone both
# planners scan every entry. The bound is repeated on the seal side so no planner considers every seal
# ever made. `upto` bounds a retry to what the first attempt saw.
_OWED_PENDING = (
    select(_entries)
    .outerjoin(_seals, and_(_seals.c.entry_id == _entries.c.id, _seals.c.entry_id >= bindparam("low")))
    .where(_seals.c.seq.is_(None), _entries.c.id >= bindparam("low"), _entries.c.id <= bindparam("upto"),
           or_(_entries.c.id > bindparam("above"), _entries.c.id.in_(bindparam("owed", expanding=True))))
    .order_by(_entries.c.id)
    .limit(bindparam("limit", type_=Integer))
)
_NO_UPPER_BOUND = 2 ** 62


def _read_head(conn: Connection) -> tuple[int, str, int | None]:
    """The last seal's seq and chain hash and the highest sealed entry id (0, 64 zeros, None: no chain)."""
    head = conn.execute(_HEAD).first()
    return (head.seq, head.chain_hash, head.top) if head else (0, ZERO_HASH, None)


def _window_query(above: int | None) -> Select:
    """Entries without a seal, optionally only those with id > `above` (the window below the head)."""
    if above is None:
        return select(_entries).outerjoin(_seals, _seals.c.entry_id == _entries.c.id).where(
            _seals.c.seq.is_(None))
    # The range is repeated on the seal side so both sides are short index range scans, not a scan
    # of every seal ever made.
    on = and_(_seals.c.entry_id == _entries.c.id, _seals.c.entry_id > above)
    return select(_entries).outerjoin(_seals, on).where(_seals.c.seq.is_(None), _entries.c.id > above)


def _pending_rows(conn: Connection, top: int | None, limit: int, seen: dict[str, int],
                  owed: Collection[int] | None) -> list[Any]:
    """The unsealed entries to seal now: above `top` (the highest sealed entry id) and owed, or in the
    window below it, or (top None) anywhere."""
    upto = seen.get("upto")
    if top is not None and owed is not None:
        return conn.execute(_OWED_PENDING, {
            "above": top, "low": min(min(owed, default=top + 1), top + 1), "owed": sorted(owed),
            "upto": _NO_UPPER_BOUND if upto is None else upto, "limit": limit}).all()
    pending = _window_query(None if top is None else top - WINDOW)
    if upto is not None:
        pending = pending.where(_entries.c.id <= upto)
    return conn.execute(pending.order_by(_entries.c.id).limit(limit)).all()


def _seal_once(limit: int, everything: bool, seen: dict[str, int], owed: Collection[int] | None = None) -> int:
    with db.engine.begin() as conn:
        # The head and the highest sealed entry id in one round trip. On PostgreSQL a rival sealer may
        # extend the chain before our insert: the insert then fails on `seq` and the retry reads again.
        seq, prev, top = _read_head(conn)
        rows = _pending_rows(conn, None if everything else top, limit, seen, owed)
        if not rows:
            return 0
        # A retry after losing a race only owes the entries it saw the first time; newer ones
        # are sealed by their own committers. This keeps losers from starving under a burst.
        seen.setdefault("upto", rows[-1].id)
        alg = default_hash_alg()
        now = utcnow()
        new_seals = []
        for row in rows:
            seq += 1
            entry_hash = hash_hex(canonical_entry(row), alg)
            link = chain_hash(prev, seq, row.id, entry_hash, alg)
            new_seals.append({"seq": seq, "entry_id": row.id, "alg": alg, "entry_hash": entry_hash,
                              "prev_hash": prev, "chain_hash": link, "signature": sign(_signed(seq, link)),
                              "sealed_at": now})
            prev = link
        # With RETURNING, SQLAlchemy sends batched multi-row INSERTs ("insertmanyvalues") from a cached
        # compilation; a lost race then fails as one statement (no psycopg pipeline to abort).
        conn.execute(_INSERT_SEALS, new_seals).all()
    return len(new_seals)


def _signed(seq: int, link: str) -> bytes:
    return f"tipoff-audit-seal|{seq}|{link}".encode("ascii")


def verify_chain(batch_size: int = VERIFY_BATCH) -> VerifyResult:
    """Check the sealed chain first, then seal what is pending and check that too; name the first break.

    Checking before sealing matters: sealing first would sign an entry someone altered after
    removing its seal. Entries left unsealed long after they were written are reported too.
    """
    first = _with_write_intent(False, _walk, batch_size, None, 1, ZERO_HASH, 0)
    if not first.ok and first.kind != "unsealed":
        return first
    stale = _with_write_intent(False, _count_stale_unsealed)
    if stale:
        return VerifyResult(False, first.checked, first.head_hash, unsealed=stale, kind="stale_unsealed",
                            problem=f"{stale} entries older than {STALE_UNSEALED} were never sealed "
                                    "(a seal may have been removed)")
    sealing_error = None
    try:
        seal_all_pending()
    except SQLAlchemyError as exc:
        # Still verify what is sealed; the failure itself is reported as a problem.
        log.exception("audit: sealing before verification failed")
        sealing_error = type(exc).__name__
    return _with_write_intent(False, _walk, batch_size, sealing_error, first.checked + 1,
                              first.head_hash or ZERO_HASH, first.checked)


def _count_stale_unsealed() -> int:
    """Unsealed entries written long ago: sealing follows each commit within moments."""
    cutoff = utcnow() - STALE_UNSEALED
    with db.engine.connect() as conn:
        stmt = select(func.count()).select_from(
            _entries.outerjoin(_seals, _seals.c.entry_id == _entries.c.id)).where(
            _seals.c.seq.is_(None), _entries.c.created_at < cutoff)
        count = int(conn.execute(stmt).scalar() or 0)
        conn.rollback()
    return count


def _walk(batch_size: int, sealing_error: str | None, start: int, prev: str, checked: int) -> VerifyResult:
    # `details` is read as raw text and parsed per row, so a tampered value that is not even JSON is
    # reported as an altered entry instead of breaking the whole batch.
    entry_columns = [c for c in _entries.c if c.name != "details"]
    columns = [_seals.c.seq, _seals.c.entry_id.label("sealed_entry_id"), _seals.c.alg,
               _seals.c.entry_hash, _seals.c.prev_hash, _seals.c.chain_hash, _seals.c.signature, *entry_columns,
               cast(_entries.c.details, Text).label("details_raw")]
    joined = _seals.outerjoin(_entries, _entries.c.id == _seals.c.entry_id)
    expected = start
    with db.engine.connect() as conn:
        while True:
            rows = conn.execute(select(*columns).select_from(joined).where(_seals.c.seq >= expected)
                                .order_by(_seals.c.seq).limit(batch_size)).all()
            conn.rollback()  # read-only: end the transaction so no snapshot is held between batches
            if not rows:
                break
            for row in rows:
                broken = _check_seal(row, expected, prev)
                if broken:
                    return VerifyResult(False, checked, None if prev == ZERO_HASH else prev, *broken)
                prev, expected, checked = row.chain_hash, expected + 1, checked + 1
        unsealed = _count_unsealed(conn, everywhere=sealing_error is not None)
        conn.rollback()
    head = None if checked == 0 else prev
    if unsealed:
        problem = (f"{unsealed} entries have no seal"
                   + (f" (sealing failed: {sealing_error})" if sealing_error else
                      " and lie outside the sealing window; run `flask tipoff audit seal --all`"))
        return VerifyResult(False, checked, head, problem=problem, unsealed=unsealed,
                            kind="sealing_failed" if sealing_error else "unsealed")
    return VerifyResult(True, checked, head)


def _check_seal(row: Any, expected: int, prev: str) -> tuple[int, int | None, str, int, str] | None:
    """Return (seq, entry id, problem, unsealed, kind) for the first inconsistency in one seal, or None."""
    seq, entry_id = row.seq, row.sealed_entry_id
    if seq != expected:
        return expected, None, f"seal seq {expected} is missing (the next seal is seq {seq})", 0, "seal_missing"
    if row.id is None:
        return seq, entry_id, f"entry {entry_id} is missing (deleted after it was sealed)", 0, "entry_missing"
    if row.prev_hash != prev:
        return seq, entry_id, f"seal {seq} does not link to seal {seq - 1} (prev_hash altered)", 0, "seal_altered"
    try:
        details = None if row.details_raw is None else json.loads(row.details_raw)
    except ValueError:
        return seq, entry_id, f"entry {entry_id} was altered after it was sealed (details unreadable)", 0, \
            "entry_altered"
    entry = SimpleNamespace(**{**row._mapping, "details": details})
    try:
        recomputed = hash_hex(canonical_entry(entry), row.alg)
        link_ok = chain_hash(prev, seq, entry_id, row.entry_hash, row.alg) == row.chain_hash
    except ValueError:
        return seq, entry_id, f"seal {seq} names an unknown hash algorithm {row.alg!r}", 0, "unknown_alg"
    if recomputed != row.entry_hash:
        if link_ok:
            # The seal is self-consistent, so it is the entry row that changed.
            return seq, entry_id, f"entry {entry_id} was altered after it was sealed", 0, "entry_altered"
        return seq, entry_id, f"seal {seq} was altered (entry hash does not match)", 0, "seal_altered"
    if not link_ok:
        return seq, entry_id, f"seal {seq} was altered (chain hash does not match)", 0, "seal_altered"
    if not row.signature or not verify_signature(_signed(seq, row.chain_hash), row.signature):
        return seq, entry_id, f"seal {seq} has no valid signature (the chain was recomputed)", 0, \
            "signature_invalid"
    return None


def _count_unsealed(conn: Connection, *, everywhere: bool) -> int:
    """Entries without a seal that automatic sealing will never reach (all of them if sealing failed)."""
    stmt = select(func.count()).select_from(
        _entries.outerjoin(_seals, _seals.c.entry_id == _entries.c.id)).where(_seals.c.seq.is_(None))
    if not everywhere:
        top = conn.execute(_HEAD_ENTRY).scalar()
        if top is None:
            return 0
        stmt = stmt.where(_entries.c.id <= top - WINDOW)
    return int(conn.execute(stmt).scalar() or 0)
