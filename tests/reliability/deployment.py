"""A real deployment for the reliability tests: gunicorn workers, the database, Redis, the CLI.

The shape is production's (README "Deployment"): `TIPOFF_ENV=production`, keys made with
`flask tipoff keys generate`, gunicorn with `tipoff/gunicorn_conf.py` and several workers, Redis as the
shared rate-limit store, one reverse proxy in front (`TIPOFF_TRUSTED_PROXIES=1`, the test sends the
`X-Forwarded-For` header nginx would). Only `TIPOFF_SECURE_COOKIES=false`, because the tests speak
plain HTTP to 127.0.0.1 where nginx would terminate TLS.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
REDIS_URL = "redis://127.0.0.1:6379/3"  # this suite's own Redis database
PG_ADMIN_DB = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flush_redis() -> None:
    """Empty this suite's Redis database (number 3 only)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def redis_available() -> bool:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


# ------------------------------------------------------------------------------ PostgreSQL databases


def pg_admin_url(test_url: str) -> str:
    """The maintenance database on the same server as TIPOFF_TEST_DATABASE_URL."""
    return re.sub(r"/[^/?]*(\?.*)?$", f"/{PG_ADMIN_DB}", test_url.replace("postgresql+psycopg://", "postgresql://"))


def create_pg_database(test_url: str) -> str:
    """CREATE DATABASE tipoff_load_<hex>; return its URL (a whole database: gunicorn runs migrations on it)."""
    import psycopg

    name = f"tipoff_load_{uuid.uuid4().hex[:10]}"
    admin = pg_admin_url(test_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/?]*(\?.*)?$", f"/{name}", admin)


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------------------ the deployment


class Deployment:
    """One data dir and database, served by `start()`-ed gunicorn masters (several may share it)."""

    def __init__(self, root: Path, database_url: str | None, **extra_env: str) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.database_url = database_url or f"sqlite:///{self.data_dir / 'tipoff.db'}"
        self.logs: list[Path] = []
        self.servers: list[subprocess.Popen] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")},
            "FLASK_APP": "wsgi:app",
            "TIPOFF_ENV": "production",
            "TIPOFF_DATA_DIR": str(self.data_dir),
            "TIPOFF_DATABASE_URL": self.database_url,
            "TIPOFF_SECRET_KEY": secrets.token_urlsafe(48),
            "TIPOFF_SECURE_COOKIES": "false",
            "TIPOFF_RATELIMIT_ENABLED": "true",
            "TIPOFF_RATELIMIT_STORAGE_URI": REDIS_URL,
            "TIPOFF_TRUSTED_PROXIES": "1",
            "TIPOFF_WORKERS": "4",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }

    # -- the CLI, as an operator runs it

    def flask(self, *args: str, stdin: str | None = None, check: bool = True,
              env: dict | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run([str(VENV_BIN / "flask"), "tipoff", *args], cwd=ROOT, input=stdin, text=True,
                                capture_output=True, env={**self.env, **(env or {})}, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"flask tipoff {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def initialise(self) -> None:
        """Production's order: keys first, then `flask tipoff init` (schema, reference data, first admin)."""
        self.flask("keys", "generate")
        self.flask("keys", "generate-identity", "--passphrase-stdin", stdin="custodian passphrase for tests only\n")
        self.flask("init")

    def staff_token(self, username: str, role: str, department: str | None = None) -> str:
        """Create a staff user and return a bearer token for the API."""
        args = ["create-user", "--username", username, "--role", role, "--password-stdin"]
        if department:
            args += ["--department", department]
        self.flask(*args, stdin="correct horse battery staple 42\n")
        return self.flask("create-token", "--username", username).stdout.strip().splitlines()[-1]

    def audit_verify(self) -> subprocess.CompletedProcess:
        return self.flask("audit", "verify", check=False)

    # -- gunicorn

    def start(self, workers: int = 4, **env: str) -> str:
        """Start a gunicorn master with `workers` workers; return its base URL once it answers."""
        port = free_port()
        log = self.root / f"gunicorn-{len(self.logs)}.log"
        handle = open(log, "wb")
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", "tipoff/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}",
             "wsgi:app"], cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
            env={**self.env, "TIPOFF_WORKERS": str(workers), **env}, start_new_session=True)
        handle.close()
        self.logs.append(log)
        self.servers.append(server)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise AssertionError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/api/v1/catalog", timeout=30).status_code == 200 \
                        and len(self.worker_pids(server)) == workers:
                    return url
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not come up:\n{log.read_text()[-3000:]}")

    @staticmethod
    def worker_pids(server: subprocess.Popen) -> set[int]:
        """The master's live worker processes."""
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except FileNotFoundError:
            return set()

    def stop(self) -> None:
        for server in self.servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
        for server in self.servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        self.servers.clear()

    def log_text(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs if log.exists())
