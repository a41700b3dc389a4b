"""SealTurns: one sealer per process at a time; commits made meanwhile are sealed by it, none are left."""
from __future__ import annotations

import threading

import pytest

from tipoff.audit.chain import SealTurns


class GatedSeal:
    """A seal that blocks on its first round until released, and counts its rounds."""

    def __init__(self, fail_on: int | None = None):
        self.rounds = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self) -> int:
        self.rounds += 1
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
    assert turns.seal() is False  # left to the running sealer: no second writer for the same chain head
    assert turns.seal() is False  # any number of them cost the sealer one more round, not one each
    seal.release.set()
    first.join(5)
    assert outcome == [True] and seal.rounds == 2
    assert turns.seal() is True and seal.rounds == 3  # the turn is free again


def test_without_commits_meanwhile_the_sealer_takes_one_round():
    seal = GatedSeal()
    turns = SealTurns(seal)
    first, outcome = start_first(turns, seal)
    seal.release.set()
    first.join(5)
    assert outcome == [True] and seal.rounds == 1


def test_a_sealer_kept_busy_hands_the_turn_to_the_next_commit(monkeypatch):
    monkeypatch.setattr(SealTurns, "MAX_ROUNDS", 3)
    turns: SealTurns

    def always_more() -> int:
        turns.seal()  # every round, another thread's commit arrives and leaves its entries to us
        return 1

    calls = []
    turns = SealTurns(lambda: calls.append(1) or always_more())
    assert turns.seal() is True
    assert len(calls) == 3  # bounded: the request that took the turn is not held forever
    finished = []
    turns._seal = lambda: finished.append(1) or 1
    assert turns.seal() is True and finished == [1]  # the next commit seals what was left


def test_a_failed_seal_frees_the_turn():
    seal = GatedSeal(fail_on=1)
    seal.release.set()
    turns = SealTurns(seal)
    with pytest.raises(RuntimeError):
        turns.seal()
    assert turns.seal() is True and seal.rounds == 2
