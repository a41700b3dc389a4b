"""Credit codes, ID numbers, mobile numbers and free text: worked cases, table-driven."""
from __future__ import annotations

from datetime import date

import pytest

from tipoff.intake.validators import (
    clean_text,
    credit_code_check_char,
    id_check_char,
    normalise_credit_code,
    normalise_id_number,
    normalise_mobile,
)


@pytest.mark.parametrize("first17, check", [
    ("91350100M000100Y4", "3"),   # the example printed in GB 32100-2015 commentaries
    ("91110000600037341", "L"),
])
def test_credit_code_check_character(first17, check):
    assert credit_code_check_char(first17) == check


@pytest.mark.parametrize("typed, normalised", [
    ("91350100M000100Y43", "91350100M000100Y43"),
    ("91350100m000100y43", "91350100M000100Y43"),
    (" 9135 0100 M000 100Y 43 ", "91350100M000100Y43"),
    ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),  # full-width, as typed on a phone
])
def test_credit_code_accepts_and_normalises(typed, normalised):
    assert normalise_credit_code(typed) == normalised


@pytest.mark.parametrize("typed, message", [
    ("91350100M000100Y4", "18 位"),
    ("91350100M000100Y44", "校验位"),
    ("91350100M000100Z43", "不含字符：Z"),
    ("91350100O000100Y43", "不含字符：O"),
])
def test_credit_code_refusals(typed, message):
    with pytest.raises(ValueError, match=message):
        normalise_credit_code(typed)


@pytest.mark.parametrize("first17, check", [
    ("11010519491231002", "X"),
    # Worked by hand: sum of digit × weight, mod 11, then "10X98765432".
    ("44030519900101001", "8"),   # sum 180, 180 mod 11 = 4 -> "8"
    ("41102319850615202", "7"),   # sum 258, 258 mod 11 = 5 -> "7"
])
def test_id_check_character(first17, check):
    assert id_check_char(first17) == check


@pytest.mark.parametrize("typed, normalised", [
    ("11010519491231002X", "11010519491231002X"),
    ("11010519491231002x", "11010519491231002X"),
    ("110105 19491231 002X", "11010519491231002X"),
])
def test_id_number_accepts(typed, normalised):
    assert normalise_id_number(typed) == normalised


@pytest.mark.parametrize("typed, message", [
    ("11010519491231002", "18 位"),
    ("110105194912310021", "校验位"),
    ("11010519491331002X", "出生日期"),     # month 13
    ("110105 2099 0101 001X", "出生日期"),  # born in the future
    ("1101051949123100AX", "18 位"),
])
def test_id_number_refusals(typed, message):
    with pytest.raises(ValueError, match=message):
        normalise_id_number(typed, today=date(2026, 11, 28))


@pytest.mark.parametrize("typed, normalised", [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("008613800138000", "13800138000"),
    ("8613800138000", "13800138000"),
])
def test_mobile_accepts(typed, normalised):
    assert normalise_mobile(typed) == normalised


@pytest.mark.parametrize("typed", ["12800138000", "1380013800", "0374-1234567", "abc", ""])
def test_mobile_refusals(typed):
    with pytest.raises(ValueError, match="11 位手机号码"):
        normalise_mobile(typed)


@pytest.mark.parametrize("value, kwargs, expected", [
    ("  燃气管道漏气  ", {"minimum": 2, "maximum": 10}, "燃气管道漏气"),
    ("第一行\r\n第二行", {"maximum": 20, "multiline": True}, "第一行\n第二行"),
    ("<script>alert(1)</script>", {"maximum": 100}, "<script>alert(1)</script>"),  # stored literally
    ("'; DROP TABLE tips; --", {"maximum": 100}, "'; DROP TABLE tips; --"),
])
def test_clean_text_keeps_content_literally(value, kwargs, expected):
    assert clean_text(value, field="描述", **kwargs) == expected


@pytest.mark.parametrize("value, kwargs, message", [
    ("短", {"minimum": 10, "maximum": 100}, "至少 10 个字"),
    ("长" * 11, {"maximum": 10}, "最多 10 个字（现在 11 个）"),
    ("有\x00空字符", {"maximum": 100}, "控制字符"),
    ("换\n行", {"maximum": 100}, "控制字符"),       # newlines only in multi-line fields
    ("方向\u202e字符", {"maximum": 100, "multiline": True}, "控制字符"),  # right-to-left override
    ("", {"minimum": 1, "maximum": 100}, "请填写描述"),
])
def test_clean_text_refusals(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        clean_text(value, field="描述", **kwargs)
