"""deploy/nginx.conf run locally in front of a gunicorn: for the benchmark's lookup flood and the deploy tests.

The production file is used as written, except: the TLS lines and the port-80 redirect are dropped, nginx
listens on a local HTTP port, the upstream is the local gunicorn, and its logs and temp files live under
`prefix`. `trust_forwarded` makes nginx take the client address from X-Forwarded-For sent by 127.0.0.1, as it
would behind a load balancer: the benchmark's flood then comes from 300 addresses, not from one.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from benchmarks.processes import wait_listening

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def site_config(prefix: Path, listen: int, upstream: int, *, trust_forwarded: bool = False,
                immediate_refusals: bool = False) -> str:
    """deploy/nginx.conf with the TLS lines and the redirect dropped, ports and log paths moved.

    `immediate_refusals` drops the `limit_rate` that holds a refused access-code check for two seconds (the
    benchmark's flood also runs against that, to show what the hold is worth)."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    if immediate_refusals:
        text, dropped = re.subn(r"\n *limit_rate \S+;", "", text)
        if not dropped:
            raise ValueError("deploy/nginx.conf changed shape: no limit_rate line to drop")
    text = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", text, count=1, flags=re.S)
    text = "\n".join(line for line in text.splitlines() if "# tipoff:tls" not in line)
    text = text.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}").replace("/var/log/nginx/", f"{prefix}/")
    listen_line = f"    listen 127.0.0.1:{listen};\n"
    if trust_forwarded:
        listen_line += "    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Forwarded-For;\n"
    marker = "    server_name tipoff.example.gov.cn;\n\n"
    if marker not in text:
        raise ValueError("deploy/nginx.conf changed shape: no server_name line to anchor the local listener")
    return text.replace(marker, f"    server_name tipoff.example.gov.cn;\n{listen_line}\n", 1)


def main_config(prefix: Path, site: Path, worker_connections: int = 64) -> str:
    """A whole nginx.conf around the site: one worker, no daemon, everything under `prefix`."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {prefix}/{kind};\n" for kind in TEMP_KINDS)
    return (f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
            f"error_log {prefix}/main-error.log crit;\nevents {{ worker_connections {worker_connections}; }}\n"
            f"http {{\n{temp}    access_log off;\n    include {site};\n}}\n")


class Nginx:
    """nginx with deploy/nginx.conf on `listen`, proxying to the gunicorn on `upstream`."""

    def __init__(self, prefix: Path, listen: int, upstream: int, *, trust_forwarded: bool = False,
                 worker_connections: int = 64, immediate_refusals: bool = False):
        if NGINX is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
        self.prefix, self.port = prefix, listen
        prefix.mkdir(parents=True, exist_ok=True)
        site = prefix / "tipoff.conf"
        site.write_text(site_config(prefix, listen, upstream, trust_forwarded=trust_forwarded,
                                    immediate_refusals=immediate_refusals))
        self.config = prefix / "nginx.conf"
        self.config.write_text(main_config(prefix, site, worker_connections))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self, *extra: str) -> list[str]:
        return [NGINX, *extra, "-p", str(self.prefix), "-c", str(self.config), "-e", str(self.prefix / "startup.log")]

    def check(self) -> None:
        """`nginx -t`: raise with nginx's own words if the configuration is refused."""
        done = subprocess.run(self._command("-t"), capture_output=True, text=True)
        if done.returncode != 0:
            startup = self.prefix / "startup.log"
            raise RuntimeError(done.stderr + (startup.read_text() if startup.exists() else ""))

    def start(self) -> "Nginx":
        self.check()
        self.process = subprocess.Popen(self._command(), start_new_session=True)
        wait_listening(self.process, self.port, "nginx", timeout=30, poll=0.1)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
