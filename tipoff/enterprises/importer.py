"""Bulk registration of enterprises from a CSV or XLSX file, checked row by row before anything is saved.

Two steps: the upload is read and every row checked (a preview lists each rejected row with its line
number and the reason beside the field); the file is kept, for an hour and for the uploader only, in
the data directory, and nothing is imported until the uploader confirms. The confirmation reads the
file again and checks every row again (another user may have registered some meanwhile), then imports
the good rows in one transaction. Without a code in a row a repeat import could not tell a row it has
already imported, so importing before confirmation would create duplicates when a corrected file is
uploaded again; the preview lets the whole file be fixed first.
"""
from __future__ import annotations

import csv
import io
import re
import secrets
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from flask import current_app

from tipoff.enterprises.services import Choices, Register, clean, fold_name
from tipoff.errors import ValidationFailed

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_XLSX_UNPACKED = 64 * 1024 * 1024  # a 2 MB workbook that unpacks to more is not a list of enterprises
STAGE_SECONDS = 3600
HEADER_SEARCH_ROWS = 10  # a title line or two above the header row is allowed
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Header names as people write them (compared after NFKC, without spaces, case-insensitive).
HEADERS = {
    "name": ("单位名称", "企业名称", "生产经营单位名称", "名称", "name"),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码", "credit_code"),
    "township": ("乡镇(街道)", "乡镇街道", "乡镇", "街道", "所在乡镇(街道)", "属地", "township"),
    "sector": ("行业领域", "行业", "sector"),
    "address": ("地址", "详细地址", "单位地址", "经营地址", "address"),
}
TEMPLATE_HEADERS = ("单位名称", "统一社会信用代码", "乡镇（街道）", "行业领域", "地址")
REQUIRED_HEADERS = {"township": "乡镇（街道）", "sector": "行业领域"}  # and 单位名称, which finds the header row
EXAMPLE_NAME = "示例：许昌某某机械制造有限公司（导入前请删除本行）"
EXAMPLE_ROW = (EXAMPLE_NAME, "91411023MA44L0E07F", "灵井镇", "工贸", "灵井镇某某村工业路 8 号")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class Row:
    """One data row of the file: its line number, the values as typed, and what is wrong with them."""

    line: int
    typed: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # model values, for a good row


@dataclass
class Preview:
    """Every data row checked: the good ones ready to import, the bad ones with their reasons."""

    file_format: str
    rows: list[Row]

    @property
    def good(self) -> list[Row]:
        """Rows that would be imported."""
        return [r for r in self.rows if not r.errors]

    @property
    def bad(self) -> list[Row]:
        """Rows refused, each with its reasons by field."""
        return [r for r in self.rows if r.errors]


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def _header_key(text: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split()).casefold()


_HEADER_LOOKUP = {_header_key(alias): name for name, aliases in HEADERS.items() for alias in aliases}


def _cell_text(value: Any, column: str) -> str:
    """A spreadsheet cell as text; a credit code Excel stored as a number has lost digits and is refused."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if column == "credit_code":
            raise ValueError("统一社会信用代码被 Excel 存成了数字，末尾几位已丢失：请把该列设为“文本”格式后重新填写。")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
    return str(value).strip()


def _decode(content: bytes) -> str:
    """CSV text: UTF-16 with a byte-order mark, UTF-8 (with or without one), else GBK/GB18030 as Excel saves it."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise _refuse("文件以 UTF-16 标记开头，但内容不完整：请重新“另存为”CSV UTF-8 后上传。") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse("无法识别文件的文字编码：请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿（.xlsx）。") from None


def _csv_lines(content: bytes) -> Iterator[list[Any]]:
    text = _decode(content)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)  # Excel writes tabs for "Unicode text", semicolons in some locales
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_lines(content: bytes) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise _refuse("工作簿内容过大，请只保留单位清单一张工作表。")
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ValidationFailed:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise _refuse("无法读取这个 Excel 文件：请确认是 .xlsx 格式（不是 .xls），或另存为 CSV 后上传。") from None
    try:
        if not workbook.worksheets:
            raise _refuse("这个 Excel 文件里没有工作表。")
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    except ValidationFailed:
        raise
    except Exception:  # read_only workbooks parse lazily: a damaged sheet fails here, not at load
        raise _refuse("无法读取这个 Excel 文件：工作表内容已损坏，请在 Excel 中重新保存或另存为 CSV 后上传。") from None
    finally:
        workbook.close()


def file_format(filename: str, content: bytes) -> str:
    """"xlsx" or "csv", from the content (the name can lie); refuses the old binary .xls format."""
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
        raise _refuse("不支持旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV 后上传。")
    return "csv"


def _columns(header: tuple[Any, ...] | list[Any]) -> dict[int, str] | None:
    found: dict[int, str] = {}
    for index, text in enumerate(header):
        name = _HEADER_LOOKUP.get(_header_key(text))
        if name and name not in found.values():
            found[index] = name
    return found if "name" in found.values() else None


def read_rows(filename: str, content: bytes) -> tuple[str, list[Row]]:
    """The file's data rows with their line numbers (blank rows skipped), or a file-level refusal."""
    if not content:
        raise _refuse("请选择要导入的文件。")
    if len(content) > MAX_BYTES:
        raise _refuse(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分成几个文件分别导入。")
    kind = file_format(filename, content)
    lines = _xlsx_lines(content) if kind == "xlsx" else _csv_lines(content)
    columns: dict[int, str] | None = None
    rows: list[Row] = []
    try:
        for line, cells in enumerate(lines, start=1):
            if columns is None:
                columns = _columns(cells)
                if columns is None and line >= HEADER_SEARCH_ROWS:
                    break
                if columns is not None:
                    missing = [label for name, label in REQUIRED_HEADERS.items() if name not in columns.values()]
                    if missing:
                        raise _refuse("表头缺少：" + "、".join(missing) + "。请使用下载的模板。")
                continue
            if not any(str(c or "").strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise _refuse(f"一次最多导入 {MAX_ROWS} 行，请拆分成几个文件分别导入。")
            row = Row(line, {})
            for index, name in columns.items():
                try:
                    row.typed[name] = _cell_text(cells[index] if index < len(cells) else None, name)
                except ValueError as exc:
                    row.typed[name] = str(cells[index])
                    row.errors[name] = [str(exc)]
            rows.append(row)
    except csv.Error:
        raise _refuse("CSV 文件格式不正确（引号不配对等），请在 Excel 中打开后重新“另存为” CSV。") from None
    if columns is None:
        raise _refuse("没有找到表头行：第一行应为 " + "、".join(TEMPLATE_HEADERS) + "。请使用下载的模板。")
    if not rows:
        raise _refuse("文件中没有数据行。")
    return kind, rows


def _resolve(typed: str, names: dict[str, str]) -> str:
    """The code of a township or sector given by its code or its full name ("" when neither)."""
    if typed in names:
        return typed
    wanted = _header_key(typed)
    for code, name in names.items():
        if _header_key(name) == wanted or code.casefold() == wanted:
            return code
    return ""


def check_rows(kind: str, rows: list[Row], choices: Choices) -> Preview:
    """Check every row as the form would, plus duplicates within the file and against the register."""
    register = Register()
    seen_codes: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    for row in rows:
        if fold_name(row.typed.get("name", "")) == fold_name(EXAMPLE_NAME):
            row.errors = {"name": ["这是模板中的示例行，请删除后再导入。"]}
            continue
        typed = dict(row.typed)
        for name, known in (("township", choices.townships), ("sector", choices.sectors)):
            typed[name] = _resolve(typed.get(name, ""), known)
        cleaned, errors = clean(typed, choices)
        for name in ("township", "sector"):  # say what was typed, not just "please choose"
            if name in errors:
                label = "乡镇（街道）" if name == "township" else "行业领域"
                given = row.typed.get(name, "")
                errors[name] = [f"没有名为“{given}”的{label}，请填写名称或代码。" if given else f"请填写{label}。"]
        for name, messages in errors.items():
            row.errors.setdefault(name, messages)
        if row.errors:
            continue
        code = cleaned.get("credit_code")
        key = (cleaned["township_code"], fold_name(cleaned["name"]))
        if code and code in seen_codes:
            row.errors["credit_code"] = [f"与本文件第 {seen_codes[code]} 行的统一社会信用代码重复。"]
            continue
        if not code and key in seen_names:
            row.errors["name"] = [f"与本文件第 {seen_names[key]} 行同一乡镇（街道）同名，且没有统一社会信用代码。"]
            continue
        duplicate = register.duplicate_errors(cleaned)
        if duplicate:
            row.errors.update(duplicate)
            continue
        if code:
            seen_codes[code] = row.line
        else:
            seen_names[key] = row.line
        row.values = cleaned
    return Preview(kind, rows)


def preview(filename: str, content: bytes) -> Preview:
    """Read and check a whole file against the current register; saves nothing."""
    kind, rows = read_rows(filename, content)
    return check_rows(kind, rows, Choices.current())


# ---------------------------------------------------------------- the file between preview and confirmation

def _stage_dir() -> Path:
    path = Path(current_app.config["TIPOFF_DATA_DIR"]) / "enterprise-imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _staged_path(token: str, user_id: int) -> Path:
    if not _TOKEN.match(token or ""):
        raise FileNotFoundError(token)
    return _stage_dir() / f"{int(user_id)}-{token}"


def stage(content: bytes, user_id: int) -> str:
    """Keep an uploaded file until its uploader confirms (an hour at most); returns the token to confirm with."""
    now = time.time()
    for old in _stage_dir().iterdir():
        if now - old.stat().st_mtime > STAGE_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    path = _staged_path(token, user_id)
    path.write_bytes(content)
    path.chmod(0o600)
    return token


def staged(token: str, user_id: int) -> bytes:
    """The file this user staged under this token; FileNotFoundError when unknown, another's or expired."""
    path = _staged_path(token, user_id)
    if not path.exists() or time.time() - path.stat().st_mtime > STAGE_SECONDS:
        raise FileNotFoundError(token)
    return path.read_bytes()


def discard(token: str, user_id: int) -> None:
    """Forget a staged file (after the import, or when abandoned)."""
    try:
        _staged_path(token, user_id).unlink(missing_ok=True)
    except FileNotFoundError:
        pass


# ---------------------------------------------------------------- sample templates

def template_csv() -> bytes:
    """The sample file as CSV, UTF-8 with a byte-order mark so Excel opens it with the Chinese intact."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADERS)
    writer.writerow(EXAMPLE_ROW)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(choices: Choices) -> bytes:
    """The sample file as XLSX: the list to fill in, the credit code column as text, and the allowed values."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "单位清单"
    sheet.append(TEMPLATE_HEADERS)
    sheet.append(EXAMPLE_ROW)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (40, 24, 16, 18, 40)):
        sheet.column_dimensions[column].width = width
    for row in range(2, MAX_ROWS + 2):  # text, so Excel keeps all 18 characters of a credit code
        sheet.cell(row=row, column=2).number_format = "@"
    sheet.freeze_panes = "A2"
    values = workbook.create_sheet("可填写的值")
    values.append(("乡镇（街道）名称", "代码", "", "行业领域名称", "代码"))
    townships, sectors = list(choices.townships.items()), list(choices.sectors.items())
    for i in range(max(len(townships), len(sectors))):
        t = townships[i] if i < len(townships) else ("", "")
        s = sectors[i] if i < len(sectors) else ("", "")
        values.append((t[1], t[0], "", s[1], s[0]))
    for cell in values[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (22, 16, 4, 22, 18)):
        values.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
