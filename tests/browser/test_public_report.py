"""The public report in a real browser: crafted figures, small cells shown as "<5", no serious axe finding."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import serious_accessibility_problems
from tests.oversight.test_public_report import craft, period_args

pytestmark = pytest.mark.browser


def test_public_report_in_a_browser_is_accessible(live_app, live_server, page):
    craft(live_app)
    page.goto(f"{live_server}/public?{period_args()}")
    assert page.get_by_role("heading", name="安全生产举报公开数据").is_visible()
    assert page.get_by_role("table", name=re.compile("按举报类别")).is_visible()
    assert page.get_by_role("region", name=re.compile("按举报类别")).get_by_text("<5").count() > 3
    assert serious_accessibility_problems(page) == []
