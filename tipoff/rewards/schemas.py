"""JSON schemas of the reward calculator: what POST /api/v1/rewards/quote takes and answers.

The same request schema checks the public calculator page's GET form, so a typed value is refused for
the same reason on both. Messages are plain Chinese, like the services'.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable

from marshmallow import Schema, ValidationError, fields, validate, validates

from tipoff.messages import Message
from tipoff.money import NOT_A_NUMBER, MoneyError, parse_money
from tipoff.rewards.grades import GRADES

MAX_COUNT = 100_000  # more people than this is a typing error, not an accident
MAX_MONEY_TEXT = 40  # characters; longer text is not an amount (and Decimal should not have to read it)
_DIGITS = re.compile(r"[0-9]{1,9}")


class Money(fields.Field):
    """Yuan as a decimal string ("100000", "100000.50") or a JSON integer; floats are refused (R8)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, str) and len(value) > MAX_MONEY_TEXT:
            raise ValidationError(Message("金额过长，请核对。"))
        if isinstance(value, float):
            raise ValidationError(Message("金额请写成字符串（如 \"100000.00\"）或整数：小数形式的 JSON 数字不精确，不予接受。"))
        if not isinstance(value, (str, int)):
            raise ValidationError(NOT_A_NUMBER)
        try:
            return parse_money(value)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None


class Count(fields.Field):
    """A number of people: a non-negative JSON integer, or (from the HTML form) a string of digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(Message("须为不小于 0 的整数。"))
        if value > MAX_COUNT:
            raise ValidationError(Message("人数过大（超过 %(most)s），请核对。", most=f"{MAX_COUNT:,}"))
        return value


_MONEY_DOC = {"oneOf": [{"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}, {"type": "integer", "minimum": 0}],
              "example": "100000.00"}
_COUNT_DOC = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}


CHOOSE_CATEGORY = Message("请选择举报类别。")


class QuoteRequestSchema(Schema):
    """The facts of a verified tip (money as strings or integers, never floats)."""

    error_messages = {"unknown": "未知字段。", "type": "请求体须为 JSON 对象。"}

    category = fields.String(required=True, error_messages={"required": CHOOSE_CATEGORY, "invalid": CHOOSE_CATEGORY},
                             metadata={"description": "major_hazard, hazard, violation, concealed_accident or other"})
    fine = Money(load_default=None, allow_none=True,
                 metadata={**_MONEY_DOC, "description": "The administrative fine (行政处罚罚款), yuan"})
    accident_grade = fields.String(
        load_default=None, allow_none=True,
        validate=validate.OneOf(GRADES, error=Message("事故等级只能是 general、larger、major、especially_major 之一。")),
        metadata={"description": "Final accident grade (事故等级); or give the casualty figures", "enum": list(GRADES)})
    deaths = Count(load_default=None, allow_none=True, metadata={**_COUNT_DOC, "description": "死亡人数"})
    serious_injuries = Count(load_default=None, allow_none=True,
                             metadata={**_COUNT_DOC, "description": "重伤人数（含急性工业中毒）"})
    direct_loss = Money(load_default=None, allow_none=True,
                        metadata={**_MONEY_DOC, "description": "Direct economic loss (直接经济损失), yuan"})
    concealed_deaths = Count(load_default=0, allow_none=True,
                             metadata={**_COUNT_DOC, "description": "Verified concealed deaths (查实的瞒报死亡人数)"})
    insider = fields.Boolean(load_default=False, error_messages={"invalid": "须为 true 或 false。"},
                             metadata={"description": "The reporter works for the reported unit (吹哨人)"})
    rule_set = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=40, error="规则集代码不超过 40 个字符。"),
                             metadata={"description": "Rule set code; default: the one in force today"})

    def __init__(self, *args: Any, categories: Callable[[], list[str]] | None = None, **kwargs: Any):
        """`categories` lists the category codes a quote may name (looked up when a request is checked)."""
        super().__init__(*args, **kwargs)
        self._categories = categories

    @validates("category")
    def _known_category(self, value: str, **kwargs: Any) -> None:
        if self._categories is not None and value not in self._categories():
            raise ValidationError(Message("未知的举报类别。"))


class QuoteSchema(Schema):
    """What a verified tip could earn, and how the amount was reached."""

    amount = fields.String(required=True, metadata={"description": "Yuan, two decimals", "example": "15000.00"})
    currency = fields.String(required=True, metadata={"example": "CNY"})
    rule_set = fields.String(required=True, metadata={"example": "national-2018"})
    grade = fields.String(allow_none=True, required=True,
                          metadata={"description": "Accident grade used, or null", "enum": [*GRADES, None]})
    explanation = fields.String(required=True,
                                metadata={"example": "罚款 ¥100,000 × 15% = ¥15,000（国家2018办法，最低¥3,000，最高¥300,000）"})
