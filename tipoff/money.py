"""Exact money (RULES.md R8): Decimal yuan with two places, parsed strictly, rounded half up, shown the Chinese way.

Pure: no Flask, no database.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tipoff.messages import Message

CENT = Decimal("0.01")
# Above this an amount is a typing error, not a fine (¥100 billion).
MAX_AMOUNT = Decimal("100000000000")


class MoneyError(ValueError):
    """An amount that cannot be money: says why in words a user can act on."""


NOT_A_NUMBER = Message("金额须写成数字，例如 100000 或 100000.00。")


def parse_money(value: object, *, allow_zero: bool = True, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A non-negative amount with at most two decimals, from text ("100000", "1,000.50") or an int.

    Floats are refused: 0.1 + 0.2 is not money. Raises MoneyError with the reason.
    """
    if isinstance(value, bool) or isinstance(value, float) or value is None:
        raise MoneyError(NOT_A_NUMBER)
    text = str(value).strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    if not text:
        raise MoneyError(Message("请填写金额。"))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise MoneyError(NOT_A_NUMBER) from None
    if not amount.is_finite():
        raise MoneyError(NOT_A_NUMBER)
    if amount < 0:
        raise MoneyError(Message("金额不能为负数。"))
    if amount > maximum:
        raise MoneyError(Message("金额过大（超过 %(maximum)s），请核对。", maximum=yuan(maximum)))
    if amount.as_tuple().exponent < -2:
        raise MoneyError(Message("金额最多保留两位小数（精确到分）。"))
    if amount == 0 and not allow_zero:
        raise MoneyError(Message("金额须大于零。"))
    return amount.quantize(CENT)


def round_cents(amount: Decimal) -> Decimal:
    """Round to the 分, half up (0.005 → 0.01)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_string(amount: Decimal) -> str:
    """The API's form: a plain decimal string with two places ("15000.00")."""
    return f"{round_cents(amount):.2f}"


def yuan(amount: Decimal) -> str:
    """For people: ¥15,000 for whole yuan, ¥1,234.50 otherwise."""
    amount = round_cents(amount)
    return f"¥{amount:,.0f}" if amount == amount.to_integral_value() else f"¥{amount:,.2f}"


def percent(rate: Decimal) -> str:
    """0.15 → "15%", 0.125 → "12.5%"."""
    value = (rate * 100).normalize()
    return f"{value:f}%"
