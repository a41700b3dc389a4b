"""deploy/nginx.conf in front of gunicorn, as in production (the HTTP listener on a free port instead of
TLS): a tip goes through, /healthz answers, and neither nginx's logs nor gunicorn's hold the client's
address (nor the address a client claims in X-Forwarded-For)."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.intake.test_api import TIP
from tests.reliability.deployment import Deployment, free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
CLIENT = "127.0.0.2"        # the client connects from here (any 127/8 address is local on Linux)
CLAIMED = "203.0.113.77"    # what the client pretends to be in X-Forwarded-For

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")]


def site_config(prefix: Path, listen: int, upstream: int) -> str:
    """deploy/nginx.conf with the TLS lines and the redirect dropped, ports and log paths moved."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    text = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", text, count=1, flags=re.S)
    text = "\n".join(line for line in text.splitlines() if "# tipoff:tls" not in line)
    text = text.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}").replace("/var/log/nginx/", f"{prefix}/")
    return text.replace("    server_name tipoff.example.gov.cn;\n\n",
                        f"    server_name tipoff.example.gov.cn;\n    listen 127.0.0.1:{listen};\n\n", 1)


def main_config(prefix: Path, site: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {prefix}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/main-error.log crit;\n"
            f"events {{ worker_connections 64; }}\nhttp {{\n{temp}    access_log off;\n    include {site};\n}}\n")


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(CLIENT, 0))
    headers = {"X-Forwarded-For": CLAIMED, "Host": "tipoff.example.gov.cn"}
    payload = None
    if body is not None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


@pytest.fixture
def stack(tmp_path):
    deployment = Deployment(tmp_path, None, TIPOFF_LOG_FORMAT="json", TIPOFF_RATELIMIT_STORAGE_URI="memory://")
    deployment.initialise()
    upstream = deployment.start(workers=2)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    site = prefix / "tipoff.conf"
    site.write_text(site_config(prefix, port, int(upstream.rsplit(":", 1)[1])))
    (prefix / "nginx.conf").write_text(main_config(prefix, site))
    check = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                            str(prefix / "startup.log")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr + (prefix / "startup.log").read_text()
    server = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                               str(prefix / "startup.log")], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield deployment, port, prefix
    finally:
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        deployment.stop()


def test_a_tip_through_nginx_leaves_no_address_in_any_log(stack):
    deployment, port, prefix = stack
    status, headers, body = request(port, "GET", "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    status, headers, body = request(port, "POST", "/api/v1/tips", TIP)
    assert status == 201, body[:500]
    request_id = headers["X-Request-ID"]
    reference = json.loads(body)["reference"]
    assert request(port, "GET", "/report?unit=" + quote("某某化工"))[0] == 200
    time.sleep(1)  # nginx writes its access log line after the response
    nginx_log = (prefix / "tipoff.log").read_text()
    gunicorn_log = deployment.log_text()
    assert f"POST /api/v1/tips HTTP/1.1\" 201" in nginx_log and f"rid={request_id}" in nginx_log
    assert quote("某某") not in nginx_log and "unit=" not in nginx_log  # the query string stays out
    assert f"rid={request_id}" in gunicorn_log
    for text in (nginx_log, gunicorn_log, (prefix / "tipoff-error.log").read_text()):
        assert CLIENT not in text and CLAIMED not in text
    # gunicorn's lines and the application's are all JSON objects, and none holds the reference's tip text.
    for line in filter(str.strip, gunicorn_log.splitlines()):
        json.loads(line)
    assert reference and TIP["subject_name"] not in gunicorn_log


def test_nginx_refuses_an_access_code_flood_before_the_app_and_never_limits_reports(stack):
    """Beyond its burst, one address's lookups get nginx's own 429 (not the app's JSON); reports pass."""
    deployment, port, prefix = stack
    wrong = {"reference": "JA-2026-000000", "access_code": "0" * 16}
    answers = [request(port, "POST", "/api/v1/tips/lookup", wrong) for _ in range(16)]
    refused_by_nginx = [body for status, _, body in answers if status == 429 and not body.lstrip().startswith(b"{")]
    assert refused_by_nginx, [status for status, _, _ in answers]
    assert all(status < 500 for status, _, _ in answers), [status for status, _, _ in answers]
    status, _, body = request(port, "POST", "/api/v1/tips", TIP)  # the same address may still report
    assert status == 201, body[:300]
    time.sleep(1)
    for text in ((prefix / "tipoff.log").read_text(), (prefix / "tipoff-error.log").read_text()):
        assert CLIENT not in text  # refusals leave no address behind either
