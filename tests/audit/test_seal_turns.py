"""SealTurns: one sealer per process at a time; commits made meanwhile are sealed by it, none are left."""
from __future__ import annotations

import threading
import time

import pytest

from tipoff.audit import chain, sealing
from tipoff.audit.sealing import CommitSealer, SealTurns


class GatedSeal:
    """A seal that blocks on its first round until released, and counts its rounds."""

    def __init__(self, fail_on: int | None = None):
        self.rounds = 0
        self.batches: list[frozenset] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, owed: frozenset = frozenset()) -> int:
        self.rounds += 1
        self.batches.append(owed)
        if self.rounds == 1:
            self.started.set()
            assert self.release.wait(5)
        if self.rounds == self.fail_on:
            raise RuntimeError("database went away")
        return 1


def start_first(turns: SealTurns, seal: GatedSeal) -> tuple[threading.Thread, list]:
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(turns.seal()))
    thread.start()
    assert seal.started.wait(5)
    return thread, outcome


def test_alone_a_request_seals_its_own_entries_before_it_ends():
    seal = GatedSeal()
    seal.release.set()
    turns = SealTurns(seal)
    assert turns.seal() is True and seal.rounds == 1
    assert turns.seal() is True and seal.rounds == 2


def test_a_commit_during_a_seal_is_left_to_the_running_sealer_which_takes_one_more_round():
    seal = GatedSeal()
    turns = SealTurns(seal)
    first, outcome = start_first(turns, seal)
    assert turns.seal([7]) is False  # left to the running sealer: no second writer for the same chain head
    assert turns.seal([8, 9]) is False  # any number of them cost the sealer one more round, not one each
    seal.release.set()
    first.join(5)
    assert outcome == [True] and seal.rounds == 2
    assert seal.batches[1] == {7, 8, 9}  # that round is owed exactly the entries left to it
    assert turns.seal([10]) is True and seal.rounds == 3 and seal.batches[2] == {10}  # the turn is free again


def test_without_commits_meanwhile_the_sealer_takes_one_round():
    seal = GatedSeal()
    turns = SealTurns(seal)
    first, outcome = start_first(turns, seal)
    seal.release.set()
    first.join(5)
    assert outcome == [True] and seal.rounds == 1


def test_a_sealer_kept_busy_hands_what_is_left_to_the_background(monkeypatch):
    monkeypatch.setattr(SealTurns, "MAX_ROUNDS", 3)
    calls, handed = [], []

    def always_more(owed) -> int:
        calls.append(owed)
        turns.seal([len(calls)])  # every round, another thread's commit arrives and leaves its entries to us
        return 1

    turns = SealTurns(always_more, hand_over=handed.append)
    assert turns.seal() is True
    assert len(calls) == 3  # bounded: the request that took the turn is not held forever
    assert handed == [{3}]  # and what the last commit left is sealed in the background, not orphaned
    turns._seal = lambda owed: calls.append(owed) or 1
    assert turns.seal() is True  # the turn is free again


def test_without_entries_left_over_nothing_is_handed_over():
    handed = []
    turns = SealTurns(lambda owed: 1, hand_over=handed.append)
    assert turns.seal() is True and handed == []


def test_a_failed_seal_frees_the_turn_and_hands_over_what_others_left():
    seal = GatedSeal(fail_on=1)
    handed = []
    turns = SealTurns(seal, hand_over=handed.append)
    first_failed: list = []

    def first():
        try:
            turns.seal()
        except RuntimeError:
            first_failed.append(True)

    thread = threading.Thread(target=first)
    thread.start()
    assert seal.started.wait(5)
    assert turns.seal([5]) is False  # left to the sealer, which then fails
    seal.release.set()
    thread.join(5)
    assert first_failed == [True] and handed == [{5}]
    assert turns.seal() is True and seal.rounds == 2


def test_a_failed_seal_alone_hands_nothing_over():
    seal = GatedSeal(fail_on=1)
    seal.release.set()
    handed = []
    turns = SealTurns(seal, hand_over=handed.append)
    with pytest.raises(RuntimeError):
        turns.seal()
    assert handed == [] and turns.seal() is True


def test_entries_left_to_a_running_sealer_are_sealed_after_it_hands_over(app):
    from tests.audit.helpers import seal_of
    from tipoff.audit import services
    from tipoff.extensions import db

    turns = app.extensions[services._TURNS]
    with turns._lock:
        turns._busy = True  # a sealer is running on another thread of this process
    try:
        with app.app_context():
            entry_id = services.record("test.left_to_sealer", actor="test")
            db.session.commit()
        assert seal_of(app, entry_id) is None  # the request ended without sealing: left to the sealer
    finally:
        with turns._lock:
            turns._busy = False
    services._seal_in_background(app, frozenset({entry_id}))  # what SealTurns calls when that sealer cannot finish
    deadline = time.monotonic() + 10
    while seal_of(app, entry_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seal_of(app, entry_id) is not None


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_commit_seals_what_it_owes_and_scans_the_window_only_now_and_then(monkeypatch):
    calls: list = []
    monkeypatch.setattr(chain, "seal_all_pending", lambda **kwargs: calls.append(kwargs) or 0)
    clock = FakeClock()
    sealer = CommitSealer(clock)
    sealer(frozenset({1}))  # a new process: the first seal scans the window (a crash may have left entries)
    sealer(frozenset({2}))
    clock.now += sealing.WINDOW_SCAN_SECONDS - 1
    sealer(frozenset({3}))
    clock.now += 1
    sealer(frozenset({4}))
    sealer(frozenset(range(sealing.MAX_OWED + 1)))  # owing more than a few ids: the window is as cheap
    assert calls == [{}, {"owed": {2}}, {"owed": {3}}, {}, {}]


def test_the_window_is_scanned_before_the_log_outgrows_it_however_fast_it_grows(monkeypatch):
    calls: list = []
    monkeypatch.setattr(chain, "seal_all_pending", lambda **kwargs: calls.append(kwargs) or 0)
    sealer = CommitSealer(FakeClock())  # the clock stands still: only the entries' ids move
    sealer(frozenset({100}))
    sealer(frozenset({100 + chain.WINDOW // 2}))
    sealer(frozenset({101 + chain.WINDOW // 2}))  # half a window past the last scan: an unowed entry
    sealer(frozenset({102 + chain.WINDOW // 2}))  # left below it would otherwise soon fall out of reach
    assert calls == [{}, {"owed": {100 + chain.WINDOW // 2}}, {}, {"owed": {102 + chain.WINDOW // 2}}]


def test_after_a_failed_seal_the_next_one_scans_the_window(monkeypatch):
    calls: list = []

    def fail_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return 0

    monkeypatch.setattr(chain, "seal_all_pending", fail_once)
    sealer = CommitSealer(FakeClock())
    sealer(frozenset({1}))
    with pytest.raises(RuntimeError):
        sealer(frozenset({2}))
    sealer(frozenset({3}))  # entry 2 may now sit below the head: found by the window, not by owing
    assert calls == [{}, {"owed": {2}}, {}]


def test_a_rolled_back_savepoint_leaves_the_enclosing_transactions_entries_owed(app):
    from flask import g

    from tests.audit.helpers import seal_of
    from tipoff.audit import services
    from tipoff.extensions import db

    with app.app_context():
        kept_id = services.record("test.kept", actor="test")
        db.session.flush()
        savepoint = db.session.begin_nested()
        services.record("test.undone", actor="test")
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
        assert kept_id in g.get(services._UNSEALED, [])  # its commit's seal will look for it by id
    assert seal_of(app, kept_id) is not None
