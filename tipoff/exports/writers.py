"""Streaming 台账 files, shared by every export: CSV and XLSX writers, batched reads, and the audited download.

One way out for every ledger (cases, overdue list, rewards): `deliver` writes the audit entry (who, which
filter, how many rows, which format) and commits it *before* the first byte leaves, then streams the file.
Each file names its exporter and the time in its first line (leak traceability). Memory stays constant
however many rows there are: rows are read in keyset batches, CSV is written a few hundred rows at a time,
and XLSX goes through openpyxl's write-only mode into a temporary file that spills to disk.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, Sequence

from flask import Response, stream_with_context
from sqlalchemy import Select, and_, or_

from tipoff.audit.services import record
from tipoff.clockview import SHANGHAI
from tipoff.db import set_write_intent, utcnow
from tipoff.errors import ValidationFailed
from tipoff.extensions import db
from tipoff.money import round_cents, to_string

FORMATS = ("csv", "xlsx")
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 8 * 1024 * 1024   # an XLSX file stays in memory up to this size, then moves to disk
CHUNK_BYTES = 64 * 1024         # how much of a finished file goes out at a time
CSV_FLUSH_ROWS = 200            # CSV rows per piece sent
BATCH_ROWS = 1000               # rows per database round trip
XLSX_MAX_ROWS = 1_048_576 - 4   # a sheet's last row, less the exporter line, the notice, a blank row and titles
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Characters XML 1.0 cannot carry (a subject name pasted with a control character would break the XLSX).
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    """One column of a ledger file: its key, its Chinese title, how its values are written, its XLSX width."""

    key: str
    label: str
    kind: str = "text"  # text | int | amount (Decimal yuan) | date | datetime (aware) | flag (bool)
    width: int = 14


@dataclass(frozen=True)
class Ledger:
    """What kind of file an export makes: its audit action, file name, sheet title, columns and notice."""

    action: str        # audit action, e.g. "export.cases"
    object_type: str   # audit object type
    filename: str      # file name stem, e.g. "case-ledger"
    sheet: str         # XLSX sheet title
    columns: tuple[Column, ...]
    notice: str        # the second line of every file: what it is and that it must not leave the office


# ------------------------------------------------------------------------------------------- months and days


def month_start(text: str | None) -> datetime | None:
    """The first instant (UTC) of a Beijing month "YYYY-MM"; None when the text is not such a month."""
    match = MONTH.match(text or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return datetime(year, month, 1, tzinfo=SHANGHAI).astimezone(timezone.utc)


def next_month(start: datetime) -> datetime:
    """The first instant (UTC) of the Beijing month after the one starting at `start`."""
    local = start.astimezone(SHANGHAI)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=SHANGHAI).astimezone(timezone.utc)


def beijing_date(moment: datetime | None) -> date | None:
    """The Beijing calendar day of a stored UTC instant."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI).date()


def beijing_time(moment: datetime) -> datetime:
    """A stored UTC instant as naive Beijing wall-clock time (spreadsheets know no time zones)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------- cells


def exported_line(exporter: str, at: datetime, filter_text: str) -> str:
    """Who exported, when (Beijing) and with which filter: every file carries it, so a leaked copy is traceable."""
    return f"导出人: {exporter}  导出时间: {at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}（北京时间）  筛选: {filter_text}"


def safe_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (a voucher number typed as "=HYPERLINK(...)")."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_cell(value: Any) -> str:
    """A value as CSV text: amounts with two places, days as ISO dates, instants in Beijing time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, Decimal):
        return to_string(value)
    if isinstance(value, datetime):
        return f"{beijing_time(value):%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def xlsx_value(sheet, column: Column, value: Any) -> Any:
    """A value as a spreadsheet cell: amounts as numbers with two places, instants as Beijing time; days and
    instants get openpyxl's date formats. Plain values are left for openpyxl to put in its reused cell."""
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, str):
        return safe_text(ILLEGAL_XML.sub("", value))
    if isinstance(value, datetime):
        return beijing_time(value)
    if column.kind == "amount":
        cell = WriteOnlyCell(sheet, value=round_cents(value))
        cell.number_format = "0.00"
        return cell
    return value


# ------------------------------------------------------------------------------------------- files


def csv_stream(lines: Sequence[str], columns: Sequence[Column], rows: Iterable[Sequence[Any]],
               flush_every: int = CSV_FLUSH_ROWS) -> Iterator[bytes]:
    """The CSV file piece by piece: UTF-8 with a BOM (Excel on Windows then reads Chinese), "# " lines naming
    the exporter and the notice, then the column titles and the rows. Memory stays constant."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    for line in lines:
        writer.writerow(["# " + line])
    writer.writerow([column.label for column in columns])
    pending = 0
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
        pending += 1
        if pending >= flush_every:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(sheet_title: str, lines: Sequence[str], columns: Sequence[Column],
              rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    """The XLSX workbook in a spooled temporary file (memory up to SPOOL_BYTES, then disk), rewound.

    The first rows hold the exporter line and the notice, a blank row, then the bold column titles.
    openpyxl's write-only mode writes each row to a temporary file as it is appended (strings inline, no
    shared-string table), but a zip archive is only complete once written whole, so the file is built
    first and then streamed out in chunks (its size is known: Content-Length).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"A{len(lines) + 3}"  # the titles stay in view while scrolling
    for line in lines:
        sheet.append([ILLEGAL_XML.sub("", line)])
    sheet.append([])
    bold = Font(bold=True)
    titles = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.label)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for row in rows:
        sheet.append([xlsx_value(sheet, column, value) for column, value in zip(columns, row)])
    out = SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        workbook.save(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def file_chunks(file: IO[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Read a file out in chunks, closing it at the end (or when the client goes away)."""
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()


def file_size(file: IO[bytes]) -> int:
    """The length of a rewound file, leaving it rewound."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


# ------------------------------------------------------------------------------------------- reading in batches


def keyset_rows(stmt: Select, keys: Sequence[tuple[Any, str, bool]], size: int = BATCH_ROWS) -> Iterator[Any]:
    """The rows of `stmt` in the order of `keys`, read `size` at a time by keyset pagination.

    `keys` are (column, name of that column in the result row, descending) and must end with a unique,
    never-null column (the id). Each batch continues after the last row of the one before, so no query
    holds more than `size` rows, the same on SQLite and PostgreSQL, with no server-side cursor.
    """
    ordered = stmt.order_by(*(column.desc() if desc else column.asc() for column, _, desc in keys))
    after: tuple | None = None
    while True:
        page = ordered if after is None else ordered.where(_after(keys, after))
        batch = db.session.execute(page.limit(size)).all()
        full = len(batch) == size
        if full:
            after = tuple(batch[-1]._mapping[name] for _, name, _ in keys)
        yield from batch
        del batch  # let this batch go before the next one is read: one batch in memory, not two
        if not full:
            return


def _after(keys: Sequence[tuple[Any, str, bool]], values: tuple) -> Any:
    """(k1 > v1) OR (k1 = v1 AND k2 > v2) OR …, each comparison typed by its own column."""
    alternatives = []
    for depth, (column, _, desc) in enumerate(keys):
        equal = [keys[i][0] == values[i] for i in range(depth)]
        beyond = column < values[depth] if desc else column > values[depth]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


# ------------------------------------------------------------------------------------------- the download


def _reading(rows: Callable[[], Iterable[Sequence[Any]]]) -> Iterator[Sequence[Any]]:
    """The rows, read in a reader transaction however late the server iterates the response."""
    set_write_intent(False)
    yield from rows()


def deliver(user, ledger: Ledger, *, form: str, count: int, rows: Callable[[], Iterable[Sequence[Any]]],
            filter_text: str, filter_args: Mapping[str, str], department_id: int | None,
            via: str | None = None) -> Response:
    """Record the export in the audit log (who, filter, row count, format — never the rows), commit it, then
    stream the file out of a reader transaction.

    CSV is streamed as it is written, with `X-Total-Rows` (the count the page showed) so a client can show
    progress; XLSX is built in a spooled file first and sent with its `Content-Length`.
    """
    if form == "xlsx" and count > XLSX_MAX_ROWS:
        raise ValidationFailed(fields={"format": [
            f"共 {count} 行，超过 Excel 工作表的行数上限（{XLSX_MAX_ROWS} 行）：请缩小筛选范围，或导出 CSV。"]})
    details: dict[str, Any] = {"format": form, "filter": dict(filter_args), "rows": int(count)}
    if via:
        details["via"] = via
    record(ledger.action, actor=user, object_type=ledger.object_type, department_id=department_id, details=details)
    db.session.commit()
    # The export is recorded; the rows are read in a reader transaction, so a long download never holds
    # SQLite's write lock.
    set_write_intent(False)
    now = utcnow()
    lines = (exported_line(user.display_name, now, filter_text), ledger.notice)
    stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    headers = {"Content-Disposition": f'attachment; filename="{ledger.filename}-{stamp}.{form}"',
               "X-Total-Rows": str(int(count))}
    if form == "csv":
        return Response(stream_with_context(csv_stream(lines, ledger.columns, _reading(rows))), mimetype=CSV_MIME,
                        headers=headers)
    file = xlsx_file(ledger.sheet, lines, ledger.columns, _reading(rows))
    headers["Content-Length"] = str(file_size(file))
    return Response(file_chunks(file), mimetype=XLSX_MIME, direct_passthrough=True, headers=headers)
