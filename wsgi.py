"""WSGI entry point: `gunicorn wsgi:app`."""
import sys

from tipoff import create_app
from tipoff.errors import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one clear line, not a traceback, then stop the server
    print(f"tipoff: refusing to start: {exc}", file=sys.stderr)
    raise SystemExit(3) from None
