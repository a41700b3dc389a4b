"""Bulk import from CSV and XLSX: per-row errors with line numbers, confirmation, encodings, limits, templates."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.enterprises.helpers import HEADER, credit_code, csv_bytes, form, upload, xlsx_bytes
from tipoff.audit.models import AuditEntry
from tipoff.enterprises import importer
from tipoff.enterprises.models import Enterprise
from tipoff.extensions import db
from tipoff.reference.services import department_by_code

CONFIRM = "/staff/enterprises/import/confirm"

MIXED = [
    ["许昌恒达机械制造有限公司", credit_code(1), "灵井镇", "工贸", "工业路 8 号"],        # line 2: good (names)
    ["建安宏运物流有限公司", credit_code(2), "xuyou", "transport", ""],                  # line 3: good (codes)
    ["坏代码公司", "91411023MA44L0E07X", "灵井镇", "工贸", ""],                           # line 4: bad check char
    ["无名乡公司", credit_code(3), "桃花源镇", "工贸", ""],                                # line 5: unknown township
    ["", credit_code(4), "灵井镇", "工贸", "没有名称"],                                    # line 6: missing name
    ["恒达机械（重复）", credit_code(1), "灵井镇", "工贸", ""],                             # line 7: duplicate of line 2
    [],                                                                                      # line 8: blank, skipped
    ["老王五金店", "", "新元街道", "商贸", ""],                                             # line 9: good, no code
    ["已登记的公司", credit_code(9), "灵井镇", "工贸", ""],                                 # line 10: in the register
]


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Enterprise))


def _bad_rows(body: str) -> dict[int, str]:
    """Line number → the text of its row in the table of rejected rows."""
    table = body[body.index('id="bad-title"'):]
    table = table[:table.index("</table>")]
    rows = {}
    for match in re.finditer(r"<tr>\s*<th scope=\"row\"[^>]*>第 (\d+) 行</th>(.*?)</tr>", table, re.S):
        rows[int(match.group(1))] = match.group(2)
    return rows


def _cell_errors(row_html: str) -> list[tuple[str, str]]:
    """(typed value, error) for each cell of a rejected row that carries an error."""
    out = []
    for cell in re.findall(r'<td class="cell-error">(.*?)</td>', row_html, re.S):
        value = cell.split("<p", 1)[0].strip()
        out.append((value, " ".join(re.findall(r'<p class="error-message">([^<]*)</p>', cell))))
    return out


def _token(body: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', body).group(1)


def test_a_csv_with_good_and_bad_rows_is_checked_row_by_row_then_imported_on_confirmation(app, client, login_as):
    login_as("handler", "zjj")
    assert client.post("/staff/enterprises/new", data=form(name="已登记的公司", code=credit_code(9))).status_code == 302

    response = upload(client, csv_bytes(MIXED))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert _count(app) == 1  # nothing imported before confirmation
    bad = _bad_rows(body)
    assert sorted(bad) == [4, 5, 6, 7, 10]
    assert _cell_errors(bad[4]) == [("91411023MA44L0E07X", "统一社会信用代码校验位不正确，请核对营业执照上的代码。")]
    assert _cell_errors(bad[5]) == [("桃花源镇", "没有名为“桃花源镇”的乡镇（街道），请填写名称或代码。")]
    assert _cell_errors(bad[6]) == [("—", "请填写单位名称。")]
    assert _cell_errors(bad[7]) == [(credit_code(1), "与本文件第 2 行的统一社会信用代码重复。")]
    value, message = _cell_errors(bad[10])[0]
    assert value == credit_code(9) and "已登记" in message
    assert "确认导入 3 家单位" in body

    token = _token(body)
    response = client.post(CONFIRM, data={"token": token})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "已导入 3 家单位" in body and sorted(_bad_rows(body)) == [4, 5, 6, 7, 10]
    with app.app_context():
        rows = {r.name: r for r in db.session.scalars(select(Enterprise))}
        assert set(rows) == {"已登记的公司", "许昌恒达机械制造有限公司", "建安宏运物流有限公司", "老王五金店"}
        assert (rows["许昌恒达机械制造有限公司"].township_code, rows["许昌恒达机械制造有限公司"].sector_code) == \
            ("lingjing", "industry")
        assert (rows["老王五金店"].township_code, rows["老王五金店"].credit_code) == ("xinyuan", None)
        assert {r.department_id for r in rows.values()} == {department_by_code("zjj").id}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "enterprises.import"))
        assert entry.details == {"format": "csv", "rows": 8, "imported": 3, "rejected": 5}  # counts only
    # The staged file is gone: confirming twice imports nothing more.
    again = client.post(CONFIRM, data={"token": token})
    assert again.status_code == 302 and _count(app) == 4


def test_confirmation_checks_again_and_the_file_belongs_to_its_uploader(app, client, make_staff):
    from tests.conftest import login

    uploader = make_staff("handler", "zjj")
    login(client, uploader)
    body = upload(client, csv_bytes([["甲公司", credit_code(1), "灵井镇", "工贸", ""],
                                     ["乙公司", credit_code(2), "灵井镇", "工贸", ""]])).get_data(as_text=True)
    token = _token(body)
    other = app.test_client()
    login(other, make_staff("handler", "zjj"))
    assert other.post(CONFIRM, data={"token": token}).status_code == 302 and _count(app) == 0
    # Meanwhile someone registers 乙公司 by hand: the confirmation reports it instead of failing.
    other.post("/staff/enterprises/new", data=form(name="乙公司", code=credit_code(2)))
    body = client.post(CONFIRM, data={"token": token}).get_data(as_text=True)
    assert "已导入 1 家单位" in body and sorted(_bad_rows(body)) == [3]
    assert _count(app) == 2


def test_a_gbk_csv_as_excel_saves_it(app, client, login_as):
    login_as("admin")
    content = csv_bytes([["许昌恒达机械制造有限公司", credit_code(1), "灵井镇", "工贸", "灵井镇工业路"]],
                        encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    body = upload(client, content, "单位.csv", department="yjj").get_data(as_text=True)
    assert "确认导入 1 家单位" in body and "许昌恒达机械制造有限公司" in body
    client.post(CONFIRM, data={"token": _token(body), "department": "yjj"})
    with app.app_context():
        row = db.session.scalar(select(Enterprise))
        assert (row.name, row.address, row.department_id) == ("许昌恒达机械制造有限公司", "灵井镇工业路",
                                                              department_by_code("yjj").id)


def test_a_csv_without_a_byte_order_mark_and_with_ascii_headers(client, login_as):
    login_as("admin")
    content = csv_bytes([["许昌恒达", "", "lingjing", "industry", ""]], encoding="utf-8",
                        header=["name", "credit_code", "township", "sector", "address"])
    assert "确认导入 1 家单位" in upload(client, content).get_data(as_text=True)


def test_an_xlsx_import_with_line_numbers_and_a_credit_code_stored_as_a_number(app, client, login_as):
    login_as("handler", "zjj")
    content = xlsx_bytes([["许昌恒达机械制造有限公司", credit_code(1), "灵井镇", "工贸", None],
                          [None, None, None, None, None],
                          ["数字代码公司", 914110230000000000, "灵井镇", "工贸", None],
                          ["不知行业公司", None, "灵井镇", "太空采矿", None]])
    response = upload(client, content, "单位.xlsx")
    body = response.get_data(as_text=True)
    bad = _bad_rows(body)
    assert sorted(bad) == [4, 5]
    assert "存成了数字" in _cell_errors(bad[4])[0][1]
    assert _cell_errors(bad[5]) == [("太空采矿", "没有名为“太空采矿”的行业领域，请填写名称或代码。")]
    client.post(CONFIRM, data={"token": _token(body)})
    with app.app_context():
        assert db.session.scalar(select(Enterprise.name)) == "许昌恒达机械制造有限公司"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "enterprises.import"))
        assert entry.details["format"] == "xlsx"


def test_the_downloaded_templates_import_once_the_example_row_is_replaced(client, login_as):
    login_as("admin")
    csv_template = client.get("/staff/enterprises/import/template.csv")
    assert csv_template.status_code == 200 and csv_template.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv_template.headers["Content-Disposition"]
    text = csv_template.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(importer.TEMPLATE_HEADERS) == "单位名称,统一社会信用代码,乡镇（街道）,行业领域,地址"
    body = upload(client, csv_template.data).get_data(as_text=True)
    assert "示例行" in body and "没有可以导入的行" in body  # the example row is never imported by mistake

    xlsx_template = client.get("/staff/enterprises/import/template.xlsx")
    assert xlsx_template.status_code == 200
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(xlsx_template.data))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == list(importer.TEMPLATE_HEADERS)
    assert "灵井镇" in [c.value for c in workbook["可填写的值"]["A"]]
    sheet["A2"], sheet["B2"] = "许昌恒达机械制造有限公司", credit_code(1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "确认导入 1 家单位" in upload(client, buffer.getvalue(), "filled.xlsx").get_data(as_text=True)


def test_limits_and_unreadable_files_are_refused_with_a_clear_reason(client, login_as, monkeypatch):
    login_as("handler", "zjj")

    def refusal(content: bytes, filename: str = "units.csv") -> str:
        response = upload(client, content, filename)
        assert response.status_code == 422
        return re.search(r'<p class="error-message" id="file-error">([^<]*)</p>', response.get_data(as_text=True)).group(1)

    assert "超过 2 MB" in refusal(b"x" * (importer.MAX_BYTES + 1))
    rows = [[f"单位{i}", "", "灵井镇", "工贸", ""] for i in range(importer.MAX_ROWS + 1)]
    assert "一次最多导入 5000 行" in refusal(csv_bytes(rows))
    assert "没有找到表头行" in refusal(csv_bytes([["甲", "", "灵井镇", "工贸", ""]], header=["公司", "代码", "地方"]))
    assert "表头缺少：行业领域" in refusal(csv_bytes([["甲", "", "灵井镇"]], header=HEADER[:3]))
    assert "没有数据行" in refusal(csv_bytes([]))
    assert ".xls" in refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")
    assert "无法读取" in refusal(b"PK\x03\x04 not really a workbook", "broken.xlsx")
    assert "请选择要导入的文件" in refusal(b"")
    # Exactly at the limits is fine.
    rows = [[f"单位{i}", "", "灵井镇", "工贸", ""] for i in range(importer.MAX_ROWS)]
    body = upload(client, csv_bytes(rows)).get_data(as_text=True)
    assert f"确认导入 {importer.MAX_ROWS} 家单位" in body


def test_an_expired_or_unknown_token_asks_for_the_file_again(client, login_as):
    login_as("handler", "zjj")
    for token in ("", "../../etc/passwd", "a" * 32):
        response = client.post(CONFIRM, data={"token": token})
        assert response.status_code == 302 and response.headers["Location"].endswith("/staff/enterprises/import")
