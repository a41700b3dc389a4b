"""Pure checks for what reporters type: credit codes, resident ID numbers, mobile numbers, free text.

No Flask: each function returns the normalised value or raises ValueError with a plain Chinese message (a
tipoff.messages.Message, which the page showing it puts into the reader's language).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from tipoff.messages import Message, as_message

# 统一社会信用代码 (GB 32100-2015): 18 characters from 31 symbols (no I, O, Z, S, V), the last a check.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# 公民身份号码 (GB 11643-1999): 17 digits and a check character from ISO 7064 MOD 11-2.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS = re.compile(r"[\s\-‐‑–—()（）]")


def _fold(value: str) -> str:
    """Full-width letters and digits to ASCII (NFKC), separators removed, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def credit_code_check_char(first17: str) -> str:
    """The check character of a unified social credit code's first 17 characters."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    """A valid 统一社会信用代码, normalised, or ValueError."""
    code = _fold(value)
    if len(code) != 18:
        raise ValueError(Message("统一社会信用代码应为 18 位。"))
    bad = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if bad:
        shown = "".join(c for c in bad if c.isascii() and c.isprintable())
        if shown:
            raise ValueError(Message("统一社会信用代码不含字符：%(shown)s（不使用 I、O、Z、S、V）。", shown=shown))
        raise ValueError(Message("统一社会信用代码只含字母和数字（不使用 I、O、Z、S、V）。"))
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValueError(Message("统一社会信用代码校验位不正确，请核对营业执照上的代码。"))
    return code


def id_check_char(first17: str) -> str:
    """The check character of a resident ID number's first 17 digits."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def normalise_id_number(value: str, today: date | None = None) -> str:
    """A valid 18-digit resident ID number, normalised, or ValueError."""
    number = _fold(value)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise ValueError(Message("身份证号码应为 18 位（最后一位可以是 X）。"))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError(Message("身份证号码中的出生日期不正确。")) from None
    if born.year < 1900 or born > (today or date.today()):
        raise ValueError(Message("身份证号码中的出生日期不正确。"))
    if id_check_char(number[:17]) != number[17]:
        raise ValueError(Message("身份证号码校验位不正确，请核对。"))
    return number


def normalise_mobile(value: str) -> str:
    """A mainland mobile number as 11 digits (accepts spaces, dashes, +86), or ValueError."""
    number = _fold(value)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if not _MOBILE.match(number):
        raise ValueError(Message("请填写 11 位手机号码，例如 138 0013 8000。"))
    return number


def clean_text(value: str, *, field: str, minimum: int = 0, maximum: int, multiline: bool = False) -> str:
    """Trimmed text without control characters, within the length bounds, or ValueError.

    `field` names the field in the message: a Message, or a plain string the catalogue may know."""
    field = as_message(field)
    text = unicodedata.normalize("NFC", value or "").strip()
    allowed = {"\n", "\t"} if multiline else set()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in allowed for c in text):
        raise ValueError(Message("%(field)s含有不可见的控制字符，请删除后再提交。", field=field))
    if len(text) < minimum:
        raise ValueError(Message("%(field)s至少 %(minimum)s 个字。", field=field, minimum=minimum) if minimum > 1
                         else Message("请填写%(field)s。", field=field))
    if len(text) > maximum:
        raise ValueError(Message("%(field)s最多 %(maximum)s 个字（现在 %(length)s 个）。", field=field,
                                 maximum=maximum, length=len(text)))
    return text
