"""The backup archive container: one file, encrypted in chunks, holding named members.

Layout on disk::

    "TIPOFFBK" | format (1 byte) | header length (4 bytes, big-endian) | header (JSON)
    chunk 0 | chunk 1 | … | final chunk          each = AES-256-GCM(≤ CHUNK_SIZE bytes) + 16-byte tag

The header names the cipher, the chunk size, the backup key's fingerprint and the archive's file key
sealed to that key. Every chunk but the last holds exactly CHUNK_SIZE bytes; the last one carries the
final flag in its nonce (tipoff.crypto.backupkey.ChunkCipher), so a cut-off or extended archive fails.

Inside, the plaintext is a sequence of frames: ``F`` + name starts a member, ``D`` + bytes carries its
content, ``E`` ends it, ``Z`` ends the archive. Sizes need not be known in advance, so a table of a
million rows is streamed, never held in memory or spooled to a temporary file.
"""
from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from tipoff.crypto.backupkey import (
    CHUNK_OVERHEAD,
    BackupKeyError,
    ChunkCipher,
    backup_key_fingerprint,
    new_file_key,
    open_file_key,
    seal_file_key,
)
from tipoff.crypto.identity import IdentityKey
from tipoff.crypto.primitives import DecryptionError, b64decode, b64encode

MAGIC = b"TIPOFFBK"
FORMAT = 1
CHUNK_SIZE = 64 * 1024
MAX_HEADER = 64 * 1024
MAX_FRAME = 1024 * 1024
# Member names are chosen by the writer, but a restore must never write outside the data dir.
MEMBER_NAME = re.compile(r"^(db/[a-z][a-z0-9_]{0,62}\.jsonl|keys/[a-z][a-z0-9.-]{0,40}|"
                         r"attachments/[A-Za-z0-9][A-Za-z0-9._-]{0,126}|manifest\.json)$")


class ArchiveError(Exception):
    """The archive cannot be read: wrong key, damaged, truncated, tampered with or not a tipoff backup."""


@dataclass
class MemberDigest:
    """What the writer saw of one member (for the manifest)."""

    sha256: str
    size: int


class ArchiveWriter:
    """Write members into an encrypted archive; `close()` seals the final chunk."""

    def __init__(self, target: BinaryIO, recipient: bytes, created_at: str):
        file_key = new_file_key()
        header = json.dumps({
            "format": FORMAT, "cipher": "AES-256-GCM STREAM", "chunk_size": CHUNK_SIZE,
            "recipient": {"type": "x25519", "fingerprint": backup_key_fingerprint(recipient),
                          "sealed_file_key": b64encode(seal_file_key(recipient, file_key))},
            "created_at": created_at,
        }, sort_keys=True).encode("utf-8")
        prefix = MAGIC + bytes((FORMAT,)) + struct.pack(">I", len(header)) + header
        target.write(prefix)
        self._target = target
        self._cipher = ChunkCipher.for_archive(file_key, prefix)
        self._buffer = bytearray()
        self._index = 0
        self._member: str | None = None
        self._hash = hashlib.sha256()
        self._size = 0
        self.members: dict[str, MemberDigest] = {}

    def _emit(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK_SIZE:  # keep at least one byte back: the last chunk is the final one
            chunk = bytes(self._buffer[:CHUNK_SIZE])
            del self._buffer[:CHUNK_SIZE]
            self._target.write(self._cipher.seal(self._index, chunk, final=False))
            self._index += 1

    def begin(self, name: str) -> None:
        """Start member `name` (the previous member must be ended)."""
        if self._member is not None or name in self.members or not MEMBER_NAME.match(name):
            raise ValueError(f"cannot start archive member {name!r}")
        encoded = name.encode("utf-8")
        self._emit(b"F" + struct.pack(">I", len(encoded)) + encoded)
        self._member, self._hash, self._size = name, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        """Append bytes to the current member."""
        if self._member is None:
            raise ValueError("no archive member started")
        for start in range(0, len(data), MAX_FRAME):
            piece = data[start:start + MAX_FRAME]
            self._emit(b"D" + struct.pack(">I", len(piece)) + piece)
            self._hash.update(piece)
            self._size += len(piece)

    def end(self) -> MemberDigest:
        """End the current member and return its digest."""
        if self._member is None:
            raise ValueError("no archive member started")
        self._emit(b"E")
        digest = MemberDigest(self._hash.hexdigest(), self._size)
        self.members[self._member] = digest
        self._member = None
        return digest

    def add(self, name: str, data: bytes) -> MemberDigest:
        """Write a whole member at once."""
        self.begin(name)
        self.write(data)
        return self.end()

    def close(self) -> None:
        """Write the end mark and the final chunk."""
        if self._member is not None:
            raise ValueError(f"archive member {self._member!r} was not ended")
        self._emit(b"Z")
        self._target.write(self._cipher.seal(self._index, bytes(self._buffer), final=True))
        self._buffer.clear()
        self._target.flush()


def read_header(source: BinaryIO) -> tuple[bytes, dict]:
    """Read and check the clear header; return (the exact prefix bytes, the parsed header)."""
    fixed = source.read(len(MAGIC) + 5)
    if len(fixed) < len(MAGIC) + 5 or not fixed.startswith(MAGIC):
        raise ArchiveError("not a tipoff backup archive")
    if fixed[len(MAGIC)] != FORMAT:
        raise ArchiveError(f"unsupported backup format {fixed[len(MAGIC)]}")
    (length,) = struct.unpack(">I", fixed[len(MAGIC) + 1:])
    if length > MAX_HEADER:
        raise ArchiveError("archive header is damaged")
    raw = source.read(length)
    try:
        header = json.loads(raw)
        if header["format"] != FORMAT or header["chunk_size"] != CHUNK_SIZE or header["recipient"]["type"] != "x25519":
            raise ArchiveError("unsupported backup archive header")
    except (ValueError, KeyError, TypeError):
        raise ArchiveError("archive header is damaged") from None
    return fixed + raw, header


class _PlainStream:
    """The decrypted payload as a byte stream: chunks are opened in order and the last must be final."""

    def __init__(self, source: BinaryIO, cipher: ChunkCipher):
        self._source, self._cipher = source, cipher
        self._index = 0
        self._buffer = bytearray()
        self._pending = source.read(CHUNK_SIZE + CHUNK_OVERHEAD)
        self.finished = False

    def _next_chunk(self) -> None:
        if self.finished:
            raise ArchiveError("archive ends early (truncated or damaged)")
        chunk = self._pending
        self._pending = self._source.read(CHUNK_SIZE + CHUNK_OVERHEAD)
        final = not self._pending
        if len(chunk) < CHUNK_OVERHEAD or (not final and len(chunk) != CHUNK_SIZE + CHUNK_OVERHEAD):
            raise ArchiveError("archive is truncated or damaged")
        try:
            self._buffer += self._cipher.open(self._index, chunk, final)
        except DecryptionError:
            raise ArchiveError(f"archive is damaged, truncated or tampered with (chunk {self._index} "
                               "failed authentication)") from None
        self._index += 1
        self.finished = final

    def read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._next_chunk()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def at_clean_end(self) -> bool:
        return self.finished and not self._buffer


@dataclass
class Member:
    """One member being read: its name, and its content in pieces (consume before the next member)."""

    name: str
    _stream: _PlainStream = field(repr=False)
    _done: bool = False

    def chunks(self) -> Iterator[bytes]:
        """Yield the member's content piece by piece."""
        while not self._done:
            kind = self._stream.read_exact(1)
            if kind == b"E":
                self._done = True
                return
            if kind != b"D":
                raise ArchiveError("archive payload is malformed")
            (length,) = struct.unpack(">I", self._stream.read_exact(4))
            if length > MAX_FRAME:
                raise ArchiveError("archive payload is malformed")
            yield self._stream.read_exact(length)


def open_archive(source: BinaryIO, private: IdentityKey) -> tuple[dict, Iterator[Member]]:
    """Open an archive with the backup private key: (header, members in order)."""
    prefix, header = read_header(source)
    try:
        sealed = b64decode(header["recipient"]["sealed_file_key"])
        file_key = open_file_key(private, sealed)
    except (ValueError, KeyError):
        raise ArchiveError("archive header is damaged") from None
    except BackupKeyError as exc:
        raise ArchiveError(str(exc)) from None
    stream = _PlainStream(source, ChunkCipher.for_archive(file_key, prefix))

    def members() -> Iterator[Member]:
        while True:
            kind = stream.read_exact(1)
            if kind == b"Z":
                if not stream.at_clean_end():
                    raise ArchiveError("archive has data after its end mark")
                return
            if kind != b"F":
                raise ArchiveError("archive payload is malformed")
            (length,) = struct.unpack(">I", stream.read_exact(4))
            try:
                name = stream.read_exact(min(length, 512)).decode("utf-8")
            except UnicodeDecodeError:
                raise ArchiveError("archive member name is malformed") from None
            if length > 512 or not MEMBER_NAME.match(name):
                raise ArchiveError(f"archive member name {name[:80]!r} is not allowed")
            member = Member(name, stream)
            yield member
            for _ in member.chunks():  # whatever the reader left unread
                pass

    return header, members()
