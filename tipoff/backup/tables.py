"""A portable logical dump of every table: JSON lines, typed by column kind, in dependency order.

The dump is independent of the database engine, so an archive made on SQLite restores into
PostgreSQL and back. Each table is one member `db/<table>.jsonl`: one JSON array per row, values in
the column order the manifest records, binary as base64, timestamps as ISO 8601 with their offset.
Primary keys are kept as they are; PostgreSQL sequences are moved past them after loading.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, MetaData, Table

from tipoff.backup.archive import ArchiveError, ArchiveWriter

BATCH = 500


def column_kind(column: sa.Column) -> str:
    """How a column's values are written in the dump."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance if hasattr(kind, "impl_instance") else kind.impl
    for python_type, name in ((sa.LargeBinary, "binary"), (sa.DateTime, "datetime"), (sa.Date, "date"),
                              (sa.JSON, "json"), (sa.Boolean, "bool"), (sa.Integer, "int"),
                              (sa.Numeric, "decimal"), (sa.String, "str")):
        if isinstance(kind, python_type):
            return name
    raise ValueError(f"column {column.table.name}.{column.name} has a type the backup cannot carry: {column.type}")


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind in ("datetime", "date"):
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "binary":
        return base64.b64decode(value, validate=True)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "decimal":
        from decimal import Decimal

        return Decimal(value)
    return value


def table_layout(metadata: MetaData) -> list[dict]:
    """Tables in dependency order with their columns and kinds (the manifest's `tables`)."""
    return [{"name": table.name, "columns": [[c.name, column_kind(c)] for c in table.columns]}
            for table in metadata.sorted_tables]


def dump_table(conn: Connection, table: Table, writer: ArchiveWriter) -> int:
    """Write one table as `db/<name>.jsonl`, streaming rows in primary-key order; return the row count."""
    kinds = [column_kind(c) for c in table.columns]
    writer.begin(f"db/{table.name}.jsonl")
    rows = 0
    result = conn.execution_options(yield_per=1000).execute(sa.select(table).order_by(*table.primary_key.columns))
    lines: list[str] = []
    for row in result:
        lines.append(json.dumps([_encode(k, v) for k, v in zip(kinds, row)], ensure_ascii=False,
                                separators=(",", ":")))
        rows += 1
        if len(lines) >= BATCH:
            writer.write(("\n".join(lines) + "\n").encode("utf-8"))
            lines.clear()
    if lines:
        writer.write(("\n".join(lines) + "\n").encode("utf-8"))
    writer.end()
    return rows


def iter_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Split a member's content into lines without holding the whole member."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        *complete, rest = rest.split(b"\n")
        yield from complete
    if rest:
        yield rest


class TableLoader:
    """Insert one table's dumped rows into the schema as it stands at the archive's revision."""

    def __init__(self, conn: Connection, layout: dict, models: MetaData, reflected: MetaData):
        self.conn = conn
        self.name = layout["name"]
        self.columns = [(name, kind) for name, kind in layout["columns"]]
        target = reflected.tables.get(self.name)
        if target is None:
            raise ArchiveError(f"the archive's table {self.name!r} does not exist at its own schema revision")
        missing = [name for name, _ in self.columns if name not in target.columns]
        if missing:
            raise ArchiveError(f"table {self.name!r} has no column(s) {', '.join(missing)} at the archive's revision")
        model = models.tables.get(self.name)
        # The model's type when it still matches (e.g. UTCDateTime's handling), else the database's own.
        typed = [sa.column(name, model.columns[name].type if model is not None and name in model.columns
                           else target.columns[name].type) for name, _ in self.columns]
        self.clause = sa.table(self.name, *typed)
        # Self-references (a tip's matter) may point forward: insert them empty, set them afterwards.
        self.deferred = [fk.parent.name for fk in target.foreign_keys
                         if fk.column.table is target and fk.parent.nullable]
        self.keys = [c.name for c in target.primary_key.columns]
        self.rows = 0
        self._later: list[dict] = []

    def load(self, lines: Iterable[bytes]) -> int:
        """Insert every row; return how many."""
        batch: list[dict] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                values = json.loads(line)
                row = {name: _decode(kind, value) for (name, kind), value in zip(self.columns, values, strict=True)}
            except (ValueError, TypeError):
                raise ArchiveError(f"a row of table {self.name!r} is malformed") from None
            if self.deferred and any(row.get(name) is not None for name in self.deferred):
                self._later.append({**{k: row[k] for k in self.keys}, **{n: row[n] for n in self.deferred}})
                row = {**row, **{name: None for name in self.deferred}}
            batch.append(row)
            if len(batch) >= BATCH:
                self._flush(batch)
        self._flush(batch)
        self._apply_deferred()
        return self.rows

    def _flush(self, batch: list[dict]) -> None:
        if batch:
            self.conn.execute(sa.insert(self.clause), batch)
            self.rows += len(batch)
            batch.clear()

    def _apply_deferred(self) -> None:
        for values in self._later:
            where = [self.clause.c[k] == values[k] for k in self.keys]
            self.conn.execute(sa.update(self.clause).where(*where)
                              .values({n: values[n] for n in self.deferred}))


def reset_sequences(conn: Connection, metadata: MetaData) -> None:
    """PostgreSQL: move each integer key's sequence past the largest restored id."""
    if conn.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                {"t": table.name, "c": keys[0].name}).scalar()
        if sequence:
            # Table and column names come from our own metadata, never from input (bandit B608).
            conn.execute(sa.text(f'SELECT setval(:s, COALESCE((SELECT MAX("{keys[0].name}") FROM "{table.name}"), 1), '  # nosec B608
                                 f'(SELECT MAX("{keys[0].name}") FROM "{table.name}") IS NOT NULL)'),
                         {"s": sequence})
