"""Structured logs: with TIPOFF_LOG_FORMAT=json every line is one JSON object with the request id, and
no line carries a client address; each response names its random request id."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "198.51.100.23"

# A real process (the handler set up by the app itself, not pytest's capture) serving one request.
SCRIPT = f"""
import logging
from config import TestingConfig
from tipoff import create_app

app = create_app(TestingConfig, {{"TIPOFF_DATA_DIR": @DATADIR@}})

@app.get("/log-probe")
def probe():
    log = logging.getLogger("tipoff.probe")
    log.warning("probe from %s", "{CLIENT}")
    try:
        raise RuntimeError("failed for {CLIENT}")
    except RuntimeError:
        log.exception("handled")
    return "ok"

response = app.test_client().get("/log-probe", environ_base={{"REMOTE_ADDR": "{CLIENT}"}},
                                 headers={{"X-Request-ID": "chosen-by-client", "X-Forwarded-For": "{CLIENT}"}})
print(response.headers.get("X-Request-ID", ""))
"""


def _run(tmp_path: Path, log_format: str | None) -> tuple[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
    if log_format:
        env["TIPOFF_LOG_FORMAT"] = log_format
    result = subprocess.run([sys.executable, "-c", SCRIPT.replace("@DATADIR@", repr(str(tmp_path / "data")))], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip(), [line for line in result.stderr.splitlines() if line.strip()]


def test_json_lines_carry_the_request_id_and_no_address(tmp_path):
    request_id, lines = _run(tmp_path, "json")
    assert len(request_id) == 16 and request_id != "chosen-by-client"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    probe = [e for e in entries if e["logger"] == "tipoff.probe"]
    assert [e["level"] for e in probe] == ["WARNING", "ERROR"]
    assert all(e["request_id"] == request_id and e["time"] for e in probe)
    assert probe[0]["message"] == "probe from [addr]" and "RuntimeError" in probe[1]["exception"]
    assert CLIENT not in "\n".join(lines)
    # Lines outside a request (key generation at start-up) have no request id.
    assert any("request_id" not in e for e in entries)


def test_text_stays_the_default(tmp_path):
    request_id, lines = _run(tmp_path, None)
    assert len(request_id) == 16
    assert any(" WARNING tipoff.probe: probe from [addr]" in line for line in lines)
    assert not any(line.startswith("{") for line in lines) and CLIENT not in "\n".join(lines)


def test_each_response_has_its_own_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
