"""The reward ledger's filter, rows and file layout (奖励台账导出): pure row building and the columns.

No database: tipoff.rewards.ledger queries, this module shapes, tipoff.exports.writers writes the files.
A ledger row has no field for a claimant's name, bank, account or phone, so no export can carry identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from tipoff.exports.writers import XLSX_MIME  # noqa: F401  (re-exported for the ledger's callers)
from tipoff.exports.writers import Column, Ledger, beijing_date, month_start, next_month
from tipoff.money import round_cents
from tipoff.rewards.models import from_fen
from tipoff.rewards.workflow import STATES, RewardState

S = RewardState
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
COLUMNS: tuple[Column, ...] = (
    Column("reward_id", "奖励编号", "int", 10), Column("reference", "举报编号", width=18),
    Column("department", "承办部门", width=24), Column("status_label", "状态", width=16),
    Column("rule_set", "适用规则", width=16), Column("calculated", "测算金额（元）", "amount", 14),
    Column("approved", "核定金额（元）", "amount", 14), Column("paid", "已发放金额（元）", "amount", 14),
    Column("paid_on", "发放日期", "date", 12), Column("voucher_no", "凭证号", width=20),
    Column("claim_deadline", "领取期限", "date", 12), Column("created_on", "立项日期", "date", 12),
)
CONFIDENTIAL = "内部资料：仅用于奖励台账管理，不含举报人身份信息，不得外传。"
REWARD_LEDGER = Ledger(action="reward.ledger.export", object_type="reward_ledger", filename="reward-ledger",
                       sheet="奖励台账", columns=COLUMNS, notice=CONFIDENTIAL)


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
        return [getattr(self, column.key) for column in COLUMNS]


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
