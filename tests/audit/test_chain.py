"""Verifying the chain: an intact log passes; every kind of tampering is found and named."""
from __future__ import annotations

import pytest
from sqlalchemy import event, insert, select

from tests.audit.helpers import chain_stats, delete_entry_ignoring_fk, execute_raw, seal_of, write_entries
from tipoff.audit import chain
from tipoff.audit.models import AuditEntry, AuditSeal
from tipoff.audit.services import seal_pending, verify_chain
from tipoff.db import utcnow
from tipoff.extensions import db

FORGED = "f" * 64


def verify(app, **kwargs):
    with app.app_context():
        return verify_chain(**kwargs)


@pytest.fixture
def five(app):
    """Five sealed entries; returns (entry ids, the middle entry's id, its seal's seq)."""
    ids = write_entries(app, 5)
    middle = ids[2]
    return ids, middle, seal_of(app, middle).seq


def test_intact_chain_verifies(app, five):
    ids, _, _ = five
    result = verify(app)
    stats = chain_stats(app)
    assert result.ok and result.problem is None and result.unsealed == 0
    assert result.checked == stats["seals"] == stats["entries"]
    assert result.head_hash == seal_of(app, ids[-1]).chain_hash


TAMPERING = {
    "entry reason": ("UPDATE audit_entries SET reason = 'nothing happened' WHERE id = :entry", "entry_altered"),
    "entry details": ("UPDATE audit_entries SET details = '{\"n\": 99}' WHERE id = :entry", "entry_altered"),
    "entry actor": ("UPDATE audit_entries SET actor_label = 'system' WHERE id = :entry", "entry_altered"),
    "seal chain hash": (f"UPDATE audit_seals SET chain_hash = '{FORGED}' WHERE seq = :seq", "seal_altered"),
    "seal entry hash": (f"UPDATE audit_seals SET entry_hash = '{FORGED}' WHERE seq = :seq", "seal_altered"),
    "seal prev hash": (f"UPDATE audit_seals SET prev_hash = '{FORGED}' WHERE seq = :seq", "seal_altered"),
    "seal algorithm": ("UPDATE audit_seals SET alg = 'md5' WHERE seq = :seq", "unknown_alg"),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_tampering_is_found_at_the_right_seal(app, five, how):
    _, middle, seq = five
    sql, kind = TAMPERING[how]
    assert execute_raw(app, sql, entry=middle, seq=seq) == 1
    result = verify(app)
    assert not result.ok and result.kind == kind
    assert (result.first_broken_seq, result.first_broken_entry_id) == (seq, middle)
    assert result.checked == seq - 1
    assert str(seq) in result.problem or str(middle) in result.problem


def test_altered_entry_is_named_as_the_entry_not_the_seal(app, five):
    _, middle, _ = five
    execute_raw(app, "UPDATE audit_entries SET reason = 'x' WHERE id = :entry", entry=middle)
    assert verify(app).problem == f"entry {middle} was altered after it was sealed"


def test_deleted_seal_is_a_gap_in_seq(app, five):
    _, _, seq = five
    execute_raw(app, "DELETE FROM audit_seals WHERE seq = :seq", seq=seq)
    result = verify(app)
    assert not result.ok and result.kind == "seal_missing"
    assert result.first_broken_seq == seq and result.first_broken_entry_id is None


def test_deleted_entry_is_found(app, five):
    _, middle, seq = five
    delete_entry_ignoring_fk(app, middle)
    result = verify(app)
    assert not result.ok and result.kind == "entry_missing"
    assert (result.first_broken_seq, result.first_broken_entry_id) == (seq, middle)


def test_deleted_entry_with_its_seal_is_a_gap(app, five):
    _, middle, seq = five
    execute_raw(app, "DELETE FROM audit_seals WHERE seq = :seq", seq=seq)
    execute_raw(app, "DELETE FROM audit_entries WHERE id = :entry", entry=middle)
    result = verify(app)
    assert not result.ok and result.kind == "seal_missing" and result.first_broken_seq == seq


def test_many_entries_verify_in_batches(app):
    ids = write_entries(app, 3000, action="test.bulk")
    stats = chain_stats(app)
    assert stats["unsealed"] == 0 and stats["contiguous"]
    batches = []
    with app.app_context():
        def count(conn, cursor, statement, *args):  # noqa: ARG001
            if statement.lstrip().upper().startswith("SELECT") and "audit_seals.prev_hash" in statement:
                batches.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            result = verify_chain(batch_size=250)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert result.ok and result.checked == stats["seals"]
    assert len(batches) >= 3000 // 250
    late = ids[2600]
    seq = seal_of(app, late).seq
    execute_raw(app, "UPDATE audit_entries SET reason = 'late change' WHERE id = :entry", entry=late)
    broken = verify(app, batch_size=250)
    assert (broken.ok, broken.first_broken_seq, broken.first_broken_entry_id) == (False, seq, late)


def _insert_entry_without_hooks(app, entry_id: int) -> None:
    """An entry committed with no sealing afterwards (as if the process died between commit and seal)."""
    with app.app_context():
        db.session.execute(insert(AuditEntry.__table__).values(
            id=entry_id, created_at=utcnow(), actor_label="test", action="test.late"))
        db.session.commit()


def test_a_seal_that_is_owed_entries_finds_them_below_the_head_without_scanning_the_window(app, five):
    ids, _, _ = five
    _insert_entry_without_hooks(app, ids[-1] + 10)
    with app.app_context():
        assert seal_pending(owed=frozenset()) == 1  # above the head: every seal finds it
    # Committed after a later entry was sealed, as concurrent commits do: below the head, inside the window.
    late, orphan = ids[-1] + 1, ids[-1] + 2
    _insert_entry_without_hooks(app, late)
    _insert_entry_without_hooks(app, orphan)
    with app.app_context():
        assert seal_pending(owed=frozenset({late})) == 1  # the committer's own seal names it
        assert seal_pending(owed=frozenset()) == 0  # an entry nobody owes waits for the window scan
        assert seal_pending() == 1
    assert seal_of(app, late) is not None and seal_of(app, orphan) is not None
    assert verify(app).ok


def test_entries_outside_the_window_are_reported_unsealed(app, five):
    ids, _, _ = five
    far = ids[-1] + 2 * chain.WINDOW
    _insert_entry_without_hooks(app, far)
    with app.app_context():
        assert seal_pending() == 1
    # Committed long after its id was taken: below the window, so automatic sealing never sees it.
    _insert_entry_without_hooks(app, ids[-1] + 1)
    with app.app_context():
        assert seal_pending() == 0
    result = verify(app)
    assert not result.ok and result.unsealed == 1 and result.kind == "unsealed"
    with app.app_context():
        assert seal_pending(everything=True) == 1
    assert verify(app).ok


def test_a_crash_between_commit_and_seal_is_sealed_next_time(app, five):
    ids, _, _ = five
    _insert_entry_without_hooks(app, ids[-1] + 1)
    assert seal_of(app, ids[-1] + 1) is None
    result = verify(app)
    assert result.ok and seal_of(app, ids[-1] + 1) is not None


def test_sealer_that_lost_the_race_retries(app, five, monkeypatch):
    """A sealer that read an outdated head collides on seq, rolls back and retries on the new head."""
    write_entries_unsealed = [five[0][-1] + 1, five[0][-1] + 2]
    for entry_id in write_entries_unsealed:
        _insert_entry_without_hooks(app, entry_id)
    real = chain._read_head
    heads = []

    def stale_once(conn):
        seq, head, top = real(conn)
        heads.append(seq)
        if len(heads) == 1:
            previous = conn.execute(select(AuditSeal.chain_hash).where(AuditSeal.seq == seq - 1)).scalar()
            return seq - 1, previous, top
        return seq, head, top

    monkeypatch.setattr(chain, "_read_head", stale_once)
    with app.app_context():
        assert seal_pending() == 2
    assert len(heads) == 2 and heads[0] == heads[1]
    monkeypatch.undo()
    assert verify(app).ok and chain_stats(app)["contiguous"]


def test_cli_verify_and_seal(app, runner, five):
    _, middle, seq = five
    ok = runner.invoke(args=["tipoff", "audit", "verify"])
    assert ok.exit_code == 0 and ok.output.startswith("audit chain OK: ")
    sealed = runner.invoke(args=["tipoff", "audit", "seal"])
    assert sealed.exit_code == 0 and "sealed" in sealed.output
    execute_raw(app, "UPDATE audit_entries SET reason = 'x' WHERE id = :entry", entry=middle)
    broken = runner.invoke(args=["tipoff", "audit", "verify"])
    assert broken.exit_code == 1
    assert f"audit chain BROKEN at seq {seq} (entry {middle}): " in broken.output


def test_details_that_are_not_json_are_named_as_an_altered_entry(app, five):
    _, middle, seq = five
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL refuses invalid JSON in the column itself")
    execute_raw(app, "UPDATE audit_entries SET details = 'not json at all' WHERE id = :entry", entry=middle)
    result = verify(app)
    assert not result.ok and result.kind == "entry_altered"
    assert (result.first_broken_seq, result.first_broken_entry_id) == (seq, middle)


def test_chain_recomputed_without_the_signing_key_is_detected(app, five):
    """Someone with database access rewrites an entry and recomputes every hash after it."""
    ids, middle, seq = five
    execute_raw(app, "UPDATE audit_entries SET reason = 'rewritten' WHERE id = :entry", entry=middle)
    forged = []
    with app.app_context():
        rows = db.session.execute(select(AuditSeal).order_by(AuditSeal.seq)).scalars().all()
        prev = rows[seq - 2].chain_hash if seq > 1 else chain.ZERO_HASH
        for seal in rows[seq - 1:]:
            entry = db.session.get(AuditEntry, seal.entry_id)
            entry_hash = chain.hash_hex(chain.canonical_entry(entry), seal.alg)
            link = chain.chain_hash(prev, seal.seq, seal.entry_id, entry_hash, seal.alg)
            forged.append({"h": entry_hash, "p": prev, "c": link, "s": seal.seq})
            prev = link
        db.session.remove()
    for values in forged:
        execute_raw(app, "UPDATE audit_seals SET entry_hash = :h, prev_hash = :p, chain_hash = :c WHERE seq = :s",
                    **values)
    result = verify(app)
    assert not result.ok and result.kind == "signature_invalid"
    assert (result.first_broken_seq, result.first_broken_entry_id) == (seq, middle)


def test_removed_seal_of_an_old_entry_is_not_silently_resealed(app, five):
    """Delete the last seal, alter its entry: verification must not sign the forgery."""
    ids, _, _ = five
    last = ids[-1]
    execute_raw(app, "UPDATE audit_entries SET created_at = :old WHERE id = :entry",
                old=(utcnow() - chain.STALE_UNSEALED * 2).replace(tzinfo=None), entry=last)
    with app.app_context():
        seq = db.session.scalar(select(AuditSeal.seq).where(AuditSeal.entry_id == last))
    execute_raw(app, "DELETE FROM audit_seals WHERE seq = :seq", seq=seq)
    execute_raw(app, "UPDATE audit_entries SET reason = 'forged' WHERE id = :entry", entry=last)
    result = verify(app)
    assert not result.ok and result.kind == "stale_unsealed" and result.unsealed == 1
    assert seal_of(app, last) is None  # and the forged entry was not sealed by the check
