"""Tools that make things really break: a TCP proxy to cut the database, the fault points, direct queries."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from config import _database_url


class TcpProxy:
    """A forwarder in front of a TCP service (PostgreSQL); `cut()` drops every connection and stops
    listening, as a crashed server or a pulled cable would; `restore()` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:  # cut while this accept was waiting
                client.close()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept(); close() alone does not
            except OSError:
                pass
            listener.close()
        with self._lock:
            for end in self._sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()
            self._sockets.clear()


def arm(hold_dir: Path, point: str) -> None:
    """Hold the next request that reaches `point` (see tipoff.faults)."""
    (hold_dir / point).touch()


def wait_for_hold(hold_dir: Path, point: str, timeout: float = 120) -> tuple[int, Path]:
    """The pid of the worker holding at `point`, and the file whose removal releases it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for claimed in hold_dir.glob(f"{point}.*"):
            return int(claimed.suffix[1:]), claimed
        time.sleep(0.02)
    raise AssertionError(f"no request reached {point}")


def query(database_url: str, sql: str, **params):
    """Rows straight from the database (the test's own connection, not the app's)."""
    engine = create_engine(_database_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def tip_records(database_url: str, subject: str) -> dict:
    """What exists of the tip about `subject`: its row, sealed identity, audit entry (by reference)."""
    tips = query(database_url, "SELECT id, reference FROM tips WHERE subject_name = :s", s=subject)
    if not tips:
        return {"tips": 0, "identities": 0, "audit": 0}
    tip_id, reference = tips[0]
    identities = query(database_url, "SELECT count(*) FROM reporter_identities WHERE tip_id = :t", t=tip_id)[0][0]
    audit = query(database_url, "SELECT count(*) FROM audit_entries WHERE action = 'tip.submit' AND object_id = :r",
                  r=reference)[0][0]
    return {"tips": len(tips), "identities": identities, "audit": audit, "reference": reference}
