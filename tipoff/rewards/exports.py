"""The reward ledger's filter, rows and files (奖励台账导出): pure row building and streaming CSV/XLSX writers.

No database and no Flask: tipoff.rewards.ledger queries, this module shapes. A ledger row has no field
for a claimant's name, bank, account or phone, so no export can carry identity.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import IO, Any, Iterable, Iterator, Mapping

from tipoff.clockview import SHANGHAI
from tipoff.money import round_cents, to_string
from tipoff.rewards.models import from_fen
from tipoff.rewards.workflow import STATES, RewardState

S = RewardState
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FORMATS = ("html", "csv", "xlsx")
# A proposal's amount becomes the approved amount from approval on; before that the column stays empty.
APPROVED_STATES = frozenset({S.APPROVED, S.NOTIFIED, S.CLAIMED, S.PAID, S.DECLINED, S.EXPIRED})
# Disjoint buckets of the monthly table: each reward counts once, by where it stands now.
MONTH_BUCKETS = {
    "proposed": frozenset({S.PROPOSED}),
    "approved": frozenset({S.APPROVED, S.NOTIFIED, S.CLAIMED}),
    "paid": frozenset({S.PAID}),
    "expired": frozenset({S.EXPIRED}),
}
COLUMNS: tuple[tuple[str, str], ...] = (
    ("reward_id", "奖励编号"), ("reference", "举报编号"), ("department", "承办部门"), ("status_label", "状态"),
    ("rule_set", "适用规则"), ("calculated", "测算金额（元）"), ("approved", "核定金额（元）"),
    ("paid", "已发放金额（元）"), ("paid_on", "发放日期"), ("voucher_no", "凭证号"),
    ("claim_deadline", "领取期限"), ("created_on", "立项日期"),
)
AMOUNT_COLUMNS = frozenset({"calculated", "approved", "paid"})
DATE_COLUMNS = frozenset({"paid_on", "claim_deadline", "created_on"})
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


# ------------------------------------------------------------------------------------------- the filter


@dataclass(frozen=True)
class LedgerFilter:
    """What the ledger and its exports narrow by; `parse` refuses values it does not know."""

    status: str | None = None
    month_from: str | None = None   # "YYYY-MM", Beijing months of Reward.created_at
    month_to: str | None = None
    department: str | None = None   # a department code (district-wide users only)

    @classmethod
    def parse(cls, args: Mapping[str, str], *, departments: Mapping[str, str] | None,
              own_department: str | None = None) -> tuple["LedgerFilter", dict[str, list[str]]]:
        """Read the filter from query arguments. `departments` (code → name) is given to district-wide
        users, who may pick one; others see their own department and may only name it."""
        errors: dict[str, list[str]] = {}
        status, month_from, month_to, department = (
            (args.get(k) or "").strip() or None for k in ("status", "from", "to", "department"))
        if status and status not in {s.value for s in S}:
            errors["status"] = ["状态筛选只能是：" + "、".join(f"{s.value}（{STATES[s].label}）" for s in S) + "。"]
            status = None
        for key, value in (("from", month_from), ("to", month_to)):
            if value and month_start(value) is None:
                errors[key] = [f"月份须写成 YYYY-MM，例如 2026-01（收到：{value[:20]}）。"]
        month_from = month_from if "from" not in errors else None
        month_to = month_to if "to" not in errors else None
        if month_from and month_to and month_from > month_to:
            errors["to"] = ["截止月份不能早于起始月份。"]
            month_to = None
        if department:
            if departments is None:
                if department != own_department:
                    errors["department"] = ["只能查看本部门的奖励台账。"]
                department = None
            elif department not in departments:
                errors["department"] = ["没有这个承办部门。"]
                department = None
        return cls(status, month_from, month_to, department), errors

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for links and the export buttons)."""
        pairs = (("status", self.status), ("from", self.month_from), ("to", self.month_to),
                 ("department", self.department))
        return {k: v for k, v in pairs if v}

    def created_between(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) as UTC instants: from the first Beijing midnight of `month_from` to the one after `month_to`."""
        start = month_start(self.month_from) if self.month_from else None
        end = month_start(self.month_to) if self.month_to else None
        return (start, next_month(end) if end else None)

    def describe(self, department_name: str | None = None) -> str:
        """The filter in words, for the export's header line."""
        status = STATES[S(self.status)].label if self.status else "全部"
        months = f"{self.month_from or '最早'} 至 {self.month_to or '最新'}" if (self.month_from or self.month_to) else "全部"
        return f"状态={status}；月份={months}；部门={department_name or '全部'}"

    def audit(self) -> dict[str, str]:
        """The filter for the audit entry (codes only)."""
        return self.args()


def month_start(text: str) -> datetime | None:
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


# ------------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class LedgerRow:
    """One reward as the ledger shows it: money as Decimal yuan, dates in Beijing."""

    reward_id: int
    reference: str
    department: str
    status: str
    status_label: str
    rule_set: str
    calculated: Decimal
    approved: Decimal | None
    paid: Decimal | None
    paid_on: date | None
    voucher_no: str
    claim_deadline: date | None
    created_on: date | None

    def cells(self) -> list[Any]:
        """The values in COLUMNS order."""
        return [getattr(self, key) for key, _ in COLUMNS]


def beijing_date(moment: datetime | None) -> date | None:
    """The Beijing calendar day of a stored UTC instant."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI).date()


def ledger_row(row: Any) -> LedgerRow:
    """A LedgerRow from a query row (id, reference, department, status, rule_set, calculated_fen,
    amount_fen, paid_fen, paid_at, voucher_no, claim_deadline, created_at)."""
    state = S(row.status)
    return LedgerRow(
        reward_id=row.id, reference=row.reference, department=row.department, status=state.value,
        status_label=STATES[state].label, rule_set=row.rule_set or "", calculated=from_fen(row.calculated_fen or 0),
        approved=from_fen(row.amount_fen) if state in APPROVED_STATES else None, paid=from_fen(row.paid_fen),
        paid_on=row.paid_at, voucher_no=row.voucher_no or "", claim_deadline=beijing_date(row.claim_deadline),
        created_on=beijing_date(row.created_at))


def exported_line(exporter: str, at: datetime, filter_text: str) -> str:
    """Who exported, when (Beijing) and with which filter: every file carries it, so a leaked copy is traceable."""
    return f"导出人: {exporter}  导出时间: {at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}（北京时间）  筛选: {filter_text}"


CONFIDENTIAL = "内部资料：仅用于奖励台账管理，不含举报人身份信息，不得外传。"


def _safe_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (a voucher number typed as "=HYPERLINK(...)")."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return to_string(value)
    if isinstance(value, date):
        return value.isoformat()
    return _safe_text(str(value))


def csv_stream(header: str, rows: Iterable[LedgerRow], batch: int = 200) -> Iterator[bytes]:
    """The CSV file piece by piece: UTF-8 with a BOM (Excel on Windows then reads Chinese), a "# " header
    line naming the exporter, then the column names and the rows. Memory stays constant."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(["# " + header])
    writer.writerow(["# " + CONFIDENTIAL])
    writer.writerow([label for _, label in COLUMNS])
    pending = 0
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row.cells()])
        pending += 1
        if pending >= batch:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(header: str, rows: Iterable[LedgerRow]) -> IO[bytes]:
    """The XLSX workbook in a spooled temporary file (memory up to 8 MB, then disk), rewound.

    openpyxl's write-only mode keeps each row on disk as it is appended, but a zip archive is only
    complete once written whole, so the file is built first and then streamed out in chunks.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("奖励台账")
    for letter, width in zip("ABCDEFGHIJKL", (10, 18, 24, 16, 16, 14, 14, 14, 12, 20, 12, 12)):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    sheet.append([header])
    sheet.append([CONFIDENTIAL])
    sheet.append([])
    titles = []
    for _, label in COLUMNS:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for row in rows:
        cells = []
        for (key, _), value in zip(COLUMNS, row.cells()):
            cell = WriteOnlyCell(sheet, value=_safe_text(value) if isinstance(value, str) else value)
            if key in AMOUNT_COLUMNS and value is not None:
                cell.value, cell.number_format = round_cents(value), "0.00"
            elif key in DATE_COLUMNS and value is not None:
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    out = SpooledTemporaryFile(max_size=SPOOL_BYTES)
    workbook.save(out)
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


# ------------------------------------------------------------------------------------------- documents

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")


def _group(value: int) -> str:
    """1-9999 in capital figures, zeros inside read once (1005 → 壹仟零伍)."""
    text, zero = "", False
    for place in range(3, -1, -1):
        digit = value // 10 ** place % 10
        if digit == 0:
            zero = zero or bool(text)
            continue
        text += ("零" if zero else "") + DIGITS[digit] + PLACES[place]
        zero = False
    return text


def capital_amount(amount: Decimal) -> str:
    """An amount in 大写 for a formal document: 15000 → 壹万伍仟元整, 1234.5 → 壹仟贰佰叁拾肆元伍角."""
    fen = int(round_cents(amount) * 100)
    if fen < 0:
        raise ValueError("amount must not be negative")
    yuan_part, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    groups = []
    while yuan_part:
        groups.append(yuan_part % 10000)
        yuan_part //= 10000
    text, gap = "", False
    for index in range(len(groups) - 1, -1, -1):
        value = groups[index]
        if value == 0:
            gap = True
            continue
        if text and (gap or value < 1000):
            text += "零"
        text += _group(value) + GROUPS[index]
        gap = False
    if not jiao and not cents:
        return (text or "零") + "元整"
    whole = text + "元" if text else ""
    if jiao:
        return whole + DIGITS[jiao] + "角" + (DIGITS[cents] + "分" if cents else "")
    return whole + ("零" if text else "") + DIGITS[cents] + "分"


def claim_deadline_text(deadline: datetime | None) -> str:
    """A claim deadline as its Beijing day (2027-01-15), or an empty string."""
    day = beijing_date(deadline)
    return day.isoformat() if day else ""
