"""Fixtures for export tests."""
from __future__ import annotations

import pytest

from tipoff.extensions import db


@pytest.fixture
def people(app, make_staff):
    """Staff by (role, department), made once each; the test body runs inside an app context."""
    made = {}

    def person(role: str, department: str | None = None):
        if (role, department) not in made:
            db.session.commit()  # release this context's SQLite lock for make_staff's own context
            made[(role, department)] = make_staff(role, department)
        return made[(role, department)]

    with app.app_context():
        yield person
