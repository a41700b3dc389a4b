"""The two baselines served under the same gunicorn settings as tipoff (`tipoff/gunicorn_conf.py`).

- `hello`: a bare Flask "hello" endpoint — what the workers can do when a request costs nothing but the
  framework (the issue's reference for the read path).
- `kdf`: reads the request body and computes one access-code argon2id hash with exactly the parameters
  tipoff uses (TIPOFF_ARGON2_* over config.py's defaults) and nothing else: the ceiling a submit's one
  deliberate cost allows.

The KDF app is a plain WSGI callable, so its ceiling carries no framework cost at all.
"""
from __future__ import annotations

import json
import secrets

from argon2 import PasswordHasher, Type
from flask import Flask, request

from config import Config
from tipoff.crypto.primitives import Argon2Params


def argon2_params() -> Argon2Params:
    """The parameters tipoff's keyring builds from its configuration (defaults, then TIPOFF_ARGON2_*)."""
    settings = {"TIPOFF_ARGON2_TIME_COST": Config.TIPOFF_ARGON2_TIME_COST,
                "TIPOFF_ARGON2_MEMORY_KIB": Config.TIPOFF_ARGON2_MEMORY_KIB,
                "TIPOFF_ARGON2_PARALLELISM": Config.TIPOFF_ARGON2_PARALLELISM, **Config.from_env()}
    return Argon2Params(int(settings["TIPOFF_ARGON2_TIME_COST"]), int(settings["TIPOFF_ARGON2_MEMORY_KIB"]),
                        int(settings["TIPOFF_ARGON2_PARALLELISM"]))


PARAMS = argon2_params()
# Same construction as tipoff.crypto.passwords._hasher: argon2id, 32-byte hash, 16-byte salt.
HASHER = PasswordHasher(time_cost=PARAMS.time_cost, memory_cost=PARAMS.memory_kib,
                        parallelism=PARAMS.parallelism, hash_len=32, salt_len=16, type=Type.ID)


def _read_body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


hello = Flask("hello")


@hello.route("/", methods=["GET", "POST"])
def say_hello():
    """200 "hello" (the POST body is read, as a submit's is)."""
    request.get_data()
    return "hello"


def kdf(environ, start_response):
    """201 with nothing but one argon2id hash of a fresh 16-digit code done."""
    _read_body(environ)
    code = "".join(secrets.choice("0123456789") for _ in range(16))
    encoded = HASHER.hash(code)
    body = json.dumps({"hashed": len(encoded)}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
