"""Staff for the benchmark: a 承办人 of the queue's department and an overseer, enrolled in TOTP, plus a token.

`python -m benchmarks.prepare` (with the app's TIPOFF_* environment) prints their credentials as JSON for
the harness, which logs in through the real forms. Made through the account services, like any user.
"""
from __future__ import annotations

import json
import secrets
import time

import pyotp
from sqlalchemy import select

from benchmarks.seed import HANDLER_DEPARTMENT


def enrolled_user(username: str, role: str, department: str | None, password: str) -> dict:
    """Create the user with a password and an active TOTP secret; return what logging in needs."""
    from tipoff.accounts import services
    from tipoff.accounts.models import User
    from tipoff.extensions import db

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = services.create_user(username=username, display_name=f"压测{username}", role=role,
                                    department_code=department, password=password, must_change_password=False,
                                    actor="cli")
    secret = services.begin_totp_enrolment(user)
    # Enrol with the previous step's code, leaving the current and the next step for the harness's login.
    step = int(time.time()) // 30 - 1
    services.confirm_totp_enrolment(user, pyotp.TOTP(secret).at(step * 30), actor=user)
    db.session.commit()
    return {"username": username, "password": password, "totp_secret": secret, "enrolled_step": step}


def main() -> None:
    from tipoff import create_app
    from tipoff.accounts import tokens
    from tipoff.accounts.models import User
    from tipoff.extensions import db

    app = create_app()
    with app.app_context():
        password = secrets.token_urlsafe(18)
        handler = enrolled_user("bench.handler", "handler", HANDLER_DEPARTMENT, password)
        overseer = enrolled_user("bench.overseer", "overseer", None, password)
        user = db.session.scalar(select(User).where(User.username == "bench.handler"))
        token = tokens.create_api_token(user, "bench", actor="cli")
        db.session.commit()
    print(json.dumps({"handler": handler, "overseer": overseer, "token": token}))


if __name__ == "__main__":
    main()
