"""POST /api/v1/rewards/quote and the public page /rewards/calculator: RULES.md §3 through HTTP, refusals
that name the field (never a 500), the page without JavaScript, the OpenAPI entry and the rate limit."""
from __future__ import annotations

import logging
import re

import pytest

from tests.conftest import make_app

QUOTE = "/api/v1/rewards/quote"
PAGE = "/rewards/calculator"


def quote(client, body, **kwargs):
    return client.post(QUOTE, json=body, **kwargs)


# ---------------------------------------------------------------- the API: worked values


@pytest.mark.parametrize("body, amount, grade, rule_set", [
    ({"category": "violation", "fine": "10000"}, "3000.00", None, "national-2018"),          # floor
    ({"category": "major_hazard", "fine": "100000"}, "15000.00", None, "national-2018"),
    ({"category": "violation", "fine": "3000000"}, "300000.00", None, "national-2018"),      # cap
    ({"category": "concealed_accident", "accident_grade": "larger", "concealed_deaths": 4}, "160000.00", "larger",
     "national-2018"),
    ({"category": "concealed_accident", "accident_grade": "major", "concealed_deaths": 12}, "300000.00", "major",
     "national-2018"),                                                                      # concealed cap
    ({"category": "major_hazard", "fine": "100000", "insider": True, "rule_set": "henan-2025"}, "17250.00", None,
     "henan-2025"),                                                                         # insider uplift
    ({"category": "major_hazard", "fine": 100000}, "15000.00", None, "national-2018"),       # a JSON integer
    ({"category": "major_hazard", "fine": "100,000.00"}, "15000.00", None, "national-2018"),
    ({"category": "major_hazard", "fine": "100000", "insider": True}, "15000.00", None, "national-2018"),  # no uplift
    ({"category": "hazard", "fine": "100000"}, "0.00", None, "national-2018"),               # out of scope
    ({"category": "hazard", "fine": "100000", "rule_set": "henan-2025"}, "15000.00", None, "henan-2025"),
])
def test_worked_values_through_http(client, body, amount, grade, rule_set):
    response = quote(client, body)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert set(answer) == {"amount", "currency", "rule_set", "grade", "explanation"}
    assert (answer["amount"], answer["currency"], answer["grade"], answer["rule_set"]) == (
        amount, "CNY", grade, rule_set)
    assert answer["explanation"]


def test_the_explanation_shows_the_sum(client):
    answer = quote(client, {"category": "major_hazard", "fine": "100000"}).get_json()
    assert answer["explanation"] == "罚款 ¥100,000 × 15% = ¥15,000（国家2018办法，最低¥3,000，最高¥300,000）"


def test_no_login_and_no_csrf_token_needed(tmp_path, pg_schema):
    app = make_app(tmp_path, pg_schema, WTF_CSRF_ENABLED=True)
    response = app.test_client().post(QUOTE, json={"category": "violation", "fine": "100000"})
    assert response.status_code == 200 and response.get_json()["amount"] == "15000.00"


@pytest.mark.parametrize("figures, grade, amount", [
    ({"deaths": 4}, "larger", "160000.00"),
    ({"deaths": 4, "serious_injuries": 0, "direct_loss": "0"}, "larger", "160000.00"),
    ({"deaths": 4, "serious_injuries": 50}, "major", "200000.00"),          # the highest measure decides
    ({"deaths": 4, "direct_loss": "100000000"}, "especially_major", "240000.00"),
    ({"deaths": 4, "direct_loss": 9999999}, "larger", "160000.00"),
    ({"deaths": 4, "accident_grade": "larger"}, "larger", "160000.00"),     # both given, and they agree
    ({"deaths": "4"}, "larger", "160000.00"),                              # digits as text (the HTML form's way)
])
def test_grade_from_the_casualty_figures(client, figures, grade, amount):
    answer = quote(client, {"category": "concealed_accident", "concealed_deaths": 4, **figures}).get_json()
    assert (answer["grade"], answer["amount"]) == (grade, amount), answer


def test_default_rule_set_is_the_one_in_force_today(app, client):
    assert quote(client, {"category": "violation", "fine": "100000"}).get_json()["rule_set"] == "national-2018"
    with app.app_context():
        from tipoff.rewards import catalog

        catalog.set_in_force("henan-2025", True, actor="test")
    answer = quote(client, {"category": "violation", "fine": "100000", "insider": True}).get_json()
    assert (answer["rule_set"], answer["amount"]) == ("henan-2025", "17250.00")
    explicit = quote(client, {"category": "violation", "fine": "100000", "insider": True, "rule_set": "national-2018"})
    assert explicit.get_json()["amount"] == "15000.00"


# ---------------------------------------------------------------- the API: refusals


@pytest.mark.parametrize("body, field, words", [
    ({"category": "violation", "fine": "-1"}, "fine", "负数"),
    ({"category": "violation", "fine": "abc"}, "fine", "数字"),
    ({"category": "violation", "fine": "NaN"}, "fine", "数字"),
    ({"category": "violation", "fine": "Infinity"}, "fine", "数字"),
    ({"category": "violation", "fine": "100000000001"}, "fine", "过大"),
    ({"category": "violation", "fine": 10 ** 30}, "fine", "过大"),
    ({"category": "violation", "fine": "1" * 41}, "fine", "过长"),
    ({"category": "violation", "fine": "100.001"}, "fine", "两位小数"),
    ({"category": "violation", "fine": "1e-3"}, "fine", "两位小数"),
    ({"category": "violation", "fine": 0.1}, "fine", "不精确"),            # floats are not money ...
    ({"category": "violation", "fine": 100000.0}, "fine", "不精确"),       # ... not even whole ones
    ({"category": "violation", "fine": -5}, "fine", "负数"),
    ({"category": "violation", "fine": True}, "fine", "数字"),
    ({"category": "violation", "fine": ["100"]}, "fine", "数字"),
    ({"category": "violation", "fine": ""}, "fine", "请填写金额"),
    ({"category": "violation"}, "fine", "罚款"),                            # a fine-based category needs one
    ({"category": "concealed_accident", "concealed_deaths": 2, "direct_loss": "-1"}, "direct_loss", "负数"),
    ({"category": "concealed_accident", "concealed_deaths": -1, "accident_grade": "general"}, "concealed_deaths", "整数"),
    ({"category": "concealed_accident", "concealed_deaths": 1.5, "accident_grade": "general"}, "concealed_deaths", "整数"),
    ({"category": "concealed_accident", "concealed_deaths": True, "accident_grade": "general"}, "concealed_deaths", "整数"),
    ({"category": "concealed_accident", "concealed_deaths": 10 ** 9, "accident_grade": "general"}, "concealed_deaths", "过大"),
    ({"category": "concealed_accident", "concealed_deaths": 2, "deaths": "-3"}, "deaths", "整数"),
    ({"category": "concealed_accident", "concealed_deaths": 2, "serious_injuries": "ten"}, "serious_injuries", "整数"),
    ({"category": "concealed_accident", "concealed_deaths": 2}, "accident_grade", "事故等级"),
    ({"category": "concealed_accident", "concealed_deaths": 5, "deaths": 4}, "concealed_deaths", "不能多于"),
    ({"category": "concealed_accident", "concealed_deaths": 2, "accident_grade": "huge"}, "accident_grade", "之一"),
    ({"category": "bribery", "fine": "100000"}, "category", "未知"),
    ({"category": 7, "fine": "100000"}, "category", "举报类别"),
    ({"fine": "100000"}, "category", "举报类别"),
    ({"category": "violation", "fine": "100000", "rule_set": "shandong-2099"}, "rule_set", "shandong-2099"),
    ({"category": "violation", "fine": "100000", "rule_set": "x" * 41}, "rule_set", "40"),
    ({"category": "violation", "fine": "100000", "insider": "maybe"}, "insider", "true"),
    ({"category": "violation", "fine": "100000", "reporter_name": "张三"}, "reporter_name", "未知字段"),
])
def test_bad_input_is_422_naming_the_field(client, body, field, words):
    response = quote(client, body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error
    assert words in "".join(error["fields"][field]), error


def test_a_grade_contradicting_the_figures_names_both_fields(client):
    response = quote(client, {"category": "concealed_accident", "accident_grade": "general", "deaths": 5,
                              "concealed_deaths": 2})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"accident_grade", "deaths"}
    assert "较大事故" in fields["accident_grade"][0] and "一般事故" in fields["deaths"][0]
    by_loss = quote(client, {"category": "concealed_accident", "accident_grade": "larger",
                             "direct_loss": "60000000", "concealed_deaths": 1})
    assert set(by_loss.get_json()["error"]["fields"]) == {"accident_grade", "direct_loss"}


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ("", "application/json"),
    ("null", "application/json"),
    ("[1, 2]", "application/json"),
    ('"violation"', "application/json"),
    ("100000", "application/json"),
    ("[" * 100_000 + "]" * 100_000, "application/json"),
    ('{"fine": ' + "9" * 5000 + "}", "application/json"),       # beyond Python's int-from-text limit
    ("category=violation&fine=100000", "application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_a_json_object_is_400(client, data, content_type):
    response = client.post(QUOTE, data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("body", [
    {"category": None}, {"category": ["violation"]}, {"category": {"a": 1}}, {"category": "violation", "fine": None},
    {"category": "violation", "fine": {"yuan": 1}}, {"category": "violation", "fine": "1" * 40},
    {"category": "violation", "fine": "1e999999999"}, {"category": "violation", "fine": "\x00"},
    {"category": "concealed_accident", "concealed_deaths": None, "deaths": None, "accident_grade": None},
    {"category": "concealed_accident", "concealed_deaths": "9" * 50, "accident_grade": "major"},
    {"category": "violation", "fine": "0", "rule_set": ""}, {"category": "other"},
    {"category": "violation", "fine": "1", "insider": None},
])
def test_odd_input_never_gives_a_server_error(client, body):
    response = quote(client, body)
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"


def test_wrong_method_is_json_405(client):
    response = client.get(QUOTE)
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_openapi_lists_the_public_quote_route(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/rewards/quote"]["post"]
    assert "security" not in operation  # public
    assert {"200", "400", "422", "429"} <= set(operation["responses"])
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = document["components"]["schemas"][request_ref.rsplit("/", 1)[1]]
    assert {"category", "fine", "accident_grade", "deaths", "serious_injuries", "direct_loss", "concealed_deaths",
            "insider", "rule_set"} == set(request_schema["properties"])
    assert request_schema["required"] == ["category"]
    response_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    response_schema = document["components"]["schemas"][response_ref.rsplit("/", 1)[1]]
    assert set(response_schema["properties"]) == {"amount", "currency", "rule_set", "grade", "explanation"}


def test_quotes_are_rate_limited_per_client_without_logging_the_address(tmp_path, pg_schema, caplog):
    app = make_app(tmp_path, pg_schema, RATELIMIT_ENABLED=True)
    client = app.test_client()
    body = {"category": "violation", "fine": "100000"}
    with caplog.at_level(logging.DEBUG):
        codes = [quote(client, body, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code for _ in range(121)]
        assert codes == [200] * 120 + [429]
        refused = quote(client, body, environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert refused.get_json()["error"]["code"] == "too_many_requests" and refused.headers.get("Retry-After")
        # The page shares the budget; another client has its own.
        assert client.get(PAGE, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 429
        assert quote(client, body, environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200
    assert "203.0.113.7" not in caplog.text and "198.51.100.9" not in caplog.text


# ---------------------------------------------------------------- the page


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_the_empty_page_offers_every_choice_with_the_rule_in_force_preselected(client):
    response = client.get(PAGE)
    assert response.status_code == 200
    body = page_text(response)
    assert '<form method="get"' in body and "<script" not in body  # works without JavaScript
    for name in ("重大事故隐患", "一般事故隐患", "安全生产违法行为", "瞒报、谎报、迟报、漏报生产安全事故", "其他"):
        assert f">{name}</option>" in body
    assert "按伤亡情况确定事故等级" in body and "我是被举报单位的员工（吹哨人）" in body
    assert re.search(r'<option value="national-2018" selected>\s*安全生产领域举报奖励办法（安监总财〔2018〕19号）'
                     r"（2018-01-04 起施行） · 现行", body)
    assert re.search(r'<option value="henan-2025">\s*河南省安全生产领域举报奖励办法（2025）（2025-01-01 起施行）\s*<', body)
    assert 'id="quote-amount"' not in body
    # The policy of the selected rule set, from its data, and the two promises.
    assert "重大事故隐患：按罚款金额的 15% 计奖，最低 ¥3,000，最高 ¥300,000。" in body
    assert "较大事故每人 ¥40,000" in body and "本规则集没有吹哨人加奖。" in body
    assert "安监总财〔2018〕19号第十二条" in body  # its sources note
    assert "谁受理、谁奖励" in body and "严格保密" in body


def test_the_page_shows_the_result_and_keeps_the_input(client):
    response = client.get(PAGE, query_string={"category": "major_hazard", "fine": "100000", "accident_grade": "",
                                              "deaths": "", "serious_injuries": "", "direct_loss": "",
                                              "concealed_deaths": "", "insider": "1", "rule_set": "henan-2025"})
    assert response.status_code == 200
    body = page_text(response)
    assert re.search(r'id="quote-amount">¥17,250<', body)
    assert "罚款 ¥100,000 × 15% = ¥15,000（河南2025办法，最低¥3,000，最高¥300,000）；吹哨人加奖 15%" in body
    assert '<option value="major_hazard" selected>' in body and 'value="100000"' in body
    assert re.search(r'name="insider" value="1" checked', body)
    assert '<option value="henan-2025" selected>' in body
    assert "企业员工举报本单位（吹哨人）：在标准金额上加奖 15%，加奖不少于 ¥1,000。" in body  # henan's policy
    assert "没有吹哨人加奖，以上为标准金额" not in body
    national = page_text(client.get(PAGE, query_string={"category": "major_hazard", "fine": "100000", "insider": "1"}))
    assert re.search(r'id="quote-amount">¥15,000<', national) and "国家2018办法没有吹哨人加奖，以上为标准金额。" in national


def test_the_english_page_explains_the_amount_and_the_refusals_in_english(client):
    client.get(PAGE, query_string={"lang": "en"})
    body = page_text(client.get(PAGE, query_string={"category": "major_hazard", "fine": "100000", "insider": "1",
                                                    "rule_set": "henan-2025"}))
    explanation = re.search(r'id="quote-explanation">([^<]*)<', body).group(1)
    assert explanation == ("Fine ¥100,000 × 15% = ¥15,000 (河南2025办法, at least ¥3,000, at most ¥300,000); "
                           "whistleblower uplift 15% (at least ¥1,000) ¥2,250, total ¥17,250")
    refused = page_text(client.get(PAGE, query_string={"category": "major_hazard", "fine": "十万"}))
    assert re.search(r'id="fine-error">Write the amount as a number, e.g. 100000 or 100000.00.<', refused)


def test_the_page_derives_the_grade_from_casualties(client):
    response = client.get(PAGE, query_string={"category": "concealed_accident", "deaths": "4",
                                              "concealed_deaths": "4", "rule_set": "national-2018"})
    body = page_text(response)
    assert response.status_code == 200 and re.search(r'id="quote-amount">¥160,000<', body)
    assert "较大事故" in body and '<details class="casualties" open>' in body


@pytest.mark.parametrize("query, field, message", [
    ({"category": "", "fine": "100000"}, "category", "请选择举报类别"),
    ({"category": "violation", "fine": "十万"}, "fine", "金额须写成数字"),
    ({"category": "violation", "fine": "-100"}, "fine", "负数"),
    ({"category": "violation", "fine": "100.005"}, "fine", "两位小数"),
    ({"category": "bribery", "fine": "100"}, "category", "未知的举报类别"),
    ({"category": "violation", "fine": "100000", "rule_set": "nope-1"}, "rule_set", "找不到奖励规则集"),
    ({"category": "concealed_accident", "concealed_deaths": "2", "deaths": "三"}, "deaths", "整数"),
])
def test_page_errors_are_422_beside_the_field_with_the_input_kept(client, query, field, message):
    response = client.get(PAGE, query_string=query)
    assert response.status_code == 422
    body = page_text(response)
    assert 'id="error-summary"' in body and f'href="#{field}"' in body
    assert re.search(rf'<p class="error-message" id="{field}-error">[^<]*{message}', body), body[:3000]
    assert 'id="quote-amount"' not in body
    for name, value in query.items():
        if value and name not in ("category", "rule_set"):
            assert f'value="{value}"' in body


def test_a_contradicting_grade_opens_the_casualty_figures_and_marks_both(client):
    response = client.get(PAGE, query_string={"category": "concealed_accident", "accident_grade": "general",
                                              "deaths": "5", "concealed_deaths": "2"})
    body = page_text(response)
    assert response.status_code == 422
    assert 'id="accident_grade-error"' in body and 'id="deaths-error"' in body
    assert '<details class="casualties" open>' in body
    assert '<option value="general" selected>' in body and 'value="5"' in body


def test_choosing_a_rule_set_alone_shows_its_policy_without_errors(client):
    response = client.get(PAGE, query_string={"rule_set": "henan-2025"})
    assert response.status_code == 200
    body = page_text(response)
    assert "河南2025办法的奖励标准" in body and "error-summary" not in body
    assert "一般事故隐患：按罚款金额的 15% 计奖，最低 ¥1,000" in body
