"""A refusal before Flask for the API's access-code checks while every lookup slot is taken.

Under a flood of wrong codes the worker threads of gunicorn serve one queue, first come first served: a
submit waits behind every flood request queued ahead of it, so what one refusal costs sets how long
submits wait. Refused in Flask (`lookup_kdf_slot`), a request still pays for the request context,
the session, the rate limiter and JSON parsing; refused here it costs one look per slot, which takes
no lock (`any_slot_free`), so looking never refuses a real lookup.

The answer is the view's 503 (`LookupBusy`) body in the person's language with the app's security
headers (a test compares them) and a fresh X-Request-ID of the same kind as the app's (random, never the
client's), so a refusal can be found in the access log too. It comes before the rate limiter and the
body's validation: a client over its limit, or with a malformed body, hears "busy" rather than
429 or 422 while every slot is taken. A request that finds a slot free goes on to Flask, which takes its
slot as usual. When TIPOFF_LOOKUP_KDF_WAIT_MS asks lookups to wait for a slot, the gate stands aside, and
anything unexpected (the slot directory gone or not ours) is left to Flask to answer.

Only the JSON endpoints: the web form's refusal is a page that keeps what the person typed, which only
Flask renders.
"""
from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from flask import Flask
from flask_babel import force_locale

from tipoff.intake.kdf_slots import LookupBusy, RETRY_AFTER_SECONDS, any_slot_free, slot_count, slot_dir
from tipoff.logs import REQUEST_ID_HEADER, new_request_id

# Every API endpoint whose view runs `open_for_reporter` (tests check this against the views).
GATED_PATHS = frozenset({"/api/v1/tips/lookup", "/api/v1/tips/messages", "/api/v1/tips/evidence"})


class BusyGate:
    """WSGI middleware in front of the Flask app (see the module's docstring)."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        from tipoff.web import LANGUAGE_COOKIE, security_headers

        self.app, self.wsgi_app = app, wsgi_app
        self.language_cookie = LANGUAGE_COOKIE
        self.default_language = app.config["BABEL_DEFAULT_LOCALE"]
        self.bodies: dict[str, bytes] = {}
        for language in app.config["TIPOFF_LANGUAGES"]:
            with app.test_request_context("/"), force_locale(language):
                error = LookupBusy()
                body = {"error": {"code": error.code, "message": error.message, "fields": {}}}
            self.bodies[language] = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.headers = [("Content-Type", "application/json"), ("Retry-After", str(RETRY_AFTER_SECONDS)),
                        ("Cache-Control", "no-store"), *security_headers(app)]

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") not in GATED_PATHS \
                or self._slot_free():
            return self.wsgi_app(environ, start_response)
        body = self.bodies.get(self._language(environ)) or self.bodies[self.default_language]
        start_response("503 SERVICE UNAVAILABLE", [*self.headers, ("Content-Length", str(len(body))),
                                                   (REQUEST_ID_HEADER, new_request_id())])
        return [body]

    def _slot_free(self) -> bool:
        """False only when every slot is surely taken and lookups are not asked to wait for one."""
        config = self.app.config
        if int(config.get("TIPOFF_LOOKUP_KDF_WAIT_MS") or 0) > 0:
            return True
        try:
            return any_slot_free(slot_dir(config["TIPOFF_DATA_DIR"]), slot_count(config))
        except (OSError, RuntimeError):
            return True  # Flask's own slot check meets the same trouble and answers it properly

    def _language(self, environ: dict[str, Any]) -> str:
        """What `tipoff.web.select_locale` would choose: ?lang=, else the language cookie."""
        query = parse_qs(environ.get("QUERY_STRING", "")).get("lang")
        if query:
            return query[0]
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header means no choice was made
            return self.default_language
        found = cookie.get(self.language_cookie)
        return found.value if found else self.default_language
