"""Helpers for the enterprise tests: valid credit codes, form data, files to import."""
from __future__ import annotations

import csv
import io

from tipoff.intake.validators import CREDIT_CODE_ALPHABET, credit_code_check_char


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码, different for each n."""
    digits, value = [], n
    for _ in range(7):
        value, rest = divmod(value, len(CREDIT_CODE_ALPHABET))
        digits.append(CREDIT_CODE_ALPHABET[rest])
    first17 = "91411023MA" + "".join(reversed(digits))
    return first17 + credit_code_check_char(first17)


def form(name: str = "许昌恒达机械制造有限公司", code: str | None = None, township: str = "lingjing",
         sector: str = "industry", address: str = "灵井镇工业路 8 号", **extra) -> dict[str, str]:
    """The register form as a person would fill it in."""
    return {"name": name, "credit_code": credit_code(1) if code is None else code, "township": township,
            "sector": sector, "address": address, **extra}


HEADER = ["单位名称", "统一社会信用代码", "乡镇（街道）", "行业领域", "地址"]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig", header: list[str] | None = None) -> bytes:
    """A CSV file as Excel would save it (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], header: list[str] | None = None) -> bytes:
    """An XLSX workbook with the list on its first sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, filename: str = "units.csv", **data):
    """Post a file to the import page (the first step: check and preview)."""
    return client.post("/staff/enterprises/import", data={"file": (io.BytesIO(content), filename), **data},
                       content_type="multipart/form-data")
