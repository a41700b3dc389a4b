"""When and by whom committed audit entries are sealed (the chain's maths and queries are in chain.py).

`SealTurns` lets one thread per process seal at a time; `CommitSealer` is the seal a commit's teardown
runs: the entries it owes, and now and then the whole window below the head.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Iterable

from tipoff.audit import chain

# A commit's seal looks only above the head and at the entries it owes; each process also scans the
# window (chain.WINDOW entries below the head) at most this often, for entries whose committer died
# between its commit and its seal, and whenever it owes more than MAX_OWED ids (the window is then as
# cheap as naming them).
WINDOW_SCAN_SECONDS = 30
MAX_OWED = 500


class SealTurns:
    """One thread of this process seals at a time; commits made meanwhile leave their entries to it.

    After every commit that carried audit entries, the committing request seals them (tipoff.audit.services),
    naming the entries it committed (`owed`). With several threads committing at once they would each
    open a write transaction only to race for the same chain head; instead a request that finds a seal
    already running here adds its entries to what the sealer owes, marks "again" and goes, and the running
    sealer takes one more round, which finds those entries (they committed before marking). A request
    alone, as in the tests and at quiet times, still seals its own entries before it ends. Other
    processes still race, and the chain's primary key settles that (`chain.seal_pending`).

    Entries left to a sealer are never orphaned: a sealer kept busy for MAX_ROUNDS (its own request has
    waited enough), or one whose seal failed, passes what others left to it to `hand_over` (a background
    thread in the app), which seals them unless another sealer has taken the turn meanwhile.
    """

    MAX_ROUNDS = 20

    def __init__(self, seal: Callable[[frozenset[int]], int],
                 hand_over: Callable[[frozenset[int]], None] | None = None):
        self._seal, self._hand_over = seal, hand_over
        self._lock = threading.Lock()
        self._busy = False
        self._again = False
        self._owed: set[int] = set()

    def seal(self, owed: Iterable[int] = ()) -> bool:
        """Seal now, or leave it to the sealer already running; True if this call did the sealing."""
        with self._lock:
            self._owed.update(owed)
            if self._busy:
                self._again = True
                return False
            self._busy, self._again = True, False
            batch, self._owed = frozenset(self._owed), set()
        rounds, left_over = 0, None
        try:
            while True:
                self._seal(batch)
                rounds += 1
                with self._lock:
                    if not self._again:
                        self._busy = False
                        return True
                    batch, self._owed, self._again = frozenset(self._owed), set(), False
                    if rounds >= self.MAX_ROUNDS:
                        self._busy, left_over = False, batch
                        return True
        except BaseException:
            with self._lock:
                if self._again:
                    left_over = frozenset(self._owed)
                self._busy, self._again, self._owed = False, False, set()
            raise
        finally:
            if left_over is not None and self._hand_over is not None:
                self._hand_over(left_over)


class CommitSealer:
    """The seal a commit's teardown runs (SealTurns' `seal`): the new entries and those it owes, and the
    whole window once per WINDOW_SCAN_SECONDS in this process, after a failed seal, and whenever the log
    has grown by half a window since the last scan (so nothing unowed can sink below the window first)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._next_window_scan = 0.0
        self._scanned_up_to = 0  # the newest entry id this process had written at its last window scan

    def __call__(self, owed: frozenset[int]) -> int:
        now, newest = self._clock(), max(owed, default=0)
        scan = (now >= self._next_window_scan or len(owed) > MAX_OWED
                or newest - self._scanned_up_to > chain.WINDOW // 2)
        if scan:
            self._next_window_scan = now + WINDOW_SCAN_SECONDS
            self._scanned_up_to = max(newest, self._scanned_up_to)
        try:
            return chain.seal_all_pending() if scan else chain.seal_all_pending(owed=owed)
        except BaseException:
            self._next_window_scan = 0.0  # what this round owed may now sit below the head: scan next time
            raise
